"""tools/prepare_triplets.py on textured meshes: coloured renders and
coloured points from OBJ + MTL, GLB and PLY textures; missing textures
warned about, broken files reported, a second run writes nothing."""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

trimesh = pytest.importorskip('trimesh')

from cg3d_mm.datagen.triplets import SUMMARY_FILE  # noqa: E402
from cg3d_mm.datagen.triplets import prepare_triplets  # noqa: E402
from cg3d_mm.datasets import ShapeNetTriplets  # noqa: E402

SMALL = dict(num_points=256, num_views=3, image_size=48, progress=False)


def _write(mesh, path):
    os.makedirs(osp.dirname(path), exist_ok=True)
    mesh.export(path)


def _name_of(out, source):
    import json
    with open(osp.join(out, 'sources.json')) as f:
        return next(k for k, v in json.load(f).items() if v == source)


def _views(out, name):
    synset, model_id = name.split('-', 1)
    d = osp.join(out, 'shapenet_render', 'img', synset, model_id)
    return [np.asarray(Image.open(osp.join(d, f)))
            for f in sorted(os.listdir(d))]


def _tree(out):
    """{relative path: (mtime_ns, bytes)} of every file but the summary."""
    files = {}
    for dirpath, _, names in os.walk(out):
        for n in names:
            p = osp.join(dirpath, n)
            if osp.relpath(p, out) != SUMMARY_FILE:
                with open(p, 'rb') as f:
                    files[osp.relpath(p, out)] = (os.stat(p).st_mtime_ns,
                                                  f.read())
    return files


