"""ULIP's ShapeNet55 and ULIP-2's Objaverse triplets, read as they ship,
and the converter that writes CG3D-layout triplets in those layouts."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from data_writers import write_tiny_shapenet
from PIL import Image

import cg3d_mm  # noqa: F401
from cg3d_mm.datagen.triplets.convert_layouts import (convert_triplets,
                                                      half_of, parse_part)
from cg3d_mm.datasets import ULIP2ObjaverseTriplets, ULIPShapeNetTriplets
from cg3d_mm.datasets.transforms import UnreadableSampleError, read_points
from cg3d_mm.datasets.ulip_triplets import read_caption_file

PIPELINE = [
    dict(type='LoadPointCloud', use_dims=(0, 1, 2)),
    dict(type='LoadTripletImage', view='random'),
    dict(type='SampleSourceCaption', templates=['a {}.']),
    dict(type='PackCG3DInputs', keys=('points', 'img')),
]
TAXONOMY = [
    dict(synsetId='02691156', name='airplane,aeroplane,plane', children=[],
         numInstances=2),
    dict(synsetId='03001627', name='chair', children=[], numInstances=2),
]


def _png(path, value):
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(np.full((16, 16, 3), value, np.uint8)).save(path)


def write_ulip_shapenet(root, degrees=(0, 12, 24), depth=True):
    """shapenet-55/ as ULIP's loader reads it (data/ShapeNet-55.yaml)."""
    rng = np.random.default_rng(0)
    names = [f'{t["synsetId"]}-m{i}' for t in TAXONOMY for i in range(2)]
    os.makedirs(osp.join(root, 'shapenet_pc'))
    for k, name in enumerate(names):
        np.save(osp.join(root, 'shapenet_pc', f'{name}.npy'),
                rng.normal(size=(8192, 3)).astype(np.float32))
        for deg in degrees:
            base = osp.join(root, 'rendered_images', name,
                            f'{name}_r_{deg:03d}')
            _png(base + '.png', 10 * k + 1)
            if depth:
                _png(base + '_depth0001.png', 255)
    with open(osp.join(root, 'train.txt'), 'w') as f:
        f.write(''.join(f'{n}.npy\n' for n in names[:3]))
    with open(osp.join(root, 'test.txt'), 'w') as f:
        f.write(f'{names[3]}.npy\n')
    with open(osp.join(root, 'taxonomy.json'), 'w') as f:
        json.dump(TAXONOMY, f)
    return names


def test_ulip_shapenet_reads_the_released_layout(tmp_path):
    names = write_ulip_shapenet(str(tmp_path))
    ds = ULIPShapeNetTriplets(data_root=str(tmp_path),
                              view_degrees=(0, 12, 24), pipeline=PIPELINE)
    assert len(ds) == 3
    assert ds.metainfo['classes'] == ('airplane', 'chair')
    info = ds.get_data_info(0)
    assert info['caption_names'] == ['airplane', 'aeroplane', 'plane']
    assert info['img_paths'][1].endswith(
        f'rendered_images/{names[0]}/{names[0]}_r_012.png')
    captions, views = set(), set()
    for _ in range(30):
        out = ds[2]
        sample = out['data_samples']
        captions.add(sample.caption)
        views.add(osp.basename(sample.img_path))
        assert out['inputs']['points'].shape == (8192, 3)
        assert sample.has_img is True
    assert captions == {'a chair.'}
    assert views == {f'{names[2]}_r_{d:03d}.png' for d in (0, 12, 24)}
    # airplane: any of its three taxonomy names
    caps = {ds[0]['data_samples'].caption for _ in range(40)}
    assert caps <= {'a airplane.', 'a aeroplane.', 'a plane.'} and \
        len(caps) > 1
    # depth maps as ULIP also draws them
    ds = ULIPShapeNetTriplets(data_root=str(tmp_path), ann_file='test.txt',
                              view_degrees=(0, ),
                              image_types=('', '_depth0001'))
    assert [osp.basename(p) for p in ds.get_data_info(0)['img_paths']] == [
        f'{names[3]}_r_000.png', f'{names[3]}_r_000_depth0001.png']


