from . import backbones, clip, data_preprocessors, heads, necks  # noqa: F401
from .cg3d import CG3D

__all__ = ['CG3D']
from . import utils  # noqa: F401,E402  (registers the CG3DPretrained init)
from .classifiers import PointClassifier  # noqa: E402

__all__ += ['PointClassifier']
