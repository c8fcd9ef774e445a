
from .cg3d_head import CG3DHead  # noqa: F401
from .cls_head import PointClsHead  # noqa: F401
