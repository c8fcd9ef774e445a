from . import backbones, clip, data_preprocessors, heads, necks  # noqa: F401
from . import utils  # noqa: F401  (registers the CG3DPretrained init)
from .cg3d import CG3D
from .classifiers import PointClassifier

__all__ = ['CG3D', 'PointClassifier']
