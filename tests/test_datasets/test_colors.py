"""Coloured points: the colour transforms, the point transforms carrying
colour columns along, the synthetic world's shapenet_pc_rgb files and the
colour configs."""
import os.path as osp

import numpy as np
import pytest
from conftest import REPO
from mmengine.config import Config
from mmengine.dataset import Compose

import cg3d_mm  # noqa: F401
from cg3d_mm.datagen.synthetic import CATEGORY_BY_NAME, build_shape, generate
from cg3d_mm.datagen.synthetic.sampling import sample_surface
from cg3d_mm.datagen.synthetic.seeding import model_id, object_rng
from cg3d_mm.datagen.synthetic.shapenet import POINTS_PER_SHAPE
from cg3d_mm.datasets import ShapeNetTriplets
from cg3d_mm.datasets.transforms import (AddConstantColor, JitterColor,
                                         JitterPoints, NormalizeColor,
                                         NormalizePoints, PerturbRotation,
                                         RandomDropColor, RandomDropPoints,
                                         RandomRotatePoints, RandomShiftColor,
                                         RandomScaleTranslate, SamplePoints,
                                         UnreadableSampleError)
from cg3d_mm.datasets.utils import build_transforms

CONFIGS = osp.join(REPO, 'configs', 'cg3d')


def coloured_cloud(n=600, seed=0):
    """(n, 6) xyz + RGB in [0, 1]; each row's colour is unique, so it tells
    which input row an output row came from."""
    rng = np.random.default_rng(seed)
    xyz = rng.normal(size=(n, 3)).astype(np.float32)
    i = np.arange(n)
    rgb = np.stack([i / n, (i * 7 % n) / n, rng.random(n)], 1)
    return np.concatenate([xyz, rgb], 1).astype(np.float32)


def source_rows(out, pts):
    """Index into ``pts`` of every row of ``out`` (by its colour)."""
    row_of = {tuple(c): r for r, c in enumerate(pts[:, 3:].tolist())}
    return np.array([row_of[tuple(c)] for c in out[:, 3:].tolist()])


# ------------------------------------------------------- colour transforms
def test_normalize_color_scales_and_refuses_out_of_range():
    pts = coloured_cloud()
    pts8 = pts.copy()
    pts8[:, 3:] = np.round(pts8[:, 3:] * 255)
    out = NormalizeColor(scale=255)(dict(points=pts8.copy()))['points']
    assert np.array_equal(out[:, :3], pts[:, :3])
    assert np.allclose(out[:, 3:], pts8[:, 3:] / 255, atol=1e-7)
    # 8-bit colours read with scale=1: refused, naming the file and range
    with pytest.raises(UnreadableSampleError,
                       match=r'a\.npy: colour values span \[0, 255\], '
                       r'outside \[0, 1\]'):
        NormalizeColor(scale=1)(dict(points=pts8, pts_path='a.npy'))
    bad = pts.copy()
    bad[3, 4] = -0.5
    with pytest.raises(UnreadableSampleError, match='outside'):
        NormalizeColor(scale=1)(dict(points=bad, pts_path='b.npy'))
    for scale in (0, -255, float('nan'), True):
        with pytest.raises(ValueError, match='scale must be a positive'):
            NormalizeColor(scale=scale)
    # a pipeline that kept xyz only: a configuration error, said so
    with pytest.raises(ValueError, match=r'colour columns \[3, 4, 5\].*'
                       r'use_dims=\(0, 1, 2, 3, 4, 5\)'):
        NormalizeColor(scale=255)(dict(points=pts[:, :3]))


def test_random_drop_color_is_openshapes_grey():
    pts = coloured_cloud()
    out = RandomDropColor(prob=1.)(dict(points=pts.copy()))['points']
    assert np.array_equal(out[:, :3], pts[:, :3])
    assert np.all(out[:, 3:] == np.float32(0.4))
    kept = RandomDropColor(prob=0.)(dict(points=pts.copy()))['points']
    assert np.array_equal(kept, pts)
    np.random.seed(0)
    drop = RandomDropColor()  # OpenShape's rgb_random_drop_prob 0.5
    dropped = sum(
        bool(np.all(drop(dict(points=pts.copy()))['points'][:, 3:] == 0.4))
        for _ in range(200))
    assert 70 < dropped < 130
    with pytest.raises(ValueError, match='prob must be in'):
        RandomDropColor(prob=1.5)
    with pytest.raises(ValueError, match='color_dims must be three'):
        RandomDropColor(color_dims=(0, 1, 2))