def test_ulip_shapenet_bad_inputs_are_named(tmp_path):
    names = write_ulip_shapenet(str(tmp_path))
    os.remove(osp.join(tmp_path, 'shapenet_pc', f'{names[1]}.npy'))
    with pytest.raises(FileNotFoundError,
                       match=f'1 of 3 entries.*{names[1]}.npy'):
        ULIPShapeNetTriplets(data_root=str(tmp_path))
    ds = ULIPShapeNetTriplets(data_root=str(tmp_path), max_missing_ratio=0.5)
    assert len(ds) == 2
    with open(osp.join(tmp_path, 'train.txt'), 'a') as f:
        f.write('99999999-x.npy\n')
    with pytest.raises(ValueError, match='synset 99999999.*taxonomy.json'):
        ULIPShapeNetTriplets(data_root=str(tmp_path), max_missing_ratio=0.5)
    with open(osp.join(tmp_path, 'train.txt'), 'w') as f:
        f.write('no_dash.npy\n')
    with pytest.raises(ValueError, match='bad entry .no_dash.npy'):
        ULIPShapeNetTriplets(data_root=str(tmp_path))
    with pytest.raises(ValueError, match='give data_root, or synthetic'):
        ULIPShapeNetTriplets()


def write_ulip2_objaverse(root, captions_form='per_view', uids=('u0', 'u1')):
    """ULIP-Objaverse_triplets: npz points as salesforce's loaders read
    them; views and captions in the dataset's default (assumed) names."""
    rng = np.random.default_rng(1)
    captions = {}
    for k, uid in enumerate(uids):
        folder = osp.join(root, 'objaverse_pc_parallel', uid)
        os.makedirs(folder)
        pts = rng.random((8192, 6)).astype(np.float32)
        np.savez(osp.join(folder, f'{uid}_8192.npz'), pts)
        for v in range(3):
            _png(osp.join(root, 'rendered_images', uid, f'{v:03d}.png'),
                 40 * v + k)
        _png(osp.join(root, 'rendered_images', uid, '000_depth.png'), 255)
        if captions_form == 'per_view':
            captions[uid] = {f'{v:03d}.png': [f'{uid} seen from {v}']
                             for v in range(3)}
        elif captions_form == 'per_object':
            captions[uid] = [f'{uid} one', f'{uid} two']
        else:  # keyed by the renders' paths, list of captions
            for v in range(3):
                captions[f'/export/renders/{uid}/{v:03d}.png'] = [
                    f'{uid} seen from {v}']
    with open(osp.join(root, 'captions.json'), 'w') as f:
        json.dump(captions, f)


@pytest.mark.parametrize('form', ['per_view', 'per_object', 'by_path'])
def test_ulip2_objaverse_reads_points_views_and_captions(tmp_path, form):
    write_ulip2_objaverse(str(tmp_path), form)
    pipeline = [dict(PIPELINE[0], use_dims=(0, 1, 2, 3, 4, 5))] + \
        PIPELINE[1:]
    ds = ULIP2ObjaverseTriplets(data_root=str(tmp_path), pipeline=pipeline)
    assert len(ds) == 2
    info = ds.get_data_info(1)
    assert [osp.basename(p) for p in info['img_paths']] == [
        '000.png', '001.png', '002.png']  # the depth map is not a view
    for _ in range(20):
        out = ds[1]
        sample = out['data_samples']
        assert out['inputs']['points'].shape == (8192, 6)
        view = int(osp.basename(sample.img_path)[:3])
        if form == 'per_object':
            assert sample.caption in ('u1 one', 'u1 two')
        else:  # the drawn view's own caption
            assert sample.caption == f'u1 seen from {view}'


def test_ulip2_objaverse_bad_inputs_are_named(tmp_path):
    write_ulip2_objaverse(str(tmp_path), uids=('u0', 'u1', 'u2'))
    with open(osp.join(tmp_path, 'uids.txt'), 'w') as f:
        f.write('u0\nu1\nu2\nnot_there\n')
    with pytest.raises(FileNotFoundError,
                       match='1 of 4.*not_there/not_there_8192.npz'):
        ULIP2ObjaverseTriplets(data_root=str(tmp_path), ann_file='uids.txt')
    assert len(ULIP2ObjaverseTriplets(
        data_root=str(tmp_path), ann_file='uids.txt',
        max_missing_ratio=0.3)) == 3
    with open(osp.join(tmp_path, 'captions.json'), 'w') as f:
        json.dump({'u0': 5}, f)
    with pytest.raises(ValueError, match="captions.json: entry 'u0'"):
        ULIP2ObjaverseTriplets(data_root=str(tmp_path))
    with pytest.raises(FileNotFoundError, match='caption file .*nope.json'):
        ULIP2ObjaverseTriplets(data_root=str(tmp_path),
                               caption_file='nope.json')
    with pytest.raises(ValueError, match='pc_pattern must contain'):
        ULIP2ObjaverseTriplets(data_root=str(tmp_path), pc_pattern='x.npz')


