"""The ``cg3d_mm`` registry scope.

Every cg3d_mm component registers here. Each registry is a child of
mmdet3d's registry of the same kind (as mmpretrain's are of mmengine's), so
with ``default_scope = 'cg3d_mm'`` (every CG3D config) a type name is looked
up in cg3d_mm first, then in mmdet3d, then in mmengine; cg3d_mm's names can
never shadow or collide with mmdet3d's for a project whose scope is
``mmdet3d``. Such a project names a cg3d_mm component with its scope:
``type='cg3d_mm.CG3DPretrained'``.
"""
from mmdet3d import registry as _mmdet3d
from mmengine.registry import Registry


def _child(parent: Registry) -> Registry:
    # mmdet3d's modules register lazily (on the first lookup in *its*
    # registry); listing its locations here imports them on the first
    # lookup in ours, so names fall through to mmdet3d whatever was built
    # before.
    return Registry(parent.name, parent=parent, scope='cg3d_mm',
                    locations=['cg3d_mm', *parent._locations])


__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'HOOKS', 'DATASETS', 'DATA_SAMPLERS',
    'TRANSFORMS', 'MODELS', 'WEIGHT_INITIALIZERS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS',
    'METRICS', 'EVALUATOR', 'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS',
    'LOG_PROCESSORS', 'INFERENCERS', 'MODEL_WRAPPERS', 'LOOPS'
]

RUNNERS = _child(_mmdet3d.RUNNERS)
RUNNER_CONSTRUCTORS = _child(_mmdet3d.RUNNER_CONSTRUCTORS)
HOOKS = _child(_mmdet3d.HOOKS)
DATASETS = _child(_mmdet3d.DATASETS)
DATA_SAMPLERS = _child(_mmdet3d.DATA_SAMPLERS)
TRANSFORMS = _child(_mmdet3d.TRANSFORMS)
MODELS = _child(_mmdet3d.MODELS)
WEIGHT_INITIALIZERS = _child(_mmdet3d.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(_mmdet3d.OPTIMIZERS)
OPTIM_WRAPPERS = _child(_mmdet3d.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(_mmdet3d.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(_mmdet3d.PARAM_SCHEDULERS)
METRICS = _child(_mmdet3d.METRICS)
EVALUATOR = _child(_mmdet3d.EVALUATOR)
TASK_UTILS = _child(_mmdet3d.TASK_UTILS)
VISUALIZERS = _child(_mmdet3d.VISUALIZERS)
VISBACKENDS = _child(_mmdet3d.VISBACKENDS)
LOG_PROCESSORS = _child(_mmdet3d.LOG_PROCESSORS)
INFERENCERS = _child(_mmdet3d.INFERENCERS)
MODEL_WRAPPERS = _child(_mmdet3d.MODEL_WRAPPERS)
LOOPS = _child(_mmdet3d.LOOPS)
