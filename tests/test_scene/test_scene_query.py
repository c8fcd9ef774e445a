"""Language scene querying: scene reader, plane removal, clustering,
selection, outputs and the SceneQueryIoU metric."""
import importlib.util
import json
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from conftest import REPO, TINY_MODEL_CFG
from PIL import Image
from plyfile import PlyData

from cg3d_mm.apis.inference import init_model
from cg3d_mm.datasets.scenes import find_scenes, load_scene
from cg3d_mm.evaluation.metrics import SceneQueryIoU
from cg3d_mm.scene import (SceneQuerier, best_cluster_iou, cluster_scene,
                           remove_floor_ceiling, select_clusters,
                           to_model_frame, write_query_outputs)

CEILING, FLOOR, WALL, TABLE, CHAIR, SOFA = 0, 1, 2, 7, 8, 9
CONFIG = TINY_MODEL_CFG + "up_axis = 'y'\n"


def box_surface(rng, lo, hi, n):
    """``n`` points on the faces of the box [lo, hi] a scanner sees (all
    but the bottom), area-weighted."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    size = hi - lo
    # (axis, at high side?) of the 5 visible faces
    faces = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 1)]
    areas = np.array([np.prod(np.delete(size, a)) for a, _ in faces])
    pick = rng.choice(len(faces), n, p=areas / areas.sum())
    pts = lo + rng.random((n, 3)) * size
    for f, (axis, high) in enumerate(faces):
        pts[pick == f, axis] = hi[axis] if high else lo[axis]
    return pts


def plane(rng, z, n, size=(6., 5.)):
    pts = rng.random((n, 3)) * [size[0], size[1], 0]
    pts[:, 2] = z + rng.normal(0, 0.003, n)
    return pts


def write_room(root, name='Area_1_office_1', walls=True, ceiling=True,
               seed=0):
    """A 6 x 5 x 3 m room in mmdet3d's converted S3DIS layout: floor,
    ceiling, walls and a table, a chair and a sofa far apart."""
    rng = np.random.default_rng(seed)
    parts = [(plane(rng, 0., 3000), FLOOR, (90, 90, 90))]
    if ceiling:
        parts.append((plane(rng, 3., 3000), CEILING, (240, 240, 240)))
    if walls:  # the vertical faces of the room's box
        pts = box_surface(rng, (0, 0, 0), (6, 5, 3), 3000)
        parts.append((pts[pts[:, 2] < 2.99], WALL, (200, 190, 170)))
    parts += [
        (box_surface(rng, (1.2, 1.2, 0.), (2.2, 2.0, 0.75), 900), TABLE,
         (150, 90, 40)),
        (box_surface(rng, (4.3, 1.3, 0.), (4.8, 1.8, 0.9), 700), CHAIR,
         (30, 60, 200)),
        (box_surface(rng, (2.0, 3.5, 0.), (4.0, 4.2, 0.8), 900), SOFA,
         (200, 30, 60)),
    ]
    xyz = np.concatenate([p for p, _, _ in parts])
    sem = np.concatenate([np.full(len(p), lab) for p, lab, _ in parts])
    rgb = np.concatenate([np.tile(c, (len(p), 1)) for p, _, c in parts])
    ins = np.concatenate([np.full(len(p), i + 1) for i, (p, _, _)
                          in enumerate(parts)])
    for sub in ('points', 'semantic_mask', 'instance_mask'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    path = osp.join(root, 'points', f'{name}.bin')
    np.concatenate([xyz, rgb], 1).astype(np.float32).tofile(path)
    sem.astype(np.int64).tofile(osp.join(root, 'semantic_mask',
                                         f'{name}.bin'))
    ins.astype(np.int64).tofile(osp.join(root, 'instance_mask',
                                         f'{name}.bin'))
    info = osp.join(root, 's3dis_infos_Area_1.pkl')
    infos = dict(metainfo=dict(dataset='s3dis'), data_list=[])
    if osp.isfile(info):
        with open(info, 'rb') as f:
            infos = pickle.load(f)
    infos['data_list'].append(dict(
        sample_idx=len(infos['data_list']),
        lidar_points=dict(num_pts_feats=6, lidar_path=f'{name}.bin'),
        pts_semantic_mask_path=f'{name}.bin',
        pts_instance_mask_path=f'{name}.bin'))
    with open(info, 'wb') as f:
        pickle.dump(infos, f)
    return path


@pytest.fixture(scope='module')
def s3dis(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('scenes') / 's3dis')
    paths = [write_room(root, 'Area_1_office_1', seed=0),
             write_room(root, 'Area_1_office_2', walls=False, seed=1)]
    return root, paths


@pytest.fixture(scope='module')
def model_files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('scene_model')
    config = str(tmp / 'tiny.py')
    with open(config, 'w') as f:
        f.write(CONFIG)
    torch.manual_seed(0)
    ckpt = str(tmp / 'tiny.pth')
    torch.save({'state_dict': init_model(config).state_dict()}, ckpt)
    return config, ckpt


# ----------------------------------------------------------------------
# reader
def test_load_scene_finds_masks_by_the_mmdet3d_layout(s3dis):
    root, paths = s3dis
    scene = load_scene(paths[0])
    assert scene.dataset == 's3dis' and scene.name == 'Area_1_office_1'
    assert scene.rgb.dtype == np.uint8 and scene.xyz.shape[1] == 3
    assert len(scene.semantic) == len(scene.instance) == scene.num_points
    assert scene.class_mask('chair').sum() == 700
    assert set(scene.classes_present(100)) == {
        'ceiling', 'floor', 'wall', 'table', 'chair', 'sofa'}
    assert find_scenes(root) == paths
    assert find_scenes(osp.join(root, 's3dis_infos_Area_1.pkl')) == paths
    assert find_scenes(paths[1]) == [paths[1]]
    with pytest.raises(ValueError, match="unknown class 'lamp'"):
        scene.class_mask('lamp')


def test_scannet_names_and_bad_scene_files(tmp_path):
    root = tmp_path / 'scannet'
    for sub in ('points', 'semantic_mask'):
        (root / sub).mkdir(parents=True)
    pts = np.random.default_rng(0).random((10, 6)).astype(np.float32)
    pts.tofile(root / 'points' / 'scene0000_00.bin')
    np.array([5] * 4 + [7] * 6, np.int64).tofile(
        root / 'semantic_mask' / 'scene0000_00.bin')
    scene = load_scene(str(root / 'points' / 'scene0000_00.bin'))
    assert scene.dataset == 'scannet'
    assert scene.class_mask('chair').sum() == 4  # NYU40 id 5
    assert scene.classes_present() == ['chair', 'table']

    bad = root / 'points'
    (bad / 'empty.bin').write_bytes(b'')
    with pytest.raises(ValueError, match='empty.bin: the scene has no points'):
        load_scene(str(bad / 'empty.bin'))
    np.zeros(7, np.float32).tofile(bad / 'odd.bin')
    with pytest.raises(ValueError, match='odd.bin.*x y z r g b'):
        load_scene(str(bad / 'odd.bin'))
    pts.tofile(bad / 'scene0001_00.bin')
    np.zeros(3, np.int64).tofile(root / 'semantic_mask' / 'scene0001_00.bin')
    with pytest.raises(ValueError, match='3 labels but the scene has 10'):
        load_scene(str(bad / 'scene0001_00.bin'))
    (tmp_path / 'room.xyz').write_text('0 0 0\n')
    with pytest.raises(ValueError, match='unsupported scene file type'):
        load_scene(str(tmp_path / 'room.xyz'))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_scene(str(tmp_path / 'missing.bin'))


# ----------------------------------------------------------------------
# geometry
def test_floor_and_ceiling_removal(s3dis):
    scene = load_scene(s3dis[1][0])
    keep, info = remove_floor_ceiling(scene.xyz)
    planes = np.isin(scene.semantic, [FLOOR, CEILING])
    removed = ~keep
    assert info['floor_height'] == pytest.approx(0., abs=0.01)
    assert info['ceiling_height'] == pytest.approx(3., abs=0.01)
    assert (removed & planes).sum() == planes.sum()  # every plane point
    # what else goes: object bottoms and wall feet within the margin only
    assert (removed & ~planes).sum() < 0.05 * (~planes).sum()
    z = scene.xyz[removed & ~planes, 2]
    assert ((z <= info['floor_height'] + 0.04) |
            (z >= info['ceiling_height'] - 0.04)).all()
    table_top = scene.class_mask('table') & (scene.xyz[:, 2] > 0.7)
    assert keep[table_top].all()
    # without a ceiling (like ScanNet scans) only the floor goes
    no_ceiling = scene.semantic != CEILING
    keep2, info2 = remove_floor_ceiling(scene.xyz[no_ceiling])
    assert info2['ceiling_height'] is None
    assert info2['floor_height'] == pytest.approx(0., abs=0.01)
    top = scene.xyz[no_ceiling][:, 2] > 2.5
    assert keep2[top].all()


def test_kmeans_clusters_separated_objects(s3dis):
    scene = load_scene(s3dis[1][1])  # no walls: three objects
    keep, _ = remove_floor_ceiling(scene.xyz)
    labels = cluster_scene(scene.xyz, keep, 3, seed=0)
    assert (labels[~keep] == -1).all() and (labels[keep] >= 0).all()
    owners = []
    for cls in ('table', 'chair', 'sofa'):
        ids = labels[scene.class_mask(cls) & keep]
        assert len(np.unique(ids)) == 1  # one object, one cluster
        owners.append(ids[0])
    assert sorted(owners) == [0, 1, 2]
    again = cluster_scene(scene.xyz, keep, 3, seed=0)
    np.testing.assert_array_equal(labels, again)
    sub = cluster_scene(scene.xyz, keep, 3, seed=0, max_fit_points=500,
                        backend='sklearn', features='xyz+normal')
    assert sub.max() == 2 and (sub[keep] >= 0).all()
    with pytest.raises(ValueError, match='fewer than the 5 clusters'):
        cluster_scene(scene.xyz[:4], np.ones(4, bool), 5)
    with pytest.raises(ValueError, match='no colours'):
        cluster_scene(scene.xyz, keep, 3, rgb=None, features='xyz+rgb')


def test_selection_and_frames():
    scores = np.array([0.2, np.nan, 0.5, 0.45, -0.1])
    assert select_clusters(scores) == [2]
    assert select_clusters(scores, top_k=2) == [2, 3]
    assert select_clusters(scores, margin=0.1) == [2, 3]
    assert select_clusters(scores, margin=1.0) == [2, 3, 0, 4]
    assert select_clusters(np.full(3, np.nan)) == []
    np.testing.assert_allclose(to_model_frame(np.array([[1., 2., 3.]])),
                               [[1., 3., -2.]])
    labels = np.array([-1, 0, 0, 1, 1, 1])
    gt = np.array([0, 0, 1, 1, 1, 1], bool)
    assert best_cluster_iou(labels, gt) == pytest.approx(3 / 4)


# ----------------------------------------------------------------------
# end to end
def _mock_encoders(querier, scene):
    """Cluster embedding = one-hot of its majority ground-truth class;
    query embedding = one-hot of the queried class."""
    names = {TABLE: 'table', CHAIR: 'chair', SOFA: 'sofa'}
    order = [TABLE, CHAIR, SOFA, WALL]

    def embed_clusters(scene_, seg):
        out = np.zeros((seg.num_clusters, 4), np.float32)
        for c in range(seg.num_clusters):
            major = np.bincount(scene_.semantic[seg.labels == c]).argmax()
            out[c, order.index(major) if major in order else 3] = 1
        return out

    def embed_queries(queries):
        return np.stack([np.eye(4, dtype=np.float32)[
            order.index({v: k for k, v in names.items()}[q])]
            for q in queries])

    querier.embed_clusters = embed_clusters
    querier.embed_queries = embed_queries


def test_query_end_to_end_with_a_known_encoder(s3dis, model_files, tmp_path):
    scene = load_scene(s3dis[1][0])  # with walls
    model = init_model(*model_files)
    querier = SceneQuerier(model, num_clusters=12, margin=0.5, seed=0,
                           progress=False)
    _mock_encoders(querier, scene)
    results = querier.run(scene, ['chair', 'sofa'])
    for res, cls in zip(results, ('chair', 'sofa')):
        labels = res.segmentation.labels
        # the selection is exactly the clusters made mostly of the class
        major = [c for c in range(res.segmentation.num_clusters)
                 if np.bincount(scene.semantic[labels == c]).argmax()
                 == scene.label_of(cls)]
        assert sorted(res.selected) == major
        gt = scene.class_mask(cls)
        iou = (res.mask & gt).sum() / (res.mask | gt).sum()
        assert iou >= best_cluster_iou(labels, gt) and iou > 0.75, (cls, iou)
    chair = results[0]
    paths = write_query_outputs(scene, chair, str(tmp_path / 'out' / 'q'),
                                image_size=96)
    ply = PlyData.read(paths['ply'])['vertex']
    assert ply.count == scene.num_points
    np.testing.assert_array_equal(np.asarray(ply['selected']).astype(bool),
                                  chair.mask)
    np.testing.assert_array_equal(ply['cluster'], chair.segmentation.labels)
    red = np.stack([ply['red'], ply['green'], ply['blue']], 1)[chair.mask]
    assert (red == [230, 30, 30]).all()
    png = Image.open(paths['png'])
    assert png.width > 2 * png.height  # input / clusters / result
    info = json.load(open(paths['json']))
    assert info['query'] == 'chair' and info['selected'] == chair.selected
    best = info['clusters'][chair.selected[0]]
    assert set(best) >= {'id', 'size', 'centroid', 'score', 'selected'}
    assert best['score'] == pytest.approx(1.0) and best['rank'] == 0
    # the chair stands at x 4.3..4.8, y 1.3..1.8
    assert 4.2 < best['centroid'][0] < 4.9 and 1.2 < best['centroid'][1] < 1.9
    assert sum(c['size'] for c in info['clusters']) == \
        scene.num_points - info['num_removed']


def test_scene_query_iou_by_hand():
    metric = SceneQueryIoU()
    metric.process(None, [
        dict(scene='a', query='chair', pred_mask=[1, 1, 0, 0],
             gt_mask=[0, 1, 1, 0]),                       # 1 / 3
        dict(scene='b', query='chair', pred_mask=[1, 0], gt_mask=[1, 0]),
        dict(scene='a', query='table', pred_mask=[0, 0, 0, 1],
             gt_mask=[0, 0, 1, 0]),                       # 0
        dict(scene='c', query='sofa', pred_mask=[0, 0], gt_mask=[0, 0]),
    ])
    res = metric.evaluate(len(metric.results))
    assert res['scene_query/IoU_chair'] == pytest.approx(100 * (1 / 3 + 1)
                                                         / 2)
    assert res['scene_query/IoU_table'] == 0
    assert 'scene_query/IoU_sofa' not in res  # empty union: ignored
    assert res['scene_query/mIoU'] == pytest.approx(100 * (2 / 3) / 2)
    assert res['scene_query/query_mean_IoU'] == pytest.approx(
        100 * (1 / 3 + 1 + 0) / 3)
    with pytest.raises(ValueError, match='cover the whole scene'):
        metric.process(None, [dict(scene='a', query='x', pred_mask=[1],
                                   gt_mask=[1, 0])])


@pytest.mark.slow
def test_query_scene_cli_with_the_model(s3dis, model_files, tmp_path):
    spec = importlib.util.spec_from_file_location(
        'tool_query_scene', osp.join(REPO, 'tools', 'query_scene.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    root, paths = s3dis
    out = tool.main([*model_files, paths[0], '--query', 'chair',
                     '--clusters', '6', '--out-dir', str(tmp_path),
                     '--image-size', '64'])
    written = out['queries'][0]
    for kind in ('ply', 'png', 'json'):
        assert osp.getsize(written[kind]) > 0
    scores = json.load(open(written['json']))['clusters']
    assert len(scores) == 6
    assert all(np.isfinite(c['score']) for c in scores)
    assert sum(c['selected'] for c in scores) == 1
    out = tool.main([*model_files, root, '--eval', '--clusters', '6',
                     '--out-dir', str(tmp_path)])
    metrics = out['metrics']
    assert {'mIoU', 'oracle_mIoU', 'IoU_chair', 'IoU_table', 'IoU_sofa'} <= \
        set(metrics)
    # top-1 can never beat the best single cluster
    assert metrics['oracle_mIoU'] >= metrics['mIoU']
    saved = json.load(open(osp.join(str(tmp_path), 'scene_query_eval.json')))
    assert saved['num_scenes'] == 2 and saved['num_queries'] == 6
    with pytest.raises(ValueError, match='fewer than the 100000 clusters'):
        tool.main([*model_files, paths[0], '--query', 'chair',
                   '--clusters', '100000', '--out-dir', str(tmp_path)])
