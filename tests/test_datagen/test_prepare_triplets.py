"""tools/prepare_triplets.py: CG3D triplets from real mesh files."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

trimesh = pytest.importorskip('trimesh')

from cg3d_mm.datagen.triplets import (MANIFEST, SUMMARY_FILE,  # noqa: E402
                                      class_synset, prepare_triplets)
from cg3d_mm.datasets import ShapeNetTriplets  # noqa: E402

SMALL = dict(num_points=256, num_views=3, image_size=48, progress=False)
RED, GREEN, BLUE = (200, 30, 30, 255), (30, 190, 40, 255), (20, 40, 210, 255)


def _load_tool(repo_root):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'prepare_triplets_tool', osp.join(repo_root, 'tools',
                                          'prepare_triplets.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _with_material(mesh, rgba):
    from trimesh.visual.material import SimpleMaterial
    mesh = mesh.copy()
    mesh.visual = trimesh.visual.TextureVisuals(
        material=SimpleMaterial(diffuse=rgba))
    return mesh


def _textured(mesh):
    """Left half of the texture red, right half blue, uv = x, y."""
    mesh = mesh.copy()
    tex = np.zeros((8, 8, 3), np.uint8)
    tex[:, :4], tex[:, 4:] = RED[:3], BLUE[:3]
    v = mesh.vertices
    uv = (v[:, :2] - v[:, :2].min(0)) / np.ptp(v[:, :2], axis=0)
    mesh.visual = trimesh.visual.TextureVisuals(uv=uv,
                                                image=Image.fromarray(tex))
    return mesh


def _shapes():
    return dict(
        box=trimesh.creation.box((0.6, 1.0, 0.4)),
        ball=trimesh.creation.icosphere(2),
        cyl=trimesh.creation.cylinder(0.3, 1.2, sections=16),
        cone=trimesh.creation.cone(0.5, 1.0, sections=16))


def _write(mesh, path):
    os.makedirs(osp.dirname(path), exist_ok=True)
    mesh.export(path)


@pytest.fixture(scope='module')
def folder_root(tmp_path_factory):
    """<class>/**/<mesh> with every format, colours, a broken and an empty
    file. Good meshes: chair 4, table 3, lamp 3."""
    root = str(tmp_path_factory.mktemp('meshes'))
    s = _shapes()
    _write(_with_material(s['box'], RED), osp.join(root, 'chair', 'red.obj'))
    _write(s['ball'], osp.join(root, 'chair', 'plain.off'))
    _write(_textured(s['box']), osp.join(root, 'chair', 'sub', 'tex.obj'))
    _write(s['cyl'], osp.join(root, 'chair', 'sub', 'plain.ply'))
    green = s['cone'].copy()
    green.visual.face_colors = GREEN
    _write(green, osp.join(root, 'table', 'green.ply'))
    blue = s['cyl'].copy()
    blue.visual.vertex_colors = BLUE
    _write(blue, osp.join(root, 'table', 'blue.glb'))
    _write(s['box'], osp.join(root, 'table', 'plain.obj'))
    with open(osp.join(root, 'table', 'broken.ply'), 'wb') as f:
        f.write(b'ply\nformat ascii 1.0\nelement vertex 3\nend_header\n1 2\n')
    for name in ('a', 'b', 'c'):
        _write(s['cone'], osp.join(root, 'lamp', f'{name}.off'))
    with open(osp.join(root, 'lamp', 'empty.obj'), 'w') as f:
        f.write('# vertices only\nv 0 0 0\nv 1 0 0\n')
    with open(osp.join(root, 'README.txt'), 'w') as f:
        f.write('not a class folder\n')
    return root


@pytest.fixture(scope='module')
def folder_out(folder_root, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('triplets') / 'out')
    summary = prepare_triplets(folder_root, out, 'folder', workers=2,
                               **SMALL)
    return out, summary


def _sources(out):
    with open(osp.join(out, 'sources.json')) as f:
        return json.load(f)


def _views(out, name):
    synset, model_id = name.split('-', 1)
    d = osp.join(out, 'shapenet_render', 'img', synset, model_id)
    return [np.asarray(Image.open(osp.join(d, f))) for f in sorted(
        os.listdir(d))]


def _name_of(out, source):
    return next(k for k, v in _sources(out).items() if v == source)


def _tree(out):
    """{relative path: (mtime_ns, bytes)} of every file except the run
    summary."""
    files = {}
    for dirpath, _, names in os.walk(out):
        for n in names:
            p = osp.join(dirpath, n)
            rel = osp.relpath(p, out)
            if rel != SUMMARY_FILE:
                with open(p, 'rb') as f:
                    files[rel] = (os.stat(p).st_mtime_ns, f.read())
    return files


def test_folder_layout_loads_with_shapenet_triplets(folder_out):
    out, summary = folder_out
    assert (summary.discovered, summary.written, summary.skipped) == (12, 10,
                                                                      0)
    reasons = {osp.basename(f['source']): f['reason']
               for f in summary.failed}
    assert set(reasons) == {'broken.ply', 'empty.obj'}
    assert 'broken.ply' in reasons['broken.ply'] and \
        'cannot read' in reasons['broken.ply']
    assert 'no triangle' in reasons['empty.obj']
    with open(osp.join(out, SUMMARY_FILE)) as f:  # failures with reasons
        saved = json.load(f)
    assert [x['reason'] for x in saved['failed']] == \
        [x['reason'] for x in summary.failed]

    with open(osp.join(out, 'taxonomy.json')) as f:
        taxonomy = json.load(f)
    assert taxonomy == {class_synset(c): c for c in ('chair', 'lamp',
                                                     'table')}
    sources = _sources(out)
    pipeline = [dict(type='LoadPointCloud'),
                dict(type='LoadTripletImage', view=1)]
    seen = {}
    for split in ('train', 'val', 'test'):
        ds = ShapeNetTriplets(data_root=out, ann_file=f'{split}_img.txt',
                              num_views=3, pipeline=pipeline)
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            # the label is the class folder the mesh came from
            cls = sources[info['sample_id']].split(os.sep)[0]
            assert ds.metainfo['classes'][info['gt_label']] == cls
            seen[info['sample_id']] = split
        item = ds[0]
        assert item['points'].shape == (256, 3)
        assert item['points'].dtype == np.float32
        assert item['img'].shape == (48, 48, 3)
    assert len(seen) == 10 and set(seen) == set(sources)
    # seeded per-class split: a class of 4 meshes is in every split
    chair = {seen[n] for n in seen if n.startswith(class_synset('chair'))}
    assert chair == {'train', 'val', 'test'}
    # points follow the ShapeNetCore normalisation (unit bbox diagonal)
    pts = np.load(osp.join(out, 'shapenet_pc', f'{next(iter(seen))}.npy'))
    assert np.isclose(np.linalg.norm(np.ptp(pts, 0)), 1., atol=1e-3)


def test_renders_use_mesh_colours(folder_out):
    out, _ = folder_out

    def object_rgb(source):
        views = _views(out, _name_of(out, source))
        assert len(views) == 3
        for img in views:  # not blank: object pixels on a white background
            assert (img.min(-1) < 250).mean() > 0.05
        assert not np.array_equal(views[0], views[1])
        assert not np.array_equal(views[1], views[2])
        img = np.concatenate([v.reshape(-1, 3) for v in views]).astype(float)
        return img[img.min(-1) < 250].mean(0)

    r, g, b = object_rgb('chair/red.obj')  # .mtl Kd
    assert r > 2 * g and r > 2 * b
    r, g, b = object_rgb(osp.join('table', 'green.ply'))  # face colours
    assert g > 2 * r and g > 2 * b
    r, g, b = object_rgb(osp.join('table', 'blue.glb'))  # vertex colours
    assert b > 2 * r and b > 2 * g
    r, g, b = object_rgb(osp.join('chair', 'sub', 'tex.obj'))  # texture
    assert r > 1.5 * g and b > 1.5 * g
    for grey in ('chair/plain.off', 'table/plain.obj'):
        rgb = object_rgb(grey)
        assert rgb.max() - rgb.min() < 3


def test_second_run_writes_nothing_and_workers_do_not_matter(
        folder_root, folder_out, tmp_path, repo_root):
    out, _ = folder_out
    before = _tree(out)
    tool = _load_tool(repo_root)
    args = [folder_root, out, '--format', 'folder', '--points', '256',
            '--views', '3', '--image-size', '48', '--workers', '1',
            '--no-progress']
    assert tool.main(args) == 0
    assert _tree(out) == before  # same bytes, same mtimes
    with open(osp.join(out, SUMMARY_FILE)) as f:
        summary = json.load(f)
    assert (summary['written'], summary['skipped'],
            len(summary['failed'])) == (0, 10, 2)
    assert summary['index_files'] == []

    # one process writes the very same bytes as two
    other = str(tmp_path / 'one_worker')
    assert tool.main([folder_root, other] + args[2:]) == 0
    a, b = _tree(out), _tree(other)
    assert set(a) == set(b)
    assert all(a[k][1] == b[k][1] for k in a)


def test_incomplete_samples_are_redone(folder_root, tmp_path):
    out = str(tmp_path / 'out')
    prepare_triplets(folder_root, out, 'folder', workers=1,
                     classes=['lamp'], **SMALL)
    names = sorted(_sources(out))
    pc = osp.join(out, 'shapenet_pc')
    synset, mid = names[0].split('-', 1)
    view = osp.join(out, 'shapenet_render', 'img', synset, mid, '002.png')
    os.remove(view)  # a lost view
    np.save(osp.join(pc, f'{names[1]}.npy'), np.zeros((10, 3), np.float32))
    os.makedirs(osp.join(out, '.tmp', 'dead-run'))  # a killed run's leftover
    summary = prepare_triplets(folder_root, out, 'folder', workers=1,
                               classes=['lamp'], **SMALL)
    assert (summary.written, summary.skipped) == (2, 1)
    assert osp.isfile(view)
    assert np.load(osp.join(pc, f'{names[1]}.npy')).shape == (256, 3)
    assert not osp.exists(osp.join(out, '.tmp'))


def test_depth_mode_writes_grey_depth_maps(folder_root, tmp_path):
    out = str(tmp_path / 'depth')
    summary = prepare_triplets(folder_root, out, 'folder', mode='depth',
                               workers=1, classes=['table'], **SMALL)
    assert summary.written == 3 and summary.classes == 1
    for name in _sources(out):
        views = _views(out, name)
        for img in views:
            assert img.ndim == 2  # single-channel PNG
            assert img.min() == 0  # background
            obj = img[img > 0]
            assert obj.size > 50 and obj.max() - obj.min() > 10
        assert not np.array_equal(views[0], views[1])
    # the image loader turns them into 3 equal channels
    ds = ShapeNetTriplets(data_root=out, ann_file='train_img.txt',
                          num_views=3,
                          pipeline=[dict(type='LoadTripletImage', view=0)])
    img = ds[0]['img']
    assert img.shape == (48, 48, 3) and (img[..., 0] == img[..., 2]).all()


def test_other_settings_or_foreign_folder_are_refused(folder_root, folder_out,
                                                      tmp_path, repo_root,
                                                      capsys):
    out, _ = folder_out
    with pytest.raises(ValueError, match='num_points'):
        prepare_triplets(folder_root, out, 'folder',
                         **dict(SMALL, num_points=512))
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'train_img.txt').write_text('x-y.npy\n')
    tool = _load_tool(repo_root)
    assert tool.main([folder_root, str(foreign), '--format', 'folder',
                      '--no-progress']) == 2
    assert MANIFEST in capsys.readouterr().err
    assert (foreign / 'train_img.txt').read_text() == 'x-y.npy\n'
    with pytest.raises(ValueError, match='not found'):
        prepare_triplets(folder_root, str(tmp_path / 'x'), 'folder',
                         classes=['sofa'], **SMALL)


@pytest.fixture(scope='module')
def shapenetcore_root(tmp_path_factory):
    """ShapeNetCore v2: two synsets, one model without its .obj."""
    root = str(tmp_path_factory.mktemp('ShapeNetCore.v2'))
    s = _shapes()
    models = {
        '03001627': dict(c1=_with_material(s['box'], RED), c2=s['ball'],
                         c3=_textured(s['box']), c4=s['cyl']),
        '04379243': dict(t1=_with_material(s['cone'], GREEN), t2=s['cyl'],
                         t3=s['box']),
    }
    for synset, items in models.items():
        for model_id, mesh in items.items():
            _write(mesh, osp.join(root, synset, model_id, 'models',
                                  'model_normalized.obj'))
    os.makedirs(osp.join(root, '04379243', 't4', 'models'))  # no mesh
    with open(osp.join(root, 'taxonomy.json'), 'w') as f:
        json.dump([
            dict(synsetId='03001627', name='chair', children=[]),
            dict(synsetId='04379243', name='table,tabular array',
                 children=[]),
            dict(synsetId='02691156', name='airplane,aeroplane,plane'),
        ], f)
    return root


def _lists(out):
    res = {}
    for split in ('train', 'val', 'test'):
        with open(osp.join(out, f'{split}_img.txt')) as f:
            res[split] = [x.strip() for x in f if x.strip()]
    return res


def test_shapenetcore_with_official_split_lists(shapenetcore_root, tmp_path,
                                                repo_root):
    lists = tmp_path / 'lists'
    lists.mkdir()
    official = dict(
        train=['03001627-c1.npy', '03001627-c3.npy', '04379243-t1.npy',
               '04379243-t2.npy', '04379243-t4.npy'],
        val=['03001627-c4.npy'],
        test=['03001627-c2.npy', '04379243-t3.npy', '04379243-zz.npy'])
    for split, entries in official.items():
        (lists / f'{split}_img.txt').write_text('\n'.join(entries) + '\n')
    out = str(tmp_path / 'ShapeNet55')
    tool = _load_tool(repo_root)
    assert tool.main([shapenetcore_root, out, '--format', 'shapenetcore',
                      '--split-lists', str(lists), '--points', '256',
                      '--views', '3', '--image-size', '48',
                      '--no-progress']) == 0
    with open(osp.join(out, SUMMARY_FILE)) as f:
        summary = json.load(f)
    assert summary['missing'] == ['04379243-zz']
    assert [f['sample'] for f in summary['failed']] == ['04379243-t4']
    assert 'model_normalized.obj' in summary['failed'][0]['reason']
    expected = {k: sorted(x for x in v if x[:-4] not in ('04379243-t4',
                                                         '04379243-zz'))
                for k, v in official.items()}
    assert _lists(out) == expected
    with open(osp.join(out, 'shape_names.txt')) as f:
        assert f.read().split('\n')[:2] == ['chair', 'table']
    with open(osp.join(out, 'taxonomy.json')) as f:
        assert json.load(f) == {'03001627': 'chair',
                                '04379243': 'table,tabular array'}
    ds = ShapeNetTriplets(data_root=out, ann_file='test_img.txt',
                          num_views=3)
    assert [ds.get_data_info(i)['class_name'] for i in range(len(ds))] == \
        ['chair', 'table']
    rgb = _views(out, '03001627-c1')[0].reshape(-1, 3).astype(float)
    r, g, b = rgb[rgb.min(-1) < 250].mean(0)
    assert r > 2 * g and r > 2 * b

    # no official val list: val comes out of train, test stays official
    (lists / 'val_img.txt').unlink()
    (lists / 'train_img.txt').write_text('\n'.join(
        expected['train'] + expected['val']) + '\n')
    out2 = str(tmp_path / 'carved')
    summary = prepare_triplets(shapenetcore_root, out2, 'shapenetcore',
                               split_lists=str(lists), val_ratio=0.3,
                               **SMALL)
    got = _lists(out2)
    assert got['test'] == expected['test']
    assert sorted(got['train'] + got['val']) == sorted(expected['train'] +
                                                       expected['val'])
    assert len(got['val']) == 2  # one per class
    assert summary.unlisted == 1 and not summary.failed  # t4 left out


def test_shapenetcore_gets_cg3d_class_names(tmp_path):
    """display / vessel come out as CG3D's monitor / ship in shape_names
    (captions read "a photo of a monitor"); taxonomy.json keeps
    ShapeNetCore's names and the dataset maps one to the other."""
    root = tmp_path / 'ShapeNetCore.v2'
    s = _shapes()
    for synset, model_id, mesh in (('03211117', 'd1', s['box']),
                                   ('03211117', 'd2', s['cyl']),
                                   ('04530566', 'v1', s['cone']),
                                   ('04530566', 'v2', s['ball'])):
        _write(mesh, str(root / synset / model_id / 'models' /
                         'model_normalized.obj'))
    (root / 'taxonomy.json').write_text(json.dumps([
        dict(synsetId='03211117', name='display,video display'),
        dict(synsetId='04530566', name='vessel,watercraft')]))
    out = str(tmp_path / 'out')
    summary = prepare_triplets(str(root), out, 'shapenetcore',
                               val_ratio=0.0, test_ratio=0.5, **SMALL)
    assert not summary.failed
    with open(osp.join(out, 'shape_names.txt')) as f:
        assert f.read().split() == ['monitor', 'ship']
    with open(osp.join(out, 'taxonomy.json')) as f:
        assert json.load(f) == {'03211117': 'display,video display',
                                '04530566': 'vessel,watercraft'}
    ds = ShapeNetTriplets(data_root=out, ann_file='test_img.txt',
                          num_views=3)
    assert sorted(ds.get_data_info(i)['class_name']
                  for i in range(len(ds))) == ['monitor', 'ship']


