"""ModelNet / ScanObjectNN in their real on-disk formats, the evaluation
pipeline's determinism, prompt templates and the zero-shot configs."""
import glob
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from conftest import REPO  # noqa: E402
from data_writers import (MN10, MN40, RunsCode, write_modelnet,  # noqa: E402
                          write_modelnet_dat, write_scanobjectnn)
from mmengine.config import Config

import cg3d_mm  # noqa: F401
from cg3d_mm.datasets import ModelNet, ScanObjectNN
from cg3d_mm.datasets.benchmarks import BENCHMARKS, zeroshot_pipeline
from cg3d_mm.datasets.modelnet import UnsafePickleError
from cg3d_mm.datasets.scanobjectnn import SCANOBJECTNN_CLASSES
from cg3d_mm.utils.templates import (ENSEMBLE_TEMPLATES, check_templates,
                                     resolve_templates)


@pytest.fixture(scope='module')
def modelnet_root(tmp_path_factory):
    return write_modelnet(tmp_path_factory.mktemp('mn') /
                          'modelnet40_normal_resampled')


@pytest.fixture(scope='module')
def scan_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('so') / 'ScanObjectNN'
    return str(root), write_scanobjectnn(root, sizes={
        ('PB_T50_RS', 'test'): 7, ('OBJ_BG', 'test'): 5,
        ('OBJ_ONLY', 'test'): 4})


def eval_pipeline(n=256):
    return zeroshot_pipeline(n)


# ---------------------------------------------------------------- ModelNet
def test_modelnet40_and_10_lists_labels_and_classes(modelnet_root):
    mn40 = ModelNet(modelnet_root, num_classes=40, split='test')
    assert mn40.metainfo['classes'] == MN40
    assert len(mn40) == 2 * len(MN40)
    for i in range(len(mn40)):
        info = mn40.get_data_info(i)
        assert MN40[info['gt_label']] == info['class_name']
        assert info['sample_id'].rpartition('_')[0] == info['class_name']
        assert osp.basename(info['pts_path']) == info['sample_id'] + '.txt'
    assert len(ModelNet(modelnet_root, num_classes=40, split='train')) \
        == len(MN40)
    mn10 = ModelNet(modelnet_root, num_classes=10)
    assert mn10.metainfo['classes'] == MN10
    assert len(mn10) == 2 * len(MN10)
    # labels index the ModelNet10 list, not the ModelNet40 one
    chair = [mn10.get_data_info(i) for i in range(len(mn10))
             if mn10.get_data_info(i)['class_name'] == 'chair']
    assert {c['gt_label'] for c in chair} == {MN10.index('chair')}


def test_modelnet_reads_xyz_or_normals(modelnet_root):
    ds = ModelNet(modelnet_root, pipeline=[
        dict(type='LoadPointCloud'),
        dict(type='PackCG3DInputs', keys=('points', ))
    ])
    info = ds.get_data_info(3)
    expect = np.loadtxt(info['pts_path'], delimiter=',', dtype=np.float32)
    out = ds[3]
    assert torch.equal(out['inputs']['points'], torch.from_numpy(
        expect[:, :3]))
    assert int(out['data_samples'].gt_label) == info['gt_label']
    normals = ModelNet(modelnet_root, use_normals=True, pipeline=[
        dict(type='LoadPointCloud', use_dims=(0, 1, 2, 3, 4, 5))])
    assert np.array_equal(normals[3]['points'], expect)
    with pytest.raises(ValueError, match='use_normals=True but'):
        ModelNet(modelnet_root, use_normals=True,
                 pipeline=[dict(type='LoadPointCloud')])


def test_modelnet_argument_errors(modelnet_root, tmp_path):
    with pytest.raises(ValueError, match='num_classes must be 40 or 10'):
        ModelNet(modelnet_root, num_classes=55)
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        ModelNet(modelnet_root, split='val')
    with pytest.raises(FileNotFoundError, match='nowhere'):
        ModelNet(str(tmp_path / 'nowhere'))
    with pytest.raises(ValueError, match='give data_root'):
        ModelNet()


def test_modelnet_missing_list_file(tmp_path):
    root = write_modelnet(tmp_path / 'mn', classes=MN40[:2], classes10=(),
                          train=0, test=1, rows=50)
    os.remove(osp.join(root, 'modelnet40_test.txt'))
    with pytest.raises(FileNotFoundError, match='modelnet40_test.txt'):
        ModelNet(root)
    os.remove(osp.join(root, 'modelnet40_shape_names.txt'))
    with pytest.raises(FileNotFoundError,
                       match='modelnet40_shape_names.txt'):
        ModelNet(root)


