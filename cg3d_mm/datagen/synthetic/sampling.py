"""Deterministic surface sampling and the normalisations of the real
datasets."""
from typing import Tuple

import numpy as np


def sample_surface(
        vertices: np.ndarray, faces: np.ndarray, num: int,
        rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area-weighted uniform samples on a triangle mesh.

    Args:
        vertices (np.ndarray): (V, 3) vertices.
        faces (np.ndarray): (F, 3) faces.
        num (int): Number of samples.
        rng (np.random.Generator): Random generator.

    Returns:
        tuple: points (num, 3) float64, unit face normals (num, 3) float64
        and the sampled face indices (num, ).
    """
    tri = vertices[faces]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = np.linalg.norm(cross, axis=1)
    if not area.sum() > 0:
        raise ValueError('cannot sample a mesh with zero surface area')
    cdf = np.cumsum(area)
    face = np.searchsorted(cdf, rng.random(num) * cdf[-1], side='right')
    face = np.minimum(face, len(faces) - 1)
    r1, r2 = rng.random(num), rng.random(num)
    s = np.sqrt(r1)
    w = np.stack([1. - s, s * (1. - r2), s * r2], 1)
    points = np.einsum('nk,nkd->nd', w, tri[face])
    normals = cross[face] / area[face, None].clip(1e-300)
    return points, normals, face


def normalize_shapenet(points: np.ndarray) -> np.ndarray:
    """ShapeNetCore v2 normalisation: bounding-box centre at the origin,
    bounding-box diagonal of length 1."""
    lo, hi = points.min(0), points.max(0)
    return (points - (lo + hi) / 2.) / np.linalg.norm(hi - lo)


def normalize_unit_sphere(points: np.ndarray) -> np.ndarray:
    """ModelNet / ScanObjectNN normalisation: centroid at the origin,
    farthest point at radius 1."""
    centred = points - points.mean(0)
    return centred / np.linalg.norm(centred, axis=1).max()


def choose(num_available: int, num: int,
           rng: np.random.Generator) -> np.ndarray:
    """``num`` indices out of ``num_available``, without replacement when
    possible (then padded with repeats, as scans with few points are)."""
    if num_available <= 0:
        raise ValueError('no points to choose from')
    if num_available >= num:
        return np.sort(rng.choice(num_available, num, replace=False))
    extra = rng.choice(num_available, num - num_available, replace=True)
    return np.concatenate([np.arange(num_available), extra])
