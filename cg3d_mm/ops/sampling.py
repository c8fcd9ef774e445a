"""Furthest point sampling (FPS) on CPU and CUDA tensors.

Three implementations behind one function:

* ``'mmcv'``: mmcv's CUDA kernel (CUDA tensors only).
* ``'fpsample'``: the compiled CPU sampler of the ``fpsample`` package, one
  cloud at a time (it holds the GIL, so clouds run one after another).
* ``'torch'``: a loop over the M samples with (B, N) tensor ops; works on any
  device and is the reference behaviour.

All of them start at ``start_idx`` and then repeatedly take the point whose
distance to the already selected set is largest. Among exactly tied
candidates the torch path takes the lowest index; the other two may take a
different one of the tied points (still a valid FPS).

``min_sq_norm`` reproduces the FPS of the original CG3D / Point-BERT code
(pointnet2_ops' CUDA kernel), which never selects a point whose squared
distance from the origin is <= 1e-3 (:data:`POINTNET2_MIN_SQ_NORM`). For
clouds normalised to their centroid this drops points near the centre (a
chair's seat often has one), and points an augmentation moved to the origin
are in effect removed.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from . import mmcv_backend
from .input_checks import check_num_samples, check_tensor

try:
    import fpsample
except ImportError:  # optional: the torch path covers everything
    fpsample = None

FPS_BACKENDS = ('auto', 'torch', 'fpsample', 'mmcv')

# CPU choice for backend='auto' (timings: tools/benchmark_point_ops.py and
# the README's point-op table): fpsample runs one C++ loop per cloud, the
# torch loop runs M steps vectorised over the batch. fpsample wins for one or
# two clouds, torch from a few clouds on; around 16 x 1024 points the two
# trade places from run to run. Datasets sample one cloud at a time, point
# backbones a whole batch.
TORCH_FPS_MIN_POINTS = 32768  # B x N from which the batched loop is used
#: pointnet2_ops' kernel skips points with x^2 + y^2 + z^2 <= this.
POINTNET2_MIN_SQ_NORM = 1e-3


def _working_float(points: Tensor) -> Tensor:
    """Detached floating copy (half types widened to float32)."""
    points = points.detach()
    if points.dtype not in (torch.float32, torch.float64):
        points = points.float()
    return points


def _rows_with_repeats(idx: Tensor) -> Tensor:
    """(B,) bool: which rows of ``idx`` (B, M) contain an index twice."""
    ordered = idx.sort(dim=1).values
    return (ordered[:, 1:] == ordered[:, :-1]).any(dim=1)


def _fps_torch(xyz: Tensor, num_samples: int, starts: Tensor,
               eligible: Optional[Tensor] = None) -> Tensor:
    """Reference FPS: M steps of (B, N) tensor ops.

    Selected (and ineligible) points get a distance of -1, so an already
    selected index is never taken again while unselected points (even exact
    duplicates of selected ones, distance 0) remain.

    Args:
        starts (Tensor): (B,) first index per cloud.
        eligible (Tensor, optional): (B, N) bool, points that may be taken.
    """
    batch, num_points, _ = xyz.shape
    points = _working_float(xyz)
    # One contiguous (B, N) plane per axis: three cheap fused updates per step
    # instead of a strided (B, N, 3) reduction.
    x, y, z = (c.contiguous() for c in points.unbind(dim=-1))
    min_dist = points.new_full((batch, num_points), float('inf'))
    if eligible is not None:
        min_dist.masked_fill_(~eligible, -1.)
    dist = torch.empty_like(min_dist)
    axis_diff = torch.empty_like(min_dist)
    selected = torch.empty(
        batch, num_samples, dtype=torch.long, device=points.device)
    current = starts.view(batch, 1).to(points.device, torch.long)
    for step in range(num_samples):
        selected[:, step:step + 1] = current
        torch.sub(x, x.gather(1, current), out=dist).mul_(dist)
        torch.sub(y, y.gather(1, current), out=axis_diff)
        dist.addcmul_(axis_diff, axis_diff)
        torch.sub(z, z.gather(1, current), out=axis_diff)
        dist.addcmul_(axis_diff, axis_diff)
        torch.minimum(min_dist, dist, out=min_dist)
        min_dist.scatter_(1, current, -1.)
        current = min_dist.argmax(dim=1, keepdim=True)
    return selected


def _redo_bad_rows(xyz: Tensor, idx: Tensor, starts: Tensor,
                   eligible: Optional[Tensor]) -> Tensor:
    """Replace rows that repeat an index (or took an ineligible point) by
    the torch path's result.

    fpsample and mmcv's kernel fill the tail with an already selected index
    once only duplicates of selected points are left; the torch path keeps
    taking the unselected duplicates instead. Rare, so only those rows redo.
    """
    bad = _rows_with_repeats(idx)
    if eligible is not None:
        bad |= ~eligible.gather(1, idx).all(dim=1)
    if bool(bad.any()):
        idx = idx.clone()
        idx[bad] = _fps_torch(xyz[bad], idx.shape[1], starts[bad],
                              None if eligible is None else eligible[bad])
    return idx


def _fps_fpsample(xyz: Tensor, num_samples: int, starts: Tensor,
                  eligible: Optional[Tensor]) -> Tensor:
    """FPS with the fpsample package (CPU, float32), cloud by cloud; with
    ``eligible``, on each cloud's eligible points only."""
    clouds = _working_float(xyz).float().cpu()
    rows = []
    for b, cloud in enumerate(clouds):
        keep = None if eligible is None else \
            eligible[b].cpu().nonzero().squeeze(1)
        start = int(starts[b])
        if keep is not None:
            cloud = cloud[keep]
            start = int((keep == start).nonzero()[0, 0])
        sub = torch.from_numpy(
            fpsample.fps_sampling(cloud.numpy(), num_samples,
                                  start_idx=start).astype('int64'))
        rows.append(sub if keep is None else keep[sub])
    idx = torch.stack(rows).to(xyz.device)
    return _redo_bad_rows(xyz, idx, starts, eligible)


