from . import backbones, clip, data_preprocessors, heads, necks  # noqa: F401
from .cg3d import CG3D

__all__ = ['CG3D']