def test_read_points_npz(tmp_path):
    good = str(tmp_path / 'a.npz')
    np.savez(good, np.ones((5, 6), np.float32))
    assert read_points(good).shape == (5, 6)
    named = str(tmp_path / 'b.npz')
    np.savez(named, points=np.ones((5, 3)))
    assert read_points(named).shape == (5, 3)  # the only array
    two = str(tmp_path / 'c.npz')
    np.savez(two, a=np.ones((5, 3)), b=np.ones((5, 3)))
    with pytest.raises(UnreadableSampleError, match=r'c.npz.*arr_0.*\[.a'):
        read_points(two)
    flat = str(tmp_path / 'd.npz')
    np.savez(flat, np.ones(7))
    with pytest.raises(UnreadableSampleError, match=r'd.npz.*\(N, >=3\)'):
        read_points(flat)
    broken = tmp_path / 'e.npz'
    broken.write_bytes(b'PK\x03\x04 not a zip')
    with pytest.raises(UnreadableSampleError, match='e.npz: cannot read'):
        read_points(str(broken))


def test_caption_file_forms(tmp_path):
    path = str(tmp_path / 'c.json')
    with open(path, 'w') as f:
        json.dump({'a': 'one', 'b': {'0.png': 'x', '1.png': ['y', 'z']},
                   'r/c/0.png': 'p', 'r/c/1.png': ['q']}, f)
    assert read_caption_file(path) == {
        'a': ['one'], 'b': {'0.png': ['x'], '1.png': ['y', 'z']},
        'c': {'0.png': ['p'], '1.png': ['q']}}
    with open(path, 'w') as f:
        f.write('{"a": ')
    with pytest.raises(ValueError, match='c.json: not valid JSON'):
        read_caption_file(path)


def _cg3d_source(tmp_path):
    """A small CG3D-layout ShapeNet55 folder with coloured points."""
    root = write_tiny_shapenet(str(tmp_path / 'ShapeNet55'), per_class=6,
                               views=3)
    os.makedirs(osp.join(root, 'shapenet_pc_rgb'))
    for name in os.listdir(osp.join(root, 'shapenet_pc')):
        xyz = np.load(osp.join(root, 'shapenet_pc', name))
        rgb = np.random.default_rng(0).random(xyz.shape).astype(np.float32)
        np.save(osp.join(root, 'shapenet_pc_rgb', name),
                np.concatenate([xyz, rgb], 1))
    return root


def test_halves_are_disjoint_and_hold_every_class():
    entries = [f'{s}-m{i}' for s in ('01', '02', '03') for i in range(5)]
    a, b = half_of(entries, 'a', 0), half_of(entries, 'b', 0)
    assert not set(a) & set(b) and set(a) | set(b) == set(entries)
    assert {e[:2] for e in a} == {e[:2] for e in b} == {'01', '02', '03'}
    assert half_of(entries, 'a', 1) != a  # seeded
    assert parse_part('train_b') == (('train', ), 'b')
    with pytest.raises(ValueError, match="part must be 'all'"):
        parse_part('train_c')


