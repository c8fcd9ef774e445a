"""OpenShape's evaluation files (Objaverse-LVIS, ModelNet40, ScanObjectNN)
read as shipped, the synthetic world's copies, and a zero-shot run over the
synthetic Objaverse-LVIS split."""
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from data_writers import RunsCode

import cg3d_mm  # noqa: F401
from cg3d_mm.datasets import (ObjaverseLVIS, OpenShapeModelNet40,
                              OpenShapeScanObjectNN)
from cg3d_mm.datasets.benchmarks import zeroshot_pipeline
from cg3d_mm.datasets.openshape_eval import (LVIS_SPLIT, MODELNET40_POINTS,
                                             MODELNET40_SPLIT,
                                             SCANOBJECTNN_POINTS,
                                             PickleNotTrustedError)
from cg3d_mm.datasets.scanobjectnn import SCANOBJECTNN_CLASSES

SHAPES = 'objaverse-processed/merged_for_training_final/Objaverse'
LVIS_CLASSES = ('fire_alarm', 'doughnut', 'car_(automobile)', 'Bible')
XYZ_RGB = (0, 1, 2, 3, 4, 5)


def _xyz(rng, n, label):
    xyz = rng.normal(size=(n, 3)) * [1., 2., 3.] + [5., -1., 2.]
    xyz[:, label % 3] *= 2. + label
    return xyz.astype(np.float32)


def write_lvis(root, classes=LVIS_CLASSES, per_class=2, n=300, seed=0,
               prefix='/mnt/data'):
    """meta_data/split/lvis.json + one pickled dict per shape, the released
    data paths starting with ``prefix``. Returns the entries and dicts."""
    rng = np.random.default_rng(seed)
    root = str(root)
    folder = osp.join(root, SHAPES, '000-001')
    os.makedirs(folder, exist_ok=True)
    entries, shapes = [], {}
    for ci, c in enumerate(classes):
        for j in range(per_class):
            uid = f'{ci:02d}{j:02d}' + 'ab' * 14
            data = dict(xyz=_xyz(rng, n, ci),
                        rgb=rng.random((n, 3)).astype(np.float32),
                        text=[c], dataset='Objaverse', group='000-001',
                        id=uid)
            np.save(osp.join(folder, uid + '.npy'), data, allow_pickle=True)
            entries.append(dict(
                uid=uid, category=c, group='000-001',
                data_path=f'{prefix}/{SHAPES}/000-001/{uid}.npy'))
            shapes[uid] = data
    os.makedirs(osp.join(root, 'meta_data', 'split'), exist_ok=True)
    with open(osp.join(root, LVIS_SPLIT), 'w') as f:
        json.dump(entries, f)
    return entries, shapes


def write_modelnet40(root, categories=('airplane', 'flower pot', 'chair'),
                     per_class=2, n=200, seed=1):
    """test_split.json + test_pc.npy (object array of dicts, rgb 0..255)."""
    rng = np.random.default_rng(seed)
    split, pcs = [], []
    for ci, c in enumerate(categories):
        for j in range(per_class):
            split.append(dict(name=f'{c}_{j:04d}', category=c))
            pcs.append(dict(xyz=_xyz(rng, n, ci),
                            rgb=rng.integers(0, 256, (n, 3)).astype(
                                np.float64)))
    os.makedirs(osp.join(str(root), 'meta_data', 'modelnet40'),
                exist_ok=True)
    with open(osp.join(str(root), MODELNET40_SPLIT), 'w') as f:
        json.dump(split, f)
    arr = np.empty(len(pcs), dtype=object)
    arr[:] = pcs
    np.save(osp.join(str(root), MODELNET40_POINTS), arr, allow_pickle=True)
    return split, pcs


