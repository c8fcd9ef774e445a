"""ShapeNetTriplets and the point / image / caption transforms."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import write_tiny_shapenet

import cg3d_mm  # noqa: F401
from cg3d_mm.datasets import ShapeNetTriplets
from cg3d_mm.datasets.transforms import (LoadPointCloud, NormalizePoints,
                                         PackCG3DInputs, RandomDropPoints,
                                         RandomRotatePoints, SampleCaption,
                                         SamplePoints, UnreadableSampleError)
from cg3d_mm.utils.templates import check_templates

TRAIN_PIPELINE = [
    dict(type='LoadPointCloud'),
    dict(type='SamplePoints', num_points=128, method='random'),
    dict(type='NormalizePoints'),
    dict(type='LoadTripletImage', view='random'),
    dict(type='ResizeImage', size=16),
    dict(type='SampleCaption', templates=['a {}.', 'the {}!']),
    dict(type='PackCG3DInputs', keys=('points', 'img')),
]


def test_dataset_reads_the_cg3d_layout(tiny_shapenet):
    ds = ShapeNetTriplets(data_root=tiny_shapenet, ann_file='train_img.txt',
                          num_views=2, pipeline=TRAIN_PIPELINE)
    assert ds.metainfo['classes'] == ('chair', 'table', 'lamp', 'mug')
    assert len(ds) == 4 * 2
    labels = sorted(ds.get_data_info(i)['gt_label'] for i in range(len(ds)))
    assert labels == [0, 0, 1, 1, 2, 2, 3, 3]
    item = ds[0]
    assert item['inputs']['points'].shape == (128, 3)
    assert item['inputs']['imgs'].shape == (3, 16, 16)
    assert item['inputs']['imgs'].dtype == torch.uint8
    sample = item['data_samples']
    name = sample.class_name
    assert sample.caption in (f'a {name}.', f'the {name}!')
    assert int(sample.gt_label) == ds.metainfo['classes'].index(name)
    val = ShapeNetTriplets(data_root=tiny_shapenet, ann_file='val_img.txt',
                           num_views=2, test_mode=True)
    assert len(val) == 4


def test_views_and_captions_are_sampled_per_call(tiny_shapenet):
    ds = ShapeNetTriplets(data_root=tiny_shapenet, num_views=2,
                          pipeline=TRAIN_PIPELINE)
    np.random.seed(0)
    seen_views = {ds[0]['data_samples'].view_idx for _ in range(20)}
    seen_caps = {ds[0]['data_samples'].caption for _ in range(20)}
    assert seen_views == {0, 1}
    assert len(seen_caps) == 2


def test_missing_files_are_skipped_or_refused(tiny_shapenet):
    first = open(osp.join(tiny_shapenet, 'train_img.txt')).readline().strip()
    os.remove(osp.join(tiny_shapenet, 'shapenet_pc', first))
    with pytest.raises(FileNotFoundError, match=first[:-4]):
        ShapeNetTriplets(data_root=tiny_shapenet, num_views=2)
    ds = ShapeNetTriplets(data_root=tiny_shapenet, num_views=2,
                          max_missing_ratio=0.5)
    assert len(ds) == 7


def test_unknown_class_is_named(tiny_shapenet):
    with open(osp.join(tiny_shapenet, 'shape_names.txt'), 'w') as f:
        f.write('chair\ntable\nlamp\n')
    with pytest.raises(ValueError,
                       match=r"synset 00000003 .*\(mug, mugs\).*shape_names"):
        ShapeNetTriplets(data_root=tiny_shapenet, num_views=2)


@pytest.mark.parametrize('names, shape_name', [
    ('display,video display', 'display'),  # the first name
    ('display,video display', 'monitor'),  # CG3D's rename of it
    ('vessel,watercraft', 'ship'),
    ('ashcan,trash can,garbage can', 'trashcan'),
    ('ashcan,trash can,garbage can', 'garbage can'),  # any listed name
])
def test_taxonomy_names_resolve_to_the_class_list(tmp_path, names,
                                                  shape_name):
    """Releases differ in whether shape_names.txt holds ShapeNetCore's
    first taxonomy name or CG3D's rename; both load."""
    import json
    root = write_tiny_shapenet(tmp_path, classes=('chair', 'mug'),
                               per_class=3)
    with open(osp.join(root, 'taxonomy.json')) as f:
        taxonomy = json.load(f)
    taxonomy['00000001'] = names  # the 'mug' synset
    with open(osp.join(root, 'taxonomy.json'), 'w') as f:
        json.dump(taxonomy, f)
    with open(osp.join(root, 'shape_names.txt'), 'w') as f:
        f.write(f'chair\n{shape_name}\n')
    ds = ShapeNetTriplets(data_root=root, ann_file='test_img.txt',
                          num_views=2)
    assert [ds.get_data_info(i)['class_name'] for i in range(len(ds))] == \
        ['chair', shape_name]
    assert ds.metainfo['classes'] == ('chair', shape_name)


