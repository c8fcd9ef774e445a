"""Z-buffered splatting of coloured point clouds (scene and retrieval
pictures)."""
from typing import Optional, Tuple

import numpy as np

from .camera import Camera, normalize_to_unit_sphere
from .colors import ColorLike, background_rgb, to_rgb_float

DEFAULT_POINT_RGB = (0.3, 0.45, 0.75)


def splat_points(points: np.ndarray, camera: Camera, image_size: int,
                 point_size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Z-buffer square splats of ``point_size`` pixels.

    Args:
        points (np.ndarray): (N, 3) world points.
        camera (Camera): The camera.
        image_size (int): Square image side in pixels.
        point_size (int): Splat side in pixels.

    Returns:
        tuple[np.ndarray, np.ndarray]: (H, W) int64 index of the visible
        point (-1 = background) and (H, W) float32 depth (``inf`` =
        background).
    """
    size = int(image_size)
    uv, depth = camera.project(points, size)
    front = depth > 1e-4
    idx = np.nonzero(front)[0]
    # Splat footprint: offsets of a point_size x point_size square around
    # the pixel holding the point.
    half = (int(point_size) - 1) // 2
    offs = np.arange(int(point_size)) - half
    dy, dx = (g.ravel() for g in np.meshgrid(offs, offs, indexing='ij'))
    col = np.floor(uv[idx, 0]).astype(np.int64)[:, None] + dx
    row = np.floor(uv[idx, 1]).astype(np.int64)[:, None] + dy
    inside = (col >= 0) & (col < size) & (row >= 0) & (row < size)
    pix = (row * size + col)[inside]
    pid = np.broadcast_to(idx[:, None], col.shape)[inside]
    key = -depth[pid]  # nearer = larger
    key_buf = np.full(size * size, -np.inf)
    np.maximum.at(key_buf, pix, key)
    win = key >= key_buf[pix]
    index = np.full(size * size, -1, np.int64)
    index[pix[win]] = pid[win]
    hit = index >= 0
    zbuf = np.full(size * size, np.inf, np.float32)
    zbuf[hit] = -key_buf[hit]
    return index.reshape(size, size), zbuf.reshape(size, size)


def render_points(points: np.ndarray,
                  colors: Optional[np.ndarray] = None,
                  view: Tuple[float, float] = (30., 25.),
                  image_size: int = 224,
                  point_size: int = 2,
                  background: Optional[ColorLike] = None,
                  *,
                  projection: str = 'perspective',
                  up_axis: str = 'y',
                  normalize: bool = True,
                  depth_shading: float = 0.45) -> np.ndarray:
    """Render a point cloud as z-buffered square splats.

    Points farther from the camera are darkened (``depth_shading``) so that
    shape stays readable with uniform colours.

    Args:
        points (np.ndarray): (N, 3) points.
        colors (np.ndarray, optional): (N, 3|4) colours, uint8 0..255 or
            float 0..1. A uniform blue when None.
        view (tuple[float, float]): (azimuth, elevation) in degrees.
        image_size (int): Output side in pixels.
        point_size (int): Splat side in pixels (>= 1).
        background (int | sequence, optional): Grey level or RGB triple,
            white by default.
        projection (str): 'perspective' or 'orthographic'.
        up_axis (str): 'y' (objects) or 'z' (S3DIS / ScanNet scenes).
        normalize (bool): Fit the cloud into the unit sphere first.
        depth_shading (float): Darkening of the farthest points, in [0, 1).

    Returns:
        np.ndarray: (image_size, image_size, 3) uint8 image.
    """
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
        raise ValueError('points must have shape (N, 3) with N > 0, got '
                         f'{points.shape}')
    if not np.isfinite(points).all():
        raise ValueError('points contain NaN or inf')
    if int(point_size) != point_size or point_size < 1:
        raise ValueError(f'point_size must be a positive integer, got '
                         f'{point_size}')
    if int(image_size) != image_size or image_size < 1:
        raise ValueError(f'image_size must be a positive integer, got '
                         f'{image_size}')
    if not 0. <= depth_shading < 1.:
        raise ValueError(f'depth_shading must be in [0, 1), got '
                         f'{depth_shading}')
    if colors is None:
        rgb = np.broadcast_to(np.float32(DEFAULT_POINT_RGB), points.shape)
    else:
        rgb = to_rgb_float(colors)
        if len(rgb) != len(points):
            raise ValueError(f'colors must have one row per point '
                             f'({len(points)}), got {len(rgb)}')
    bg = background_rgb(background, 255)
    points = points.astype(np.float64)
    if normalize:
        points = normalize_to_unit_sphere(points)[0]
    az, el = (float(v) for v in view)
    camera = Camera(
        azimuth=az, elevation=el, projection=projection, up_axis=up_axis)
    index, depth = splat_points(points, camera, int(image_size),
                                int(point_size))
    image = np.empty(index.shape + (3, ), np.float32)
    image[:] = bg.astype(np.float32) / 255.
    hit = index >= 0
    if hit.any():
        t = ((depth[hit] - (camera.distance - 1.)) / 2.).clip(0., 1.)
        image[hit] = rgb[index[hit]] * (1. - depth_shading * t)[:, None]
    return (image.clip(0., 1.) * 255. + 0.5).astype(np.uint8)