def write_scanobjectnn(root, labels=(0, 4, 14, 4), n=150, rgb=False,
                       seed=2):
    """xyz_label.npy: a pickled dict of xyz list, labels, optional rgb."""
    rng = np.random.default_rng(seed)
    data = dict(xyz=[_xyz(rng, n + i, lab) for i, lab in enumerate(labels)],
                label=np.array(labels, np.int64))
    if rgb:
        data['rgb'] = [rng.random((len(x), 3)).astype(np.float32)
                       for x in data['xyz']]
    os.makedirs(osp.join(str(root), 'meta_data', 'scanobjectnn'),
                exist_ok=True)
    np.save(osp.join(str(root), SCANOBJECTNN_POINTS), data,
            allow_pickle=True)
    return data


def unit_sphere(xyz):
    xyz = xyz.astype(np.float64) - xyz.mean(0)
    return xyz / np.linalg.norm(xyz, axis=1).max()


@pytest.fixture(scope='module')
def lvis_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('openshape')
    entries, shapes = write_lvis(root)
    return str(root), entries, shapes


# ---------------------------------------------------------- Objaverse-LVIS
def test_lvis_split_as_shipped(lvis_root):
    root, entries, shapes = lvis_root
    ds = ObjaverseLVIS(root, trust_pickle=True)
    # OpenShape's label order: sorted distinct categories
    assert ds.metainfo['classes'] == tuple(sorted(LVIS_CLASSES))
    assert ds.metainfo['classes'][0] == 'Bible'
    assert len(ds) == len(entries)
    for i, e in enumerate(entries):
        info = ds.get_data_info(i)
        assert info['sample_id'] == e['uid']
        assert info['class_name'] == e['category']
        assert ds.metainfo['classes'][info['gt_label']] == e['category']
        # the /mnt/data prefix of the release is replaced by the root
        assert info['pts_path'] == osp.join(root, SHAPES, '000-001',
                                            e['uid'] + '.npy')
        raw = shapes[e['uid']]
        pts = ds[i]['points']
        assert pts.dtype == np.float32 and pts.shape == (300, 6)
        np.testing.assert_allclose(pts[:, :3], unit_sphere(raw['xyz']),
                                   atol=1e-5)
        assert np.array_equal(pts[:, 3:], raw['rgb'])


def test_lvis_axes_normalisation_and_columns(lvis_root):
    root, entries, shapes = lvis_root
    raw = shapes[entries[3]['uid']]
    plain = ObjaverseLVIS(root, trust_pickle=True, normalize=False)[3]
    assert np.array_equal(plain['points'][:, :3], raw['xyz'])
    # OpenShape's y_up: y and z swapped, then normalised
    swapped = ObjaverseLVIS(root, trust_pickle=True, swap_yz=True)[3]
    np.testing.assert_allclose(swapped['points'][:, :3],
                               unit_sphere(raw['xyz'][:, [0, 2, 1]]),
                               atol=1e-5)
    norm = ObjaverseLVIS(root, trust_pickle=True)[3]['points'][:, :3]
    assert np.abs(norm.mean(0)).max() < 1e-5
    assert np.linalg.norm(norm, axis=1).max() == pytest.approx(1, abs=1e-5)
    xyz = ObjaverseLVIS(root, trust_pickle=True, use_color=False)[3]
    assert xyz['points'].shape == (300, 3)
    # the pipeline keeps what the model reads: 6 columns, or xyz only
    ds = ObjaverseLVIS(root, trust_pickle=True,
                       pipeline=zeroshot_pipeline(64, use_color=True))
    assert ds[0]['inputs']['points'].shape == (64, 6)
    ds = ObjaverseLVIS(root, trust_pickle=True,
                       pipeline=zeroshot_pipeline(64))
    assert ds[0]['inputs']['points'].shape == (64, 3)
    with pytest.raises(ValueError, match=r'keeps columns \[0, 1, 2, 3, 4, '
                       r'5\] but the points are x, y, z only'):
        ObjaverseLVIS(root, trust_pickle=True, use_color=False,
                      pipeline=[dict(type='LoadPointCloud',
                                     use_dims=XYZ_RGB)])


