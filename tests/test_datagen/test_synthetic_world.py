"""Tests of the synthetic world: shapes, layouts read back with plain
numpy / h5py / PIL, determinism, errors and the cache helper."""
import filecmp
import json
import multiprocessing
import pickle
import re
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from cg3d_mm.datagen.synthetic import (BUILDERS, CATEGORIES, CATEGORY_BY_NAME,
                                       MANIFEST_NAME, MODELNET10_CLASSES,
                                       MODELNET40_CLASSES, S3DIS_CLASSES,
                                       SCANOBJECTNN_CLASSES, build_shape,
                                       ensure_synthetic_data, generate)
from cg3d_mm.render import camera_views, make_contact_sheet, render_mesh

SMALL = dict(
    seed=0,
    shapes_per_class=3,
    image_size=64,
    num_views=3,
    areas=(1, 5),
    rooms_per_area=1,
    points_per_room=6000,
    progress=False)


@pytest.fixture(scope='module')
def world(tmp_path_factory) -> Path:
    """All four layouts, every class, 3 shapes per class."""
    return generate(tmp_path_factory.mktemp('synthetic') / 'world', **SMALL)


def _tree_bytes_equal(a: Path, b: Path) -> bool:
    files_a = sorted(p.relative_to(a) for p in a.rglob('*') if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob('*') if p.is_file())
    return files_a == files_b and all(
        filecmp.cmp(a / f, b / f, shallow=False) for f in files_a)


# ---------------------------------------------------------------- categories
def test_category_table():
    names = [c.name for c in CATEGORIES]
    assert len(names) == len(set(names)) >= 16
    assert set(names) == set(BUILDERS)
    synsets = [c.synset for c in CATEGORIES]
    assert len(set(synsets)) == len(synsets)
    for c in CATEGORIES:
        assert re.fullmatch(r'\d{8}', c.synset)
        assert c.taxonomy.split(',')[0] == c.name
        # invented ids are marked and never look like a ShapeNet synset
        assert c.in_shapenet == (not c.synset.startswith('9'))
        if c.modelnet40:
            assert c.modelnet40 in MODELNET40_CLASSES
    real = {c.name: c.synset for c in CATEGORIES if c.in_shapenet}
    assert real['chair'] == '03001627' and real['display'] == '03211117'
    assert real['ashcan'] == '02747177' and real['table'] == '04379243'
    # synonyms cover the other datasets' names of the same category
    assert 'monitor' in CATEGORY_BY_NAME['display'].taxonomy
    assert 'cup' in CATEGORY_BY_NAME['mug'].taxonomy
    assert 'shelf' in CATEGORY_BY_NAME['bookshelf'].taxonomy
    # every ScanObjectNN class and every ModelNet10 class is covered
    assert {c.scanobjectnn for c in CATEGORIES} - {None} == set(range(15))
    assert {c.modelnet40 for c in CATEGORIES} >= set(MODELNET10_CLASSES)
    assert CATEGORY_BY_NAME['bookshelf'].scanobjectnn_name == 'shelf'


@pytest.mark.parametrize('category', sorted(BUILDERS))
def test_shapes_are_upright_deterministic_and_varied(category):

    def mesh(seed):
        return build_shape(category, np.random.default_rng(seed)).to_mesh()

    v0, f0, c0 = mesh(0)
    v0b, f0b, c0b = mesh(0)
    assert np.array_equal(v0, v0b) and np.array_equal(c0, c0b)
    assert f0.min() >= 0 and f0.max() < len(v0) and c0.dtype == np.uint8
    assert len(f0) == len(c0)
    assert abs(v0[:, 1].min()) < 0.02  # standing on y = 0
    # intra-class variation: proportions differ across instances
    ext = [np.ptp(mesh(s)[0], 0) for s in range(6)]
    ratios = [e / e.max() for e in ext]
    assert max(np.abs(r - ratios[0]).max() for r in ratios[1:]) > 0.02