def test_modelnet_class_folder_without_files(tmp_path):
    root = write_modelnet(tmp_path / 'mn', classes=MN40[:3], classes10=(),
                          train=0, test=2, rows=50)
    for f in glob.glob(osp.join(root, 'bed', '*.txt')):
        os.remove(f)
    with pytest.raises(FileNotFoundError,
                       match=r'class folder .*bed has no point files.* 2 of'):
        ModelNet(root)
    os.rmdir(osp.join(root, 'bed'))
    with pytest.raises(FileNotFoundError, match=r'bed is missing'):
        ModelNet(root)


def test_modelnet_single_missing_file_is_an_error(tmp_path):
    root = write_modelnet(tmp_path / 'mn', classes=MN40[:2], classes10=(),
                          train=0, test=2, rows=50)
    os.remove(osp.join(root, 'airplane', 'airplane_0002.txt'))
    with pytest.raises(FileNotFoundError,
                       match=r'1 point files .*airplane_0002.txt'):
        ModelNet(root)


def test_modelnet_list_with_unknown_class_or_bad_id(tmp_path):
    root = write_modelnet(tmp_path / 'mn', classes=MN40[:2], classes10=(),
                          train=0, test=1, rows=50)
    with open(osp.join(root, 'modelnet40_test.txt'), 'a') as f:
        f.write('piano_0001\n')
    with pytest.raises(ValueError, match="class 'piano'.*not in"):
        ModelNet(root)
    with open(osp.join(root, 'modelnet40_test.txt'), 'w') as f:
        f.write('airplane\n')
    with pytest.raises(ValueError, match="bad id 'airplane'"):
        ModelNet(root)


def test_modelnet_bad_rows_name_the_file(tmp_path):
    root = write_modelnet(tmp_path / 'mn', classes=MN40[:2], classes10=(),
                          train=0, test=1, rows=50)
    ds = ModelNet(root, pipeline=[dict(type='LoadPointCloud')])
    path = ds.get_data_info(0)['pts_path']
    with open(path) as f:
        lines = f.readlines()
    lines[7] = ','.join(lines[7].split(',')[:5]) + '\n'  # a short row
    with open(path, 'w') as f:
        f.writelines(lines)
    with pytest.raises(IOError, match=rf'{osp.basename(path)}.*x,y,z,nx'):
        ds[0]
    np.savetxt(path, np.ones((50, 3)), fmt='%.6f', delimiter=',')
    with pytest.raises(ValueError, match=r'rows have 3 values, expected'):
        ds[0]
    # too few rows for the requested point count: named, not padded
    np.savetxt(path, np.random.rand(50, 6), fmt='%.6f', delimiter=',')
    ds = ModelNet(root, pipeline=eval_pipeline(64))
    with pytest.raises(IOError, match=r'airplane_0001.txt: has 50 points'):
        ds[0]


@pytest.mark.parametrize('protocol', [2, 4, 5])
def test_modelnet_dat_pickle(modelnet_root, tmp_path, protocol):
    root = str(tmp_path / 'mn')
    os.makedirs(root)
    for f in ('modelnet40_shape_names.txt', ):
        with open(osp.join(modelnet_root, f)) as src, \
                open(osp.join(root, f), 'w') as dst:
            dst.write(src.read())
    points, labels = write_modelnet_dat(
        osp.join(root, 'modelnet40_test_8192pts_fps.dat'), protocol=protocol)
    ds = ModelNet(root, dat_file='modelnet40_test_8192pts_fps.dat')
    assert len(ds) == len(points)
    assert ds.metainfo['classes'] == MN40
    for i in range(len(ds)):
        info = ds[i]
        assert info['gt_label'] == int(labels[i][0])
        assert info['class_name'] == MN40[info['gt_label']]
        assert np.array_equal(info['points'], points[i][:, :3])


def test_modelnet_dat_bad_content(modelnet_root, tmp_path):
    root = str(tmp_path)
    with open(osp.join(root, 'modelnet40_shape_names.txt'), 'w') as f:
        f.write('\n'.join(MN40))
    path = osp.join(root, 'x.dat')
    with open(path, 'wb') as f:
        pickle.dump([[np.zeros((4, 6), np.float32)], [np.array([40])]], f)
    with pytest.raises(ValueError, match=r'x.dat: sample 0 has label \[40\]'):
        ModelNet(root, dat_file='x.dat')
    with open(path, 'wb') as f:
        pickle.dump([[np.zeros((4, 6))] * 2, [0]], f)
    with pytest.raises(ValueError, match='2 point arrays but 1 labels'):
        ModelNet(root, dat_file='x.dat')
    with open(path, 'wb') as f:
        f.write(b'not a pickle')
    with pytest.raises(ValueError, match='x.dat: not a readable pickle'):
        ModelNet(root, dat_file='x.dat')


