"""The data checker finds every problem planted in each layout, and only
those; a clean synthetic world is clean; verdicts are cached."""
import json
import os
import os.path as osp
import pickle

import numpy as np
import pytest
from data_writers import (write_modelnet, write_modelnet_dat,
                          write_scanobjectnn, write_tiny_shapenet)
from PIL import Image

from cg3d_mm.datasets.checks import (FileCheckCache, check_data_root,
                                     check_image, check_npy,
                                     check_shapenet_split)


def _found(report, root):
    """{(path relative to root, kind)} of every problem found."""
    return {(osp.relpath(p.path, root), p.kind)
            for s in report.splits for p in s.problems}


def _truncate(path, keep=0.5):
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])


def _lines(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


@pytest.fixture
def damaged_shapenet(tmp_path):
    """write_tiny_shapenet (4 classes x 4, views 000/001) with one planted
    problem of each kind; returns the root and the expected findings."""
    root = write_tiny_shapenet(tmp_path / 'ShapeNet55')
    train = _lines(osp.join(root, 'train_img.txt'))
    val = _lines(osp.join(root, 'val_img.txt'))
    test = _lines(osp.join(root, 'test_img.txt'))
    pc = 'shapenet_pc'

    def img(entry, view):
        synset, model = entry[:-4].split('-')
        return osp.join('shapenet_render', 'img', synset, model,
                        f'{view:03d}.png')

    _truncate(osp.join(root, pc, train[0]))
    with open(osp.join(root, pc, val[0]), 'wb') as f:
        f.write(b'this is not a numpy file at all')
    np.save(osp.join(root, pc, train[1]), np.zeros(256, np.float32))
    _truncate(osp.join(root, img(train[2], 0)), 0.6)
    os.remove(osp.join(root, img(test[0], 1)))
    for view in (0, 1):  # no view left: the sample is bad
        os.remove(osp.join(root, img(test[1], view)))
    with open(osp.join(root, 'val_img.txt'), 'a') as f:
        f.write('00000001-nofile.npy\n')
    with open(osp.join(root, 'test_img.txt'), 'a') as f:
        f.write('00000042-m9.npy\n')  # synset not in taxonomy.json
    expected = {
        (osp.join(pc, train[0]), 'truncated'),
        (osp.join(pc, train[1]), 'bad_shape'),
        (img(train[2], 0), 'truncated'),
        (osp.join(pc, val[0]), 'not_an_array'),
        (osp.join(pc, '00000001-nofile.npy'), 'missing'),
        (img(test[0], 1), 'missing'),
        (img(test[1], 0), 'missing'),
        (img(test[1], 1), 'missing'),
        ('test_img.txt', 'classes'),
        (osp.join(pc, '00000042-m9.npy'), 'missing'),
        # one problem for a missing render folder, not one per view
        (osp.join('shapenet_render', 'img', '00000001', 'nofile'), 'missing'),
        (osp.join('shapenet_render', 'img', '00000042', 'm9'), 'missing'),
    }
    return root, expected, dict(train=train, val=val, test=test)


def test_shapenet_finds_every_planted_problem(damaged_shapenet):
    root, expected, lists = damaged_shapenet
    report = check_data_root(root, 'shapenet', num_views=2)
    assert _found(report, root) == expected
    by_name = {s.name: s for s in report.splits}
    train, val, test = (by_name[f'{k}_img.txt'] for k in ('train', 'val',
                                                          'test'))
    # a bad view with another view left does not make the sample bad
    assert train.bad_samples == {lists['train'][0][:-4],
                                 lists['train'][1][:-4]}
    assert test.bad_samples == {lists['test'][1][:-4], '00000042-m9'}
    assert val.num_samples == 5
    failures = report.failures()
    assert len(failures) == 3  # train 2/8 > 1 %, val and test (eval)
    assert any('2 of 8 samples unreadable' in f for f in failures)


def test_class_name_mismatch_and_bad_entries(tmp_path):
    root = write_tiny_shapenet(tmp_path / 'ShapeNet55')
    with open(osp.join(root, 'shape_names.txt'), 'w') as f:
        f.write('chair\ntable\nlamp\ncup\nchair\n')  # mug renamed, repeat
    with open(osp.join(root, 'train_img.txt'), 'a') as f:
        f.write('no_dash_here.npy\n')
    report = check_shapenet_split(root, 'train_img.txt', num_views=2,
                                  classes=('chair', 'table', 'lamp', 'mug'))
    kinds = [(p.kind, p.message) for p in report.problems]
    assert any(k == 'classes' and 'repeated' in m and 'chair' in m
               for k, m in kinds)
    assert any(k == 'classes' and "metainfo classes" in m for k, m in kinds)
    # the two mug entries of train: no name of their synset is listed
    mug = [m for k, m in kinds if 'mug, mugs' in m]
    assert len(mug) == 2 and all('shape_names.txt' in m for m in mug)
    assert any(k == 'list' and 'no_dash_here' in m for k, m in kinds)
    assert report.split_problems  # a training run cannot start either


def test_modelnet_finds_every_planted_problem(tmp_path):
    root = write_modelnet(tmp_path / 'modelnet40_normal_resampled', rows=300)
    test = _lines(osp.join(root, 'modelnet40_test.txt'))

    def txt(shape_id):
        return osp.join(shape_id.rpartition('_')[0], f'{shape_id}.txt')

    with open(osp.join(root, txt(test[0])), 'rb') as f:
        data = f.read()
    with open(osp.join(root, txt(test[0])), 'wb') as f:
        f.write(data[:len(data) // 2 + 7])  # cut inside a row
    os.remove(osp.join(root, txt(test[1])))
    np.savetxt(osp.join(root, txt(test[2])), np.zeros((300, 3)), fmt='%.6f',
               delimiter=',')  # xyz only, no normals
    with open(osp.join(root, 'modelnet40_test.txt'), 'a') as f:
        f.write('sofa_0001\n')  # class not in the shape names
    write_modelnet_dat(osp.join(root, 'modelnet40_test_8192pts_fps.dat'))
    points, labels = write_modelnet_dat(osp.join(root, 'bad.dat'))
    labels[2] = np.array([99])  # out of the 6 classes
    with open(osp.join(root, 'modelnet40_train_8192pts_fps.dat'), 'wb') as f:
        pickle.dump([points, labels], f)
    _truncate(osp.join(root, 'bad.dat'))
    report = check_data_root(root, 'modelnet')
    assert _found(report, root) == {
        (txt(test[0]), 'truncated'),
        (txt(test[1]), 'missing'),
        (txt(test[2]), 'bad_format'),
        ('modelnet40_test.txt', 'classes'),
        (osp.join('sofa', 'sofa_0001.txt'), 'missing'),
        ('bad.dat', 'undecodable'),
        ('modelnet40_train_8192pts_fps.dat', 'bad_label'),
    }
    clean = {s.name for s in report.splits if not s.problems}
    assert {'modelnet40_train.txt', 'modelnet10_train.txt',
            'modelnet40_test_8192pts_fps.dat'} <= clean


def test_scanobjectnn_finds_every_planted_problem(tmp_path):
    import h5py

    from cg3d_mm.datasets.scanobjectnn import variant_file
    root = str(tmp_path / 'ScanObjectNN')
    write_scanobjectnn(root, points=64)
    path = {(v, s): osp.join(root, variant_file(v, s))
            for v in ('PB_T50_RS', 'OBJ_BG', 'OBJ_ONLY')
            for s in ('train', 'test')}
    with h5py.File(path['PB_T50_RS', 'test'], 'w') as f:
        f.create_dataset('data', data=np.zeros((6, 64), np.float32))
        f.create_dataset('label', data=np.zeros(6, np.uint8))
    with h5py.File(path['OBJ_BG', 'test'], 'w') as f:
        f.create_dataset('data', data=np.zeros((6, 64, 3), np.float32))
        f.create_dataset('label', data=np.full(6, 15, np.uint8))
    with h5py.File(path['OBJ_ONLY', 'test'], 'w') as f:
        f.create_dataset('data', data=np.zeros((6, 64, 3), np.float32))
        f.create_dataset('labels', data=np.zeros(6, np.uint8))
    with h5py.File(path['OBJ_BG', 'train'], 'w') as f:
        f.create_dataset('data', data=np.zeros((3, 64, 3), np.float32))
        f.create_dataset('label', data=np.zeros(4, np.uint8))
    _truncate(path['OBJ_ONLY', 'train'], 0.3)
    report = check_data_root(root, 'scanobjectnn')
    assert _found(report, root) == {
        (variant_file('PB_T50_RS', 'test'), 'bad_shape'),
        (variant_file('OBJ_BG', 'test'), 'bad_label'),
        (variant_file('OBJ_ONLY', 'test'), 'bad_format'),
        (variant_file('OBJ_BG', 'train'), 'bad_shape'),
        (variant_file('OBJ_ONLY', 'train'), 'undecodable'),
    }
    assert [s.name for s in report.splits if not s.problems] == \
        ['PB_T50_RS train']


def _write_scenes(root, names=('Area_1_office_1', 'Area_1_office_2',
                               'Area_1_hallway_1'), n=100):
    data_list = []
    for kind in ('points', 'semantic_mask', 'instance_mask'):
        os.makedirs(osp.join(root, kind), exist_ok=True)
    for i, name in enumerate(names):
        np.random.rand(n, 6).astype(np.float32).tofile(
            osp.join(root, 'points', f'{name}.bin'))
        for kind in ('semantic_mask', 'instance_mask'):
            np.zeros(n, np.int64).tofile(osp.join(root, kind, f'{name}.bin'))
        data_list.append(dict(
            sample_idx=i, lidar_points=dict(num_pts_feats=6,
                                            lidar_path=f'{name}.bin'),
            pts_semantic_mask_path=f'{name}.bin',
            pts_instance_mask_path=f'{name}.bin'))
    with open(osp.join(root, 's3dis_infos_Area_1.pkl'), 'wb') as f:
        pickle.dump(dict(metainfo=dict(dataset='s3dis'),
                         data_list=data_list), f)


def test_scenes_find_every_planted_problem(tmp_path):
    root = str(tmp_path / 's3dis')
    _write_scenes(root)
    _truncate(osp.join(root, 'points', 'Area_1_office_1.bin'), 0.505)
    np.zeros(99, np.int64).tofile(
        osp.join(root, 'semantic_mask', 'Area_1_office_2.bin'))
    os.remove(osp.join(root, 'points', 'Area_1_hallway_1.bin'))
    report = check_data_root(root, 'scenes')
    assert _found(report, root) == {
        (osp.join('points', 'Area_1_office_1.bin'), 'truncated'),
        (osp.join('points', 'Area_1_office_2.bin'), 'bad_shape'),
        (osp.join('points', 'Area_1_hallway_1.bin'), 'missing'),
    }
    msg = [p.message for p in report.splits[0].problems
           if p.kind == 'bad_shape'][0]
    assert '99 int64 labels' in msg and '100 points' in msg


def test_clean_layouts_are_clean(tmp_path):
    write_tiny_shapenet(tmp_path / 'ShapeNet55')
    write_modelnet(tmp_path / 'mn', rows=200)
    write_scanobjectnn(tmp_path / 'so', points=32)
    _write_scenes(str(tmp_path / 'sc'))
    for sub, layout in (('ShapeNet55', 'shapenet'), ('mn', 'modelnet'),
                        ('so', 'scanobjectnn'), ('sc', 'scenes')):
        report = check_data_root(str(tmp_path / sub), layout, num_views=2)
        assert report.num_problems == 0, report.problem_lines()
        assert not report.failures()
        assert all(s.num_samples > 0 for s in report.splits)


@pytest.mark.slow
def test_synthetic_world_is_clean(tmp_path):
    """Every layout of a (small) synthetic world passes: the checks accept
    what cg3d_mm itself writes."""
    from cg3d_mm.datagen.synthetic import generate
    root = generate(tmp_path / 'world', seed=0, shapes_per_class=3,
                    image_size=48, num_views=3, areas=(1, ),
                    rooms_per_area=1, points_per_room=4000, progress=False)
    for sub, layout in (('ShapeNet55', 'shapenet'),
                        ('modelnet40_normal_resampled', 'modelnet'),
                        ('ScanObjectNN', 'scanobjectnn'),
                        ('s3dis', 'scenes')):
        report = check_data_root(str(root / sub), layout, num_views=3)
        assert report.splits and report.num_problems == 0, \
            report.problem_lines()


def test_second_run_is_cached_and_changes_are_seen(tmp_path):
    root = write_tiny_shapenet(tmp_path / 'ShapeNet55')
    first = check_data_root(root, 'shapenet', num_views=2)
    assert sum(s.cached_files for s in first.splits) == 0
    second = check_data_root(root, 'shapenet', num_views=2)
    assert all(s.cached_files == s.num_files for s in second.splits)
    assert second.num_problems == 0
    cache = FileCheckCache(root)
    assert osp.isfile(cache.path) and len(cache.entries) == 16 + 32
    # a file replaced after the first run is checked again
    entry = _lines(osp.join(root, 'test_img.txt'))[0]
    _truncate(osp.join(root, 'shapenet_pc', entry))
    third = check_data_root(root, 'shapenet', num_views=2)
    test = [s for s in third.splits if s.name == 'test_img.txt'][0]
    assert test.cached_files == test.num_files - 1
    assert [p.kind for p in test.problems] == ['truncated']
    off = check_data_root(root, 'shapenet', num_views=2, use_cache=False)
    assert sum(s.cached_files for s in off.splits) == 0
    with open(cache.path) as f:  # the cache file is plain JSON
        assert json.load(f)['version'] >= 1


def test_npy_headers(tmp_path):
    path = str(tmp_path / 'a.npy')
    np.save(path, np.zeros((10, 3), np.float32))
    assert check_npy(path) is None
    assert check_npy(path, min_rows=20)[0] == 'too_few_points'
    np.save(path, np.zeros((10, 2), np.float32))
    assert check_npy(path)[0] == 'bad_shape'
    np.save(path, np.array([{'a': 1}], dtype=object), allow_pickle=True)
    assert check_npy(path)[0] == 'not_an_array'
    np.save(path, np.array(['ab', 'cd']))
    assert check_npy(path)[0] == 'bad_dtype'
    assert check_npy(str(tmp_path / 'none.npy'))[0] == 'missing'


def test_image_headers(tmp_path):
    img = (np.random.rand(40, 40, 3) * 255).astype(np.uint8)
    png, jpg = str(tmp_path / 'a.png'), str(tmp_path / 'a.jpg')
    Image.fromarray(img).save(png)
    Image.fromarray(img).save(jpg, quality=90)
    assert check_image(png) is None and check_image(jpg) is None
    assert check_image(png, deep=True) is None
    with open(png, 'rb') as f:
        data = bytearray(f.read())
    # corrupt pixel data, intact structure: only deep decoding sees it
    idat = data.index(b'IDAT') + 4
    data[idat:idat + 40] = b'\x00' * 40
    with open(png, 'wb') as f:
        f.write(data)
    assert check_image(png) is None
    assert check_image(png, deep=True)[0] == 'undecodable'
    _truncate(jpg, 0.7)
    assert check_image(jpg)[0] == 'truncated'
    with open(png, 'wb') as f:
        f.write(b'')
    assert check_image(png) == ('undecodable',
                                f'{png}: not a PNG or JPEG image (an empty '
                                'file)')


def test_txt_rows(tmp_path):
    from cg3d_mm.datasets.checks import check_txt_points
    path = str(tmp_path / 'chair_0001.txt')
    np.savetxt(path, np.random.randn(50, 6), fmt='%.6f', delimiter=',')
    assert check_txt_points(path) is None
    assert check_txt_points(path, min_rows=80)[0] == 'too_few_points'
    assert check_txt_points(path, columns=3)[0] == 'bad_format'
    with open(path, 'rb') as f:
        data = f.read()
    for cut in (-3, -12, -30):  # inside a number, after a comma, ...
        with open(path, 'wb') as f:
            f.write(data[:cut])
        assert check_txt_points(path)[0] == 'truncated', cut


def test_entries_the_dataset_drops_are_not_checked(tmp_path):
    root = write_tiny_shapenet(tmp_path / 'ShapeNet55')
    test = _lines(osp.join(root, 'test_img.txt'))
    with open(osp.join(root, 'val_img.txt'), 'a') as f:
        f.write(test[0][:-4] + '\n')  # listed without .npy, still shared
    os.remove(osp.join(root, 'shapenet_pc', test[0]))
    kept = check_shapenet_split(root, 'val_img.txt', num_views=2)
    assert kept.num_samples == 5 and len(kept.problems) == 1
    dropped = check_shapenet_split(root, 'val_img.txt', num_views=2,
                                   drop_shared_with=('test_img.txt', ))
    assert dropped.num_samples == 4 and not dropped.problems


def test_dataset_configs_map_to_layouts(tmp_path):
    from cg3d_mm.datasets.checks import check_dataset_cfg
    root = str(tmp_path / 's3dis')
    _write_scenes(root)
    os.remove(osp.join(root, 'instance_mask', 'Area_1_office_2.bin'))
    scene = dict(type='S3DISSegDataset', data_root=root,
                 ann_file='s3dis_infos_Area_1.pkl')
    wrapped = dict(type='RepeatDataset', times=2, dataset=scene)
    report, = check_dataset_cfg(wrapped, 'train', 'train')
    assert report.layout == 'scenes' and report.num_samples == 3
    assert [p.kind for p in report.problems] == ['missing']
    mn = write_modelnet(tmp_path / 'mn', rows=200)
    both = check_dataset_cfg(dict(type='ConcatDataset', datasets=[
        dict(type='ModelNet', data_root=mn, split='test',
             pipeline=[dict(type='SamplePoints', num_points=500)]),
        dict(type='SomethingElse')]), 'test', 'eval')
    assert both[0].layout == 'modelnet' and both[0].num_samples == 12
    # the pipeline samples 500 points, the files hold about 200
    assert {p.kind for p in both[0].problems} == {'too_few_points'}
    assert not both[1].checked and 'SomethingElse' in both[1].note
