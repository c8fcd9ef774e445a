"""The global feature of any point backbone, on CPU and GPU."""
from typing import Optional

from torch import Tensor, nn

from cg3d_mm.ops import mmcv_point_ops_cpu_fallback


def uses_mmcv_point_ops(backbone: nn.Module) -> bool:
    """True for backbones outside cg3d_mm (e.g. mmdet3d's PointNet++): they
    call mmcv's CUDA-only point ops (cg3d_mm's own dispatch per device)."""
    return not type(backbone).__module__.startswith('cg3d_mm.')


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