def test_missing_root_and_list_are_named(tmp_path, tiny_shapenet):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        ShapeNetTriplets(data_root=str(tmp_path / 'nowhere'))
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        ShapeNetTriplets(data_root=tiny_shapenet, ann_file='nope.txt')


def test_unreadable_sample_is_skipped_in_training(tiny_shapenet, caplog):
    ds = ShapeNetTriplets(data_root=tiny_shapenet, num_views=2,
                          pipeline=TRAIN_PIPELINE)
    with open(ds.get_data_info(0)['pts_path'], 'wb') as f:
        f.write(b'not a numpy file')
    assert ds.prepare_data(0) is None  # BaseDataset then draws another
    assert ds._skipped_unreadable == 1
    item = ds[0]  # re-drawn, no exception
    assert item['inputs']['points'].shape == (128, 3)
    # the sample drawn instead carries the skip (for SampleAccountingHook)
    skipped = item['data_samples'].skipped_samples
    assert [s['sample'] for s in skipped] == [
        ds.get_data_info(0)['sample_id']]
    assert 'cannot read' in skipped[0]['error']
    assert 'skipped_samples' not in ds[1]['data_samples']
    test_ds = ShapeNetTriplets(data_root=tiny_shapenet, num_views=2,
                               pipeline=TRAIN_PIPELINE, test_mode=True)
    idx = [i for i in range(len(test_ds))
           if test_ds.get_data_info(i)['pts_path'] ==
           ds.get_data_info(0)['pts_path']][0]
    with pytest.raises(UnreadableSampleError, match='cannot read'):
        test_ds[idx]


def test_bad_points_are_reported_with_the_file(tmp_path):
    path = str(tmp_path / 'bad.npy')
    pts = np.random.rand(50, 3).astype(np.float32)
    pts[3, 1] = np.nan
    np.save(path, pts)
    with pytest.raises(UnreadableSampleError, match='bad.npy.*NaN or inf'):
        LoadPointCloud()(dict(pts_path=path))
    np.save(path, np.random.rand(50, 3).astype(np.float32))
    with pytest.raises(UnreadableSampleError,
                       match='bad.npy: has 50 points, fewer than the 64'):
        SamplePoints(64)(LoadPointCloud()(dict(pts_path=path)))
    np.save(path, np.random.rand(50).astype(np.float32))
    with pytest.raises(UnreadableSampleError, match=r'\(N, >=3\)'):
        LoadPointCloud()(dict(pts_path=path))


def test_point_file_formats(tmp_path):
    pts = np.random.rand(20, 6).astype(np.float32)
    np.savetxt(tmp_path / 'a.txt', pts, delimiter=',', fmt='%.6f')
    pts.tofile(tmp_path / 'a.bin')
    for name in ('a.txt', 'a.bin'):
        out = LoadPointCloud(use_dims=(0, 1, 2, 3, 4, 5))(
            dict(pts_path=str(tmp_path / name)))['points']
        assert np.allclose(out, pts, atol=1e-5)
    with pytest.raises(UnreadableSampleError, match='unsupported'):
        LoadPointCloud()(dict(pts_path=str(tmp_path / 'a.xyz')))


def test_normalize_and_fps_sampling():
    rng = np.random.default_rng(0)
    pts = (rng.normal(size=(500, 3)) * 5 + 3).astype(np.float32)
    out = NormalizePoints()(dict(points=pts))['points']
    assert np.allclose(out.mean(0), 0, atol=1e-5)
    assert np.sqrt((out**2).sum(1)).max() == pytest.approx(1.0, abs=1e-6)
    a = SamplePoints(64, method='fps')(dict(points=pts))['points']
    b = SamplePoints(64, method='fps')(dict(points=pts))['points']
    assert np.array_equal(a, b)  # deterministic for evaluation
    assert np.array_equal(a[0], pts[0])  # FPS starts at the first point
    # FPS spreads points: larger minimum spacing than a random subset
    def min_gap(x):
        d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
        return d[~np.eye(len(x), dtype=bool)].min()
    rand = SamplePoints(64, method='random')(dict(points=pts))['points']
    assert min_gap(a) > min_gap(rand)


