"""Retrieval: init_model, the embedding index, search backends, metrics."""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import REPO, TINY_MODEL_CFG, write_tiny_shapenet
from mmengine.config import Config
from PIL import Image

from cg3d_mm.apis.inference import (encode_images, encode_point_clouds,
                                    encode_texts, file_sha256, init_model)
from cg3d_mm.datasets.transforms import UnreadableSampleError
from cg3d_mm.evaluation.metrics import (RetrievalMetric, ranking_stats,
                                        retrieval_metrics)
from cg3d_mm.retrieval import (EmbeddingIndex, IndexMismatchError,
                               evaluate_retrieval, load_or_build_index)
from cg3d_mm.retrieval.index import EMBED_FILE

TINY_CONFIG = TINY_MODEL_CFG + """
up_axis = 'y'
test_dataloader = dict(
    batch_size=8,
    dataset=dict(type='ShapeNetTriplets', data_root='{root}',
                 ann_file='train_img.txt', test_mode=True,
                 pipeline=test_pipeline))
"""


def write_config_and_checkpoints(tmp, data_root, seeds=(0, 1)):
    """A tiny CG3D config over ``data_root`` and one checkpoint per seed."""
    config = osp.join(str(tmp), 'tiny_cg3d.py')
    with open(config, 'w') as f:
        f.write(TINY_CONFIG.replace('{root}', str(data_root)))
    ckpts = []
    for seed in seeds:
        torch.manual_seed(seed)
        model = init_model(config)
        path = osp.join(str(tmp), f'ckpt_{seed}.pth')
        torch.save({'state_dict': model.state_dict(),
                    'meta': {'dataset_meta': {'classes': ['x']}}}, path)
        ckpts.append(path)
    return config, ckpts


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        f'tool_{name}', osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('retrieval')
    root = write_tiny_shapenet(tmp / 'ShapeNet55', per_class=5)
    config, ckpts = write_config_and_checkpoints(tmp, root)
    model = init_model(config, ckpts[0], device='cpu')
    return dict(tmp=tmp, root=root, config=config, ckpts=ckpts, model=model)


@pytest.fixture(scope='module')
def index(env):
    return EmbeddingIndex.build(env['model'], 'test_dataloader',
                                progress=False)


# ----------------------------------------------------------------------
# init_model
def test_init_model_loads_the_checkpoint_weights(env):
    model = env['model']
    saved = torch.load(env['ckpts'][0], weights_only=True)['state_dict']
    for key in ('backbone.embedding.linear.weight', 'head.proj.weight'):
        assert torch.equal(model.state_dict()[key], saved[key])
    assert model.checkpoint_sha256 == file_sha256(env['ckpts'][0])
    assert not model.training
    assert next(model.parameters()).device.type == 'cpu'
    assert model.dataset_meta == {'classes': ['x']}
    other = init_model(env['config'], env['ckpts'][1])
    assert not torch.equal(other.head.proj.weight, model.head.proj.weight)


