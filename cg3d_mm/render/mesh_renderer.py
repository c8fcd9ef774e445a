"""Shaded and depth renders of triangle meshes (the project's one mesh
renderer)."""
from typing import Optional, Sequence, Tuple

import numpy as np

from .camera import Camera, normalize_to_unit_sphere
from .colors import ColorLike, background_rgb
from .rasterizer import check_mesh, rasterize
from .texture import DEFAULT_GREY, MeshTexture, surface_colors

RENDER_MODES = ('shaded', 'depth')
__all__ = ['RENDER_MODES', 'DEFAULT_GREY', 'render_mesh', 'depth_to_grey']
# Direction towards the key light in the camera frame (x right, y up,
# z forward): from the upper left, slightly in front of the object.
_KEY_LIGHT = np.array([-0.45, 0.65, -0.6])
_AMBIENT, _DIFFUSE, _HEADLIGHT = 0.32, 0.55, 0.2


def _face_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = vertices[faces]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    norm = np.linalg.norm(n, axis=1, keepdims=True)
    return n / np.where(norm > 0, norm, 1.)


def depth_to_grey(depth: np.ndarray,
                  camera: Camera,
                  radius: float = 1.) -> np.ndarray:
    """Map depth to grey levels, near = bright, over the depth range a
    sphere of ``radius`` around the origin can occupy.

    Args:
        depth (np.ndarray): Depth of any shape, ``inf`` for background.
        camera (Camera): Camera the depth was measured with.
        radius (float): Radius of the normalised object.

    Returns:
        np.ndarray: float32 in [0, 1] of the same shape; background 0, the
        object in [0.15, 1].
    """
    near = camera.distance - radius
    with np.errstate(invalid='ignore'):
        t = ((depth - near) / (2. * radius)).clip(0., 1.)
    grey = 1. - 0.85 * t
    return np.where(np.isfinite(depth), grey, 0.).astype(np.float32)


def render_mesh(vertices: np.ndarray,
                faces: np.ndarray,
                colors: Optional[np.ndarray] = None,
                view: Tuple[float, float] = (30., 25.),
                image_size: int = 224,
                mode: str = 'shaded',
                background: Optional[ColorLike] = None,
                *,
                projection: str = 'perspective',
                up_axis: str = 'y',
                normalize: bool = True,
                supersample: int = 1,
                cull_backfaces: bool = False,
                texture: Optional[MeshTexture] = None) -> np.ndarray:
    """Render a triangle mesh seen from ``view``.

    The mesh is (by default) centred and scaled into the unit sphere, then
    z-buffered and shaded with ambient + Lambert light (a key light from the
    upper left and a weak headlight), two-sided. Textured faces take their
    colour per pixel from the texture (perspective-correct UVs, bilinear,
    wrap-around, see :func:`surface_colors`), the others from ``colors``.

    Args:
        vertices (np.ndarray): (V, 3) vertices.
        faces (np.ndarray): (F, 3) vertex indices.
        colors (np.ndarray, optional): Per-vertex (V, 3|4) colours (checked
            first) or per-face (F, 3|4) colours, uint8 0..255 or float 0..1.
            Grey when None.
        view (tuple[float, float]): (azimuth, elevation) in degrees, see
            :class:`Camera`.
        image_size (int): Output side in pixels.
        mode (str): 'shaded' (RGB) or 'depth' (grey depth map, near =
            bright, background black).
        background (int | sequence, optional): Background grey level or RGB
            triple; defaults to white (shaded) or black (depth).
        projection (str): 'perspective' or 'orthographic'.
        up_axis (str): 'y' (ShapeNet / ModelNet frame) or 'z'.
        normalize (bool): Fit the mesh into the unit sphere first. Without
            it the mesh must already lie in the unit sphere to be framed.
        supersample (int): Render at ``supersample`` times the size and
            average down (anti-aliasing); 1 = off.
        cull_backfaces (bool): Skip back faces; only for closed meshes with
            outward faces (e.g. the procedural shapes); about half the
            faces are then rasterised.
        texture (MeshTexture, optional): UVs and images of the textured
            faces (shaded mode only).

    Returns:
        np.ndarray: (image_size, image_size, 3) uint8 image.
    """
    if mode not in RENDER_MODES:
        raise ValueError(f'mode must be one of {RENDER_MODES}, got {mode!r}')
    vertices, faces = check_mesh(vertices, faces)
    if int(supersample) != supersample or supersample < 1:
        raise ValueError(f'supersample must be a positive integer, got '
                         f'{supersample}')
    if int(image_size) != image_size or image_size < 1:
        raise ValueError(f'image_size must be a positive integer, got '
                         f'{image_size}')
    view = _check_view(view)
    bg = background_rgb(background, 0 if mode == 'depth' else 255)
    if normalize:
        vertices = normalize_to_unit_sphere(vertices)[0]
    camera = Camera(
        azimuth=view[0],
        elevation=view[1],
        projection=projection,
        up_axis=up_axis)
    size = int(image_size) * int(supersample)
    shaded = mode == 'shaded'
    if texture is not None and shaded:
        texture.check(len(vertices), len(faces))
    else:
        texture = None
    per_vertex = shaded and (texture is not None or (
        colors is not None and len(colors) == len(vertices)))
    frags = rasterize(
        vertices,
        faces,
        camera,
        size,
        with_bary=per_vertex,
        cull_backfaces=cull_backfaces)
    # Work on the covered pixels only (flat indices), not the whole image.
    pix = np.flatnonzero(frags.face_index >= 0)
    if mode == 'depth':
        value = depth_to_grey(frags.depth.ravel()[pix], camera)[:, None]
    else:
        f = frags.face_index.ravel()[pix]
        bary = frags.bary.reshape(-1, 3)[pix] if per_vertex else None
        rgb = surface_colors(f, bary, faces, colors, texture, len(vertices))
        # Normals in the camera frame, flipped to face the camera.
        n = (_face_normals(vertices, faces) @ camera.rotation.T)[f]
        n *= np.where(n[:, 2:3] > 0, -1., 1.)
        key = _KEY_LIGHT / np.linalg.norm(_KEY_LIGHT)
        light = (
            _AMBIENT + _DIFFUSE * (n @ key).clip(0.) + _HEADLIGHT *
            (-n[:, 2]).clip(0.))
        value = rgb * light[:, None]
    if supersample == 1:
        image = np.empty((size * size, 3), np.uint8)
        image[:] = bg
        image[pix] = (value.clip(0., 1.) * 255. + 0.5).astype(np.uint8)
        return image.reshape(size, size, 3)
    image = np.empty((size * size, 3), np.float32)
    image[:] = bg.astype(np.float32) / 255.
    image[pix] = value
    s = int(supersample)
    image = image.reshape(image_size, s, image_size, s, 3).mean((1, 3))
    return (image.clip(0., 1.) * 255. + 0.5).astype(np.uint8)


def _check_view(view: Sequence[float]) -> Tuple[float, float]:
    try:
        az, el = (float(v) for v in view)
    except (TypeError, ValueError):
        raise ValueError('view must be an (azimuth, elevation) pair in '
                         f'degrees, got {view!r}') from None
    return az, el
