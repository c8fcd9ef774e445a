"""OpenShape's processed training data, read as it ships."""
import json
import os
import os.path as osp

import numpy as np
import pytest

import cg3d_mm  # noqa: F401
from cg3d_mm.datagen.triplets.convert_layouts import convert_triplets
from cg3d_mm.datasets import OpenShapeTriplets
from cg3d_mm.datasets.transforms import UnreadableSampleError, read_points
from cg3d_mm.datasets.transforms.loading import (openshape_caption_groups,
                                                 read_openshape_shape)

PIPELINE = [
    dict(type='LoadOpenShapeShape'),
    dict(type='LoadPointCloud', use_dims=(0, 1, 2, 3, 4, 5)),
    dict(type='SampleSourceCaption', templates=['a {}.']),
    dict(type='PackCG3DInputs', keys=('points', 'img'), blank_img_size=8),
]


def _shape(n=100, **texts):
    rng = np.random.default_rng(n)
    shape = dict(xyz=rng.normal(size=(n, 3)).astype(np.float32),
                 rgb=rng.random((n, 3)).astype(np.float32),
                 text=[], blip_caption='', msft_caption='',
                 retrieval_text=[],
                 # the CLIP features the release ships (unused here)
                 text_feat=[], image_feat=np.zeros((12, 4), np.float32),
                 thumbnail_feat=np.zeros(4, np.float32))
    shape.update(texts)
    return shape


def write_openshape(root, prefix='/mnt/data/'):
    """OpenShape's download: meta_data/split/train_all.json whose
    data_path entries name the writer's machine, and pickled dicts."""
    shapes = {
        'chair1': ('ShapeNet', 'shapenet/03001627', _shape(
            text=['chair', 'seat'], blip_caption='a wooden chair',
            msft_caption='a chair on white')),
        'obj1': ('Objaverse', 'objaverse/000-000', _shape(
            120, text=['Old Lamp', 'ignored second name'],
            retrieval_text=['a lamp in a room'])),
        'obj2': ('Objaverse', 'objaverse/000-000', _shape(90)),  # no text
    }
    entries = []
    for uid, (dataset, folder, shape) in shapes.items():
        os.makedirs(osp.join(root, folder), exist_ok=True)
        np.save(osp.join(root, folder, f'{uid}.npy'),
                np.array(shape, dtype=object), allow_pickle=True)
        entries.append(dict(id=uid, data_path=f'{prefix}{folder}/{uid}.npy',
                            dataset=dataset, group=folder))
    os.makedirs(osp.join(root, 'meta_data', 'split'))
    with open(osp.join(root, 'meta_data', 'split', 'train_all.json'),
              'w') as f:
        json.dump(entries, f)
    return shapes


def build(root, **kwargs):
    kwargs.setdefault('trust_pickle', True)
    kwargs.setdefault('path_map', {'/mnt/data/': ''})
    return OpenShapeTriplets(data_root=str(root), pipeline=PIPELINE,
                             **kwargs)


def test_reads_points_and_captions_as_openshape_draws_them(tmp_path):
    shapes = write_openshape(str(tmp_path))
    ds = build(tmp_path)
    assert len(ds) == 3
    assert ds.get_data_info(0)['pts_path'] == osp.join(
        str(tmp_path), 'shapenet/03001627/chair1.npy')
    out = ds[0]
    pts = out['inputs']['points'].numpy()
    want = shapes['chair1'][2]
    np.testing.assert_array_equal(pts[:, :3], want['xyz'])
    np.testing.assert_array_equal(pts[:, 3:], want['rgb'])
    sample = out['data_samples']
    assert sample.has_img is False and not out['inputs']['imgs'].any()
    caps = {ds[0]['data_samples'].caption for _ in range(60)}
    # names go through a template, captions are used as written
    assert caps == {'a chair.', 'a seat.', 'a wooden chair',
                    'a chair on white'}
    caps = {ds[1]['data_samples'].caption for _ in range(40)}
    # Objaverse: the first text only (its name), plus the retrieved text
    assert caps == {'a Old Lamp.', 'a lamp in a room'}


def test_sample_without_text_is_skipped_and_counted(tmp_path):
    write_openshape(str(tmp_path))
    ds = build(tmp_path)
    np.random.seed(0)
    out = ds[2]  # obj2 has no text at all: another sample comes instead
    sample = out['data_samples']
    assert not sample.pts_path.endswith('obj2.npy')
    skipped = sample.skipped_samples
    assert skipped and all(s['sample'] == 'obj2' for s in skipped)
    assert 'no caption' in skipped[0]['error']
    ds_test = build(tmp_path, test_mode=True)
    with pytest.raises(UnreadableSampleError, match='obj2.npy: no caption'):
        ds_test[2]


def test_pickle_needs_an_explicit_opt_in(tmp_path):
    write_openshape(str(tmp_path))
    with pytest.raises(PermissionError, match='trust_pickle=True'):
        build(tmp_path, trust_pickle=False)
    path = osp.join(str(tmp_path), 'shapenet/03001627/chair1.npy')
    with pytest.raises(PermissionError, match='chair1.npy.*trust_pickle'):
        read_openshape_shape(path)
    # the plain point reader refuses it with a pointer, never unpickles
    with pytest.raises(UnreadableSampleError,
                       match='chair1.npy: holds pickled.*OpenShapeTriplets'):
        read_points(path)


