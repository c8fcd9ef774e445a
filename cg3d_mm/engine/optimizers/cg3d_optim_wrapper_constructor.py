import logging
from contextlib import nullcontext
from typing import Dict, Optional, Sequence

import torch.nn as nn
from mmengine.logging import MMLogger, print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from mmengine.registry import DefaultScope

from cg3d_mm.registry import OPTIM_WRAPPER_CONSTRUCTORS

# Which submodules each of CG3D's optimizers owns.
DEFAULT_PARTS = dict(
    point_encoder=('backbone', 'neck', 'head'),
    visual_prompt=('img_backbone', ))


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class CG3DOptimWrapperConstructor:
    """Build one optimizer wrapper per part of the model.

    ``optim_wrapper`` holds one wrapper config per name (each with its own
    optimizer, ``clip_grad``, ``paramwise_cfg``, AMP type); the result is an
    ``OptimWrapperDict`` whose names ``AlternatingOptimizerHook`` schedules
    and ``param_scheduler=dict(name=[...])`` schedules separately. Only
    trainable parameters are handed to the optimizers (the frozen CLIP
    weights are not), and a trainable parameter that no optimizer owns is an
    error rather than a silently frozen weight.

    Example:
        >>> optim_wrapper = dict(
        ...     constructor='CG3DOptimWrapperConstructor',
        ...     point_encoder=dict(optimizer=dict(type='AdamW', lr=1e-4)),
        ...     visual_prompt=dict(optimizer=dict(type='SGD', lr=0.01)),
        ...     parts=dict(point_encoder=('backbone', 'neck', 'head'),
        ...                visual_prompt=('img_backbone', )))

    Args:
        optim_wrapper_cfg (dict): Wrapper configs by name, plus optional
            ``parts`` (name -> submodule names, default
            :data:`DEFAULT_PARTS`).
        paramwise_cfg (dict, optional): Unused; give ``paramwise_cfg`` in
            each wrapper config.
    """

    def __init__(self, optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        if paramwise_cfg:
            raise ValueError('CG3DOptimWrapperConstructor: put paramwise_cfg '
                             'inside each optimizer wrapper config')
        cfg = dict(optim_wrapper_cfg)
        cfg.pop('constructor', None)  # present when built outside a Runner
        self.parts: Dict[str, Sequence[str]] = dict(
            cfg.pop('parts', DEFAULT_PARTS))
        missing = set(self.parts) - set(cfg)
        if missing:
            raise ValueError(f'optim_wrapper has no config for {sorted(missing)}'
                             f' (expected one per part: {sorted(self.parts)})')
        extra = set(cfg) - set(self.parts)
        if extra:
            raise ValueError(f'optim_wrapper configs {sorted(extra)} own no '
                             f'model part; add them to parts=')
        self.wrapper_cfgs = cfg

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        if is_model_wrapper(model):
            model = model.module
        wrappers, owned = {}, set()
        for name, module_names in self.parts.items():
            sub = _Part()
            for module_name in module_names:
                module = getattr(model, module_name, None)
                if module is None:
                    continue  # e.g. no neck
                if not isinstance(module, nn.Module):
                    raise TypeError(f'{module_name} is not a module')
                sub.add_module(module_name, module)
            trainable = [p for p in sub.parameters() if p.requires_grad]
            if not trainable:
                raise ValueError(
                    f'optimizer {name!r} owns {list(module_names)} but they '
                    'have no trainable parameters')
            cfg = dict(self.wrapper_cfgs[name])
            paramwise = cfg.pop('paramwise_cfg', None)
            # outside a Runner (no default scope) look wrapper types up in
            # the cg3d_mm scope (falls through to mmdet3d and mmengine)
            scope = nullcontext() if DefaultScope.get_current_instance() \
                else DefaultScope.overwrite_default_scope('cg3d_mm')
            with scope:
                wrappers[name] = _TrainableOnly(cfg, paramwise)(sub)
            owned.update(id(p) for p in trainable)
        orphans = [n for n, p in model.named_parameters()
                   if p.requires_grad and id(p) not in owned]
        if orphans:
            raise ValueError(f'trainable parameters owned by no optimizer: '
                             f'{orphans[:5]}{" ..." if len(orphans) > 5 else ""}'
                             f' (parts={self.parts})')
        return OptimWrapperDict(**wrappers)


class _Part(nn.Module):
    """Container of one optimizer's submodules; yields trainable params."""

    def parameters(self, recurse: bool = True):
        return (p for p in super().parameters(recurse) if p.requires_grad)


class _FrozenNotices(logging.Filter):
    """Drops mmengine's "<name> is skipped since its requires_grad=False"
    warning for the named parameters (frozen by design), nothing else."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__()
        self.messages = {f'{n} is skipped since its requires_grad=False'
                         for n in names}

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.messages


class _TrainableOnly(DefaultOptimWrapperConstructor):
    """mmengine's constructor; frozen parameters stay out of the optimizer.

    Without ``paramwise_cfg`` mmengine takes ``module.parameters()`` (see
    :class:`_Part`); with it, the groups it builds are filtered here, and
    its per-parameter warning for each frozen one (the model freezes them
    on purpose, e.g. the logit scale taken from CLIP) becomes one info
    line.
    """

    def add_params(self, params, module, prefix='', is_dcn_module=None):
        if prefix:  # recursive calls: mmengine's own
            return super().add_params(params, module, prefix, is_dcn_module)
        frozen = [n for n, p in module.named_parameters()
                  if not p.requires_grad]
        logger = MMLogger.get_current_instance()
        notices = _FrozenNotices(frozen)
        logger.addFilter(notices)
        try:
            before = len(params)
            super().add_params(params, module, prefix, is_dcn_module)
        finally:
            logger.removeFilter(notices)
        params[before:] = [g for g in params[before:]
                           if g['params'][0].requires_grad]
        if frozen:
            shown = ', '.join(frozen[:3]) + (' ...' if len(frozen) > 3
                                             else '')
            print_log(f'{len(frozen)} frozen parameter(s) left out of the '
                      f'optimizer ({shown})', logger='current')