def test_jitter_color_stays_in_range_and_moves_colours_only():
    pts = coloured_cloud()
    pts[:5, 3:] = 1.  # clipped at the top
    np.random.seed(0)
    out = JitterColor(sigma=0.1)(dict(points=pts.copy()))['points']
    assert np.array_equal(out[:, :3], pts[:, :3])
    assert out[:, 3:].min() >= 0 and out[:, 3:].max() <= 1
    assert 0.03 < np.abs(out[:, 3:] - pts[:, 3:]).mean() < 0.1


def test_shift_color_moves_the_whole_cloud_by_one_draw():
    pts = coloured_cloud()
    pts[:, 3:] = pts[:, 3:] * 0.6 + 0.2  # away from the clip bounds
    np.random.seed(0)
    out = RandomShiftColor(scale_range=(1.1, 1.2),
                           shift_range=(0.02, 0.05))(
                               dict(points=pts.copy()))['points']
    assert np.array_equal(out[:, :3], pts[:, :3])
    # one affine map per channel for the whole cloud: rgb' = rgb * s + t
    for c in range(3, 6):
        s, t = np.polyfit(pts[:, c], out[:, c], 1)
        assert np.allclose(out[:, c], pts[:, c] * s + t, atol=1e-5)
        assert 1.1 <= s <= 1.2 and 0.02 <= t <= 0.05
    # the same brightness for all three channels
    slopes = [np.polyfit(pts[:, c], out[:, c], 1)[0] for c in range(3, 6)]
    assert np.ptp(slopes) < 1e-4
    bright = pts.copy()
    bright[:, 3:] = 0.95
    out = RandomShiftColor(scale_range=(1.2, 1.2), shift_range=(0.1, 0.1))(
        dict(points=bright))['points']
    assert np.all(out[:, 3:] == 1.)  # clipped into [0, 1]
    kept = RandomShiftColor(prob=0.)(dict(points=pts.copy()))['points']
    assert np.array_equal(kept, pts)
    with pytest.raises(ValueError, match='scale_range must be'):
        RandomShiftColor(scale_range=(1.2, 0.8))
    with pytest.raises(ValueError, match='scale_range must be >= 0'):
        RandomShiftColor(scale_range=(-0.1, 0.8))
    with pytest.raises(ValueError, match='needs colour columns'):
        RandomShiftColor()(dict(points=pts[:, :3].copy()))


def test_add_constant_color_for_xyz_only_sources():
    xyz = coloured_cloud()[:, :3].copy()
    out = AddConstantColor()(dict(points=xyz))['points']
    assert out.shape == (len(xyz), 6) and out.dtype == np.float32
    assert np.array_equal(out[:, :3], xyz) and np.all(out[:, 3:] == 0.4)
    with pytest.raises(ValueError, match=r'xyz-only points \(N, 3\), got '
                       r'\(600, 6\)'):
        AddConstantColor()(dict(points=coloured_cloud()))


# ------------------------------------------ point transforms carry colours
@pytest.mark.parametrize('transform', [
    NormalizePoints(),
    RandomRotatePoints(up_axis='y', quarter_turns=True, prob=1.),
    PerturbRotation(sigma=0.2, prob=1.),
    JitterPoints(prob=1.),
    RandomScaleTranslate(prob=1.),
], ids=lambda t: type(t).__name__)
def test_xyz_transforms_keep_colour_columns(transform):
    pts = coloured_cloud()
    np.random.seed(1)
    out = transform(dict(points=pts.copy()))['points']
    assert out.shape == pts.shape and out.dtype == np.float32
    assert np.array_equal(out[:, 3:], pts[:, 3:])  # bit for bit, in order
    assert not np.allclose(out[:, :3], pts[:, :3])


@pytest.mark.parametrize('transform', [
    SamplePoints(128, method='fps'),
    SamplePoints(128, method='random'),
    SamplePoints(128, method='fps', min_sq_norm=0.5),
    SamplePoints(900, method='random', allow_fewer=True),
    RandomDropPoints(max_ratio=0.5, prob=1.),
], ids=lambda t: repr(t))
def test_sampling_keeps_rows_together(transform):
    pts = coloured_cloud()
    np.random.seed(2)
    out = transform(dict(points=pts.copy()))['points']
    assert out.shape[1] == 6
    rows = source_rows(out, pts)  # every colour is an input colour ...
    assert np.array_equal(out[:, :3], pts[rows, :3])  # ... with its xyz