# ------------------------------------------------------------------ ShapeNet
def test_shapenet_layout(world):
    base = world / 'ShapeNet55'
    cats = [c for c in CATEGORIES if c.in_shapenet]
    names = (base / 'shape_names.txt').read_text().split('\n')[:-1]
    assert names == [c.name for c in sorted(cats, key=lambda c: c.synset)]
    taxonomy = json.loads((base / 'taxonomy.json').read_text())
    assert taxonomy == {c.synset: c.taxonomy for c in cats}
    splits = {
        s: (base / f'{s}_img.txt').read_text().split('\n')[:-1]
        for s in ('train', 'val', 'test')
    }
    listed = [x for lines in splits.values() for x in lines]
    files = sorted(p.name for p in (base / 'shapenet_pc').iterdir())
    assert sorted(listed) == files  # disjoint and complete
    assert len(files) == 3 * len(cats)
    for lines in splits.values():  # every class in every split
        assert {x.split('-')[0] for x in lines} == set(taxonomy)
    sample = np.load(base / 'shapenet_pc' / files[0])
    assert sample.shape == (8192, 3) and sample.dtype == np.float32
    lo, hi = sample.min(0), sample.max(0)
    assert np.allclose((lo + hi) / 2, 0, atol=1e-5)
    assert abs(np.linalg.norm(hi - lo) - 1) < 1e-4
    for name in files:
        synset, model = name[:-4].split('-', 1)
        assert re.fullmatch(r'[0-9a-f]{32}', model)
        views = sorted(
            (base / 'shapenet_render' / 'img' / synset / model).iterdir())
        assert [p.name for p in views] == ['000.png', '001.png', '002.png']
    img = Image.open(views[0])
    assert img.mode == 'RGB' and img.size == (64, 64)


def test_render_contact_sheet_per_class(world, tmp_path):
    """Picture test: one render per class in a sheet; the views of one
    object differ and are not blank."""
    base = world / 'ShapeNet55' / 'shapenet_render' / 'img'
    tiles, labels, differ = [], [], {}
    for c in CATEGORIES:
        if not c.in_shapenet:
            continue
        obj = sorted((base / c.synset).iterdir())[0]
        views = [np.asarray(Image.open(p)) for p in sorted(obj.iterdir())]
        for v in views:
            fg = (v != 255).any(2).mean()
            assert 0.01 < fg < 0.95, (c.name, fg)  # thin guitars: ~3 %
            assert v.std() > 10
        differ[c.name] = np.abs(views[0].astype(int) - views[1]).mean()
        tiles.append(views[0])
        labels.append(c.name)
    # Views differ, except for objects symmetric about the up axis.
    assert differ['chair'] > 3 and differ['car'] > 3
    assert np.mean([d > 1 for d in differ.values()]) > 0.75
    # and the non-ShapeNet categories straight from the renderer
    for c in CATEGORIES:
        if c.in_shapenet:
            continue
        v, f, col = build_shape(c.name, np.random.default_rng(0)).to_mesh()
        tiles.append(
            render_mesh(v, f, col, view=camera_views(1)[0], image_size=64))
        labels.append(c.name)
    sheet = make_contact_sheet(tiles, nrow=9, labels=labels)
    path = tmp_path / 'classes.png'
    Image.fromarray(sheet).save(path)
    assert Image.open(path).size == (sheet.shape[1], sheet.shape[0])
    assert len(tiles) == len(CATEGORIES)


# ------------------------------------------------------------------ ModelNet
def test_modelnet_layout(world):
    base = world / 'modelnet40_normal_resampled'
    names40 = (base / 'modelnet40_shape_names.txt').read_text().split()
    names10 = (base / 'modelnet10_shape_names.txt').read_text().split()
    expected = sorted({c.modelnet40 for c in CATEGORIES if c.modelnet40})
    assert names40 == expected and names10 == list(MODELNET10_CLASSES)
    ids = {}
    for prefix in ('modelnet40', 'modelnet10'):
        for split in ('train', 'test'):
            ids[prefix,
                split] = (base / f'{prefix}_{split}.txt').read_text().split()
        assert not set(ids[prefix, 'train']) & set(ids[prefix, 'test'])
    for split in ('train', 'test'):
        assert set(ids['modelnet10', split]) <= set(ids['modelnet40', split])
        assert {i.rsplit('_', 1)[0]
                for i in ids['modelnet40', split]} == set(names40)
    files = sorted(p.stem for p in base.glob('*/*.txt'))
    assert files == sorted(ids['modelnet40', 'train'] +
                           ids['modelnet40', 'test'])
    first = ids['modelnet40', 'test'][0]
    path = base / first.rsplit('_', 1)[0] / f'{first}.txt'
    line = path.read_text().split('\n')[0]
    assert re.fullmatch(r'(-?\d\.\d{6},){5}-?\d\.\d{6}', line)
    data = np.loadtxt(path, delimiter=',')
    assert data.shape == (10000, 6)
    assert np.linalg.norm(data[:, :3], axis=1).max() <= 1 + 1e-5
    assert np.allclose(np.linalg.norm(data[:, 3:], axis=1), 1, atol=1e-4)