def test_lvis_data_paths(tmp_path):
    # relative data paths start from shape_root (default data_root);
    # another prefix is replaced when given
    write_lvis(tmp_path / 'a', classes=('cup', ), prefix='/data/os')
    with pytest.raises(FileNotFoundError, match=r'2 of 2 shape files .*'
                       r"/data/os/objaverse-processed.*'/mnt/data'"):
        ObjaverseLVIS(str(tmp_path / 'a'), trust_pickle=True)
    ds = ObjaverseLVIS(str(tmp_path / 'a'), trust_pickle=True,
                       path_prefix='/data/os')
    assert len(ds) == 2 and ds[1]['points'].shape == (300, 6)
    elsewhere = str(tmp_path / 'a')
    os.makedirs(tmp_path / 'meta_only' / 'meta_data' / 'split')
    os.rename(osp.join(elsewhere, LVIS_SPLIT),
              tmp_path / 'meta_only' / LVIS_SPLIT)
    ds = ObjaverseLVIS(str(tmp_path / 'meta_only'), trust_pickle=True,
                       path_prefix='/data/os', shape_root=elsewhere)
    assert ds.get_data_info(0)['pts_path'].startswith(elsewhere)
    entries = json.load(open(tmp_path / 'meta_only' / LVIS_SPLIT))
    for e in entries:
        e['data_path'] = e['data_path'][len('/data/os/'):]
    with open(tmp_path / 'meta_only' / LVIS_SPLIT, 'w') as f:
        json.dump(entries, f)
    ds = ObjaverseLVIS(str(tmp_path / 'meta_only'), trust_pickle=True,
                       shape_root=elsewhere)
    assert len(ds) == 2 and ds[0]['points'].shape == (300, 6)


def test_pickles_need_an_explicit_opt_in(tmp_path):
    marker = tmp_path / 'pwned'
    root = tmp_path / 'evil'
    write_lvis(root, classes=('cup', ), per_class=1)
    path = osp.join(str(root), SHAPES, '000-001', '00' * 2 + 'ab' * 14
                    + '.npy')
    np.save(path, dict(xyz=RunsCode(marker)), allow_pickle=True)
    write_modelnet40(root)
    write_scanobjectnn(root)
    for cls, what in ((ObjaverseLVIS, 'the shape files listed in '
                       'meta_data/split/lvis.json'),
                      (OpenShapeModelNet40, MODELNET40_POINTS),
                      (OpenShapeScanObjectNN, SCANOBJECTNN_POINTS)):
        with pytest.raises(PickleNotTrustedError,
                           match=rf'{cls.__name__}: {what} are pickled .*'
                           'trust_pickle=True'):
            cls(str(root))
    assert not marker.exists()


def test_lvis_bad_inputs_name_the_file(tmp_path):
    root = str(tmp_path)
    entries, _ = write_lvis(root, classes=('cup', 'mug'), per_class=1)
    ds = ObjaverseLVIS(root, trust_pickle=True)
    path = ds.get_data_info(1)['pts_path']
    with open(path, 'rb') as f:
        head = f.read(100)
    with open(path, 'wb') as f:
        f.write(head)  # truncated
    with pytest.raises(ValueError, match=rf'{path}: not a readable .npy'):
        ds[1]
    np.save(path, dict(xyz=np.zeros((5, 3))), allow_pickle=True)
    with pytest.raises(ValueError, match=rf"{path}: no rgb .*\['xyz'\]"):
        ds[1]
    np.save(path, dict(xyz=np.zeros((5, 2)), rgb=np.zeros((5, 3))),
            allow_pickle=True)
    with pytest.raises(ValueError, match=rf'{path}: xyz has shape \(5, 2\)'):
        ds[1]
    xyz = np.random.rand(5, 3)
    np.save(path, dict(xyz=xyz, rgb=np.full((5, 3), 255.)),
            allow_pickle=True)
    with pytest.raises(ValueError, match=rf'{path}: rgb values span '
                       r'\[255, 255\], expected \[0, 1\]'):
        ds[1]
    np.save(path, dict(xyz=xyz, rgb=np.zeros((4, 3))), allow_pickle=True)
    with pytest.raises(ValueError, match=rf'{path}: rgb has shape \(4, 3\)'):
        ds[1]
    np.save(path, np.zeros((5, 3)))
    with pytest.raises(ValueError, match=rf'{path}: expected a pickled dict'):
        ds[1]
    os.remove(path)
    with pytest.raises(FileNotFoundError, match=rf'1 of 2 shape files .*'
                       rf'{path}'):
        ObjaverseLVIS(root, trust_pickle=True)
    split = osp.join(root, LVIS_SPLIT)
    with open(split, 'w') as f:
        json.dump([dict(uid='x', data_path='y.npy')], f)
    with pytest.raises(ValueError, match=rf'{split}: entry 0 .* no string '
                       'category'):
        ObjaverseLVIS(root, trust_pickle=True)
    with open(split, 'w') as f:
        f.write('[{"uid": ')
    with pytest.raises(ValueError, match=rf'{split}: not valid JSON'):
        ObjaverseLVIS(root, trust_pickle=True)
    os.remove(split)
    with pytest.raises(FileNotFoundError, match=rf'{split} does not exist'):
        ObjaverseLVIS(root, trust_pickle=True)
    with pytest.raises(ValueError, match="split must be 'test'"):
        ObjaverseLVIS(root, trust_pickle=True, split='train')
    with pytest.raises(FileNotFoundError, match='nowhere does not exist'):
        ObjaverseLVIS(osp.join(root, 'nowhere'), trust_pickle=True)