def test_modelnet_unsafe_dat_is_refused_and_runs_nothing(tmp_path):
    import collections
    root = str(tmp_path)
    with open(osp.join(root, 'modelnet40_shape_names.txt'), 'w') as f:
        f.write('\n'.join(MN40))
    marker = tmp_path / 'pwned'
    path = osp.join(root, 'evil.dat')
    with open(path, 'wb') as f:
        pickle.dump([[np.zeros((4, 6), np.float32)],
                     [RunsCode(marker)]], f)
    with pytest.raises(UnsafePickleError, match=r'evil.dat.*system'):
        ModelNet(root, dat_file='evil.dat')
    assert not marker.exists()
    # any other global is refused too, harmless or not
    with open(path, 'wb') as f:
        pickle.dump([[collections.OrderedDict()], [0]], f)
    with pytest.raises(UnsafePickleError, match='collections.OrderedDict'):
        ModelNet(root, dat_file='evil.dat')


# ------------------------------------------------------------ ScanObjectNN
def test_scanobjectnn_variants_read_their_files(scan_root):
    root, written = scan_root
    for variant, n in (('PB_T50_RS', 7), ('OBJ_BG', 5), ('OBJ_ONLY', 4)):
        ds = ScanObjectNN(root, variant=variant.lower())
        assert ds.variant == variant
        assert ds.metainfo['classes'] == SCANOBJECTNN_CLASSES
        assert len(SCANOBJECTNN_CLASSES) == 15
        assert len(ds) == n
        data, labels = written[(variant, 'test')]
        for i in range(n):
            info = ds.get_data_info(i)
            assert info['gt_label'] == labels[i]
            assert info['class_name'] == SCANOBJECTNN_CLASSES[labels[i]]
            assert np.array_equal(info['points'], data[i])
    train = ScanObjectNN(root, variant='OBJ_BG', split='train')
    assert len(train) == 3
    assert train.h5_file == osp.join('main_split',
                                     'training_objectdataset.h5')


def test_scanobjectnn_errors(scan_root, tmp_path):
    import h5py
    root, _ = scan_root
    with pytest.raises(ValueError, match="unknown variant 'PB_T25'"):
        ScanObjectNN(root, variant='PB_T25')
    with pytest.raises(FileNotFoundError,
                       match='main_split_nobg/training_objectdataset.h5'):
        ScanObjectNN(str(tmp_path), variant='OBJ_ONLY', split='train')
    bad = tmp_path / 'main_split'
    bad.mkdir()
    path = bad / 'test_objectdataset.h5'
    with h5py.File(path, 'w') as f:
        f.create_dataset('points', data=np.zeros((2, 8, 3)))
        f.create_dataset('label', data=np.zeros(2))
    with pytest.raises(ValueError, match=r"test_objectdataset.h5: no data "
                       r".*keys found: \['label', 'points'\]"):
        ScanObjectNN(str(tmp_path), variant='OBJ_BG')
    with h5py.File(path, 'w') as f:
        f.create_dataset('data', data=np.zeros((2, 8, 3)))
    with pytest.raises(ValueError, match=r'no label .*keys found: \[.data.'):
        ScanObjectNN(str(tmp_path), variant='OBJ_BG')
    with h5py.File(path, 'w') as f:
        f.create_dataset('data', data=np.zeros((2, 8, 3)))
        f.create_dataset('label', data=np.array([3, 15]))
    with pytest.raises(ValueError, match=r'1 labels outside \[0, 15\)'):
        ScanObjectNN(str(tmp_path), variant='OBJ_BG')
    with h5py.File(path, 'w') as f:
        f.create_dataset('data', data=np.zeros((2, 8, 3)))
        f.create_dataset('label', data=np.array([3]))
    with pytest.raises(ValueError, match=r'label has shape \(1,\)'):
        ScanObjectNN(str(tmp_path), variant='OBJ_BG')
    path.write_bytes(b'not h5')
    with pytest.raises(ValueError, match='not a readable h5 file'):
        ScanObjectNN(str(tmp_path), variant='OBJ_BG')


