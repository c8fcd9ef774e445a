"""Split lists that overlap like CG3D's own (issue 16): val_img.txt holds
train and test shapes. Checkpoint selection must never see a test shape,
and every overlap is logged with its count."""
import importlib.util
import json
import logging
import os
import os.path as osp

import pytest
from conftest import write_tiny_shapenet
from mmengine.config import Config
from mmengine.logging import MMLogger

import cg3d_mm  # noqa: F401
from cg3d_mm.datagen.triplets import assign_splits, read_split_lists
from cg3d_mm.datagen.triplets.discovery import MeshRecord
from cg3d_mm.datasets import ShapeNetTriplets

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture
def warnings_log(caplog):
    """mmengine's current logger does not propagate: let caplog see it."""
    logger = MMLogger.get_current_instance()
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.WARNING)
    yield caplog
    logger.removeHandler(caplog.handler)


def _write_lists(folder, **lists):
    os.makedirs(folder, exist_ok=True)
    for split, names in lists.items():
        with open(osp.join(folder, f'{split}_img.txt'), 'w') as f:
            f.write(''.join(f'{n}.npy\n' for n in names))


def _read(folder, split):
    with open(osp.join(folder, f'{split}_img.txt')) as f:
        return [line.strip() for line in f if line.strip()]


@pytest.fixture
def overlapping_shapenet(tmp_path):
    """The tiny CG3D layout with CG3D-style lists: val = train + test + one
    shape listed nowhere else."""
    root = write_tiny_shapenet(tmp_path / 'ShapeNet55', per_class=4)
    train, val, test = (_read(root, s) for s in ('train', 'val', 'test'))
    with open(osp.join(root, 'val_img.txt'), 'w') as f:
        f.write('\n'.join(train + test + val[:1]) + '\n')
    return root, train, test, val[:1]


def _config_dataset(split):
    """The real config's dataset settings of a split (not the paths)."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cg3d', '_base_',
                                   'datasets', 'shapenet_triplets.py'))
    ds = dict(cfg[f'{split}_dataloader'].dataset)
    for key in ('type', 'data_root', 'pipeline'):
        ds.pop(key)
    return ds


def test_val_of_the_config_never_holds_test_shapes(overlapping_shapenet,
                                                   warnings_log):
    root, train, test, only_val = overlapping_shapenet
    ds = ShapeNetTriplets(data_root=root, num_views=2,
                          **_config_dataset('val'))
    names = {ds.get_data_info(i)['sample_id'] for i in range(len(ds))}
    strip = {n[:-4] for n in test}
    assert not names & strip
    assert names == {n[:-4] for n in train + only_val}
    text = warnings_log.text
    total = len(train) + len(test) + 1
    assert (f'dropped {len(test)} of its {total} samples that are also in '
            'test_img.txt') in text
    assert (f'keeping {len(train)} of its {total - len(test)} samples that '
            'are also in train_img.txt') in text


def test_test_split_reports_training_shapes(tiny_shapenet, warnings_log):
    train = _read(tiny_shapenet, 'train')
    with open(osp.join(tiny_shapenet, 'test_img.txt'), 'a') as f:
        f.write(train[0] + '\n')
    ds = ShapeNetTriplets(data_root=tiny_shapenet, num_views=2,
                          **_config_dataset('test'))
    assert train[0][:-4] in {ds.get_data_info(i)['sample_id']
                             for i in range(len(ds))}
    assert 'keeping 1 of its' in warnings_log.text
    assert 'also in train_img.txt' in warnings_log.text


def test_disjoint_lists_are_left_alone(tiny_shapenet, warnings_log):
    ds = ShapeNetTriplets(data_root=tiny_shapenet, num_views=2,
                          **_config_dataset('val'))
    assert len(ds) == len(_read(tiny_shapenet, 'val'))
    assert 'also in' not in warnings_log.text


def _records(names):
    return [MeshRecord(path=f'/meshes/{n}.obj', class_name=n[:8],
                       synset=n.split('-')[0], model_id=n.split('-')[1])
            for n in names]


def test_overlapping_val_list_is_ignored_and_val_carved_from_train(
        tmp_path, warnings_log):
    train = [f'0000000{c}-t{i}' for c in (1, 2) for i in range(5)]
    test = [f'0000000{c}-s{i}' for c in (1, 2) for i in range(2)]
    _write_lists(tmp_path, train=train, test=test,
                 val=train + test + ['00000001-v0'])
    official = read_split_lists(str(tmp_path))
    text = warnings_log.text
    assert '10 of its 15 samples are also in train_img.txt and 4 in ' \
        'test_img.txt' in text
    assert 'IGNORING' in text
    assert 'val' not in official.values()
    split_of, unlisted = assign_splits(
        _records(train + test + ['00000001-v0']), val_ratio=0.2,
        official=official)
    val = sorted(n for n, s in split_of.items() if s == 'val')
    assert len(val) == 2 and set(val) <= set(train)  # one per class
    assert sorted(n for n, s in split_of.items() if s == 'test') == \
        sorted(test)
    assert [r.name for r in unlisted] == ['00000001-v0']


def test_disjoint_val_list_is_used_and_train_test_overlap_refused(
        tmp_path):
    _write_lists(tmp_path, train=['01-a', '01-b'], val=['01-c'],
                 test=['01-d'])
    assert read_split_lists(str(tmp_path)) == {
        '01-a': 'train', '01-b': 'train', '01-c': 'val', '01-d': 'test'}
    _write_lists(tmp_path, test=['01-d', '01-b'])
    with pytest.raises(ValueError, match=r'train_img.txt and test_img.txt '
                       r'share 1 samples \(e.g. 01-b\)'):
        read_split_lists(str(tmp_path))


@pytest.mark.slow
def test_prepare_triplets_on_overlapping_lists(tmp_path, warnings_log):
    """``tools/prepare_triplets.py --split-lists`` on CG3D-style lists:
    runs, says why val is ignored, writes disjoint lists."""
    trimesh = pytest.importorskip('trimesh')
    meshes = tmp_path / 'ShapeNetCore.v2'
    names = []
    for synset, shape in (('03001627', trimesh.creation.box((.6, 1., .4))),
                          ('04379243', trimesh.creation.icosphere(1))):
        for i in range(3):
            path = meshes / synset / f'm{i}' / 'models'
            path.mkdir(parents=True)
            shape.export(str(path / 'model_normalized.obj'))
            names.append(f'{synset}-m{i}')
    (meshes / 'taxonomy.json').write_text(json.dumps([
        dict(synsetId='03001627', name='chair'),
        dict(synsetId='04379243', name='table')]))
    train = [n for n in names if not n.endswith('m2')]
    test = [n for n in names if n.endswith('m2')]
    _write_lists(tmp_path / 'lists', train=train, test=test, val=names)
    spec = importlib.util.spec_from_file_location(
        'prepare_triplets_tool', osp.join(REPO, 'tools',
                                          'prepare_triplets.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = str(tmp_path / 'ShapeNet55')
    assert tool.main([str(meshes), out, '--format', 'shapenetcore',
                      '--split-lists', str(tmp_path / 'lists'),
                      '--points', '64', '--views', '1', '--image-size',
                      '32', '--val-ratio', '0.5', '--workers', '1',
                      '--no-progress']) == 0
    assert 'IGNORING' in warnings_log.text
    lists = {s: {n[:-4] for n in _read(out, s)}
             for s in ('train', 'val', 'test')}
    assert lists['test'] == set(test)
    assert len(lists['val']) == 2 and lists['val'] <= set(train)
    assert lists['train'] == set(train) - lists['val']