# -------------------------------------------------------------- ModelNet40
def test_modelnet40_as_shipped(tmp_path):
    split, pcs = write_modelnet40(tmp_path)
    ds = OpenShapeModelNet40(str(tmp_path), trust_pickle=True)
    # the ModelNet40 names (flower pot -> flower_pot), in their list order
    assert ds.metainfo['classes'] == ('airplane', 'chair', 'flower_pot')
    assert len(ds) == len(split)
    for i, (entry, pc) in enumerate(zip(split, pcs)):
        info = ds[i]
        assert info['sample_id'] == entry['name']
        assert info['class_name'] == entry['category'].replace(' ', '_')
        assert ds.metainfo['classes'][info['gt_label']] == info['class_name']
        np.testing.assert_allclose(info['points'][:, :3],
                                   unit_sphere(pc['xyz']), atol=1e-5)
        # colours 0..255 in the file, [0, 1] out
        np.testing.assert_allclose(info['points'][:, 3:], pc['rgb'] / 255.,
                                   atol=1e-6)
    forty = OpenShapeModelNet40(str(tmp_path), trust_pickle=True,
                                use_color=False,
                                classes=('chair', 'flower_pot', 'airplane',
                                         'zebra'))
    assert forty.metainfo['classes'][forty[0]['gt_label']] == 'airplane'
    assert forty[0]['points'].shape == (200, 3)


def test_modelnet40_bad_files(tmp_path):
    root = str(tmp_path)
    split, pcs = write_modelnet40(tmp_path)
    points = osp.join(root, MODELNET40_POINTS)
    arr = np.empty(len(pcs) - 1, dtype=object)
    arr[:] = pcs[:-1]
    np.save(points, arr, allow_pickle=True)
    with pytest.raises(ValueError, match=rf'{points}: expected an array of '
                       r'6 point dicts'):
        OpenShapeModelNet40(root, trust_pickle=True)
    pcs[2] = dict(xyz=pcs[2]['xyz'], rgb=pcs[2]['rgb'] * 2)
    arr = np.empty(len(pcs), dtype=object)
    arr[:] = pcs
    np.save(points, arr, allow_pickle=True)
    with pytest.raises(ValueError, match=r'test_pc.npy\[2\]: rgb values '
                       r'span .*, expected \[0, 255\]'):
        OpenShapeModelNet40(root, trust_pickle=True)
    split[4]['category'] = 'zebra'
    with open(osp.join(root, MODELNET40_SPLIT), 'w') as f:
        json.dump(split, f)
    with pytest.raises(ValueError, match=r"test_split.json: entry 4 "
                       r"\(chair_0000\) has category 'zebra'"):
        OpenShapeModelNet40(root, trust_pickle=True)


