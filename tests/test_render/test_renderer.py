"""Tests of cg3d_mm.render (mesh / point renderer, contact sheets)."""
import time

import numpy as np
import pytest
import trimesh

from cg3d_mm.render import (Camera, camera_views, make_contact_sheet,
                            rasterize, render_mesh, render_points,
                            visible_points)


def _box(extents=(1., 0.6, 0.4)):
    m = trimesh.creation.box(extents)
    return np.asarray(m.vertices), np.asarray(m.faces)


def _object_mask(img, bg=255):
    return (img != bg).any(2)


def test_box_render_is_shaded_not_flat():
    v, f = _box()
    img = render_mesh(v, f, view=(30., 25.), image_size=128)
    assert img.shape == (128, 128, 3) and img.dtype == np.uint8
    obj = _object_mask(img)
    assert 0.1 < obj.mean() < 0.9
    # Three visible faces of a grey box get three different shades.
    levels = np.unique(img[obj][:, 0])
    counts = np.array([(img[obj][:, 0] == g).sum() for g in levels])
    assert (counts > 100).sum() >= 3
    assert img[obj].std() > 5


def test_views_differ_and_use_the_view():
    v, f = _box()
    a = render_mesh(v, f, view=(30., 25.), image_size=96)
    b = render_mesh(v, f, view=(120., 25.), image_size=96)
    c = render_mesh(v, f, view=(30., 25.), image_size=96)
    assert np.array_equal(a, c)
    assert np.abs(a.astype(int) - b).mean() > 2


def test_orthographic_projection_scale():
    # A unit cube is scaled so its corners touch the unit sphere: half side
    # 1/sqrt(3); seen head-on it covers (1/sqrt(3)) / ortho_extent of the
    # half image.
    v, f = _box((1., 1., 1.))
    size = 200
    img = render_mesh(
        v, f, view=(0., 0.), image_size=size, projection='orthographic')
    width = _object_mask(img)[size // 2].sum()
    expected = size * (1 / np.sqrt(3)) / Camera().ortho_extent
    assert abs(width - expected) <= 2


def test_zbuffer_keeps_nearest_whatever_the_face_order():
    # Two overlapping squares facing the camera (camera at -z).
    near = np.array([[-.5, -.5, -.5], [.5, -.5, -.5], [.5, .5, -.5],
                     [-.5, .5, -.5]])
    far = near * [3., 3., -1.]
    v = np.vstack([near, far])
    quads = np.array([[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7]])
    colors = np.array([[255, 0, 0]] * 2 + [[0, 0, 255]] * 2, np.uint8)
    for order in ([0, 1, 2, 3], [2, 3, 0, 1]):
        img = render_mesh(
            v,
            quads[order],
            colors[order],
            view=(0., 0.),
            image_size=64,
            normalize=False)
        centre = img[32, 32].astype(int)
        assert centre[0] > 100 and centre[2] < 40  # red, the near square
        corner = img[32, 6].astype(int)  # only the far square is there
        assert corner[2] > 100 and corner[0] < 40


def test_depth_mode_near_is_bright():
    sphere = trimesh.creation.icosphere(3)
    img = render_mesh(
        sphere.vertices,
        sphere.faces,
        view=(0., 0.),
        image_size=96,
        mode='depth')
    assert img.shape == (96, 96, 3)
    assert (img[..., 0] == img[..., 1]).all()  # grey
    assert img[0, 0, 0] == 0  # background black
    obj = img[..., 0] > 0
    rows, cols = np.nonzero(obj)
    rim = img[rows[0], cols[0], 0]  # first covered pixel: at the silhouette
    assert img[48, 48, 0] > rim + 30
    # Same camera as the shaded render: same silhouette.
    shaded = render_mesh(
        sphere.vertices, sphere.faces, view=(0., 0.), image_size=96)
    assert np.array_equal(obj, _object_mask(shaded))


def test_per_vertex_colors_are_interpolated():
    v = np.array([[-1., -1., 0.], [1., -1., 0.], [0., 1., 0.]])
    f = np.array([[0, 1, 2]])
    rgb = np.eye(3, dtype=np.float64)
    img = render_mesh(
        v, f, rgb, view=(0., 0.), image_size=64, background=0).astype(int)
    obj = img.sum(2) > 0
    mixed = (img[obj] > 20).sum(1) >= 2
    assert mixed.mean() > 0.5
    assert len(np.unique(img[obj], axis=0)) > 50


def test_backface_culling_is_equivalent_on_closed_meshes():
    v, f = _box((0.7, 1., 0.5))
    for view in camera_views(5):
        a = render_mesh(v, f, view=view, image_size=64)
        b = render_mesh(v, f, view=view, image_size=64, cull_backfaces=True)
        assert np.array_equal(a, b)


def test_rasterize_fragments_and_up_axis():
    v, f = _box()
    cam = Camera(30., 25.)
    frags = rasterize(v, f, cam, 48)
    assert frags.face_index.shape == (48, 48)
    hit = frags.mask
    assert np.allclose(frags.bary[hit].sum(1), 1., atol=1e-5)
    assert np.isinf(frags.depth[~hit]).all()
    # The same object turned y-up -> z-up renders the same with up_axis='z'.
    vz = v[:, [0, 2, 1]] * [1, -1, 1]
    a = render_mesh(v, f, view=(30., 25.), image_size=48)
    b = render_mesh(vz, f, view=(30., 25.), image_size=48, up_axis='z')
    assert np.array_equal(a, b)


def test_render_is_fast():
    sphere = trimesh.creation.icosphere(subdivisions=4)  # 5120 faces
    v, f = np.asarray(sphere.vertices), np.asarray(sphere.faces)
    cols = np.full((len(f), 3), 180, np.uint8)
    render_mesh(v, f, cols, image_size=224)
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        render_mesh(v, f, cols, view=(40., 20.), image_size=224)
        best = min(best, time.perf_counter() - start)
    # ~10-20 ms on 2 cores; a per-pixel Python loop would take seconds.
    assert best < 0.15


def test_render_points_zbuffer_and_size():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(3000, 3))
    pts /= np.linalg.norm(pts, axis=1, keepdims=True)
    img1 = render_points(pts, None, image_size=96, point_size=1)
    img3 = render_points(pts, None, image_size=96, point_size=3)
    assert _object_mask(img3).mean() > _object_mask(img1).mean() > 0.05
    # Colour the near hemisphere (towards the camera at -z) red, the far one
    # blue: the centre pixel must be red.
    cols = np.where(pts[:, 2:3] < 0, [[255, 0, 0]],
                    [[0, 0, 255]]).astype(np.uint8)
    img = render_points(
        pts, cols, view=(0., 0.), image_size=96, point_size=4).astype(int)
    assert img[48, 48, 0] > img[48, 48, 2]


