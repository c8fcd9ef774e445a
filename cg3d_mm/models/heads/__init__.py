from .cg3d_head import CG3DHead
from .cls_head import PointClsHead, original_cls_head_cfg

__all__ = ['CG3DHead', 'PointClsHead', 'original_cls_head_cfg']