def test_convert_to_ulip_layouts_and_read_back(tmp_path):
    src = _cg3d_source(tmp_path)
    out = convert_triplets(src, str(tmp_path / 'ulip'), 'ulip_shapenet',
                           part='all')
    with open(osp.join(out, 'layout_manifest.json')) as f:
        degrees = json.load(f)['view_degrees']
    assert degrees == [0, 120, 240]
    train = ULIPShapeNetTriplets(data_root=out, view_degrees=degrees,
                                 pipeline=PIPELINE)
    with open(osp.join(src, 'train_img.txt')) as f:
        assert len(train) == len(f.read().split())
    sample = train[0]['data_samples']
    assert sample.caption.startswith('a ') and sample.has_img
    assert len(ULIPShapeNetTriplets(data_root=out, ann_file='test.txt',
                                    view_degrees=degrees)) > 0

    half_a = convert_triplets(src, str(tmp_path / 'u2a'), 'ulip2_objaverse',
                              part='train_a')
    half_b = convert_triplets(src, str(tmp_path / 'u2b'), 'ulip2_objaverse',
                              part='train_b')
    pipeline = [dict(PIPELINE[0], use_dims=(0, 1, 2, 3, 4, 5))] + \
        PIPELINE[1:]
    ds_a = ULIP2ObjaverseTriplets(data_root=half_a, pipeline=pipeline)
    ds_b = ULIP2ObjaverseTriplets(data_root=half_b)
    uids_a = {ds_a.get_data_info(i)['sample_id'] for i in range(len(ds_a))}
    uids_b = {ds_b.get_data_info(i)['sample_id'] for i in range(len(ds_b))}
    assert not uids_a & uids_b and len(uids_a) + len(uids_b) == len(train)
    out = ds_a[0]
    assert out['inputs']['points'].shape[1] == 6
    pts = np.load(ds_a.get_data_info(0)['pts_path'])['arr_0']
    uid = ds_a.get_data_info(0)['sample_id']
    np.testing.assert_array_equal(
        pts, np.load(osp.join(src, 'shapenet_pc_rgb', f'{uid}.npy')))
    # reused when asked again, refused for another conversion
    assert convert_triplets(src, half_a, 'ulip2_objaverse',
                            part='train_a') == half_a
    with pytest.raises(FileExistsError, match='another conversion'):
        convert_triplets(src, half_a, 'ulip2_objaverse', part='train_b')
    os.makedirs(tmp_path / 'foreign')
    (tmp_path / 'foreign' / 'x').write_text('mine')
    with pytest.raises(FileExistsError, match='refusing to write'):
        convert_triplets(src, str(tmp_path / 'foreign'), 'openshape')


def test_convert_requires_colour_for_the_coloured_layouts(tmp_path):
    src = write_tiny_shapenet(str(tmp_path / 'ShapeNet55'))
    with pytest.raises(FileNotFoundError, match='shapenet_pc_rgb.*N x 6'):
        convert_triplets(src, str(tmp_path / 'o'), 'ulip2_objaverse')
    assert not osp.exists(tmp_path / 'o')  # nothing half-written
    assert [n for n in os.listdir(tmp_path) if n.startswith('.o')] == []


def _tiny_test_split(cfg, src, pc_dir='shapenet_pc'):
    """Zero-shot test on the CG3D-layout source instead of ModelNet40."""
    pipeline = cfg.test_dataloader.dataset.pipeline
    cfg.test_dataloader.dataset = dict(
        type='ShapeNetTriplets', data_root=src, pc_dir=pc_dir,
        ann_file='test_img.txt', num_views=3, test_mode=True,
        pipeline=pipeline)


@pytest.mark.slow  # end-to-end: a Runner
@pytest.mark.parametrize('config,layout', [
    ('pointmlp_ulip-shapenet', 'ulip_shapenet'),
    ('pointmlp_ulip2-objaverse_rgb', 'ulip2_objaverse')])
def test_config_trains_all_three_losses_on_its_layout(tmp_path, repo_root,
                                                      config, layout):
    from mmengine.config import Config
    from mmengine.runner import Runner
    from test_mixture_sampler import RecordBatches, shrink_for_cpu
    src = _cg3d_source(tmp_path)
    root = convert_triplets(src, str(tmp_path / 'data'), layout, part='all')
    cfg = Config.fromfile(osp.join(repo_root, 'configs/cg3d',
                                   f'{config}.py'))
    shrink_for_cpu(cfg, str(tmp_path / 'work'), max_epochs=1)
    cfg.train_dataloader.dataset.data_root = root
    if layout == 'ulip_shapenet':
        degrees = (0, 120, 240)
        cfg.train_dataloader.dataset.view_degrees = degrees
        cfg.val_dataloader.dataset.update(data_root=root,
                                          view_degrees=degrees)
        _tiny_test_split(cfg, src)
    else:
        # the converter's uid list of the training split (the caption
        # file holds every split's objects)
        cfg.train_dataloader.dataset.ann_file = 'train.txt'
        _tiny_test_split(cfg, src, pc_dir='shapenet_pc_rgb')
    runner = Runner.from_cfg(cfg)
    record = RecordBatches()
    runner.register_hook(record)
    runner.train()
    assert len(record.losses) == 4  # 16 training shapes, batches of 4
    assert record.losses[0] == {'loss', 'loss_point_text',
                                'loss_point_image'}
    assert record.losses[1] == {'loss', 'loss_image_text'}
    assert all(all(batch) for batch in record.flags)
    assert 0 <= runner.test()['zeroshot/top1'] <= 100