def test_visible_points_hides_the_back():
    sphere = trimesh.creation.icosphere(3)
    pts = np.asarray(sphere.vertices)
    seen = visible_points(
        pts,
        sphere.vertices,
        sphere.faces,
        Camera(0., 0.),
        128,
        tolerance=0.02)
    assert seen[pts[:, 2] < -0.3].mean() > 0.9  # facing the camera (-z)
    assert seen[pts[:, 2] > 0.3].mean() < 0.05


def test_contact_sheet_layout_and_labels():
    tiles = [np.full((20, 30, 3), 40 * i, np.uint8) for i in range(5)]
    sheet = make_contact_sheet(tiles, nrow=3, padding=2)
    assert sheet.shape == (2 * (20 + 2) + 2, 3 * (30 + 2) + 2, 3)
    assert (sheet[2:22, 2 + 32:32 + 32] == 40).all()
    labelled = make_contact_sheet(tiles, nrow=3, labels=list('abcde'))
    assert labelled.shape[0] > sheet.shape[0]
    grey = make_contact_sheet([np.zeros((8, 8), np.uint8)], nrow=4)
    assert grey.shape == (12, 12, 3)


def test_camera_views():
    views = camera_views(5)
    assert len(views) == 5
    az = np.array([a for a, _ in views])
    assert np.allclose(np.diff(np.sort(az)), 72.)
    assert len({e for _, e in views}) == 1
    with pytest.raises(ValueError, match='n_views'):
        camera_views(0)


@pytest.mark.parametrize('kwargs, match', [
    (dict(mode='normals'), 'mode'),
    (dict(colors=np.zeros((5, 3), np.uint8)), 'colors'),
    (dict(view=(1., 2., 3.)), 'view'),
    (dict(image_size=0), 'image_size'),
    (dict(background=300), 'background'),
    (dict(projection='fisheye'), 'projection'),
])
def test_render_mesh_bad_arguments(kwargs, match):
    v, f = _box()
    with pytest.raises(ValueError, match=match):
        render_mesh(v, f, **kwargs)


def test_bad_meshes_and_points():
    v, f = _box()
    with pytest.raises(ValueError, match='face indices'):
        render_mesh(v, f + 100)
    with pytest.raises(ValueError, match='vertices'):
        render_mesh(v[:, :2], f)
    with pytest.raises(ValueError, match='points'):
        render_points(np.zeros((4, 2)))
    with pytest.raises(ValueError, match='point_size'):
        render_points(np.zeros((4, 3)), point_size=0)
    with pytest.raises(ValueError, match='images'):
        make_contact_sheet(
            [np.zeros((4, 4, 3), np.uint8),
             np.zeros((5, 4, 3), np.uint8)])