def _fps_mmcv(xyz: Tensor, num_samples: int, starts: Tensor,
              eligible: Optional[Tensor]) -> Tensor:
    """FPS with mmcv's CUDA kernel (float32, int32 output, starts at 0)."""
    points = mmcv_backend.as_mmcv_float(xyz)
    batch, num_points = points.shape[:2]
    starts = starts.to(points.device)
    if eligible is not None:
        # A copy of the (selected) start point is never the farthest while
        # eligible points remain: the kernel cannot pick these.
        start_xyz = points.gather(1, starts.view(-1, 1, 1).expand(-1, 1, 3))
        points = torch.where(eligible.unsqueeze(-1), points, start_xyz)
    # The kernel always starts at index 0: rotate each cloud instead.
    order = (torch.arange(num_points, device=points.device) +
             starts.view(-1, 1)) % num_points
    points = points.gather(1, order.unsqueeze(-1).expand(-1, -1, 3))
    idx = mmcv_backend.mmcv_op('furthest_point_sample')(
        points.contiguous(), num_samples).long()
    idx = order.gather(1, idx)
    return _redo_bad_rows(xyz, idx, starts, eligible)


def _eligible_points(xyz: Tensor, num_samples: int, start_idx: int,
                     min_sq_norm: Optional[float]
                     ) -> Tuple[Tensor, Optional[Tensor]]:
    """Start index per cloud (B,) and the (B, N) eligible mask (or None).

    With ``min_sq_norm``, a start that is too close to the origin moves to
    the next eligible index (cyclically).
    """
    batch, num_points = xyz.shape[:2]
    starts = torch.full((batch, ), start_idx, dtype=torch.long,
                        device=xyz.device)
    if min_sq_norm is None:
        return starts, None
    points = _working_float(xyz)
    eligible = (points * points).sum(dim=-1) > min_sq_norm
    fewest = int(eligible.sum(dim=1).min())
    if fewest < num_samples:
        raise ValueError(
            f'furthest_point_sample: a cloud has only {fewest} points with '
            f'squared norm > min_sq_norm={min_sq_norm}, fewer than the '
            f'{num_samples} requested')
    offset = (torch.arange(num_points, device=xyz.device) -
              start_idx) % num_points
    offset = torch.where(eligible, offset, num_points)
    return offset.argmin(dim=1), eligible


def _cpu_fps_backend(batch_size: int, num_points: int) -> str:
    if fpsample is None or batch_size * num_points >= TORCH_FPS_MIN_POINTS:
        return 'torch'
    return 'fpsample'


