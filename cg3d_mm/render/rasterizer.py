"""Vectorised z-buffered triangle rasteriser (numpy, no per-triangle loop).

Scanline spans, all triangles at once: every (triangle, pixel row) pair gets
the exact span of covered pixel centres from the triangle's three edge
functions, the spans are expanded to pixels with ``np.repeat``, and the
z-buffer keeps the nearest pixel (``np.maximum.at`` over a depth key that
grows towards the camera). Batches of rows bound the memory for meshes with
large triangles.
"""
from dataclasses import dataclass

import numpy as np

from .camera import Camera

# Covered (triangle, pixel) pairs expanded per batch.
_MAX_FRAGMENTS = 1 << 21
# Vertices nearer than this (camera units) drop their triangle.
_NEAR = 1e-4


@dataclass
class Fragments:
    """Per-pixel rasterisation result of an ``H x W`` image.

    Attributes:
        face_index (np.ndarray): (H, W) int64 index of the visible face,
            -1 for background.
        depth (np.ndarray): (H, W) float32 depth along the viewing
            direction, ``inf`` for background.
        bary (np.ndarray | None): (H, W, 3) float32 perspective-correct
            barycentric weights of the face's three vertices, 0 for
            background; None when not requested.
    """
    face_index: np.ndarray
    depth: np.ndarray
    bary: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        """(H, W) bool, True where a face is visible."""
        return self.face_index >= 0


def check_mesh(vertices: np.ndarray,
               faces: np.ndarray,
               name: str = 'mesh') -> tuple:
    """Validate and convert a triangle mesh.

    Args:
        vertices (np.ndarray): (V, 3) float vertices.
        faces (np.ndarray): (F, 3) integer vertex indices.
        name (str): Name used in error messages.

    Returns:
        tuple[np.ndarray, np.ndarray]: float64 (V, 3) and int64 (F, 3).
    """
    vertices = np.asarray(vertices)
    faces = np.asarray(faces)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or len(vertices) == 0:
        raise ValueError(
            f'{name}: vertices must have shape (V, 3) with V > 0, '
            f'got {vertices.shape}')
    if not np.isfinite(vertices).all():
        raise ValueError(f'{name}: vertices contain NaN or inf')
    if faces.ndim != 2 or faces.shape[1] != 3 or len(faces) == 0:
        raise ValueError(f'{name}: faces must have shape (F, 3) with F > 0, '
                         f'got {faces.shape}')
    if not np.issubdtype(faces.dtype, np.integer):
        raise ValueError(f'{name}: faces must be integer indices, got dtype '
                         f'{faces.dtype}')
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise ValueError(f'{name}: face indices must be in [0, {len(vertices)}'
                         f'), got [{faces.min()}, {faces.max()}]')
    return vertices.astype(np.float64), faces.astype(np.int64)


