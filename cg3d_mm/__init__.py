"""cg3d_mm: CG3D ("CLIP goes 3D") as an mmengine / mmdet3d plugin.

``import cg3d_mm`` registers every component into mmdet3d's registries
(``MODELS``, ``DATASETS``, ``TRANSFORMS``, ``METRICS``, ``HOOKS``,
``OPTIM_WRAPPER_CONSTRUCTORS``), makes mmengine load checkpoints weights-only
and lets configs inherit ``cg3d_mm::cg3d/<file>.py``.
"""
from . import datagen, datasets, engine, evaluation, models  # noqa: F401
from .utils import install_weights_only_loader, register_config_package
from .version import __version__

install_weights_only_loader()
register_config_package()

__all__ = ['__version__']