# ----------------------------------------------------- evaluation pipeline
def test_evaluation_sampling_is_deterministic(modelnet_root, scan_root):
    """Same sample twice -> the same tensor, whatever the RNG state."""
    for ds in (ModelNet(modelnet_root, test_mode=True,
                        pipeline=eval_pipeline(256)),
               ScanObjectNN(scan_root[0], test_mode=True,
                            pipeline=eval_pipeline(256))):
        np.random.seed(1)
        torch.manual_seed(1)
        first = ds[2]['inputs']['points']
        ds[0]
        np.random.seed(2)
        torch.manual_seed(2)
        again = ds[2]['inputs']['points']
        assert first.shape == (256, 3)
        assert torch.equal(first, again)
        # unit sphere, centred
        assert float(first.norm(dim=1).max()) == pytest.approx(1, abs=1e-5)
        # farthest points, not the file's first rows
        raw = ds.get_data_info(2).get('points')
        if raw is None:
            raw = ds.read_txt_points(ds.get_data_info(2)['pts_path'])
        first_rows = torch.from_numpy(raw[:256, :3].copy())
        first_rows -= first_rows.mean(0)
        first_rows /= first_rows.norm(dim=1).max()
        assert not torch.allclose(first, first_rows)


# --------------------------------------------------------------- templates
def test_templates_need_a_placeholder():
    assert check_templates(ENSEMBLE_TEMPLATES) == ENSEMBLE_TEMPLATES
    assert len(set(ENSEMBLE_TEMPLATES)) == len(ENSEMBLE_TEMPLATES) > 1
    with pytest.raises(ValueError, match="'a photo of a chair.' must "
                       "contain exactly one '{}'"):
        check_templates(['This is a {}.', 'a photo of a chair.'])


# ----------------------------------------------------------------- configs
ZS_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'cg3d', 'zeroshot',
                                       '*.py')))


@pytest.mark.parametrize('path', ZS_CONFIGS,
                         ids=[osp.basename(p) for p in ZS_CONFIGS])
def test_zeroshot_configs_match_the_benchmarks(path):
    cfg = Config.fromfile(path)
    ds = cfg.test_dataloader.dataset
    spec = {b.key: b for b in BENCHMARKS}[cfg.test_evaluator.name.replace(
        '_ensemble', '')]
    for k, v in spec.dataset.items():
        assert ds[k] == v, k
    assert ds.test_mode and not cfg.test_dataloader.sampler.shuffle
    assert 'ann_file' not in ds  # nothing left over from ShapeNet
    assert ('synthetic' in ds) == ('_synthetic_' in path)
    types = [t['type'] for t in ds.pipeline]
    slip = '_slip_' in path  # the authors' weights: the authors' evaluation
    if slip:
        assert types == ['LoadPointCloud', 'NormalizePoints', 'SamplePoints',
                         'PackCG3DInputs']
    else:
        # a colour model (6 input channels) reads the files' colours, or
        # OpenShape's grey for a source without any
        from cg3d_mm.registry import DATASETS
        colour = cfg.model.backbone.get('in_channels', 3) == 6
        expected = zeroshot_pipeline(1, use_color=colour, constant_color=not
                                     getattr(DATASETS.get(ds.type),
                                             'HAS_COLOR', False))
        assert types == [t['type'] for t in expected]
        assert tuple(ds.pipeline[0].get('use_dims', (0, 1, 2))) == \
            tuple(expected[0]['use_dims'])
    sample = ds.pipeline[types.index('SamplePoints')]
    assert sample.method == 'fps' and sample.num_points == cfg.num_points
    templates = resolve_templates(cfg.model.test_cfg.templates)
    assert templates == (ENSEMBLE_TEMPLATES if 'ensemble' in path else
                         ('This is a {}', ) if slip else ('This is a {}.', ))
    assert cfg.test_evaluator.type == 'ZeroShotAccuracy'


BASE_DATASETS = sorted(glob.glob(osp.join(
    REPO, 'configs', 'cg3d', 'zeroshot', '_base_', 'datasets', '*.py')))


def test_benchmarks_are_the_base_dataset_configs():
    """One file per benchmark: every _base_/datasets config is a benchmark
    and every benchmark is one of those files, with its test set."""
    keys = [osp.splitext(osp.basename(p))[0] for p in BASE_DATASETS]
    assert len(keys) >= 5
    assert sorted(b.key for b in BENCHMARKS) == keys
    for path in BASE_DATASETS:
        bench = {b.key: b for b in BENCHMARKS}[
            osp.splitext(osp.basename(path))[0]]
        ds = Config.fromfile(path).zeroshot_dataset
        assert bench.dataset == {k: v for k, v in ds.items()
                                 if k not in ('data_root', 'test_mode')}
        assert bench.dataset['split'] == 'test'
        assert bench.variant == ds.get('variant', '')
    # the table the tools print: ModelNet first, PB_T50_RS first, then
    # OpenShape's files
    assert [(b.name, b.variant) for b in BENCHMARKS] == [
        ('ModelNet10', ''), ('ModelNet40', ''),
        ('ScanObjectNN', 'PB_T50_RS'), ('ScanObjectNN', 'OBJ_BG'),
        ('ScanObjectNN', 'OBJ_ONLY'), ('ObjaverseLVIS', ''),
        ('OpenShapeModelNet40', ''), ('OpenShapeScanObjectNN', '')]