# ------------------------------------------------------------ ScanObjectNN
def test_scanobjectnn_as_shipped(tmp_path):
    data = write_scanobjectnn(tmp_path)
    ds = OpenShapeScanObjectNN(str(tmp_path), trust_pickle=True)
    assert ds.metainfo['classes'] == SCANOBJECTNN_CLASSES
    assert len(ds) == 4
    for i in range(4):
        info = ds[i]
        assert info['gt_label'] == data['label'][i]
        assert info['class_name'] == SCANOBJECTNN_CLASSES[data['label'][i]]
        assert info['points'].shape == (150 + i, 6)
        np.testing.assert_allclose(info['points'][:, :3],
                                   unit_sphere(data['xyz'][i]), atol=1e-5)
        # no rgb in the file: OpenShape's constant grey
        assert (info['points'][:, 3:] == np.float32(0.4)).all()
    data = write_scanobjectnn(tmp_path, rgb=True)
    ds = OpenShapeScanObjectNN(str(tmp_path), trust_pickle=True)
    assert np.array_equal(ds[2]['points'][:, 3:], data['rgb'][2])
    path = osp.join(str(tmp_path), SCANOBJECTNN_POINTS)
    np.save(path, dict(xyz=data['xyz'], label=[0, 15, 1, 2]),
            allow_pickle=True)
    with pytest.raises(ValueError, match=rf'{path}: expected integer labels '
                       r'in \[0, 15\)'):
        OpenShapeScanObjectNN(str(tmp_path), trust_pickle=True)
    np.save(path, dict(xyz=data['xyz'], label=[0., 1., 2.5, 3.]),
            allow_pickle=True)
    with pytest.raises(ValueError, match=r'integer labels .*float64'):
        OpenShapeScanObjectNN(str(tmp_path), trust_pickle=True)
    # whole numbers stored as floats are labels
    np.save(path, dict(xyz=data['xyz'], label=[[3.], [0.], [14.], [1.]]),
            allow_pickle=True)
    ds = OpenShapeScanObjectNN(str(tmp_path), trust_pickle=True)
    assert [ds[i]['gt_label'] for i in range(4)] == [3, 0, 14, 1]
    np.save(path, dict(xyz=data['xyz'], label=[0, 1]), allow_pickle=True)
    with pytest.raises(ValueError, match=rf'{path}: 4 xyz clouds, 2 labels'):
        OpenShapeScanObjectNN(str(tmp_path), trust_pickle=True)
    np.save(path, dict(points=data['xyz']), allow_pickle=True)
    with pytest.raises(ValueError, match=rf"{path}: no xyz / label .*"
                       r"\['points'\]"):
        OpenShapeScanObjectNN(str(tmp_path), trust_pickle=True)


# --------------------------------------------------------- synthetic world
@pytest.fixture(scope='module')
def lvis_world(tmp_path_factory):
    """The synthetic world's Objaverse-LVIS layout alone (all categories)."""
    from cg3d_mm.datagen.synthetic import generate
    root = tmp_path_factory.mktemp('lvis_world') / 'world'
    generate(root, seed=0, shapes_per_class=4, layouts=['lvis'], workers=1,
             progress=False)
    return str(root)


