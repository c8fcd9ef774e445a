"""Texture lookup of the renderer: bilinear wrap-around sampling,
perspective-correct UVs, tints, textured next to coloured faces."""
import time

import numpy as np
import pytest
import trimesh

from cg3d_mm.render import (Camera, MeshTexture, render_mesh, sample_texture,
                            stack_textures, surface_colors)

# A square of half side HALF in the z = 0 plane (inside the unit sphere);
# view (180, 0) sees it with +x to the right and +y up, so u runs
# left -> right and v bottom -> top on screen.
HALF = 0.7
QUAD_V = HALF * np.array([[-1., -1., 0.], [1., -1., 0.], [1., 1., 0.],
                          [-1., 1., 0.]])
QUAD_F = np.array([[0, 1, 2], [0, 2, 3]])
QUAD_UV = np.array([[0., 0.], [1., 0.], [1., 1.], [0., 1.]])
FRONT = (180., 0.)


def _ramp(size=256):
    """R = u, G = v, B = 255: a texel's colour gives its own UV."""
    u = (np.arange(size) + 0.5) / size
    img = np.empty((size, size, 3), np.uint8)
    img[..., 0] = np.round(u * 255)[None, :]
    img[..., 1] = np.round(u[::-1] * 255)[:, None]  # row 0 is v = 1
    img[..., 2] = 255
    return img


def test_sample_texture_bilinear_with_wrap_around():
    img = np.array([[[0, 0, 0], [200, 100, 40]],
                    [[100, 0, 0], [0, 200, 0]]], np.uint8)
    # texel centres: column i at u = (i + .5) / 2, row j at v = 1 - (j+.5)/2
    centres = np.array([[.25, .75], [.75, .75], [.25, .25], [.75, .25]])
    assert np.allclose(
        sample_texture(img, centres) * 255,
        img.reshape(-1, 3), atol=1e-3)
    # half-way between the two top texels: their mean
    mid = sample_texture(img, np.array([[.5, .75]]))[0] * 255
    assert np.allclose(mid, [100, 50, 20], atol=1e-3)
    # repeat addressing: whole-number shifts change nothing, and u = 0
    # blends the last column with the first
    uv = np.random.default_rng(0).random((50, 2))
    for shift in ([1., 0.], [-3., 2.], [0., -1.]):
        assert np.allclose(
            sample_texture(img, uv + shift), sample_texture(img, uv),
            atol=1e-5)
    edge = sample_texture(img, np.array([[0., .75]]))[0] * 255
    assert np.allclose(edge, [100, 50, 20], atol=1e-3)


def _render_quad(texture, colors=None, view=FRONT, size=128, **kwargs):
    return render_mesh(
        QUAD_V,
        QUAD_F,
        colors,
        view=view,
        image_size=size,
        normalize=False,
        texture=texture,
        **kwargs)