def test_init_model_bad_inputs(env, tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        init_model(env['config'], str(tmp_path / 'missing.pth'))
    with pytest.raises(FileNotFoundError, match='config file'):
        init_model(str(tmp_path / 'missing.py'))
    foreign = str(tmp_path / 'foreign.pth')
    torch.save({'state_dict': {'fc.weight': torch.zeros(2, 2)}}, foreign)
    with pytest.raises(ValueError, match='none of its 1 weights'):
        init_model(env['config'], foreign)
    partial = str(tmp_path / 'partial.pth')
    state = torch.load(env['ckpts'][0], weights_only=True)['state_dict']
    state.pop('head.proj.weight')
    torch.save({'state_dict': state}, partial)
    with pytest.raises(ValueError, match='missing'):
        init_model(env['config'], partial)


# ----------------------------------------------------------------------
# index
def test_index_rows_are_the_encodings_of_the_items(env, index):
    assert len(index) == 12 and index.classes == ['chair', 'table', 'lamp',
                                                  'mug']
    assert sorted(set(index.labels)) == [0, 1, 2, 3]
    paths = [it['path'] for it in index.items[:3]]
    direct = encode_point_clouds(env['model'], paths, progress=False)
    np.testing.assert_allclose(index.embeddings[:3], direct, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(index.embeddings, axis=1), 1,
                               atol=1e-5)
    scores, idx = index.search(direct, topk=1)
    assert idx[:, 0].tolist() == [0, 1, 2]
    np.testing.assert_allclose(scores[:, 0], 1, atol=1e-5)


def test_index_round_trip(env, index, tmp_path):
    index.save(str(tmp_path / 'idx'))
    meta = json.load(open(tmp_path / 'idx' / 'index.json'))
    assert meta['checkpoint_sha256'] == env['model'].checkpoint_sha256
    assert meta['num_points'] == 128 and meta['num_items'] == 12
    loaded = EmbeddingIndex.load(str(tmp_path / 'idx'), env['model'])
    np.testing.assert_array_equal(loaded.embeddings, index.embeddings)
    assert loaded.items == index.items
    queries = encode_texts(env['model'], ['chair', 'mug'],
                           env['model'].templates)
    for a, b in zip(index.search(queries, 5), loaded.search(queries, 5)):
        np.testing.assert_array_equal(a, b)


def test_index_from_another_checkpoint_is_refused(env, index, tmp_path):
    index.save(str(tmp_path / 'idx'))
    other = init_model(env['config'], env['ckpts'][1])
    with pytest.raises(IndexMismatchError, match='checkpoint'):
        EmbeddingIndex.load(str(tmp_path / 'idx'), other)
    # a rewritten embeddings file no longer matches its metadata
    np.save(tmp_path / 'idx' / EMBED_FILE, index.embeddings[::-1].copy())
    with pytest.raises(ValueError, match='sha256'):
        EmbeddingIndex.load(str(tmp_path / 'idx'))
    with pytest.raises(FileNotFoundError, match='not a saved index'):
        EmbeddingIndex.load(str(tmp_path))


def test_load_or_build_reuses_the_saved_index(env, tmp_path, monkeypatch):
    out = str(tmp_path / 'idx')
    first = load_or_build_index(env['model'], 'test_dataloader', out,
                                progress=False)

    def no_encoding(*args, **kwargs):
        raise AssertionError('the database was encoded again')

    monkeypatch.setattr(EmbeddingIndex, 'build', no_encoding)
    again = load_or_build_index(env['model'], 'test_dataloader', out)
    np.testing.assert_array_equal(again.embeddings, first.embeddings)
    via_db = load_or_build_index(env['model'], out)  # --db <saved index>
    assert len(via_db) == len(first)
    folder = osp.join(env['root'], 'shapenet_pc')
    with pytest.raises(IndexMismatchError, match='another --index-dir'):
        load_or_build_index(env['model'], folder, out)


def test_folder_database_and_bad_files(env, tmp_path):
    folder = tmp_path / 'db'
    for cls in ('cup', 'box'):
        (folder / cls).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(2):
        np.save(folder / 'cup' / f'c{i}.npy', rng.normal(size=(200, 3)))
        np.savetxt(folder / 'box' / f'b{i}.txt', rng.normal(size=(200, 3)),
                   delimiter=',')
    (folder / 'box' / 'README.md').write_text('not a point file')
    index = EmbeddingIndex.build(env['model'], str(folder), progress=False)
    assert len(index) == 4 and index.classes == ['box', 'cup']
    assert [it['class_name'] for it in index.items] == ['box'] * 2 + \
        ['cup'] * 2
    empty = tmp_path / 'empty_db'
    empty.mkdir()
    (empty / 'notes.json').write_text('{}')
    with pytest.raises(FileNotFoundError, match='no point files'):
        EmbeddingIndex.build(env['model'], str(empty), progress=False)
    bad = tmp_path / 'query.xyz'
    bad.write_text('1 2 3\n')
    with pytest.raises(UnreadableSampleError, match='unsupported point file'):
        encode_point_clouds(env['model'], [str(bad)], progress=False)
    not_image = tmp_path / 'photo.png'
    not_image.write_text('this is text')
    with pytest.raises(ValueError, match='photo.png: not an image'):
        encode_images(env['model'], [str(not_image)], progress=False)


# ----------------------------------------------------------------------
# search backends
def test_exact_and_faiss_search_agree(tmp_path):
    pytest.importorskip('faiss')
    rng = np.random.default_rng(0)
    db = rng.normal(size=(300, 32)).astype(np.float32)
    db /= np.linalg.norm(db, axis=1, keepdims=True)
    items = [dict(id=str(i), path=None, label=i % 3) for i in range(300)]
    index = EmbeddingIndex(db, items)
    queries = rng.normal(size=(10, 32)).astype(np.float32)
    s_exact, i_exact = index.search(queries, 7, backend='exact')
    s_flat, i_flat = index.search(queries, 7, backend='faiss')
    np.testing.assert_array_equal(i_exact, i_flat)
    np.testing.assert_allclose(s_exact, s_flat, atol=1e-5)
    # IVF probing every cell is exhaustive, hence exact too; the trained
    # IVF index is cached next to a saved index and reused
    index.save(str(tmp_path / 'idx'))
    ivf = dict(ivf_min_items=1, nlist=8, nprobe=8)
    s_ivf, i_ivf = index.search(queries, 7, backend='faiss', **ivf)
    np.testing.assert_array_equal(i_exact, i_ivf)
    cached = list(tmp_path.joinpath('idx').glob('faiss_ivf_*.index'))
    assert len(cached) == 1
    again = EmbeddingIndex.load(str(tmp_path / 'idx'))
    np.testing.assert_array_equal(
        again.search(queries, 7, backend='faiss', **ivf)[1], i_exact)
    # scores are the cosine similarities, best first
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    full = q @ db.T
    np.testing.assert_allclose(s_exact, -np.sort(-full, axis=1)[:, :7],
                               atol=1e-5)
    # leaving the query's own item out
    s_ex, i_ex = index.search(db[:4], 3, exclude=np.arange(4))
    assert i_ex.shape == (4, 3)
    assert all(i not in row for i, row in enumerate(i_ex))


# ----------------------------------------------------------------------
# metrics
def test_ranking_stats_by_hand():
    scores = np.array([[0.9, 0.8, 0.7, 0.6, 0.5]])
    db_labels = np.array([1, 0, 0, 1, 0])
    stats = ranking_stats(scores, np.array([0]), db_labels, topk=(1, 2, 3))
    # relevant at ranks 2, 3, 5: AP = (1/2 + 2/3 + 3/5) / 3
    assert stats['ap'][0] == pytest.approx((1 / 2 + 2 / 3 + 3 / 5) / 3)
    assert stats['hits'][0].tolist() == [False, True, True]
    # leave-one-out: item 1 is the query; relevant at ranks 2 and 4
    stats = ranking_stats(scores, np.array([0]), db_labels, topk=(1, 2),
                          exclude=np.array([1]))
    assert stats['ap'][0] == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert stats['num_relevant'][0] == 2
    # a query whose label is absent is skipped, not counted as 0
    res = retrieval_metrics(np.eye(2, dtype=np.float32)[[0, 0]],
                            np.eye(2, dtype=np.float32), [0, 5], [0, 1],
                            topk=(1, ))
    assert res['num_queries'] == 1 and res['num_skipped'] == 1
    assert res['recall@1'] == 100 and res['mAP'] == 100


def test_retrieval_metric_modes():
    def unit(v):
        v = np.asarray(v, np.float32)
        return v / np.linalg.norm(v)

    points = [unit([1, 0]), unit([0.9, 0.1]), unit([0, 1]), unit([0.1, .9])]
    images = [unit([0, 1]), unit([0, 1]), unit([0, 1]), unit([0.1, 0.9])]
    metric = RetrievalMetric(topk=(1, 2))
    metric.set_text_queries(np.eye(2), [0, 1])
    metric.process(None, [
        dict(point_embed=torch.from_numpy(p), image_embed=torch.from_numpy(i),
             gt_label=torch.tensor([lab]))
        for p, i, lab in zip(points, images, [0, 0, 1, 1])])
    res = metric.evaluate(4)
    assert res['retrieval/3d_to_3d/recall@1'] == 100
    assert res['retrieval/3d_to_3d/mAP'] == 100
    assert res['retrieval/text_to_3d/mAP'] == 100
    # images of class 0 look like class 1: half the image queries fail
    assert res['retrieval/image_to_3d/recall@1'] == 50
    assert res['retrieval/image_to_3d/recall@2'] == 50
    # class-0 image queries rank the two chairs last: AP = (1/3 + 2/4) / 2
    assert res['retrieval/image_to_3d/mAP'] == pytest.approx(
        100 * (2 * (1 / 3 + 2 / 4) / 2 + 2 * 1.0) / 4)


def test_evaluate_retrieval_with_the_model(env, index):
    metrics = evaluate_retrieval(env['model'], index, progress=False)
    assert set(metrics) == {'text_to_3d', 'image_to_3d', '3d_to_3d'}
    assert metrics['text_to_3d']['num_queries'] == 4
    assert metrics['3d_to_3d']['num_queries'] == 12
    for res in metrics.values():
        assert 0 <= res['recall@1'] <= res['recall@5'] <= res['recall@10']
        assert 0 < res['mAP'] <= 100
    unlabelled = EmbeddingIndex(index.embeddings, [
        dict(it, label=None) for it in index.items], index.meta)
    with pytest.raises(ValueError, match='labelled database'):
        evaluate_retrieval(env['model'], unlabelled)


# ----------------------------------------------------------------------
# command line
@pytest.mark.slow
def test_retrieve_cli(env, tmp_path):
    tool = load_tool('retrieve')
    query = osp.join(env['root'], 'shapenet_pc', '00000002-m2001.npy')
    view = osp.join(env['root'], 'shapenet_render', 'img', '00000000',
                    'm0000', '000.png')
    out = tool.main([
        env['config'], env['ckpts'][0], '--db', 'test_dataloader',
        '--index-dir', str(tmp_path / 'idx'), '--text', 'a lamp',
        '--points', query, '--image', view, '--topk', '3', '--grid',
        str(tmp_path / 'grid.png'), '--eval', '--out',
        str(tmp_path / 'res.json')])
    kinds = [q['kind'] for q in out['queries']]
    assert kinds == ['text', 'image', 'points']
    top = out['queries'][2]['results'][0]
    assert top['path'] == query and top['score'] == pytest.approx(1, abs=1e-4)
    assert all(len(q['results']) == 3 for q in out['queries'])
    saved = json.load(open(tmp_path / 'res.json'))
    assert saved['metrics']['3d_to_3d']['num_queries'] == 12
    grid = Image.open(tmp_path / 'grid.png')
    assert grid.width > grid.height > 0  # 3 rows of 4 tiles
    with pytest.raises(SystemExit):
        tool.main([env['config'], env['ckpts'][0], '--db', 'x'])


def test_grid_tiles_draw_colours_only_for_colour_models(tmp_path):
    tool = load_tool('retrieve')
    xyz_cfg = Config.fromfile(osp.join(REPO, 'configs', 'cg3d',
                                       'pointmlp_synthetic.py'))
    rgb_cfg = Config.fromfile(osp.join(REPO, 'configs', 'cg3d',
                                       'pointmlp_synthetic_rgb.py'))
    assert tool.point_colors(xyz_cfg) is None
    assert tool.point_colors(rgb_cfg) == ([3, 4, 5], 1.)
    rgb_cfg.test_dataloader.dataset.pipeline.insert(
        1, dict(type='NormalizeColor', scale=255))
    assert tool.point_colors(rgb_cfg) == ([3, 4, 5], 255.)
    # a red cloud: red splats with colours, the default blue without
    rng = np.random.default_rng(0)
    pts = np.concatenate([rng.normal(size=(500, 3)),
                          np.tile([[1., 0., 0.]], (500, 1))], 1)
    path = str(tmp_path / 'red.npy')
    np.save(path, pts.astype(np.float32))
    coloured = tool._tile_points(path, 96, 'y', ([3, 4, 5], 1.))
    plain = tool._tile_points(path, 96, 'y')
    drawn = coloured.min(-1) < 250  # not background
    assert drawn.sum() > 100
    r, g, b = (coloured[drawn][:, c].astype(int) for c in range(3))
    assert (r > g + 40).all() and (r > b + 40).all()
    r, g, b = (plain[plain.min(-1) < 250][:, c].astype(int)
               for c in range(3))
    assert (b > r).mean() > 0.9