def test_synthetic_lvis_split(lvis_world):
    from cg3d_mm.datagen.synthetic import CATEGORIES
    from cg3d_mm.datagen.synthetic.lvis import LVIS_NAMES
    with open(osp.join(lvis_world, 'OpenShape', LVIS_SPLIT)) as f:
        entries = json.load(f)
    # many classes, few shapes each: every category under its LVIS-style
    # name, 2 to 4 shapes per class, varying
    counts = {}
    for e in entries:
        counts[e['category']] = counts.get(e['category'], 0) + 1
    assert set(counts) == {LVIS_NAMES[c.name] for c in CATEGORIES}
    assert len(counts) == len(CATEGORIES) >= 27
    assert set(counts.values()) <= {2, 3, 4}
    assert len(set(counts.values())) > 1
    assert len({e['uid'] for e in entries}) == len(entries)
    assert all(e['data_path'] == '/mnt/data/' + SHAPES + '/000-000/'
               + e['uid'] + '.npy' for e in entries)
    ds = ObjaverseLVIS(synthetic=dict(root=lvis_world, seed=0,
                                      shapes_per_class=4, layouts=['lvis'],
                                      progress=False), trust_pickle=True)
    assert ds.data_root == osp.join(lvis_world, 'OpenShape')
    assert ds.metainfo['classes'] == tuple(sorted(counts))
    assert len(ds) == len(entries)
    by_class = {}
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert ds.metainfo['classes'][info['gt_label']] == info['class_name']
        by_class.setdefault(info['class_name'], []).append(i)
    assert {k: len(v) for k, v in by_class.items()} == counts
    raw = np.load(ds.get_data_info(0)['pts_path'], allow_pickle=True).item()
    assert raw['xyz'].shape == raw['rgb'].shape == (10000, 3)
    assert raw['xyz'].dtype == raw['rgb'].dtype == np.float32
    assert np.linalg.norm(raw['xyz'], axis=1).max() == pytest.approx(1.)
    # colours of the mesh faces: in [0, 1], several per shape
    assert 0 <= raw['rgb'].min() and raw['rgb'].max() <= 1
    assert len(np.unique(raw['rgb'], axis=0)) > 1
    assert np.allclose(raw['rgb'] * 255, np.round(raw['rgb'] * 255),
                       atol=1e-3)


def test_synthetic_openshape_modelnet40_and_scanobjectnn(tmp_path):
    import h5py

    from cg3d_mm.datagen.synthetic import generate
    root = str(tmp_path / 'world')
    with pytest.raises(ValueError, match="'openshape_eval' needs the "
                       "'scanobjectnn' layout"):
        generate(root, layouts=['modelnet', 'openshape_eval'])
    generate(root, seed=0, shapes_per_class=2, workers=1, progress=False,
             layouts=['modelnet', 'scanobjectnn', 'openshape_eval'],
             classes=['bed', 'chair', 'toilet', 'bag', 'pot'])
    mn_root = osp.join(root, 'modelnet40_normal_resampled')
    mn = OpenShapeModelNet40(osp.join(root, 'OpenShape'), trust_pickle=True,
                             normalize=False)
    with open(osp.join(mn_root, 'modelnet40_test.txt')) as f:
        test_ids = f.read().split()
    with open(osp.join(mn_root, 'modelnet40_shape_names.txt')) as f:
        assert mn.metainfo['classes'] == tuple(f.read().split())
    # the same test shapes as the ModelNet layout, in its order, coloured
    assert [mn.get_data_info(i)['sample_id'] for i in range(len(mn))] \
        == test_ids
    for i, shape_id in enumerate(test_ids):
        cls = shape_id.rpartition('_')[0]
        text = np.loadtxt(osp.join(mn_root, cls, shape_id + '.txt'),
                          delimiter=',')
        pts = mn[i]['points']
        np.testing.assert_allclose(pts[:, :3], text[:, :3], atol=2e-6)
        assert mn[i]['class_name'] == cls
        assert 0 <= pts[:, 3:].min() and pts[:, 3:].max() <= 1
        assert len(np.unique(pts[:, 3:], axis=0)) > 1
    so = OpenShapeScanObjectNN(osp.join(root, 'OpenShape'),
                               trust_pickle=True, normalize=False)
    scans = []
    for split in ('training', 'test'):
        with h5py.File(osp.join(root, 'ScanObjectNN', 'main_split_nobg',
                                f'{split}_objectdataset.h5'), 'r') as f:
            scans += list(zip(f['data'][()], f['label'][()]))
    # every OBJ_ONLY scan, train and test, grey
    assert len(so) == len(scans)
    found = sorted((int(so[i]['gt_label']), so[i]['points'][:, :3].tobytes())
                   for i in range(len(so)))
    assert found == sorted((int(lab), d.tobytes()) for d, lab in scans)
    assert (so[0]['points'][:, 3:] == np.float32(0.4)).all()