def test_fps_picks_points_by_xyz_only():
    pts = coloured_cloud()
    other = pts.copy()
    other[:, 3:] = np.random.default_rng(5).random((len(pts), 3)) * 50
    a = SamplePoints(128, method='fps')(dict(points=pts))['points']
    b = SamplePoints(128, method='fps')(dict(points=other))['points']
    assert np.array_equal(a[:, :3], b[:, :3])


def test_rotations_rotate_normals_only_when_told():
    rng = np.random.default_rng(0)
    xyz = rng.normal(size=(200, 3))
    normals = rng.normal(size=(200, 3))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    rgb = rng.random((200, 3))
    pts = np.concatenate([xyz, normals, rgb], 1).astype(np.float32)
    for rot in (RandomRotatePoints(prob=1., normal_dims=(3, 4, 5)),
                PerturbRotation(sigma=0.3, prob=1., normal_dims=(3, 4, 5))):
        out = rot(dict(points=pts.copy()))['points']
        # one rotation for both: norms and xyz . normal preserved
        assert not np.allclose(out[:, 3:6], pts[:, 3:6])
        assert np.allclose(np.linalg.norm(out[:, 3:6], axis=1), 1, atol=1e-5)
        assert np.allclose((out[:, :3] * out[:, 3:6]).sum(1),
                           (pts[:, :3] * pts[:, 3:6]).sum(1), atol=1e-4)
        assert np.array_equal(out[:, 6:], pts[:, 6:])
    # by default columns 3..5 are not normals: they are kept (colours)
    out = RandomRotatePoints(prob=1.)(dict(points=pts.copy()))['points']
    assert np.array_equal(out[:, 3:], pts[:, 3:])
    with pytest.raises(ValueError, match='normal_dims must be three'):
        RandomRotatePoints(normal_dims=(3, 4))
    with pytest.raises(ValueError, match=r'x\.npy: normal_dims=\[3, 4, 5\] '
                       r'but the points have shape \(200, 3\)'):
        RandomRotatePoints(prob=1., normal_dims=(3, 4, 5))(
            dict(points=pts[:, :3].copy(), pts_path='x.npy'))


def test_rgb_config_pipelines_keep_colours():
    cfg = Config.fromfile(osp.join(CONFIGS, 'pointmlp_synthetic_rgb.py'))
    point_steps = [t for t in cfg.train_dataloader.dataset.pipeline
                   if t.type not in ('LoadTripletImage', 'SampleCaption',
                                     'PackCG3DInputs')]
    train = Compose(build_transforms(point_steps))
    test = Compose(build_transforms(cfg.test_dataloader.dataset.pipeline[:-1]))
    pts = coloured_cloud(2000)
    np.random.seed(3)
    seen_dropped = seen_kept = False
    for _ in range(12):
        out = train(dict(points=pts.copy()))['points']
        assert out.shape == (cfg.num_points, 6)
        if np.all(out[:, 3:] == np.float32(0.4)):
            seen_dropped = True
        else:
            source_rows(out, pts)  # colours are the rows' own
            seen_kept = True
    assert seen_dropped and seen_kept
    out = test(dict(points=pts.copy()))['points']
    rows = source_rows(out, pts)
    assert len(set(rows.tolist())) == cfg.num_points


# ---------------------------------------------- the synthetic world's files
@pytest.fixture(scope='module')
def rgb_world(tmp_path_factory):
    return generate(tmp_path_factory.mktemp('rgb') / 'world', seed=3,
                    shapes_per_class=3, layouts='shapenet',
                    classes=('chair', 'table', 'lamp'), image_size=16,
                    num_views=1, workers=1, progress=False)


