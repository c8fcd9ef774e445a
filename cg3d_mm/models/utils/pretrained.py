"""Loud loading of pretrained (CG3D) weights into a downstream module.

mmengine's ``init_cfg=dict(type='Pretrained', prefix=...)`` keeps the keys
under the prefix and loads them with ``strict=False``: a wrong prefix, a
renamed layer or a different width is only written to the log as "missing
keys" and the model trains from a half-random initialisation. The
``CG3DPretrained`` initializer registered here instead

* reads the checkpoint weights-only (:func:`cg3d_mm.utils.load_weights_only`);
* selects the keys under ``prefix`` and fails, listing the prefixes the
  checkpoint does hold, when none match;
* fails when none of the selected tensors fits the module;
* reports missing, unexpected and shape-mismatched keys as a
  :class:`PretrainedKeysWarning` (and in the log), or raises with
  ``strict=True``;
* optionally zero-pads the input channels of named layers (a CG3D xyz
  encoder initialising a detector backbone that also reads a height
  channel, see ``zero_pad_in_channels``).

Usage::

    backbone=dict(type='PointMLP', init_cfg=dict(
        type='CG3DPretrained', checkpoint='work_dirs/.../epoch_100.pth',
        prefix='backbone.', strict=True))
"""
import logging
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from mmengine.model.weight_init import update_init_info
from torch import Tensor, nn

# mmengine's root registry: found whatever the default scope (tests build
# models outside a Runner, where no scope is set).
from cg3d_mm.registry import WEIGHT_INITIALIZERS
from cg3d_mm.utils.checkpoint import load_weights_only

INIT_TYPE = 'CG3DPretrained'


class PretrainedKeysWarning(UserWarning):
    """Some weights of a module were not initialised from the checkpoint."""


class PrefixNotFoundError(KeyError):
    """No checkpoint key starts with the requested prefix."""

    def __str__(self) -> str:  # KeyError would print the repr
        return str(self.args[0]) if self.args else ''


@dataclass
class LoadReport:
    """What :func:`load_pretrained_state` did.

    Attributes:
        loaded (list[str]): Module keys set from the checkpoint.
        missing (list[str]): Module keys the checkpoint does not hold.
        unexpected (list[str]): Checkpoint keys the module does not have.
        mismatched (list[tuple]): ``(key, checkpoint shape, module shape)``
            of keys present on both sides with different shapes (not
            loaded).
        padded (list[tuple]): ``(key, checkpoint shape, module shape)`` of
            tensors zero-padded along their input channels.
    """
    loaded: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    mismatched: List[Tuple[str, tuple, tuple]] = field(default_factory=list)
    padded: List[Tuple[str, tuple, tuple]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def problems(self, limit: int = 20) -> str:
        """Human-readable list of the incompatible keys."""
        lines = []
        for title, keys in (('missing in the checkpoint', self.missing),
                            ('unexpected (not in the module)',
                             self.unexpected)):
            if keys:
                lines.append(f'{len(keys)} {title}: {_head(keys, limit)}')
        if self.mismatched:
            shown = [f'{k} {tuple(c)} vs {tuple(m)}'
                     for k, c, m in self.mismatched]
            lines.append(f'{len(shown)} with other shapes (checkpoint vs '
                         f'module, not loaded): {_head(shown, limit)}')
        return '; '.join(lines)


def _head(items: Sequence[str], limit: int) -> str:
    items = list(items)
    more = f' ... (+{len(items) - limit} more)' if len(items) > limit else ''
    return ', '.join(items[:limit]) + more


def read_state_dict(checkpoint: str,
                    map_location: str = 'cpu') -> Dict[str, Tensor]:
    """The ``state_dict`` of a checkpoint file, read weights-only.

    Accepts mmengine checkpoints (``{'state_dict': ..., 'meta': ...}``),
    the slim ones of ``tools/publish_checkpoint.py`` and bare state dicts;
    a leading ``module.`` (DDP) is removed from the keys.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: No state dict of tensors in the file.
    """
    if '://' in str(checkpoint):  # URL / remote backend: mmengine's loaders
        from mmengine.runner.checkpoint import CheckpointLoader
        ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location)
    else:
        ckpt = load_weights_only(checkpoint, map_location=map_location)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not state or not all(
            isinstance(v, Tensor) for v in state.values()):
        found = sorted(ckpt)[:10] if isinstance(ckpt, dict) else \
            type(ckpt).__name__
        raise ValueError(f'{checkpoint}: expected a checkpoint with a '
                         f'state_dict of tensors, found {found}')
    return {re.sub(r'^module\.', '', k): v for k, v in state.items()}