# --------------------------------------------------------------- zero-shot
def _tiny_model(in_channels):
    from cg3d_mm.benchmark import small_model_cfg
    from cg3d_mm.registry import MODELS
    cfg = small_model_cfg()
    cfg['backbone']['in_channels'] = in_channels
    torch.manual_seed(0)
    return MODELS.build(cfg).eval()


def test_zeroshot_over_the_synthetic_lvis_split(lvis_world):
    """A tiny untrained colour model over every class and shape of the
    split (its accuracy is whatever it is)."""
    from cg3d_mm.apis.zeroshot import evaluate_zeroshot
    ds = ObjaverseLVIS(osp.join(lvis_world, 'OpenShape'), trust_pickle=True,
                       test_mode=True,
                       pipeline=zeroshot_pipeline(128, use_color=True))
    assert ds[0]['inputs']['points'].shape == (128, 6)
    model = _tiny_model(6)
    summary = evaluate_zeroshot(model, ds, ['a 3D model of a {}.'],
                                batch_size=16, progress=False)
    classes = list(ds.metainfo['classes'])
    assert summary['classes'] == classes and len(classes) >= 27
    assert summary['num_samples'] == len(ds)
    assert len(summary['per_class']) == len(classes)
    assert np.asarray(summary['confusion']).shape == (len(classes), ) * 2
    assert np.asarray(summary['confusion']).sum() == len(ds)
    assert np.asarray(summary['confusion']).sum(1).tolist() == [
        sum(ds.get_data_info(i)['gt_label'] == k for i in range(len(ds)))
        for k in range(len(classes))]
    assert 0 <= summary['top1'] <= summary['top5'] <= 100
    # LVIS names read as words in the prompts: 'car (automobile)'
    assert 'car_(automobile)' in classes
    text = model.text_encoder
    proto = text.class_prototypes(['car_(automobile)'], ['a {}.'])
    emb = torch.nn.functional.normalize(text.encode(['a car (automobile).']),
                                        dim=-1)
    assert torch.allclose(proto, emb, atol=1e-6)


@pytest.fixture(scope='module')
def small_lvis_world(tmp_path_factory):
    """A few classes of the synthetic Objaverse-LVIS layout."""
    from cg3d_mm.datagen.synthetic import generate
    root = tmp_path_factory.mktemp('small_lvis') / 'world'
    generate(root, seed=1, shapes_per_class=2, layouts=['lvis'], workers=1,
             classes=['car', 'chair', 'mug', 'bag', 'lamp'], progress=False)
    return str(root)


def test_lvis_in_the_benchmark_table(small_lvis_world, tmp_path):
    """tools/zeroshot_benchmark.py's run: the LVIS row for an xyz model and
    for a colour model (which reads the files' colours)."""
    from conftest import TINY_MODEL_CFG

    from cg3d_mm.apis.zeroshot import (BENCHMARKS, format_markdown_table,
                                       run_zeroshot_benchmarks)
    lvis = [b for b in BENCHMARKS if b.key == 'objaverse_lvis']
    assert [(b.name, b.dataset['type']) for b in lvis] == [
        ('ObjaverseLVIS', 'ObjaverseLVIS')]
    with open(osp.join(small_lvis_world, 'OpenShape', LVIS_SPLIT)) as f:
        num_shapes = len(json.load(f))
    for channels in (3, 6):
        config = tmp_path / f'tiny{channels}.py'
        config.write_text(TINY_MODEL_CFG.replace(
            'use_dims=(0, 1, 2)', f'use_dims={tuple(range(channels))}'))
        model = _tiny_model(channels)
        seen = []
        model.register_forward_pre_hook(
            lambda m, args, kwargs: seen.append(
                kwargs['inputs']['points'][0].shape), with_kwargs=True)
        report = run_zeroshot_benchmarks(
            str(config), None, data_root=small_lvis_world, benchmarks=lvis,
            model=model, progress=False, batch_size=16)
        assert report['use_color'] == (channels == 6)
        (row, ) = report['results']
        assert row['key'] == 'objaverse_lvis' and row['points'] == 128
        assert row['n'] == num_shapes == sum(map(sum, row['confusion']))
        assert row['classes'] == sorted(
            ['car_(automobile)', 'chair', 'mug', 'suitcase', 'lamp'])
        assert seen and all(s == (128, channels) for s in seen)
        assert '| ObjaverseLVIS | - | 128 |' in format_markdown_table(report)