# -------------------------------------------------------------- ScanObjectNN
def test_scanobjectnn_layout(world):
    base = world / 'ScanObjectNN'
    files = {
        'pb': 'main_split/{}_objectdataset_augmentedrot_scale75.h5',
        'bg': 'main_split/{}_objectdataset.h5',
        'only': 'main_split_nobg/{}_objectdataset.h5',
    }
    covered = {c.scanobjectnn for c in CATEGORIES} - {None}
    loaded = {}
    for key, pattern in files.items():
        for split in ('training', 'test'):
            with h5py.File(base / pattern.format(split), 'r') as f:
                assert {'data', 'label'} <= set(f)
                data, label, mask = f['data'][:], f['label'][:], f['mask'][:]
            assert data.dtype == np.float32 and data.shape[1:] == (2048, 3)
            assert label.shape == (len(data), ) and np.issubdtype(
                label.dtype, np.integer)
            assert set(label.tolist()) == covered
            assert np.linalg.norm(data, axis=2).max() <= 1 + 1e-5
            loaded[key, split] = data, label, mask
    assert len(SCANOBJECTNN_CLASSES) == 15
    for split in ('training', 'test'):  # same objects across variants
        labels = [loaded[k, split][1] for k in files]
        assert all(np.array_equal(labels[0], x) for x in labels[1:])
    train, test = loaded['bg', 'training'][0], loaded['bg', 'test'][0]
    assert len(train) + len(test) == 3 * len(covered)
    assert (loaded['only', 'test'][2] == 1).all()
    assert (loaded['bg', 'training'][2] == -1).any()  # some background
    assert not np.allclose(loaded['pb', 'test'][0], loaded['bg', 'test'][0])


# --------------------------------------------------------------------- S3DIS
def test_s3dis_layout(world):
    base = world / 's3dis'
    for area in (1, 5):
        with open(base / f's3dis_infos_Area_{area}.pkl', 'rb') as f:
            infos = pickle.load(f)
        assert infos['metainfo']['categories'] == {
            'table': 0,
            'chair': 1,
            'sofa': 2,
            'bookcase': 3,
            'board': 4
        }
        assert len(infos['data_list']) == 1
        for i, info in enumerate(infos['data_list']):
            assert info['sample_idx'] == i
            assert info['lidar_points']['num_pts_feats'] == 6
            name = info['lidar_points']['lidar_path']
            assert re.fullmatch(rf'Area_{area}_[a-zA-Z]+_\d+\.bin', name)
            pts = np.fromfile(base / 'points' / name, np.float32)
            pts = pts.reshape(-1, 6)
            sem = np.fromfile(
                base / 'semantic_mask' / info['pts_semantic_mask_path'],
                np.int64)
            ins = np.fromfile(
                base / 'instance_mask' / info['pts_instance_mask_path'],
                np.int64)
            assert len(pts) == len(sem) == len(ins) > 3000
            assert np.allclose(pts[:, :3].min(0), 0, atol=1e-6)
            assert pts[:, 3:].min() >= 0 and pts[:, 3:].max() <= 255
            assert sem.min() >= 0 and sem.max() < len(S3DIS_CLASSES)
            assert {0, 1, 2} <= set(sem.tolist())  # ceiling, floor, wall
            assert ins.min() == 1
            for inst in info['instances']:
                assert 0 <= inst['bbox_label_3d'] <= 4
                assert len(inst['bbox_3d']) == 6
        idx = np.load(base / 'seg_info' /
                      f'Area_{area}_resampled_scene_idxs.npy')
        weight = np.load(base / 'seg_info' / f'Area_{area}_label_weight.npy')
        assert weight.shape == (13, ) and idx.dtype == np.int32