def _palette_blocks(seed, size=32, cells=4):
    palette = np.array([[230, 25, 25], [25, 200, 40], [30, 60, 230],
                        [250, 220, 20]], np.uint8)
    grid = palette[np.random.default_rng(seed).integers(0, 4, cells**2)]
    grid = grid.reshape(cells, cells, 3)
    return np.repeat(np.repeat(grid, size // cells, 0), size // cells, 1)


def _box_obj_text(mtl):
    """A box whose six faces each span the whole texture."""
    box = trimesh.creation.box((0.8, 0.6, 0.5))
    lines = [f'mtllib {mtl}']
    lines += [f'v {x} {y} {z}' for x, y, z in box.vertices]
    lines += ['vt 0 0', 'vt 1 0', 'vt 1 1', 'vt 0 1', 'usemtl skin']
    for a, b, c in box.faces:
        lines.append(f'f {a + 1}/1 {b + 1}/2 {c + 1}/3')
    return '\n'.join(lines) + '\n'


@pytest.fixture(scope='module')
def textured_root(tmp_path_factory):
    """Textured OBJ + MTL (Windows path, JPEG, other case), GLB, PLY; an
    OBJ whose texture is missing; a broken file; a plain mesh."""
    root = tmp_path_factory.mktemp('textured')
    obj_dir = root / 'chair' / 'obj_model'
    obj_dir.mkdir(parents=True)
    Image.fromarray(_palette_blocks(0)).save(str(obj_dir / 'skin.jpg'),
                                             quality=95)
    (obj_dir / 'model.obj').write_text(_box_obj_text('model.mtl'))
    (obj_dir / 'model.mtl').write_text(
        'newmtl skin\nKd 1 1 1\nmap_Kd .\\Skin.JPG\n')
    glb = trimesh.creation.box((0.7, 0.7, 0.4))
    from trimesh.visual.material import PBRMaterial
    glb = trimesh.Trimesh(glb.vertices[glb.faces].reshape(-1, 3),
                          np.arange(36).reshape(-1, 3), process=False)
    uv = np.tile([[0, 0], [1, 0], [1, 1]], (12, 1)).astype(float)
    glb.visual = trimesh.visual.TextureVisuals(
        uv=uv, material=PBRMaterial(
            baseColorTexture=Image.fromarray(_palette_blocks(1)),
            baseColorFactor=[255, 255, 255, 255]))
    _write(glb, str(root / 'chair' / 'logo.glb'))
    (root / 'table').mkdir()
    Image.fromarray(_palette_blocks(2)).save(str(root / 'table' / 'p.png'))
    box = trimesh.creation.box((0.5, 0.9, 0.5))
    corner_uv = [(0, 0), (1, 0), (1, 1), (0, 1), (0, 1), (1, 1), (1, 0),
                 (0, 0)]
    ply = ['ply', 'format ascii 1.0', 'comment TextureFile p.png',
           'element vertex 8', 'property float x', 'property float y',
           'property float z', 'property float s', 'property float t',
           'element face 12', 'property list uchar int vertex_indices',
           'end_header']
    ply += [f'{x} {y} {z} {u} {v}'
            for (x, y, z), (u, v) in zip(box.vertices, corner_uv)]
    ply += [f'3 {a} {b} {c}' for a, b, c in box.faces]
    (root / 'table' / 'tex.ply').write_text('\n'.join(ply) + '\n')
    (root / 'table' / 'lost.obj').write_text(_box_obj_text('lost.mtl'))
    (root / 'table' / 'lost.mtl').write_text(
        'newmtl skin\nKd 0.1 0.3 0.9\nmap_Kd textures\\gone.jpg\n')
    (root / 'table' / 'broken.glb').write_bytes(b'glTF\x02\x00garbage')
    _write(trimesh.creation.icosphere(2), str(root / 'table' / 'plain.ply'))
    return str(root)


def _saturated(rgb):
    """Fraction of (N, 3) colours that are clearly not grey."""
    rgb = np.asarray(rgb, float).reshape(-1, 3)
    return ((rgb.max(1) - rgb.min(1)) > 0.35 * rgb.max(1).clip(1e-6)).mean()


def test_textured_meshes_give_coloured_renders_and_points(textured_root,
                                                          tmp_path):
    out = str(tmp_path / 'out')
    summary = prepare_triplets(textured_root, out, 'folder', workers=2,
                               **SMALL)
    assert (summary.written, len(summary.failed)) == (5, 1)
    assert 'broken.glb' in summary.failed[0]['reason']
    # the missing texture: one warning naming it, the sample still written
    assert [osp.basename(w['source']) for w in summary.warnings] == \
        ['lost.obj']
    assert 'gone.jpg' in summary.warnings[0]['warning']

    def colours(source):
        name = _name_of(out, source)
        img = np.concatenate([v.reshape(-1, 3) for v in _views(out, name)])
        obj = img[img.min(-1) < 250]
        pts = np.load(osp.join(out, 'shapenet_pc', f'{name}.npy'))
        rgb_pts = np.load(osp.join(out, 'shapenet_pc_rgb', f'{name}.npy'))
        assert rgb_pts.shape == (256, 6) and rgb_pts.dtype == np.float32
        assert np.array_equal(rgb_pts[:, :3], pts)
        return obj, rgb_pts[:, 3:]

    for source in (osp.join('chair', 'obj_model', 'model.obj'),
                   osp.join('chair', 'logo.glb'),
                   osp.join('table', 'tex.ply')):
        pixels, point_rgb = colours(source)
        assert _saturated(pixels) > 0.6, source
        assert _saturated(point_rgb) > 0.6, source
        # several texture colours, not one flat colour
        hues = np.unique(np.argmax(pixels, 1)[_saturated_mask(pixels)])
        assert len(hues) >= 2, source
    pixels, point_rgb = colours(osp.join('table', 'lost.obj'))  # Kd
    assert np.allclose(point_rgb, [0.1, 0.3, 0.9], atol=0.01)
    b_over_r = pixels[:, 2] / pixels[:, 0].clip(1)
    assert np.median(b_over_r) > 5
    pixels, point_rgb = colours(osp.join('table', 'plain.ply'))
    assert _saturated(pixels) == 0 and np.ptp(point_rgb) < 1e-6

    # the coloured points load through the dataset as 6 columns
    ds = ShapeNetTriplets(
        data_root=out, ann_file='train_img.txt', num_views=3,
        pc_dir='shapenet_pc_rgb',
        pipeline=[dict(type='LoadPointCloud', use_dims=[0, 1, 2, 3, 4, 5])])
    assert ds[0]['points'].shape == (256, 6)

    # a second run writes nothing and warns about nothing
    before = _tree(out)
    again = prepare_triplets(textured_root, out, 'folder', workers=1,
                             **SMALL)
    assert (again.written, again.skipped, len(again.failed)) == (0, 5, 1)
    assert again.warnings == []
    assert _tree(out) == before
    # a lost colour file makes the sample incomplete: it is redone
    name = _name_of(out, osp.join('chair', 'logo.glb'))
    os.remove(osp.join(out, 'shapenet_pc_rgb', f'{name}.npy'))
    assert prepare_triplets(textured_root, out, 'folder', workers=1,
                            **SMALL).written == 1
    after = _tree(out)
    assert set(after) == set(before)
    assert all(after[k][1] == before[k][1] for k in after)  # same bytes


def _saturated_mask(rgb):
    rgb = np.asarray(rgb, float)
    return (rgb.max(1) - rgb.min(1)) > 0.35 * rgb.max(1).clip(1e-6)
