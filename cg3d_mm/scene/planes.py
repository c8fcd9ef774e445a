"""Floor and ceiling removal by a height histogram (the paper removes
them before clustering, as is standard for S3DIS segmentation)."""
from typing import Optional, Tuple

import numpy as np


def _plane_peak(z: np.ndarray, xy: np.ndarray, lo: float, hi: float,
                bin_size: float, min_fraction: float, peak_ratio: float,
                min_extent: float, scene_area: float) -> Optional[float]:
    """Height of a horizontal plane in [lo, hi], or None.

    A floor or ceiling is a spike of the height histogram (walls and
    objects spread over many bins) that holds at least ``min_fraction`` of
    the points, is ``peak_ratio`` times the median bin of the window and spans
    at least ``min_extent`` of the scene's xy bounding box (a table top
    does not).
    """
    sel = (z >= lo) & (z <= hi)
    if sel.sum() == 0:
        return None
    edges = np.arange(lo, hi + bin_size, bin_size)
    if len(edges) < 2:
        edges = np.array([lo, lo + bin_size])
    counts, edges = np.histogram(z[sel], bins=edges)
    best = int(np.argmax(counts))
    # empty bins count: above a bare floor there may be nothing but air
    if counts[best] < min_fraction * len(z) or \
            counts[best] < peak_ratio * np.median(counts):
        return None
    # refine on the peak bin and its neighbours
    a, b = edges[max(best - 1, 0)], edges[min(best + 2, len(edges) - 1)]
    band = (z >= a) & (z <= b)
    peak = (z >= edges[best]) & (z <= edges[best + 1])
    span = xy[peak].max(0) - xy[peak].min(0)
    if scene_area > 0 and span.prod() < min_extent * scene_area:
        return None
    return float(np.median(z[band]))


def remove_floor_ceiling(xyz: np.ndarray,
                         bin_size: float = 0.02,
                         margin: float = 0.04,
                         search_fraction: float = 0.25,
                         min_plane_fraction: float = 0.03,
                         peak_ratio: float = 4.0,
                         min_extent: float = 0.25,
                         up_axis: int = 2) -> Tuple[np.ndarray, dict]:
    """Find the floor and ceiling by a height histogram and drop them.

    The floor is searched in the lowest, the ceiling in the highest
    ``search_fraction`` of the height range (robust 0.5 / 99.5 percentiles);
    see :func:`_plane_peak` for what counts as a plane. Points up to
    ``margin`` above the floor (or below the ceiling), and everything beyond
    them, are removed. A missing plane (e.g. ScanNet scans have no ceiling)
    removes nothing. Assumes a gravity-aligned scene in metres (S3DIS,
    ScanNet); a tilted floor would need RANSAC instead.

    Args:
        xyz (np.ndarray): (N, 3) points.
        bin_size (float): Histogram bin in scene units (metres).
        margin (float): Thickness kept off each plane.
        search_fraction (float): Part of the height range searched.
        min_plane_fraction (float): Minimum share of the points in a plane.
        peak_ratio (float): Minimum peak / median-bin ratio.
        min_extent (float): Minimum xy-extent of a plane, as a fraction of
            the scene's xy bounding-box area.
        up_axis (int): Index of the up axis.

    Returns:
        tuple: ``keep`` (N, ) bool and ``dict(floor_height=...,
        ceiling_height=...)`` (None for a plane not found).
    """
    xyz = np.asarray(xyz, np.float64)
    if xyz.ndim != 2 or xyz.shape[1] < 3 or len(xyz) == 0:
        raise ValueError(f'expected (N, 3) points with N > 0, got '
                         f'{xyz.shape}')
    z = xyz[:, up_axis]
    xy = np.delete(xyz[:, :3], up_axis, axis=1)
    lo, hi = np.percentile(z, [0.5, 99.5])
    height = hi - lo
    keep = np.ones(len(z), bool)
    info = dict(floor_height=None, ceiling_height=None)
    if height <= 2 * margin:
        return keep, info
    span = xy.max(0) - xy.min(0)
    args = (bin_size, min_plane_fraction, peak_ratio, min_extent,
            float(span.prod()))
    floor = _plane_peak(z, xy, z.min(), lo + search_fraction * height, *args)
    ceiling = _plane_peak(z, xy, hi - search_fraction * height, z.max(),
                          *args)
    if floor is not None:
        keep &= z > floor + margin
        info['floor_height'] = floor
    if ceiling is not None:
        keep &= z < ceiling - margin
        info['ceiling_height'] = ceiling
    return keep, info