def prefix_summary(keys: Sequence[str], depth: int = 1) -> str:
    """``'backbone. (84), head.proj. (2)'``: key prefixes and counts."""
    counts = Counter('.'.join(k.split('.')[:depth]) + '.' for k in keys)
    return ', '.join(f'{p} ({n})' for p, n in sorted(counts.items()))


def select_prefix(state: Dict[str, Tensor], prefix: Optional[str],
                  source: str = 'checkpoint') -> Dict[str, Tensor]:
    """Keys under ``prefix`` with the prefix removed (all keys for None).

    Raises:
        PrefixNotFoundError: No key starts with ``prefix`` (a KeyError);
            the message lists the prefixes the checkpoint holds.
    """
    if not prefix:
        return dict(state)
    selected = {k[len(prefix):]: v for k, v in state.items()
                if k.startswith(prefix)}
    if not selected:
        raise PrefixNotFoundError(
            f'{source}: no weights under prefix {prefix!r}. Its '
            f'{len(state)} tensors are under: {prefix_summary(state)} '
            f'(two levels: {prefix_summary(state, 2)})')
    return selected


def _padded_input_channels(value: Tensor, shape: torch.Size) -> Tensor:
    """``value`` zero-padded along dim 1 to ``shape`` (other dims equal)."""
    out = value.new_zeros(shape)
    out[:, :value.shape[1]] = value
    return out


def _can_pad(value: Tensor, shape: torch.Size) -> bool:
    return (value.dim() == len(shape) and value.dim() >= 2
            and value.shape[1] < shape[1]
            and value.shape[:1] + value.shape[2:] == shape[:1] + shape[2:])


def load_pretrained_state(module: nn.Module,
                          state: Dict[str, Tensor],
                          strict: bool = False,
                          zero_pad_in_channels: Sequence[str] = (),
                          source: str = 'checkpoint') -> LoadReport:
    """Copy ``state`` into ``module`` and report every incompatible key.

    Args:
        module (nn.Module): Target; its ``state_dict()`` keys are compared
            with ``state``'s.
        state (dict[str, Tensor]): Weights, keys relative to ``module``.
        strict (bool): Raise instead of warning when keys are missing,
            unexpected or of another shape.
        zero_pad_in_channels (Sequence[str]): Module keys whose checkpoint
            tensor may have fewer input channels (dim 1); the extra channels
            are set to zero, so the layer computes what the pretrained one
            did until fine-tuning uses them.
        source (str): Name of the checkpoint in messages.

    Returns:
        LoadReport: Loaded, missing, unexpected, mismatched, padded keys.

    Raises:
        ValueError: Nothing fits the module; ``strict`` and some key is
            incompatible; a ``zero_pad_in_channels`` key is not the
            module's.
    """
    own = module.state_dict()
    unknown = [k for k in zero_pad_in_channels if k not in own]
    if unknown:
        raise ValueError(
            f'zero_pad_in_channels: {unknown} are not keys of '
            f'{type(module).__name__} (its keys start: '
            f'{_head(sorted(own), 5)})')
    report = LoadReport()
    loadable = {}
    for key, value in state.items():
        if key not in own:
            report.unexpected.append(key)
            continue
        shape = own[key].shape
        if value.shape == shape:
            loadable[key] = value
        elif key in zero_pad_in_channels and _can_pad(value, shape):
            loadable[key] = _padded_input_channels(value, shape)
            report.padded.append((key, tuple(value.shape), tuple(shape)))
        else:
            report.mismatched.append((key, tuple(value.shape), tuple(shape)))
    report.missing = [k for k in own if k not in state]
    report.loaded = list(loadable)
    name = type(module).__name__
    if not loadable:
        raise ValueError(
            f'{source}: none of its {len(state)} selected tensors fits '
            f'{name} ({report.problems(5)}). Checkpoint keys: '
            f'{_head(sorted(state), 5)}; module keys: {_head(sorted(own), 5)}.'
            ' Is the prefix right and does the config describe the '
            'pretrained architecture?')
    if strict and not report.complete:
        raise ValueError(f'{source} does not match {name} (strict=True): '
                         f'{report.problems()}')
    module.load_state_dict(loadable, strict=False)
    for key, before, after in report.padded:
        print_log(f'{name}.{key}: input channels zero-padded from '
                  f'{before[1]} to {after[1]} ({source} has {before})',
                  logger='current')
    if not report.complete:
        msg = (f'{name} initialised from {source}: {len(loadable)} of its '
               f'{len(own)} tensors loaded; {report.problems()}')
        print_log(msg, logger='current', level=logging.WARNING)
        warnings.warn(msg, PretrainedKeysWarning, stacklevel=2)
    else:
        print_log(f'{name}: all {len(own)} tensors loaded from {source}',
                  logger='current')
    return report