def test_modelnet_folders_give_the_split_and_turn_z_up(tmp_path):
    root = tmp_path / 'ModelNet10'
    tall = trimesh.creation.box((0.2, 0.3, 1.0))  # tall along z
    for cls in ('bed', 'night_stand'):
        for split, ids in (('train', (1, 2, 3)), ('test', (4, ))):
            for i in ids:
                _write(tall, str(root / cls / split / f'{cls}_{i:04d}.off'))
    out = str(tmp_path / 'out')
    summary = prepare_triplets(str(root), out, 'modelnet', val_ratio=0.,
                               workers=1, **SMALL)
    assert summary.written == 8
    lists = _lists(out)
    assert lists['val'] == []
    assert sorted(lists['test']) == sorted(
        f'{class_synset(c)}-{c}_0004.npy' for c in ('bed', 'night_stand'))
    pts = np.load(osp.join(out, 'shapenet_pc', lists['train'][0]))
    extent = np.ptp(pts, 0)
    assert extent[1] > 2.5 * extent[0] and extent[1] > 2.5 * extent[2]


def test_without_color_points(folder_root, tmp_path):
    out = str(tmp_path / 'plain')
    prepare_triplets(folder_root, out, 'folder', workers=1,
                     classes=['lamp'], color_points=False, **SMALL)
    assert not osp.exists(osp.join(out, 'shapenet_pc_rgb'))
    assert len(os.listdir(osp.join(out, 'shapenet_pc'))) == 3