def test_a_new_dataset_file_is_a_new_benchmark(tmp_path):
    import shutil

    from cg3d_mm.datasets.benchmarks import load_benchmarks
    for path in BASE_DATASETS:
        shutil.copy(path, tmp_path)
    (tmp_path / 'modelnet10_train.py').write_text(
        "zeroshot_dataset = dict(type='ModelNet', num_classes=10, "
        "split='train', data_root='x/', test_mode=True)\n"
        "zeroshot_evaluator = dict(type='ZeroShotAccuracy', "
        "name='modelnet10_train')\n")
    benches = {b.key: b for b in load_benchmarks(str(tmp_path))}
    assert set(benches) == {b.key for b in BENCHMARKS} | {'modelnet10_train'}
    assert benches['modelnet10_train'].dataset == dict(
        type='ModelNet', num_classes=10, split='train')
    (tmp_path / 'misnamed.py').write_text(
        "zeroshot_dataset = dict(type='ModelNet', num_classes=10)\n"
        "zeroshot_evaluator = dict(name='modelnet10')\n")
    with pytest.raises(ValueError, match=r"misnamed.py: zeroshot_evaluator"
                       r".name must be the file name 'misnamed'"):
        load_benchmarks(str(tmp_path))
    with pytest.raises(FileNotFoundError, match='no zero-shot dataset'):
        load_benchmarks(str(tmp_path / 'empty'))


def test_every_benchmark_has_configs_for_both_backbones():
    names = {osp.basename(p) for p in ZS_CONFIGS}
    for bench in BENCHMARKS:
        for backbone in ('pointmlp', 'pointtransformer'):
            assert f'{backbone}_{bench.key}.py' in names
            assert f'{backbone}_synthetic_{bench.key}.py' in names


def test_config_dataset_builds_on_real_format_data(modelnet_root, scan_root):
    from cg3d_mm.registry import DATASETS
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cg3d', 'zeroshot',
                                   'pointmlp_modelnet10.py'))
    cfg.test_dataloader.dataset.data_root = modelnet_root
    ds = DATASETS.build(cfg.test_dataloader.dataset)
    assert len(ds) == 2 * len(MN10)
    assert ds[0]['inputs']['points'].shape == (1024, 3)
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cg3d', 'zeroshot',
                                   'pointtransformer_scanobjectnn_obj_bg.py'))
    cfg.test_dataloader.dataset.data_root = scan_root[0]
    ds = DATASETS.build(cfg.test_dataloader.dataset)
    assert ds.variant == 'OBJ_BG' and len(ds) == 5


def test_built_in_synthetic_world(tmp_path):
    """data_root=None + synthetic settings: the generated real-format files
    (the benchmark tool resolves the same root from a config)."""
    from cg3d_mm.datasets.benchmarks import resolve_data_root
    synthetic = dict(root=str(tmp_path / 'world'), seed=0, shapes_per_class=2,
                     layouts=['modelnet', 'scanobjectnn'], workers=1,
                     classes=['bed', 'chair', 'toilet', 'bag'],
                     progress=False)
    mn10 = ModelNet(num_classes=10, synthetic=synthetic)
    root = osp.join(str(tmp_path / 'world'), 'modelnet40_normal_resampled')
    assert mn10.data_root == root
    with open(osp.join(root, 'modelnet10_shape_names.txt')) as f:
        assert mn10.metainfo['classes'] == tuple(f.read().split())
    assert set(mn10.metainfo['classes']) == {'bed', 'chair', 'toilet'}
    assert len(mn10) >= 3
    so = ScanObjectNN(variant='OBJ_ONLY', synthetic=synthetic,
                      pipeline=eval_pipeline(256))
    assert len(so) > 0 and so[0]['inputs']['points'].shape == (256, 3)
    cfg = Config(dict(synthetic=synthetic))
    assert resolve_data_root(cfg) == str(tmp_path / 'world')
    assert resolve_data_root(cfg, 'elsewhere') == 'elsewhere'
    assert resolve_data_root(Config(dict())) == 'data'
    cfg = Config(dict(test_dataloader=dict(dataset=dict(
        data_root='/datasets/modelnet40_normal_resampled/'))))
    assert resolve_data_root(cfg) == '/datasets'