def protect_loaded(module: nn.Module, loaded: Sequence[str]) -> None:
    """Keep submodules' own ``init_weights`` from overwriting loaded tensors.

    ``BaseModule.init_weights`` runs every init_cfg except
    ``type='Pretrained'`` *before* the children's ``init_weights`` (e.g.
    mmcv's ``ConvModule`` re-draws its conv with Kaiming), so an initializer
    of another type would be silently overwritten. Submodules whose tensors
    all came from the checkpoint are marked initialised (skipped); a direct
    child loaded in part runs its own initialisation and then gets the
    loaded tensors back.
    """
    loaded = set(loaded)
    for name, sub in module.named_modules():
        if not name or not hasattr(sub, 'init_weights'):
            continue
        keys = [f'{name}.{k}' for k in sub.state_dict()]
        if keys and all(k in loaded for k in keys):
            sub.is_init = True  # BaseModule's flag; read by getattr otherwise
    for name, child in module.named_children():
        if not hasattr(child, 'init_weights') or getattr(
                child, 'is_init', False):
            continue
        own = child.state_dict()
        keep = {k: own[k].detach().clone() for k in own
                if f'{name}.{k}' in loaded}
        if keep:
            _restore_after_init(child, keep)


def _restore_after_init(child: nn.Module, keep: Dict[str, Tensor]) -> None:
    original = child.init_weights

    def init_weights():
        original()
        with torch.no_grad():
            state = child.state_dict(keep_vars=True)
            for key, value in keep.items():
                state[key].copy_(value)
        del child.init_weights  # back to the class's method

    child.init_weights = init_weights


@WEIGHT_INITIALIZERS.register_module(name=INIT_TYPE)
class CG3DPretrainedInit:
    """``init_cfg`` type that loads pretrained weights and says what it did.

    Args:
        checkpoint (str): Checkpoint file (mmengine checkpoint of a CG3D
            pretraining run, a slim one from ``tools/publish_checkpoint.py``
            or a bare state dict), read weights-only.
        prefix (str, optional): Keep only keys under this prefix and strip
            it, e.g. ``'backbone.'`` for the point encoder of a CG3D
            checkpoint. None for checkpoints whose keys already match the
            module (``publish_checkpoint.py --strip-prefix backbone.``).
        strict (bool): Raise when keys are missing, unexpected or of
            another shape; otherwise they are reported as a
            :class:`PretrainedKeysWarning` and in the log. An empty prefix
            match or a checkpoint of which nothing fits always raises.
        zero_pad_in_channels (Sequence[str]): Keys (relative to the module)
            whose checkpoint tensor may have fewer input channels; see
            :func:`load_pretrained_state`.
        map_location (str): Defaults to 'cpu'.
    """

    def __init__(self,
                 checkpoint: str,
                 prefix: Optional[str] = None,
                 strict: bool = False,
                 zero_pad_in_channels: Sequence[str] = (),
                 map_location: str = 'cpu') -> None:
        if not checkpoint:
            raise ValueError(f'{INIT_TYPE}: checkpoint is empty; set '
                             'init_cfg.checkpoint to the pretrained file')
        self.checkpoint = str(checkpoint)
        self.prefix = prefix
        self.strict = strict
        self.zero_pad_in_channels = tuple(zero_pad_in_channels)
        self.map_location = map_location
        self.wholemodule = False  # set by mmengine's initialize()

    def __call__(self, module: nn.Module) -> LoadReport:
        _check_last(module)
        state = read_state_dict(self.checkpoint, self.map_location)
        where = f'{self.checkpoint}' + (f' [{self.prefix}]'
                                        if self.prefix else '')
        try:
            selected = select_prefix(state, self.prefix, self.checkpoint)
        except PrefixNotFoundError as err:
            own = set(module.state_dict())
            if own and own <= set(state):
                raise PrefixNotFoundError(
                    f'{err}. Its keys already match '
                    f'{type(module).__name__} (a checkpoint published with '
                    '--strip-prefix?): set prefix=None') from None
            raise
        report = load_pretrained_state(module, selected, self.strict,
                                       self.zero_pad_in_channels, where)
        protect_loaded(module, report.loaded)
        if hasattr(module, '_params_init_info'):
            update_init_info(module,
                             init_info=f'{INIT_TYPE}: loaded from {where}')
        return report


def _check_last(module: nn.Module) -> None:
    # initializers later in the same init_cfg list would overwrite ours
    cfgs = getattr(module, 'init_cfg', None)
    if isinstance(cfgs, (list, tuple)):
        types = [c.get('type') for c in cfgs if isinstance(c, dict)]
        if INIT_TYPE in types and types[-1] != INIT_TYPE and types[-1] != \
                'Pretrained':
            raise ValueError(
                f'{type(module).__name__}.init_cfg {types}: put {INIT_TYPE} '
                'last, the initializers after it would overwrite the loaded '
                'weights')