def test_colour_pipelines_of_the_benchmarks(small_lvis_world, tmp_path):
    """Colour models read the files' colours, or OpenShape's grey for a
    source without colours; xyz models read xyz."""
    from data_writers import write_modelnet
    from mmengine.config import Config

    from cg3d_mm.datasets.benchmarks import (BENCHMARKS,
                                             build_benchmark_dataset,
                                             config_uses_color)
    bench = {b.key: b for b in BENCHMARKS}
    lvis, _ = build_benchmark_dataset(bench['objaverse_lvis'],
                                      small_lvis_world, 64, use_color=True)
    pts = lvis[0]['inputs']['points'].numpy()
    assert pts.shape == (64, 6) and len(np.unique(pts[:, 3:], axis=0)) > 1
    # the sampled rows are rows of the file: each point keeps its colour
    info = lvis.get_data_info(0)
    full = lvis.read_shape(info['pts_path'])
    info['points'] = full.copy()
    for t in lvis.pipeline.transforms[:2]:  # LoadPointCloud, SamplePoints
        info = t(info)
    rows = {r.tobytes() for r in full}
    assert info['points'].shape == (64, 6)
    assert all(r.tobytes() in rows for r in info['points'])
    xyz_only, _ = build_benchmark_dataset(bench['objaverse_lvis'],
                                          small_lvis_world, 64)
    assert xyz_only.use_color is False
    assert xyz_only[0]['inputs']['points'].shape == (64, 3)
    write_modelnet(tmp_path / 'modelnet40_normal_resampled', train=0,
                   test=1, rows=100)
    mn, _ = build_benchmark_dataset(bench['modelnet40'], str(tmp_path), 64,
                                    use_color=True)
    grey = mn[0]['inputs']['points']
    assert grey.shape == (64, 6) and bool((grey[:, 3:] == 0.4).all())
    load6 = [dict(type='LoadPointCloud', use_dims=XYZ_RGB)]
    assert config_uses_color(Config(dict(test_pipeline=load6)))
    assert not config_uses_color(Config(dict(
        test_pipeline=load6, test_dataloader=dict(dataset=dict(
            pipeline=[dict(type='LoadPointCloud')])))))
    assert config_uses_color(Config(dict(model=dict(backbone=dict(
        in_channels=6)))))
    assert not config_uses_color(Config(dict(model=dict(backbone=dict()))))


def test_benchmark_tool_runs_the_benchmarks_asked_for(small_lvis_world,
                                                      tmp_path, monkeypatch,
                                                      capsys):
    """tools/zeroshot_benchmark.py --benchmarks objaverse_lvis: that row
    only, nothing reported skipped."""
    import runpy
    import sys

    from conftest import REPO, TINY_MODEL_CFG
    config = tmp_path / 'tiny.py'
    config.write_text(TINY_MODEL_CFG)
    ckpt = tmp_path / 'tiny.pth'
    torch.save(dict(state_dict=_tiny_model(3).state_dict()), ckpt)
    out = tmp_path / 'res.json'
    monkeypatch.setattr(sys, 'argv', [
        'zeroshot_benchmark.py', str(config), str(ckpt), '--data-root',
        small_lvis_world, '--benchmarks', 'objaverse_lvis', '--out',
        str(out), '--num-workers', '0', '--no-progress'])
    runpy.run_path(osp.join(REPO, 'tools', 'zeroshot_benchmark.py'),
                   run_name='__main__')
    rows = [line for line in capsys.readouterr().out.splitlines()
            if line.startswith('| ')]
    assert len(rows) == 2 and rows[1].startswith('| ObjaverseLVIS | - |')
    saved = json.loads(out.read_text())
    assert [r['key'] for r in saved['results']] == ['objaverse_lvis']
    assert saved['skipped'] == []
