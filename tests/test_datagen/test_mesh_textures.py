"""Textured meshes from files (OBJ + MTL, GLB, PLY) rendered and sampled
like the texture image itself, and the MTL quirks of real files."""
import os.path as osp

import numpy as np
import pytest
from PIL import Image

trimesh = pytest.importorskip('trimesh')

from cg3d_mm.datagen.triplets.asset_resolver import strip_map_options  # noqa
from cg3d_mm.datagen.triplets.mesh_loading import load_mesh  # noqa: E402
from cg3d_mm.datagen.triplets.sample_writer import (  # noqa: E402
    SampleSettings, surface_points)
from cg3d_mm.render import render_mesh  # noqa: E402

# Mean absolute error (0..255 per channel) allowed between the rendered
# quad (lighting divided out) and the texture image: bilinear blending at
# the 16 colour-block borders and 8-bit rounding stay well below it, a
# mirrored or missing texture is far above it (> 60).
MAE_BOUND = 6.
PALETTE = np.array([[230, 25, 25], [25, 200, 40], [30, 60, 230],
                    [250, 220, 20], [240, 130, 10], [150, 30, 200],
                    [20, 210, 210], [240, 40, 180]], np.uint8)

QUAD_OBJ = """mtllib {mtl}
v -1 -1 0
v 1 -1 0
v 1 1 0
v -1 1 0
vt 0 0
vt 1 0
vt 1 1
vt 0 1
usemtl {name}
f 1/1 2/2 3/3
f 1/1 3/3 4/4
"""


