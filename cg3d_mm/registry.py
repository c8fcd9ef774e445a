"""The ``cg3d_mm`` registry scope.

cg3d_mm's components register into mmdet3d's registries. Configs inherited
from another package with ``_base_ = ['cg3d_mm::cg3d/...']`` carry the
scope ``cg3d_mm``, for which mmengine imports ``cg3d_mm.registry`` and looks
for registries of that scope: these are empty children of mmdet3d's, so
every lookup falls through to mmdet3d (and then mmengine).
"""
from mmdet3d import registry as _mmdet3d
from mmengine.registry import Registry

_NAMES = ('RUNNERS', 'RUNNER_CONSTRUCTORS', 'HOOKS', 'DATASETS',
          'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'WEIGHT_INITIALIZERS',
          'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
          'PARAM_SCHEDULERS', 'METRICS', 'EVALUATOR', 'TASK_UTILS',
          'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS', 'INFERENCERS',
          'MODEL_WRAPPERS', 'LOOPS')


def _child(name: str) -> Registry:
    parent = getattr(_mmdet3d, name)
    return Registry(parent.name, parent=parent, scope='cg3d_mm',
                    locations=['cg3d_mm'])


for _name in _NAMES:
    globals()[_name] = _child(_name)

__all__ = list(_NAMES)