def test_augmentations_keep_shape_and_rotate_about_up():
    pts = np.random.rand(100, 3).astype(np.float32)
    out = RandomRotatePoints(up_axis='y', prob=1.0)(dict(points=pts))['points']
    assert out.shape == pts.shape
    assert np.allclose(out[:, 1], pts[:, 1], atol=1e-6)  # y is kept
    assert not np.allclose(out, pts)
    dropped = RandomDropPoints(max_ratio=0.5, prob=1.0)
    np.random.seed(1)
    # dropped points are removed (test_recipe_pipeline.py has the details)
    assert dropped(dict(points=pts))['points'].shape[1:] == pts.shape[1:]


def test_caption_templates_are_checked():
    with pytest.raises(ValueError, match="exactly one '{}'"):
        check_templates(['a photo of a thing'])
    with pytest.raises(ValueError, match='non-empty list'):
        SampleCaption(templates='a {}')
    cap = SampleCaption(templates=['a {}.'])(dict(class_name='night_stand'))
    assert cap['caption'] == 'a night stand.'


def test_pack_inputs():
    out = PackCG3DInputs(keys=('points', ))(dict(
        points=np.zeros((8, 3), np.float32), gt_label=2, caption='x'))
    assert set(out['inputs']) == {'points'}
    assert int(out['data_samples'].gt_label) == 2
    with pytest.raises(ValueError, match='unknown input keys'):
        PackCG3DInputs(keys=('pts', ))


def _break_view(path, how):
    if how == 'truncated':
        with open(path, 'rb') as f:
            data = f.read()
        with open(path, 'wb') as f:
            f.write(data[:len(data) // 2])
    else:
        os.remove(path)


@pytest.mark.parametrize('how', ['truncated', 'missing'])
def test_unreadable_view_falls_back_to_another_view(tiny_shapenet, how,
                                                    monkeypatch):
    from cg3d_mm.datasets.transforms import loading
    logged = []
    monkeypatch.setattr(loading, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    pipeline = [dict(TRAIN_PIPELINE[i]) for i in range(len(TRAIN_PIPELINE))]
    pipeline[3] = dict(type='LoadTripletImage', view=0)
    ds = ShapeNetTriplets(data_root=tiny_shapenet, num_views=2,
                          pipeline=pipeline)
    bad = ds.get_data_info(0)['img_paths'][0]
    _break_view(bad, how)
    sample = ds[0]['data_samples']
    assert sample.view_idx == 1
    assert sample.img_path == ds.get_data_info(0)['img_paths'][1]
    assert [f['path'] for f in sample.view_fallback] == [bad]
    assert 'skipped_samples' not in sample  # the sample itself was kept
    (msg, kw), = logged
    assert bad in msg and 'using view 1' in msg and kw['level'] == 30
    # 'random' never returns the broken view, and says when it drew it
    ds_rand = ShapeNetTriplets(data_root=tiny_shapenet, num_views=2,
                               pipeline=TRAIN_PIPELINE)
    np.random.seed(0)
    samples = [ds_rand[0]['data_samples'] for _ in range(12)]
    assert {s.view_idx for s in samples} == {1}
    assert 0 < sum('view_fallback' in s for s in samples) < 12


def test_no_readable_view_skips_in_training_and_fails_in_test(tiny_shapenet):
    from cg3d_mm.datasets.transforms import LoadTripletImage
    ds = ShapeNetTriplets(data_root=tiny_shapenet, num_views=2,
                          pipeline=TRAIN_PIPELINE)
    info = ds.get_data_info(0)
    for path in info['img_paths']:
        _break_view(path, 'truncated')
    with pytest.raises(UnreadableSampleError,
                       match='no readable view among 2'):
        LoadTripletImage(view=0)(dict(img_paths=info['img_paths']))
    item = ds[0]
    assert item['data_samples'].skipped_samples[0]['sample'] == \
        info['sample_id']
