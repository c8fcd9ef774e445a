"""Neighbour search: k nearest neighbours and ball query.

On CUDA tensors these run mmcv's kernels; elsewhere a chunked PyTorch path
computes exact distances (no ``|a|^2 - 2ab + |b|^2`` expansion, so a query
point that is also in ``xyz`` is at distance exactly 0).
"""
import torch
from torch import Tensor

from . import mmcv_backend
from .input_checks import check_num_samples, check_same_batch, check_tensor

# Distance matrices are built for chunks of queries of at most this many
# (batch x query x point) entries (64 MB in float32).
MAX_CHUNK_ELEMENTS = 1 << 24

# mmcv's kNN kernel keeps its heap in a fixed array of 100 entries.
MMCV_KNN_MAX_K = 99


def _query_chunks(batch: int, num_queries: int, num_points: int):
    """Yield query slices whose distance matrices fit the budget."""
    step = max(1, MAX_CHUNK_ELEMENTS // max(1, batch * num_points))
    for start in range(0, num_queries, step):
        yield slice(start, min(start + step, num_queries))


def _exact_dist(query: Tensor, xyz: Tensor) -> Tensor:
    """(B, m, N) Euclidean distances computed from coordinate differences."""
    return torch.cdist(
        query, xyz, compute_mode='donot_use_mm_for_euclid_dist')


def _check_xyz_query(xyz: Tensor, query: Tensor) -> None:
    check_tensor(xyz, 'xyz', 3, '(B, N, 3)', last_dim=3)
    check_tensor(query, 'query', 3, '(B, M, 3)', last_dim=3)
    check_same_batch([xyz, query], ['xyz', 'query'])


def _knn_torch(k: int, xyz: Tensor, query: Tensor) -> Tensor:
    xyz, query = xyz.detach(), query.detach().to(xyz.dtype)
    batch, num_points, _ = xyz.shape
    return torch.cat([
        _exact_dist(query[:, part], xyz).topk(
            k, dim=-1, largest=False, sorted=True).indices
        for part in _query_chunks(batch, query.shape[1], num_points)
    ],
                     dim=1)


def _knn_mmcv(k: int, xyz: Tensor, query: Tensor) -> Tensor:
    idx = mmcv_backend.mmcv_op('knn')(k, mmcv_backend.as_mmcv_float(xyz),
                                      mmcv_backend.as_mmcv_float(query),
                                      False)
    # mmcv returns (B, k, M) int32.
    return idx.transpose(1, 2).long().contiguous()


def knn(k: int, xyz: Tensor, query: Tensor) -> Tensor:
    """Indices of the k nearest points of ``xyz`` for every query point.

    Args:
        k (int): Number of neighbours, 1 <= k <= N.
        xyz (Tensor): (B, N, 3) points searched.
        query (Tensor): (B, M, 3) query points.

    Returns:
        Tensor: (B, M, k) int64 indices into N, nearest first. A query point
        that is also in ``xyz`` is its own first neighbour (ties at distance
        0, i.e. duplicates, may come in any order).
    """
    _check_xyz_query(xyz, query)
    check_num_samples(k, xyz.shape[1], 'knn k')
    k = int(k)
    if mmcv_backend.use_mmcv(xyz) and k <= MMCV_KNN_MAX_K:
        return _knn_mmcv(k, xyz, query)
    return _knn_torch(k, xyz, query)


def _ball_query_torch(min_radius: float, max_radius: float, num_samples: int,
                      xyz: Tensor, query: Tensor) -> Tensor:
    xyz, query = xyz.detach(), query.detach().to(xyz.dtype)
    batch, num_points, _ = xyz.shape
    take = min(num_samples, num_points)
    point_ids = torch.arange(num_points, device=xyz.device)
    parts = []
    for part in _query_chunks(batch, query.shape[1], num_points):
        dist = _exact_dist(query[:, part], xyz)
        inside = (dist == 0) | ((dist >= min_radius) & (dist < max_radius))
        # The first `take` hits in index order: smallest ids among the hits.
        hit_ids = torch.where(inside, point_ids, num_points)
        parts.append(
            hit_ids.topk(take, dim=-1, largest=False, sorted=True).values)
    idx = torch.cat(parts, dim=1)
    if take < num_samples:
        idx = torch.cat([idx, idx.new_full(
            (*idx.shape[:2], num_samples - take), num_points)], dim=-1)
    # Like mmcv: pad with the first hit; no hit at all gives index 0.
    first = idx[..., :1]
    first = torch.where(first == num_points, torch.zeros_like(first), first)
    return torch.where(idx == num_points, first.expand_as(idx), idx)


def ball_query(radius: float,
               num_samples: int,
               xyz: Tensor,
               query: Tensor,
               min_radius: float = 0.) -> Tensor:
    """Points of ``xyz`` within ``radius`` of each query (mmcv semantics).

    A point is a hit if ``min_radius <= dist < radius`` or ``dist == 0``.
    The first ``num_samples`` hits in index order are returned; missing slots
    repeat the first hit, and a query without any hit gets index 0.

    Args:
        radius (float): Ball radius.
        num_samples (int): Number of indices per query (>= 1; may exceed N).
        xyz (Tensor): (B, N, 3) points searched.
        query (Tensor): (B, M, 3) ball centres.
        min_radius (float): Inner radius. Defaults to 0.

    Returns:
        Tensor: (B, M, num_samples) int64 indices into N.
    """
    _check_xyz_query(xyz, query)
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) \
            or num_samples < 1:
        raise ValueError(f'num_samples must be an int >= 1, got {num_samples}')
    if not 0 <= min_radius < radius:
        raise ValueError(f'need 0 <= min_radius < radius, got '
                         f'{min_radius} and {radius}')
    if mmcv_backend.use_mmcv(xyz):
        return mmcv_backend.mmcv_op('ball_query')(
            float(min_radius), float(radius), num_samples,
            mmcv_backend.as_mmcv_float(xyz),
            mmcv_backend.as_mmcv_float(query)).long()
    return _ball_query_torch(min_radius, radius, num_samples, xyz, query)