def test_synthetic_rgb_points_match_xyz_and_mesh_colours(rgb_world):
    base = rgb_world / 'ShapeNet55'
    names = sorted(p.name for p in (base / 'shapenet_pc').iterdir())
    assert sorted(p.name for p in (base / 'shapenet_pc_rgb').iterdir()) == \
        names and len(names) == 9
    synset_of = {CATEGORY_BY_NAME[c].synset: c
                 for c in ('chair', 'table', 'lamp')}
    palettes = []
    for name in names:
        xyz = np.load(base / 'shapenet_pc' / name)
        rgb = np.load(base / 'shapenet_pc_rgb' / name)
        assert rgb.shape == (POINTS_PER_SHAPE, 6) and rgb.dtype == np.float32
        assert np.array_equal(rgb[:, :3], xyz)
        assert rgb[:, 3:].min() >= 0 and rgb[:, 3:].max() <= 1
        # the colours are those of the mesh faces the points lie on
        synset, mid = name[:-4].split('-')
        category = synset_of[synset]
        index = next(i for i in range(3) if model_id(3, category, i) == mid)
        rng = object_rng(3, 'shapenet', category, index)
        vertices, faces, colors = build_shape(category, rng).to_mesh()
        _, _, face = sample_surface(vertices, faces, POINTS_PER_SHAPE, rng)
        assert np.array_equal(rgb[:, 3:],
                              colors[face].astype(np.float32) / 255)
        palettes.append(np.unique(rgb[:, 3:], axis=0))
    # coloured shapes, not one flat grey: several colours in most objects
    assert sum(len(p) >= 2 for p in palettes) >= len(names) // 2
    assert len(np.unique(np.concatenate(palettes), axis=0)) >= len(names)


def test_synthetic_rgb_points_load_through_the_dataset(rgb_world):
    cfg = Config.fromfile(osp.join(CONFIGS, 'pointmlp_synthetic_rgb.py'))
    ds = ShapeNetTriplets(
        data_root=str(rgb_world / 'ShapeNet55'), ann_file='test_img.txt',
        num_views=1, pc_dir=cfg.test_dataloader.dataset.pc_dir,
        pipeline=cfg.test_dataloader.dataset.pipeline, test_mode=True)
    sample = ds[0]
    points = sample['inputs']['points']
    assert tuple(points.shape) == (cfg.num_points, 6)
    assert 0 <= float(points[:, 3:].min()) <= float(points[:, 3:].max()) <= 1


# ---------------------------------------------------------------- configs
def _differences(a: dict, b: dict, path=''):
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _differences(a.get(k), b.get(k), f'{path}.{k}'.lstrip('.'))
        return out
    return [] if a == b else [path]


@pytest.mark.parametrize('name', ['pointmlp_synthetic', 'pointmlp_shapenet'])
def test_rgb_config_is_its_xyz_twin_plus_colour(name):
    xyz = Config.fromfile(osp.join(CONFIGS, f'{name}.py')).to_dict()
    rgb = Config.fromfile(osp.join(CONFIGS, f'{name}_rgb.py')).to_dict()
    assert rgb['model']['backbone']['in_channels'] == 6
    assert xyz['model']['backbone'].get('in_channels', 3) == 3
    expected = {'model.backbone.in_channels', 'pc_dir', 'point_dims',
                'train_pipeline', 'test_pipeline'}
    for split in ('train', 'val', 'test'):
        expected |= {f'{split}_dataloader.dataset.pc_dir',
                     f'{split}_dataloader.dataset.pipeline'}
        assert rgb[f'{split}_dataloader']['dataset']['pc_dir'] == \
            'shapenet_pc_rgb'
    if 'color_drop_prob' in rgb:  # the synthetic demo names its drop rate
        expected.add('color_drop_prob')
    drop = {'filename'}
    diff = [d for d in _differences(xyz, rgb) if d not in drop]
    assert set(diff) == expected
    # the pipelines differ by the columns read and the colour drop only
    for split, key in (('train', 'train_pipeline'),
                       ('test', 'test_pipeline')):
        a = xyz[f'{split}_dataloader']['dataset']['pipeline']
        b = rgb[f'{split}_dataloader']['dataset']['pipeline']
        assert b[0] == dict(type='LoadPointCloud', use_dims=(0, 1, 2, 3, 4, 5))
        assert a[0] == dict(type='LoadPointCloud', use_dims=(0, 1, 2))
        extra = [t for t in b[1:] if t not in a[1:]]
        prob = rgb.get('color_drop_prob', 0.5)  # OpenShape's 0.5 for real data
        assert extra == ([dict(type='RandomDropColor', prob=prob, value=0.4)]
                         if split == 'train' else [])
        assert [t for t in b[1:] if t not in extra] == a[1:]
        assert rgb[key] == b