def rasterize(vertices: np.ndarray,
              faces: np.ndarray,
              camera: Camera,
              image_size: int,
              with_bary: bool = True,
              cull_backfaces: bool = False) -> Fragments:
    """Rasterise a triangle mesh, keeping the nearest face per pixel.

    Triangles are two-sided by default so open or inconsistently wound
    meshes render correctly. A pixel is covered when its centre lies in the
    triangle (edges included).

    Args:
        vertices (np.ndarray): (V, 3) world coordinates.
        faces (np.ndarray): (F, 3) vertex indices.
        camera (Camera): The camera.
        image_size (int): Square image side in pixels.
        with_bary (bool): Also compute barycentric weights (else
            ``Fragments.bary`` is None).
        cull_backfaces (bool): Skip triangles seen from behind (their
            vertices clockwise on screen). Only for closed meshes with
            outward (counter-clockwise) faces; about halves the work.

    Returns:
        Fragments: visible face, depth and barycentrics per pixel.
    """
    vertices, faces = check_mesh(vertices, faces)
    size = int(image_size)
    if size != image_size or size < 1:
        raise ValueError(f'image_size must be a positive integer, got '
                         f'{image_size}')
    perspective = camera.projection == 'perspective'
    uv, z = camera.project(vertices, size)
    # Per-corner 1-D arrays: reductions over a length-3 axis are slow.
    x0, x1, x2 = (uv[faces[:, i], 0] for i in range(3))
    y0, y1, y2 = (uv[faces[:, i], 1] for i in range(3))
    tri_z = z[faces]  # (F, 3)
    area = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0)
    # Rows whose pixel centre (i + 0.5) lies in the triangle's y range.
    ymin = np.ceil(np.minimum(np.minimum(y0, y1), y2) - 0.5).clip(0, size)
    ymax = np.floor(np.maximum(np.maximum(y0, y1), y2) - 0.5).clip(
        -1, size - 1)
    keep = (np.abs(area) > 1e-12) & (ymax >= ymin) & (
        np.minimum(np.minimum(tri_z[:, 0], tri_z[:, 1]), tri_z[:, 2]) > _NEAR)
    if cull_backfaces:
        # Screen y points down: outward faces towards the camera have a
        # negative signed area.
        keep &= area < 0
    keep &= (np.maximum(np.maximum(x0, x1), x2) >= 0) & (
        np.minimum(np.minimum(x0, x1), x2) <= size)
    fid = np.nonzero(keep)[0]
    n_rows = (ymax - ymin + 1).astype(np.int64)[fid]

    # Barycentric weights and the depth key are affine in screen space:
    # value = a * x + b * y + c. The key grows towards the camera: inverse
    # depth under perspective, negated depth under orthographic projection.
    inv_area = 1. / area[fid]
    xs = np.stack([x0[fid], x1[fid], x2[fid]], 1)
    ys = np.stack([y0[fid], y1[fid], y2[fid]], 1)
    nxt, prv = [1, 2, 0], [2, 0, 1]
    # Edge function of vertex i: opposite edge (i+1 -> i+2).
    a = -(ys[:, prv] - ys[:, nxt]) * inv_area[:, None]  # (T, 3)
    b = (xs[:, prv] - xs[:, nxt]) * inv_area[:, None]
    c = -(a * xs[:, nxt] + b * ys[:, nxt])
    key_v = 1. / tri_z[fid] if perspective else -tri_z[fid]  # (T, 3)
    key_a, key_b, key_c = ((coef * key_v).sum(1) for coef in (a, b, c))

    # One entry per (triangle, row): exact span of covered pixel centres.
    row_tri = np.repeat(np.arange(len(fid)), n_rows)
    row_y = np.repeat(ymin[fid].astype(np.int64) - np.cumsum(n_rows) + n_rows,
                      n_rows) + np.arange(len(row_tri))
    yc = row_y + 0.5
    per_row = np.take(
        np.concatenate([a.T, b.T, c.T, key_b[None], key_c[None]]),
        row_tri,
        axis=1)  # (11, R)
    eps = 1e-7
    lo = np.full(len(row_tri), -np.inf)
    hi = np.full(len(row_tri), np.inf)
    empty = np.zeros(len(row_tri), bool)
    with np.errstate(divide='ignore', invalid='ignore'):
        for i in range(3):
            ai, ei = per_row[i], per_row[3 + i] * yc + per_row[6 + i]
            bound = -ei / ai
            np.maximum(lo, np.where(ai > 0, bound - eps, -np.inf), out=lo)
            np.minimum(hi, np.where(ai < 0, bound + eps, np.inf), out=hi)
            # An edge parallel to the row excludes the row when outside.
            empty |= (ai == 0) & (ei < -eps)
    x_first = np.ceil(lo - 0.5).clip(0, size).astype(np.int64)
    x_last = np.floor(hi - 0.5).clip(-1, size - 1).astype(np.int64)
    counts = np.where(empty, 0, (x_last - x_first + 1).clip(0))
    row_key_c = per_row[9] * yc + per_row[10]
    row_base = row_y * size

    key_buf = np.full(size * size, -np.inf)  # -inf = empty
    face_buf = np.full(size * size, -1, np.int64)
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    cuts = np.searchsorted(
        ends,
        np.arange(1, total // _MAX_FRAGMENTS + 1) * _MAX_FRAGMENTS,
        side='right')
    bounds = np.unique(np.concatenate([[0], cuts, [len(counts)]]))
    for lo_row, hi_row in zip(bounds[:-1], bounds[1:]):
        n = counts[lo_row:hi_row]
        n_pix = int(n.sum())
        if n_pix == 0:
            continue
        rid = np.repeat(np.arange(lo_row, hi_row), n)
        px = x_first[rid] + (np.arange(n_pix) - np.repeat(np.cumsum(n) - n, n))
        tri = row_tri[rid]
        key = key_a[tri] * (px + 0.5) + row_key_c[rid]
        pix = row_base[rid] + px
        np.maximum.at(key_buf, pix, key)
        win = key >= key_buf[pix]
        face_buf[pix[win]] = fid[tri[win]]

    face_index = face_buf.reshape(size, size)
    hit = face_buf >= 0
    depth = np.full(size * size, np.inf, np.float32)
    depth[hit] = 1. / key_buf[hit] if perspective else -key_buf[hit]
    depth = depth.reshape(size, size)
    if not with_bary:
        return Fragments(face_index=face_index, depth=depth, bary=None)
    bary = np.zeros((size, size, 3), np.float32)
    rows, cols = np.nonzero(face_index >= 0)
    if len(rows):
        t = np.searchsorted(fid, face_index[rows, cols])  # among kept faces
        w = (a[t] * (cols + 0.5)[:, None] + b[t] * (rows + 0.5)[:, None] +
             c[t]).clip(0., 1.)
        if perspective:
            # Perspective-correct weights: screen weights over depth.
            w *= key_v[t]
        bary[rows, cols] = w / w.sum(1, keepdims=True).clip(1e-12)
    return Fragments(face_index=face_index, depth=depth, bary=bary)