def furthest_point_sample(xyz: Tensor,
                          num_samples: int,
                          start_idx: int = 0,
                          *,
                          backend: str = 'auto',
                          min_sq_norm: Optional[float] = None) -> Tensor:
    """Furthest point sampling, deterministic given ``start_idx``.

    Args:
        xyz (Tensor): (B, N, 3) point coordinates. Not differentiated.
        num_samples (int): Number of points M to select, 1 <= M <= N.
        start_idx (int): Index of the first selected point in every cloud.
            Defaults to 0 (as mmcv's CUDA kernel and the original models).
        backend (str): ``'auto'`` (mmcv on CUDA, torch on CUDA without
            mmcv's kernels; on CPU fpsample below ``TORCH_FPS_MIN_POINTS``
            points in the batch if installed, else the batched torch
            loop), ``'torch'``, ``'fpsample'`` (CPU only) or
            ``'mmcv'`` (CUDA only).
        min_sq_norm (float, optional): Never select points whose squared
            norm ``x^2 + y^2 + z^2`` is <= this (the original CG3D's CUDA
            FPS uses :data:`POINTNET2_MIN_SQ_NORM`); a start point that
            close to the origin moves to the next eligible index. None
            (default) selects from all points.

    Returns:
        Tensor: (B, M) int64 indices into N, in selection order. An index is
        never repeated (duplicate points are selected one after another).

    Raises:
        ValueError: On a wrong shape, ``num_samples > N``, a bad
            ``start_idx`` / ``backend``, or fewer than M eligible points.
    """
    check_tensor(xyz, 'xyz', 3, '(B, N, 3)', last_dim=3)
    num_points = xyz.shape[1]
    check_num_samples(num_samples, num_points, 'furthest_point_sample')
    num_samples = int(num_samples)
    if not 0 <= start_idx < num_points:
        raise ValueError(f'start_idx must be in [0, {num_points}), '
                         f'got {start_idx}')
    if backend not in FPS_BACKENDS:
        raise ValueError(f'backend must be one of {FPS_BACKENDS}, '
                         f'got {backend!r}')
    if backend == 'auto':
        if mmcv_backend.use_mmcv(xyz):
            backend = 'mmcv'
        elif xyz.is_cuda:
            backend = 'torch'
        else:
            backend = _cpu_fps_backend(*xyz.shape[:2])
    starts, eligible = _eligible_points(xyz, num_samples, start_idx,
                                        min_sq_norm)
    if backend == 'fpsample':
        if fpsample is None:
            raise ValueError("backend='fpsample' needs the fpsample package")
        return _fps_fpsample(xyz, num_samples, starts, eligible)
    if backend == 'mmcv':
        if not mmcv_backend.use_mmcv(xyz):
            raise ValueError("backend='mmcv' needs CUDA tensors and mmcv's "
                             'compiled ops')
        return _fps_mmcv(xyz, num_samples, starts, eligible)
    return _fps_torch(xyz, num_samples, starts, eligible)


def furthest_point_sample_with_dist(dist: Tensor,
                                    num_samples: int,
                                    start_idx: int = 0) -> Tensor:
    """FPS on a precomputed (B, N, N) distance matrix (e.g. feature FPS).

    Args:
        dist (Tensor): (B, N, N) pairwise distances.
        num_samples (int): Number of points M to select, 1 <= M <= N.
        start_idx (int): First selected index. Defaults to 0.

    Returns:
        Tensor: (B, M) int64 indices, never repeated.
    """
    check_tensor(dist, 'dist', 3, '(B, N, N)')
    batch, num_points, num_cols = dist.shape
    if num_cols != num_points:
        raise ValueError(f'dist must be square (B, N, N), '
                         f'got {tuple(dist.shape)}')
    check_num_samples(num_samples, num_points,
                      'furthest_point_sample_with_dist')
    if not 0 <= start_idx < num_points:
        raise ValueError(f'start_idx must be in [0, {num_points}), '
                         f'got {start_idx}')
    dist = _working_float(dist)
    min_dist = dist.new_full((batch, num_points), float('inf'))
    selected = torch.empty(
        batch, num_samples, dtype=torch.long, device=dist.device)
    current = torch.full((batch, 1),
                         start_idx,
                         dtype=torch.long,
                         device=dist.device)
    for step in range(num_samples):
        selected[:, step:step + 1] = current
        row = dist.gather(1, current.unsqueeze(-1).expand(-1, 1, num_points))
        torch.minimum(min_dist, row.squeeze(1), out=min_dist)
        min_dist.scatter_(1, current, -1.)
        current = min_dist.argmax(dim=1, keepdim=True)
    return selected


def available_fps_backends(device: Optional[torch.device] = None) -> list:
    """FPS backends usable for tensors on ``device`` (default CPU)."""
    device = torch.device(device or 'cpu')
    backends = ['torch']
    if device.type == 'cpu' and fpsample is not None:
        backends.append('fpsample')
    if device.type == 'cuda' and mmcv_backend.mmcv_ext_available():
        backends.append('mmcv')
    return backends