def test_bad_inputs_are_named(tmp_path):
    write_openshape(str(tmp_path))
    # without path_map the machine paths do not exist
    with pytest.raises(FileNotFoundError,
                       match='3 of 3 entries.*/mnt/data/shapenet'):
        build(tmp_path, path_map=None)
    assert len(build(tmp_path, datasets=('ShapeNet', ))) == 1
    with pytest.raises(ValueError, match='no entry of the datasets'):
        build(tmp_path, datasets=('ABO', ))
    split = osp.join(str(tmp_path), 'meta_data', 'split', 'train_all.json')
    with open(split, 'w') as f:
        json.dump([dict(id='x')], f)
    with pytest.raises(ValueError, match='entry 0.*"data_path"'):
        build(tmp_path)
    bad = str(tmp_path / 'bad.npy')
    np.save(bad, np.array(dict(xyz=np.zeros((5, 3)), rgb=np.zeros((4, 3))),
                          dtype=object), allow_pickle=True)
    with pytest.raises(UnreadableSampleError, match=r'bad.npy: rgb.*\(5, 3\)'):
        read_openshape_shape(bad, trust_pickle=True)
    np.save(bad, np.zeros((5, 3)))
    with pytest.raises(UnreadableSampleError,
                       match='bad.npy: expected a pickled dict'):
        read_openshape_shape(bad, trust_pickle=True)


def test_caption_groups_follow_the_text_sources():
    shape = _shape(text=['a', 'b'], blip_caption='x', retrieval_text=['r'])
    assert openshape_caption_groups(shape, 'ShapeNet') == dict(
        text=['a', 'b'], caption=['x'], retrieval_text=['r'])
    assert openshape_caption_groups(shape, 'ShapeNet', ('caption', )) == \
        dict(caption=['x'])
    with pytest.raises(ValueError, match='unknown OpenShape text sources'):
        openshape_caption_groups(shape, 'ShapeNet', ('captions', ))


def test_converter_writes_what_the_dataset_reads(tmp_path):
    from test_ulip_triplets import _cg3d_source
    src = _cg3d_source(tmp_path)
    out = convert_triplets(src, str(tmp_path / 'os'), 'openshape',
                           part='train_b')
    ds = OpenShapeTriplets(data_root=out, trust_pickle=True,
                           pipeline=PIPELINE)
    info = ds.get_data_info(0)
    shape = read_openshape_shape(info['pts_path'], trust_pickle=True)
    rgb = np.load(osp.join(src, 'shapenet_pc_rgb',
                           f'{info["sample_id"]}.npy'))
    np.testing.assert_array_equal(shape['points'], rgb)
    assert info['dataset'] == 'ShapeNet'
    # the class name, as ShapeNetTriplets names it (not its synonyms)
    assert shape['text'] in (['chair'], ['table'], ['lamp'], ['mug'])
    assert shape['text'][0] in shape['blip_caption']
    assert shape['text'][0] in shape['msft_caption']
    assert ds[0]['data_samples'].has_img is False


@pytest.mark.slow  # end-to-end: a Runner
# no "scheduler.step() before optimizer.step()" for the idle prompts
@pytest.mark.filterwarnings('error::UserWarning')
def test_openshape_config_trains_the_point_text_loss_only(tmp_path,
                                                          repo_root):
    import torch
    from mmengine.config import Config
    from mmengine.runner import Runner
    from test_mixture_sampler import RecordBatches, shrink_for_cpu
    from test_ulip_triplets import _cg3d_source
    src = _cg3d_source(tmp_path)
    root = convert_triplets(src, str(tmp_path / 'data'), 'openshape',
                            part='all')
    cfg = Config.fromfile(osp.join(repo_root,
                                   'configs/cg3d/pointmlp_openshape_rgb.py'))
    shrink_for_cpu(cfg, str(tmp_path / 'work'), max_epochs=1)
    cfg.train_dataloader.dataset.data_root = root
    cfg.test_dataloader.dataset = dict(
        type='ShapeNetTriplets', data_root=src, pc_dir='shapenet_pc_rgb',
        ann_file='test_img.txt', num_views=3, test_mode=True,
        pipeline=cfg.test_dataloader.dataset.pipeline)
    runner = Runner.from_cfg(cfg)
    prompts = {k: v.detach().clone()
               for k, v in runner.model.img_backbone.named_parameters()
               if v.requires_grad}
    assert prompts
    record = RecordBatches()
    runner.register_hook(record)
    runner.train()
    assert len(record.losses) == 4
    assert all(losses == {'loss', 'loss_point_text'}
               for losses in record.losses)
    for k, v in runner.model.img_backbone.named_parameters():
        if k in prompts:
            assert torch.equal(v, prompts[k]), k
    assert runner.model.skipped_prompt_steps == 0
    assert 0 <= runner.test()['zeroshot/top1'] <= 100
