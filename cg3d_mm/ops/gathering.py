"""Gathering points and neighbourhoods by index (differentiable).

Convention: features are channels-last, ``(B, N, C)``, the same layout as
coordinates ``(B, N, 3)``, so one function gathers both. (mmcv's kernels use
``(B, C, N)``; the CUDA dispatch transposes in and out.)
"""
import torch
from torch import Tensor

from . import mmcv_backend
from .input_checks import check_index, check_same_batch, check_tensor

# dtypes mmcv's gather / group kernels are compiled for.
MMCV_GATHER_DTYPES = (torch.float16, torch.float32, torch.float64)


def _gather_rows(feats: Tensor, idx: Tensor) -> Tensor:
    """feats (B, N, C), idx (B, *S) -> (B, *S, C) with torch.gather."""
    batch, _, channels = feats.shape
    flat = idx.reshape(batch, -1, 1).long().expand(-1, -1, channels)
    return feats.gather(1, flat).reshape(*idx.shape, channels)


def _mmcv_ready(feats: Tensor) -> bool:
    return mmcv_backend.use_mmcv(feats) and feats.dtype in MMCV_GATHER_DTYPES


def gather_points(feats: Tensor, idx: Tensor) -> Tensor:
    """Pick rows of ``feats`` per batch element.

    Args:
        feats (Tensor): (B, N, C) per-point features (or coordinates).
        idx (Tensor): (B, M) integer indices into N.

    Returns:
        Tensor: (B, M, C), ``out[b, m] = feats[b, idx[b, m]]``. Gradients flow
        into ``feats``.
    """
    check_tensor(feats, 'feats', 3, '(B, N, C)')
    check_index(idx, 'idx', 2, '(B, M)')
    check_same_batch([feats, idx], ['feats', 'idx'])
    if _mmcv_ready(feats):
        channels_first = feats.transpose(1, 2).contiguous()
        out = mmcv_backend.mmcv_op('gather_points')(channels_first,
                                                    idx.int().contiguous())
        return out.transpose(1, 2)  # (B, C, M) -> (B, M, C)
    return _gather_rows(feats, idx)


def group_points(feats: Tensor, idx: Tensor) -> Tensor:
    """Gather a neighbourhood of k points for each of M centres.

    Args:
        feats (Tensor): (B, N, C) per-point features (or coordinates).
        idx (Tensor): (B, M, k) integer indices into N (e.g. from
            :func:`knn`).

    Returns:
        Tensor: (B, M, k, C), ``out[b, m, j] = feats[b, idx[b, m, j]]``.
        Gradients flow into ``feats``.
    """
    check_tensor(feats, 'feats', 3, '(B, N, C)')
    check_index(idx, 'idx', 3, '(B, M, k)')
    check_same_batch([feats, idx], ['feats', 'idx'])
    if _mmcv_ready(feats):
        channels_first = feats.transpose(1, 2).contiguous()
        out = mmcv_backend.mmcv_op('grouping_operation')(
            channels_first, idx.int().contiguous())
        return out.permute(0, 2, 3, 1)  # (B, C, M, k) -> (B, M, k, C)
    return _gather_rows(feats, idx)
