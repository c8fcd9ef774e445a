"""CPU timings of furthest point sampling and kNN grouping.

Compares this package's ops with the "obvious" PyTorch implementations found
in many PointNet++ ports and, for FPS, with the ``fpsample`` package:

* naive FPS: per step, a fresh (B, N, 3) difference tensor, a boolean mask
  update of the running distance and a max;
* naive kNN: the full (B, M, N) squared-distance matrix by the
  ``|q|^2 - 2 q.x + |x|^2`` expansion, a full sort, the first k columns.

Used by ``tools/benchmark_point_ops.py``.
"""
import time
from typing import Any, Callable, Dict, List, Sequence, Tuple

import torch
from torch import Tensor

from cg3d_mm.ops.gathering import group_points
from cg3d_mm.ops.neighbors import knn
from cg3d_mm.ops.sampling import available_fps_backends, furthest_point_sample

# (batch, num_points, num_samples, k)
DEFAULT_CONFIGS = ((16, 1024, 512, 32), (8, 8192, 1024, 32))


def naive_furthest_point_sample(xyz: Tensor, num_samples: int) -> Tensor:
    """The textbook PyTorch FPS loop (starts at index 0)."""
    batch, num_points, _ = xyz.shape
    selected = torch.zeros(batch, num_samples, dtype=torch.long)
    distance = torch.full((batch, num_points), 1e10)
    farthest = torch.zeros(batch, dtype=torch.long)
    batch_ids = torch.arange(batch)
    for i in range(num_samples):
        selected[:, i] = farthest
        centroid = xyz[batch_ids, farthest].view(batch, 1, 3)
        dist = torch.sum((xyz - centroid)**2, -1)
        mask = dist < distance
        distance[mask] = dist[mask]
        farthest = torch.max(distance, -1)[1]
    return selected


def naive_knn_group(k: int, xyz: Tensor,
                    query: Tensor) -> Tuple[Tensor, Tensor]:
    """Full distance matrix + full sort, then index the neighbourhoods.

    Returns:
        tuple[Tensor]: indices (B, M, k) and neighbourhoods (B, M, k, 3).
    """
    dist = -2 * torch.matmul(query, xyz.transpose(1, 2))
    dist += torch.sum(query**2, -1).unsqueeze(-1)
    dist += torch.sum(xyz**2, -1).unsqueeze(1)
    idx = dist.argsort(dim=-1)[:, :, :k]
    batch_ids = torch.arange(xyz.shape[0]).view(-1, 1, 1)
    return idx, xyz[batch_ids, idx]


def _knn_group(k: int, xyz: Tensor, query: Tensor) -> Tuple[Tensor, Tensor]:
    idx = knn(k, xyz, query)
    return idx, group_points(xyz, idx)


def _best_time(fn: Callable[[], Any], repeats: int,
               budget_s: float) -> Tuple[float, Any]:
    """Best wall time (ms) of up to ``repeats`` runs; the first run is a
    warm-up unless it already exceeds ``budget_s`` (then it is the result)."""
    start = time.perf_counter()
    out = fn()
    first = time.perf_counter() - start
    if first > budget_s:
        return first * 1000, out
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000, out


def benchmark_point_ops(configs: Sequence[Tuple[int, int, int,
                                                int]] = DEFAULT_CONFIGS,
                        repeats: int = 3,
                        include_naive: bool = True,
                        budget_s: float = 2.0,
                        seed: int = 0) -> List[Dict]:
    """Time FPS and kNN grouping on CPU.

    Args:
        configs (Sequence[tuple]): ``(batch, num_points, num_samples, k)``;
            FPS picks ``num_samples`` of ``num_points``, kNN groups k
            neighbours around the first ``num_samples`` points.
        repeats (int): Timed runs per measurement (best is reported).
        include_naive (bool): Also time the naive implementations.
        budget_s (float): A first run longer than this is reported as is,
            without repeats (keeps the naive baselines affordable).
        seed (int): Seed of the random clouds.

    Returns:
        list[dict]: One row per (op, implementation, config) with keys
        ``op``, ``impl``, ``batch``, ``num_points``, ``num_samples``, ``k``,
        ``ms``, ``threads`` and ``same_as_reference`` (FPS: identical indices
        to ``ours[torch]``; kNN: the same neighbour index sets as ``ours``).
    """
    generator = torch.Generator().manual_seed(seed)
    rows = []
    threads = torch.get_num_threads()
    for batch, num_points, num_samples, k in configs:
        xyz = torch.rand(batch, num_points, 3, generator=generator)
        query = xyz[:, :num_samples].contiguous()
        common = dict(
            batch=batch,
            num_points=num_points,
            num_samples=num_samples,
            k=k,
            threads=threads)

        fps_impls = [('ours[auto]',
                      lambda: furthest_point_sample(xyz, num_samples))]
        fps_impls += [(f'ours[{name}]',
                       lambda name=name: furthest_point_sample(
                           xyz, num_samples, backend=name))
                      for name in available_fps_backends('cpu')]
        if include_naive:
            fps_impls.append(
                ('naive', lambda: naive_furthest_point_sample(
                    xyz, num_samples)))
        reference = furthest_point_sample(xyz, num_samples, backend='torch')
        for impl, fn in fps_impls:
            ms, out = _best_time(fn, repeats, budget_s)
            rows.append(
                dict(
                    op='fps',
                    impl=impl,
                    ms=ms,
                    same_as_reference=bool(torch.equal(out, reference)),
                    **common))

        knn_impls = [('ours', lambda: _knn_group(k, xyz, query))]
        if include_naive:
            knn_impls.append(('naive', lambda: naive_knn_group(k, xyz,
                                                               query)))
        reference = _knn_group(k, xyz, query)
        for impl, fn in knn_impls:
            ms, out = _best_time(fn, repeats, budget_s)
            same = torch.equal(out[0].sort(dim=2).values,
                               reference[0].sort(dim=2).values)
            rows.append(
                dict(
                    op='knn_group',
                    impl=impl,
                    ms=ms,
                    same_as_reference=bool(same),
                    **common))
    return rows


def rows_to_markdown(rows: Sequence[Dict]) -> str:
    """Format :func:`benchmark_point_ops` rows as a markdown table."""
    header = ('| op | impl | B | N | M | k | threads | ms | same as ref |\n'
              '|---|---|---|---|---|---|---|---|---|')
    lines = [header]
    for r in rows:
        lines.append(f"| {r['op']} | {r['impl']} | {r['batch']} | "
                     f"{r['num_points']} | {r['num_samples']} | {r['k']} | "
                     f"{r['threads']} | {r['ms']:.1f} | "
                     f"{'yes' if r['same_as_reference'] else 'NO'} |")
    return '\n'.join(lines)
