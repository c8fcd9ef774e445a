"""The global feature of any point backbone, on CPU and GPU."""
from typing import Optional

from torch import Tensor, nn

from cg3d_mm.ops import mmcv_point_ops_cpu_fallback


def uses_mmcv_point_ops(backbone: nn.Module) -> bool:
    """True for backbones outside cg3d_mm (e.g. mmdet3d's PointNet++): they
    call mmcv's CUDA-only point ops (cg3d_mm's own dispatch per device)."""
    return not type(backbone).__module__.startswith('cg3d_mm.')


def sa_point_channels(backbone: nn.Module) -> Optional[int]:
    """Channels per input point (xyz first) an mmdet3d PointNet++ backbone
    (``SA_modules``) was built for, or None if it cannot be told.

    mmdet3d does not keep its ``in_channels``: the first SA layer's input
    width is ``in_channels - 3`` point features (+ 3 grouped offsets with
    ``use_xyz``).
    """
    try:
        first = backbone.SA_modules[0]
        width = first.mlps[0][0].conv.in_channels
        use_xyz = bool(getattr(first.groupers[0], 'use_xyz', True))
    except (AttributeError, IndexError, TypeError):
        return None
    return int(width) - (3 if use_xyz else 0) + 3


def _check_channels(backbone: nn.Module, points: Tensor) -> None:
    channels = sa_point_channels(backbone)
    if channels is not None and (points.dim() != 3
                                 or points.shape[-1] != channels):
        raise ValueError(
            f'{type(backbone).__name__} was built for points (B, N, '
            f'{channels}) (in_channels={channels}: xyz + {channels - 3} '
            f'feature channels), got {tuple(points.shape)}; the backbone\'s '
            'in_channels must match the columns the pipeline loads '
            '(LoadPointCloud use_dims)')


def global_point_feats(backbone: nn.Module, neck: Optional[nn.Module],
                       points: Tensor,
                       mmcv_ops: Optional[bool] = None) -> Tensor:
    """(B, N, C) points -> (B, D) global features of ``backbone`` [+ neck].

    The backbone output is reduced by ``neck`` when given, else its
    ``global_feat`` is taken (or the tensor itself). mmcv's point ops get
    the CPU fallback only when needed (entering and leaving it patch and
    restore mmcv's functions in every module holding them, on every call).
    """
    if mmcv_ops is None:
        mmcv_ops = uses_mmcv_point_ops(backbone)
    if mmcv_ops:  # cg3d_mm's own backbones check their inputs themselves
        _check_channels(backbone, points)
    if points.is_cuda or not mmcv_ops:
        feats = backbone(points)
    else:
        with mmcv_point_ops_cpu_fallback():
            feats = backbone(points)
    if neck is not None:
        return neck(feats)
    if isinstance(feats, dict):
        if 'global_feat' not in feats:
            raise ValueError(
                f'{type(backbone).__name__} returns {sorted(feats)} but no '
                "global_feat: add neck=dict(type='GlobalPoolNeck')")
        return feats['global_feat']
    return feats