def test_textured_quad_shows_the_texture():
    tex = _ramp(64)
    img = _render_quad(
        MeshTexture(QUAD_UV, [tex], np.zeros(2, int)),
        projection='orthographic').astype(float)
    obj = img.min(-1) < 255
    rows, cols = np.nonzero(obj)
    patch = img[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    u = patch[..., 0] / patch[..., 2]  # lighting cancels out
    v = patch[..., 1] / patch[..., 2]
    h, w = u.shape
    # inside: the ramp itself (the outer half texel blends with the
    # opposite edge, as repeat addressing does)
    assert np.abs(u - ((np.arange(w) + .5) / w)[None])[:, 2:-2].max() < .02
    assert np.abs(v - ((np.arange(h) + .5) / h)[::-1, None])[2:-2].max() \
        < .02


def test_uv_interpolation_is_perspective_correct():
    """Pixels at the projections of known quad points show those points'
    UVs; screen-space (affine) interpolation would miss by > 0.03 on this
    oblique view."""
    size, view = 160, (180. + 60., 20.)
    img = _render_quad(
        MeshTexture(QUAD_UV, [_ramp()], np.zeros(2, int)),
        view=view,
        size=size).astype(float)
    grid = np.stack(np.meshgrid(np.linspace(-.8, .8, 9),
                                np.linspace(-.8, .8, 9)), -1).reshape(-1, 2)
    world = np.concatenate([grid * HALF, np.zeros((len(grid), 1))], 1)
    pix, _ = Camera(*view).project(world, size)
    col, row = np.floor(pix).astype(int).T
    # the UV of the pixel centre itself, by ray-plane intersection
    cam = Camera(*view)
    f = cam.focal(size)
    d_cam = np.stack([(col + .5 - size / 2) / f, -(row + .5 - size / 2) / f,
                      np.ones(len(col))], 1)
    d_world = d_cam @ cam.rotation
    t = -cam.position[2] / d_world[:, 2]
    hit = cam.position + t[:, None] * d_world
    expected_u = (hit[:, 0] / HALF + 1) / 2
    got = img[row, col]
    assert np.abs(got[:, 0] / got[:, 2] - expected_u).max() < 0.01
    # the same pixels under affine interpolation of the screen positions
    corners, _ = cam.project(QUAD_V, size)
    affine_u = []
    for c, r in zip(col + .5, row + .5):
        for face in QUAD_F:
            a, b, d = corners[face]
            m = np.array([[b[0] - a[0], d[0] - a[0]],
                          [b[1] - a[1], d[1] - a[1]]])
            w1, w2 = np.linalg.solve(m, [c - a[0], r - a[1]])
            if min(w1, w2, 1 - w1 - w2) >= -1e-9:
                uv = QUAD_UV[face]
                affine_u.append(((1 - w1 - w2) * uv[0] + w1 * uv[1] +
                                 w2 * uv[2])[0])
                break
    assert np.abs(np.array(affine_u) - expected_u).max() > 0.03


def test_tint_and_untextured_faces_keep_their_colours():
    tex = np.full((4, 4, 3), 200, np.uint8)
    # face 0 textured with a green tint, face 1 takes the vertex colours
    texture = MeshTexture(QUAD_UV, [tex], np.array([0, -1]),
                          tints=np.array([[0., 1., 0.]]))
    colors = np.array([[0, 0, 255]] * 4, np.uint8)
    faces = np.arange(2)
    bary = np.full((2, 3), 1 / 3)
    rgb = surface_colors(faces, bary, QUAD_F, colors, texture)
    assert np.allclose(rgb, [[0, 200 / 255, 0], [0, 0, 1]], atol=1e-5)
    img = _render_quad(texture, colors, projection='orthographic')
    # face 0 (lower right half on screen) green, face 1 (upper left) blue
    assert img[100, 90, 1] > 100 and img[100, 90, [0, 2]].max() == 0
    assert img[30, 40, 2] > 100 and img[30, 40, :2].max() == 0
    # depth mode ignores textures
    depth = _render_quad(texture, mode='depth')
    assert (depth[..., 0] == depth[..., 1]).all()


def test_stacked_textures_offset_their_parts():
    a = MeshTexture(QUAD_UV, [np.zeros((2, 2, 3), np.uint8)],
                    np.zeros(2, int), tints=[[255, 0, 0]])
    b = MeshTexture(QUAD_UV[:3], [np.full((2, 2, 3), 9, np.uint8)] * 2,
                    np.array([1]))
    stacked = stack_textures([a, None, b], [4, 5, 3], [2, 1, 1])
    assert stacked.uv.shape == (12, 2) and len(stacked.images) == 3
    assert stacked.face_image.tolist() == [0, 0, -1, 2]
    assert np.allclose(stacked.tints, [[1, 0, 0], [1, 1, 1], [1, 1, 1]])
    assert stack_textures([None, None], [3, 3], [1, 1]) is None


@pytest.mark.parametrize('kwargs, match', [
    (dict(uv=np.zeros((4, 3))), 'uv'),
    (dict(uv=np.full((4, 2), np.nan)), 'NaN'),
    (dict(images=[np.zeros((2, 2), np.uint8)]), 'image 0'),
    (dict(images=[np.zeros((2, 2, 3))]), 'image 0'),
    (dict(face_image=np.array([0, 1])), 'face_image'),
    (dict(tints=np.ones((2, 3))), 'tints'),
])
def test_bad_textures_are_refused(kwargs, match):
    args = dict(uv=QUAD_UV, images=[np.zeros((2, 2, 3), np.uint8)],
                face_image=np.zeros(2, int))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        MeshTexture(**args)


def test_texture_must_fit_the_mesh():
    texture = MeshTexture(QUAD_UV[:3], [np.zeros((2, 2, 3), np.uint8)],
                          np.zeros(1, int))
    with pytest.raises(ValueError, match='4 vertices'):
        _render_quad(texture)


def test_textured_render_is_fast():
    sphere = trimesh.creation.icosphere(subdivisions=4)  # 5120 faces
    v, f = np.asarray(sphere.vertices), np.asarray(sphere.faces)
    uv = np.stack([np.arctan2(v[:, 0], v[:, 2]) / (2 * np.pi) + .5,
                   v[:, 1] / 2 + .5], 1)
    texture = MeshTexture(uv, [_ramp(512)], np.zeros(len(f), int))
    render_mesh(v, f, texture=texture, image_size=224)
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        render_mesh(v, f, view=(40., 20.), image_size=224, texture=texture)
        best = min(best, time.perf_counter() - start)
    # a per-pixel Python loop would take seconds
    assert best < 0.3