def test_s3dis_loads_with_mmdet3d(world):
    pytest.importorskip('mmdet3d')
    from mmdet3d.datasets import S3DISSegDataset
    from mmdet3d.utils import register_all_modules
    from mmengine.registry import DefaultScope
    register_all_modules(init_default_scope=False)
    pipeline = [
        dict(
            type='LoadPointsFromFile',
            coord_type='DEPTH',
            shift_height=False,
            use_color=True,
            load_dim=6,
            use_dim=[0, 1, 2, 3, 4, 5]),
        dict(
            type='LoadAnnotations3D',
            with_bbox_3d=False,
            with_label_3d=False,
            with_mask_3d=True,
            with_seg_3d=True),
        dict(type='PointSegClassMapping'),
    ]
    with DefaultScope.overwrite_default_scope('mmdet3d'):
        ds = S3DISSegDataset(
            data_root=str(world / 's3dis'),
            ann_files=['s3dis_infos_Area_1.pkl', 's3dis_infos_Area_5.pkl'],
            metainfo=dict(classes=S3DIS_CLASSES),
            data_prefix=dict(
                pts='points',
                pts_instance_mask='instance_mask',
                pts_semantic_mask='semantic_mask'),
            pipeline=pipeline,
            test_mode=True)
        assert len(ds) == 2
        sample = ds[0]
    assert sample['points'].shape[1] == 6
    assert len(sample['pts_semantic_mask']) == len(sample['points'])
    assert sample['pts_semantic_mask'].max() < 13


# ------------------------------------------------------ determinism, errors
TINY = dict(
    shapes_per_class=3,
    classes=['chair', 'toilet', 'bag'],
    image_size=32,
    num_views=2,
    areas=(1, ),
    rooms_per_area=1,
    points_per_room=2000,
    progress=False)


def test_same_seed_same_bytes_any_workers(tmp_path):
    a = generate(tmp_path / 'a', seed=4, workers=1, **TINY)
    b = generate(tmp_path / 'b', seed=4, workers=2, **TINY)
    c = generate(tmp_path / 'c', seed=5, workers=1, **TINY)
    assert _tree_bytes_equal(a, b)
    npy = sorted((a / 'ShapeNet55' / 'shapenet_pc').iterdir())[0].name
    assert not (c / 'ShapeNet55' / 'shapenet_pc' / npy).exists()
    pa = np.load(sorted((a / 'ShapeNet55' / 'shapenet_pc').iterdir())[0])
    pc = np.load(sorted((c / 'ShapeNet55' / 'shapenet_pc').iterdir())[0])
    assert not np.array_equal(pa, pc)
    with h5py.File(a / 'ScanObjectNN/main_split/test_objectdataset.h5') as f:
        da = f['data'][:]
    with h5py.File(c / 'ScanObjectNN/main_split/test_objectdataset.h5') as f:
        dc = f['data'][:]
    assert not np.array_equal(da, dc)


def test_existing_directory_rules(tmp_path):
    out = tmp_path / 'ds'
    kw = dict(TINY, layouts=['modelnet'])
    generate(out, seed=1, **kw)
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest['seed'] == 1 and manifest['settings']['layouts'] == [
        'modelnet'
    ]
    stamp = (out / MANIFEST_NAME).stat().st_mtime_ns
    assert generate(out, seed=1, **kw) == out  # reused, not rewritten
    assert (out / MANIFEST_NAME).stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match='seed'):
        generate(out, seed=2, **kw)
    with pytest.raises(ValueError, match='shapes_per_class'):
        generate(out, seed=1, **dict(kw, shapes_per_class=4))
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'notes.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='foreign'):
        generate(foreign, **kw)
    assert [p.name for p in foreign.iterdir()] == ['notes.txt']


@pytest.mark.parametrize('kwargs, match', [
    (dict(layouts=['shapenet', 'meshes']), 'layouts'),
    (dict(layouts='shapenet,bogus'), 'layouts'),
    (dict(classes=['chair', 'unicorn']), 'unicorn'),
    (dict(shapes_per_class=2, layouts=['shapenet']), 'shapes_per_class'),
    (dict(classes=['bag'], layouts=['modelnet']), 'modelnet'),
    (dict(seed=-1), 'seed'),
])
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate(tmp_path / 'x', **dict(TINY, **kwargs))
    assert not (tmp_path / 'x').exists()


