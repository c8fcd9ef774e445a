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
"""
from typing import Optional

import torch
from torch import Tensor

from . import mmcv_backend
from .input_checks import check_num_samples, check_tensor

try:
    import fpsample
except ImportError:  # optional: the torch path covers everything
    fpsample = None

FPS_BACKENDS = ('auto', 'torch', 'fpsample', 'mmcv')

# CPU choice for backend='auto', measured on an idle 2-core machine
# (tools/benchmark.py, best of 3): fpsample runs one C++ loop per cloud, the
# torch loop runs M steps vectorised over the batch. fpsample wins for one or
# two clouds (1 x 1024 -> 512: 8 vs 31 ms; 1 x 8192 -> 1024: 50 vs 97 ms),
# torch from a few clouds on (16 x 1024 -> 512: 71 vs 106 ms; 8 x 8192 ->
# 1024: 207 vs 396 ms; 32 x 2048 -> 512: 109 vs 201 ms); 16 x 1024 -> 512
# is a toss-up (50-106 vs 65-72 ms over runs). Datasets sample one cloud at a
# time, point backbones a whole batch.
TORCH_FPS_MIN_POINTS = 32768  # B x N from which the batched loop is used


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


def _fps_torch(xyz: Tensor, num_samples: int, start_idx: int) -> Tensor:
    """Reference FPS: M steps of (B, N) tensor ops.

    Selected points get a distance of -1, so an already selected index is
    never taken again while unselected points (even exact duplicates of
    selected ones, distance 0) remain.
    """
    batch, num_points, _ = xyz.shape
    points = _working_float(xyz)
    # One contiguous (B, N) plane per axis: three cheap fused updates per step
    # instead of a strided (B, N, 3) reduction.
    x, y, z = (c.contiguous() for c in points.unbind(dim=-1))
    min_dist = points.new_full((batch, num_points), float('inf'))
    dist = torch.empty_like(min_dist)
    axis_diff = torch.empty_like(min_dist)
    selected = torch.empty(
        batch, num_samples, dtype=torch.long, device=points.device)
    current = torch.full((batch, 1),
                         start_idx,
                         dtype=torch.long,
                         device=points.device)
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


def _redo_repeating_rows(xyz: Tensor, idx: Tensor, start_idx: int) -> Tensor:
    """Replace rows that repeat an index by the torch path's result.

    fpsample and mmcv's kernel fill the tail with an already selected index
    once only duplicates of selected points are left; the torch path keeps
    taking the unselected duplicates instead. Rare, so only those rows redo.
    """
    repeats = _rows_with_repeats(idx)
    if bool(repeats.any()):
        idx = idx.clone()
        idx[repeats] = _fps_torch(xyz[repeats], idx.shape[1], start_idx)
    return idx


def _fps_fpsample(xyz: Tensor, num_samples: int, start_idx: int) -> Tensor:
    """FPS with the fpsample package (CPU, float32), cloud by cloud."""
    clouds = _working_float(xyz).float().cpu().numpy()
    idx = torch.stack([
        torch.from_numpy(
            fpsample.fps_sampling(cloud, num_samples,
                                  start_idx=start_idx).astype('int64'))
        for cloud in clouds
    ]).to(xyz.device)
    return _redo_repeating_rows(xyz, idx, start_idx)


def _fps_mmcv(xyz: Tensor, num_samples: int, start_idx: int) -> Tensor:
    """FPS with mmcv's CUDA kernel (float32, int32 output, starts at 0)."""
    points = mmcv_backend.as_mmcv_float(xyz)
    num_points = points.shape[1]
    if start_idx:
        # The kernel always starts at index 0: rotate the clouds instead.
        points = torch.roll(points, -start_idx, dims=1).contiguous()
    idx = mmcv_backend.mmcv_op('furthest_point_sample')(points,
                                                        num_samples).long()
    if start_idx:
        idx = (idx + start_idx) % num_points
    return _redo_repeating_rows(xyz, idx, start_idx)


def _cpu_fps_backend(batch_size: int, num_points: int) -> str:
    if fpsample is None or batch_size * num_points >= TORCH_FPS_MIN_POINTS:
        return 'torch'
    return 'fpsample'


def furthest_point_sample(xyz: Tensor,
                          num_samples: int,
                          start_idx: int = 0,
                          *,
                          backend: str = 'auto') -> Tensor:
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

    Returns:
        Tensor: (B, M) int64 indices into N, in selection order. An index is
        never repeated (duplicate points are selected one after another).

    Raises:
        ValueError: On a wrong shape, ``num_samples > N`` or a bad
            ``start_idx`` / ``backend``.
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
    if backend == 'fpsample':
        if fpsample is None:
            raise ValueError("backend='fpsample' needs the fpsample package")
        return _fps_fpsample(xyz, num_samples, start_idx)
    if backend == 'mmcv':
        if not mmcv_backend.use_mmcv(xyz):
            raise ValueError("backend='mmcv' needs CUDA tensors and mmcv's "
                             'compiled ops')
        return _fps_mmcv(xyz, num_samples, start_idx)
    return _fps_torch(xyz, num_samples, start_idx)


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