def _blocks(size=64, cells=4, seed=0):
    """A texture of cells x cells strongly coloured blocks."""
    rng = np.random.default_rng(seed)
    grid = PALETTE[rng.permutation(np.arange(cells * cells) % len(PALETTE))]
    grid = grid.reshape(cells, cells, 3)
    return np.repeat(np.repeat(grid, size // cells, 0), size // cells, 1)


def _write_obj(folder, texture_ref, image=None, image_name=None, kd='1 1 1',
               obj='quad.obj', mtl='quad.mtl', encoding='utf-8'):
    """OBJ + MTL of the quad; the MTL names ``texture_ref`` as map_Kd and
    ``image`` is saved as ``image_name``."""
    folder.mkdir(parents=True, exist_ok=True)
    if image is not None:
        Image.fromarray(image).save(str(folder / image_name))
    (folder / obj).write_text(QUAD_OBJ.format(mtl=mtl, name='paint'),
                              encoding=encoding)
    lines = ['newmtl paint', f'Kd {kd}' if kd else '', 'Ka 0 0 0',
             f'map_Kd {texture_ref}']
    (folder / mtl).write_text('\n'.join(lines) + '\n')
    return str(folder / obj)


def _render_front(mesh, size=128):
    """The quad seen head-on (+x right, +y up), and the lighting factor of
    the same view rendered white."""
    kwargs = dict(view=(180., 0.), image_size=size, normalize=False,
                  projection='orthographic')
    img = render_mesh(mesh.vertices * 0.7, mesh.faces, mesh.colors,
                      texture=mesh.texture, **kwargs).astype(float)
    white = render_mesh(mesh.vertices * 0.7, mesh.faces,
                        np.full((len(mesh.faces), 3), 255, np.uint8),
                        **kwargs).astype(float)
    return img, white[..., :1] / 255.


def _texture_error(mesh, texture):
    """Mean absolute colour error of the rendered quad against the image
    (resized to the quad's pixels)."""
    img, light = _render_front(mesh)
    obj = img.min(-1) < 255
    rows, cols = np.nonzero(obj)
    box = (slice(rows.min(), rows.max() + 1),
           slice(cols.min(), cols.max() + 1))
    unlit = img[box] / light[box]
    h, w = unlit.shape[:2]
    expected = np.asarray(Image.fromarray(texture).resize((w, h),
                                                          Image.NEAREST))
    return np.abs(unlit - expected).mean()


def test_obj_mtl_texture_renders_as_the_image(tmp_path):
    tex = _blocks()
    mesh = load_mesh(_write_obj(tmp_path, 'paint.png', tex, 'paint.png'))
    assert mesh.texture is not None and not mesh.warning
    assert _texture_error(mesh, tex) < MAE_BOUND
    # the check can fail: the mirrored image is far off
    assert _texture_error(mesh, tex[:, ::-1]) > 10 * MAE_BOUND


def test_mtl_kd_tints_the_texture(tmp_path):
    tex = np.full((8, 8, 3), 200, np.uint8)
    mesh = load_mesh(
        _write_obj(tmp_path, 'grey.png', tex, 'grey.png', kd='1 0.5 0'))
    img, light = _render_front(mesh)
    centre = img[64, 64] / light[64, 64]
    assert np.allclose(centre, [200, 100, 0], atol=2)


def _glb_quad(path, image, factor=(255, 255, 255, 255)):
    from trimesh.visual.material import PBRMaterial
    quad = trimesh.Trimesh(
        [[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], [[0, 1, 2],
                                                           [0, 2, 3]],
        process=False)
    quad.visual = trimesh.visual.TextureVisuals(
        uv=[[0, 0], [1, 0], [1, 1], [0, 1]],
        material=PBRMaterial(baseColorTexture=Image.fromarray(image),
                             baseColorFactor=factor))
    quad.export(str(path))
    return str(path)


def test_glb_base_color_texture_renders_as_the_image(tmp_path):
    tex = _blocks(seed=1)
    mesh = load_mesh(_glb_quad(tmp_path / 'quad.glb', tex))
    assert mesh.texture is not None
    assert _texture_error(mesh, tex) < MAE_BOUND
    # baseColorFactor multiplies the texture
    tinted = load_mesh(_glb_quad(tmp_path / 'tinted.glb', tex,
                                 (255, 128, 0, 255)))
    plain = _render_front(mesh)[0][64 - 40:64 + 40, 64 - 40:64 + 40]
    img = _render_front(tinted)[0][64 - 40:64 + 40, 64 - 40:64 + 40]
    assert img[..., 2].max() == 0
    for channel, factor in ((0, 1.), (1, 128 / 255)):
        lit = plain[..., channel] > 60
        ratio = img[..., channel][lit] / plain[..., channel][lit]
        assert np.median(ratio) == pytest.approx(factor, abs=0.02)


def test_ply_texture_coordinates_and_texture_file(tmp_path):
    tex = _blocks(seed=2)
    Image.fromarray(tex).save(str(tmp_path / 'skin.png'))
    (tmp_path / 'quad.ply').write_text(
        'ply\nformat ascii 1.0\ncomment TextureFile skin.png\n'
        'element vertex 4\nproperty float x\nproperty float y\n'
        'property float z\nproperty float texture_u\n'
        'property float texture_v\nelement face 2\n'
        'property list uchar int vertex_indices\nend_header\n'
        '-1 -1 0 0 0\n1 -1 0 1 0\n1 1 0 1 1\n-1 1 0 0 1\n'
        '3 0 1 2\n3 0 2 3\n')
    mesh = load_mesh(str(tmp_path / 'quad.ply'))
    assert mesh.texture is not None
    assert _texture_error(mesh, tex) < MAE_BOUND


@pytest.mark.parametrize('ref, on_disk', [
    ('.\\paint.png', 'paint.png'),  # Windows relative path
    ('textures\\paint.png', 'textures/paint.png'),
    ('C:\\Users\\me\\model\\paint.png', 'paint.png'),  # absolute, elsewhere
    ('Paint.PNG', 'paint.png'),  # case differs from the file
    ('my paint.png', 'my paint.png'),  # spaces
    ('-s 1 1 1 -bm 0.5 my paint.png', 'my paint.png'),  # map options
    ('../images/texture0.png', '../images/texture0.png'),  # ShapeNetCore
])
def test_mtl_texture_path_quirks(tmp_path, ref, on_disk):
    tex = _blocks(seed=3)
    folder = tmp_path / 'model'
    (folder / osp.dirname(on_disk)).mkdir(parents=True, exist_ok=True)
    path = _write_obj(folder, ref, tex, on_disk)
    mesh = load_mesh(path)
    assert mesh.texture is not None and not mesh.warning
    assert _texture_error(mesh, tex) < MAE_BOUND


def test_missing_texture_warns_once_and_uses_the_material_colour(
        tmp_path, monkeypatch):
    # record the module's log calls: mmengine's current logger may write to
    # a stream an earlier test's runner captured
    from cg3d_mm.datagen.triplets import mesh_loading
    logged = []
    monkeypatch.setattr(mesh_loading, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    path = _write_obj(tmp_path, 'gone.jpg', kd='0.2 0.4 0.9')
    # two materials naming the same missing file: still one warning
    with open(osp.join(tmp_path, 'quad.mtl'), 'a') as f:
        f.write('newmtl other\nKd 1 0 0\nmap_Kd gone.jpg\n')
    mesh = load_mesh(path)
    assert len(logged) == 1 and logged[0].count('gone.jpg') == 1
    assert mesh.texture is None
    assert 'gone.jpg' in mesh.warning and path in mesh.warning
    img, light = _render_front(mesh)
    centre = img[64, 64] / light[64, 64]
    assert np.allclose(centre, [51, 102, 230], atol=2)
    # an unreadable image (not an image at all) does not fail the mesh
    (tmp_path / 'bad.png').write_bytes(b'\x89PNG\r\n\x1a\n not really')
    other = load_mesh(_write_obj(tmp_path, 'bad.png', obj='b.obj',
                                 mtl='b.mtl', kd='0 1 0'))
    assert other.texture is None and other.warning
    assert np.allclose(other.colors, [0, 255, 0])
    # a PLY whose TextureFile is missing
    (tmp_path / 'lost.ply').write_text(
        'ply\nformat ascii 1.0\ncomment TextureFile nope.png\n'
        'element vertex 3\nproperty float x\nproperty float y\n'
        'property float z\nproperty float s\nproperty float t\n'
        'element face 1\nproperty list uchar int vertex_indices\n'
        'end_header\n0 0 0 0 0\n1 0 0 1 0\n0 1 0 0 1\n3 0 1 2\n')
    ply = load_mesh(str(tmp_path / 'lost.ply'))
    assert ply.texture is None and 'nope.png' in ply.warning


def test_utf16_obj_is_read(tmp_path):
    pytest.importorskip('charset_normalizer')
    tex = _blocks(seed=4)
    path = _write_obj(tmp_path, 'paint.png', tex, 'paint.png',
                      encoding='utf-16')
    with open(path, 'rb') as f:
        assert f.read(2) in (b'\xff\xfe', b'\xfe\xff')  # a BOM: UTF-16
    mesh = load_mesh(path)
    assert len(mesh.faces) == 2
    assert _texture_error(mesh, tex) < MAE_BOUND


def test_strip_map_options():
    assert strip_map_options('-o 0.5 0.5 -clamp on tex 1.png') == \
        'tex 1.png'
    assert strip_map_options('"quoted name.jpg"') == 'quoted name.jpg'
    assert strip_map_options('-mm 0 1 2.jpg') == '2.jpg'


def test_surface_points_take_the_texture_colour(tmp_path):
    """Points on a quad textured with R = u, G = v get those colours."""
    n = 64
    u = (np.arange(n) + .5) / n
    tex = np.zeros((n, n, 3), np.uint8)
    tex[..., 0] = np.round(u * 255)[None]
    tex[..., 1] = np.round(u[::-1] * 255)[:, None]
    mesh = load_mesh(_write_obj(tmp_path, 'ramp.png', tex, 'ramp.png'))
    settings = SampleSettings(num_points=2000)
    points, rgb = surface_points(mesh, settings, np.random.default_rng(0))
    assert points.shape == (2000, 3) and rgb.shape == (2000, 3)
    lo, hi = points.min(0), points.max(0)
    pos = (points[:, :2] - lo[:2]) / (hi - lo)[:2]  # ~ (u, v)
    inside = ((pos > .02) & (pos < .98)).all(1)  # edges blend (wrap)
    assert inside.mean() > 0.9
    assert np.abs(rgb[inside, :2] - pos[inside]).max() < 0.02
    assert np.abs(rgb[:, 2]).max() < 1e-6