def test_unwritable_output(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    with pytest.raises(OSError, match='cannot write synthetic data'):
        generate(blocker / 'sub', **TINY)


def test_nothing_half_written_on_failure(tmp_path, monkeypatch):
    from cg3d_mm.datagen.synthetic import generator as gen_module

    def broken(*args, **kwargs):
        raise RuntimeError('disk on fire')

    monkeypatch.setattr(gen_module, 'write_modelnet_index', broken)
    with pytest.raises(RuntimeError, match='disk on fire'):
        generate(tmp_path / 'out', workers=1, **TINY)
    assert list(tmp_path.iterdir()) == []  # no output, no temp directory


def test_losing_a_race_reuses_the_winner(tmp_path, monkeypatch):
    from cg3d_mm.datagen.synthetic import generator as gen_module
    real = gen_module._generate_into
    out = tmp_path / 'race'

    def slow_loser(root, *args, **kwargs):
        real(root, *args, **kwargs)
        # Another process finishes the same dataset meanwhile.
        monkeypatch.setattr(gen_module, '_generate_into', real)
        generate(out, seed=3, workers=1, **TINY)

    monkeypatch.setattr(gen_module, '_generate_into', slow_loser)
    assert generate(out, seed=3, workers=1, **TINY) == out
    assert [p.name for p in tmp_path.iterdir()] == ['race']
    assert json.loads((out / MANIFEST_NAME).read_text())['seed'] == 3


def test_empty_existing_directory_is_filled(tmp_path):
    out = tmp_path / 'empty'
    out.mkdir()
    generate(out, seed=0, **dict(TINY, layouts='scanobjectnn'))
    assert (out / MANIFEST_NAME).is_file()
    assert (out / 'ScanObjectNN' / 'main_split_nobg').is_dir()


def _ensure_worker(cache: str, queue) -> None:
    import os
    os.environ['CG3D_CACHE'] = cache
    queue.put(str(ensure_synthetic_data(seed=7, workers=1, **TINY)))


def test_ensure_synthetic_data_cache_and_concurrency(tmp_path, monkeypatch):
    cache = tmp_path / 'cache'
    ctx = multiprocessing.get_context('fork')
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_ensure_worker, args=(str(cache), queue))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    paths = {queue.get(timeout=5) for _ in procs}
    assert len(paths) == 1
    root = Path(paths.pop())
    assert root.parent == cache / 'synthetic' and root.name.startswith(
        'seed7-')
    assert (root / MANIFEST_NAME).is_file()
    assert [p.name for p in root.parent.iterdir()] == [root.name]  # no temp
    monkeypatch.setenv('CG3D_CACHE', str(cache))
    stamp = (root / MANIFEST_NAME).stat().st_mtime_ns
    assert ensure_synthetic_data(seed=7, **TINY) == root
    assert (root / MANIFEST_NAME).stat().st_mtime_ns == stamp
    with pytest.raises(TypeError, match='unknown'):
        ensure_synthetic_data(seed=7, colour='red')


def test_layouts_load_with_the_plugins_own_loaders(world):
    """The synthetic files are read by the same loaders as the real data."""
    import cg3d_mm  # noqa: F401
    from cg3d_mm.datasets import (ModelNet, ScanObjectNN, ShapeNetTriplets,
                                  find_scenes, load_scene)
    triplets = ShapeNetTriplets(
        data_root=str(world / 'ShapeNet55'), ann_file='train_img.txt',
        num_views=SMALL['num_views'],
        pipeline=[
            dict(type='LoadPointCloud'),
            dict(type='SamplePoints', num_points=256),
            dict(type='LoadTripletImage'),
            dict(type='SampleCaption'),
            dict(type='PackCG3DInputs'),
        ])
    shapenet_classes = (world / 'ShapeNet55' / 'shape_names.txt'
                        ).read_text().split()
    assert list(triplets.metainfo['classes']) == shapenet_classes
    item = triplets[0]
    assert item['inputs']['points'].shape == (256, 3)
    size = SMALL['image_size']
    assert item['inputs']['imgs'].shape == (3, size, size)
    assert item['data_samples'].class_name in item['data_samples'].caption
    labels = {triplets.get_data_info(i)['gt_label']
              for i in range(len(triplets))}
    assert labels == set(range(len(shapenet_classes)))

    mn40 = ModelNet(str(world / 'modelnet40_normal_resampled'),
                    num_classes=40, split='test')
    assert len(mn40) > 0 and 'chair' in mn40.metainfo['classes']
    sonn = ScanObjectNN(str(world / 'ScanObjectNN'), variant='PB_T50_RS',
                        split='test')
    assert len(sonn) > 0 and len(sonn.metainfo['classes']) == 15

    scenes = find_scenes(str(world / 's3dis'))
    scene = load_scene(scenes[0])
    assert scene.num_points > 0
    assert scene.semantic is not None and scene.semantic.max() <= 12
