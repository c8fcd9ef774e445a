"""The one way cg3d_mm loads a checkpoint into a module.

Every caller (``init_model``, the zero-shot runner, the linear probe's
feature extractor, the ``CG3DPretrained`` initializer) goes through
:func:`load_model_checkpoint`, so a checkpoint is judged the same way
everywhere:

* the file is read weights-only (:func:`cg3d_mm.utils.load_weights_only`;
  URLs through mmengine's loaders, which ``import cg3d_mm`` routes
  weights-only too) and a leading ``module.`` (DDP) is removed;
* an explicit ``prefix`` selects and strips a part (``'backbone.'``); a
  prefix no key starts with fails, listing the prefixes the file holds;
* the keys are compared with the module's ``state_dict()``: what the
  module does not save (CG3D's frozen CLIP towers, which come from the CLIP
  config) is not expected in the checkpoint;
* missing, unexpected and mis-shaped keys are listed by name: an error
  with ``strict=True`` (the default), a :class:`PretrainedKeysWarning` and
  a log line otherwise; a checkpoint of which nothing fits always fails.
"""
import logging
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import print_log
from torch import Tensor, nn

from cg3d_mm.utils.checkpoint import load_weights_only

CheckpointLike = Union[str, dict]


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
        meta (dict): The checkpoint's ``meta`` (set by
            :func:`load_model_checkpoint`; empty when it has none).
    """
    loaded: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    mismatched: List[Tuple[str, tuple, tuple]] = field(default_factory=list)
    padded: List[Tuple[str, tuple, tuple]] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

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


def read_checkpoint(checkpoint: CheckpointLike,
                    map_location: str = 'cpu',
                    source: Optional[str] = None
                    ) -> Tuple[Dict[str, Tensor], dict]:
    """The ``state_dict`` and ``meta`` of a checkpoint, read weights-only.

    Accepts mmengine checkpoints (``{'state_dict': ..., 'meta': ...}``),
    the slim ones of ``tools/publish_checkpoint.py`` and bare state dicts,
    as a file or already loaded; a leading ``module.`` (DDP) is removed
    from the keys.

    Args:
        checkpoint (str | dict): File (local or URL) or loaded checkpoint.
        map_location (str): Defaults to 'cpu'.
        source (str, optional): Name in messages; defaults to the file.

    Returns:
        tuple: ``(state_dict, meta)``.

    Raises:
        FileNotFoundError: The file does not exist.
        UnsafeCheckpointError: The file holds pickled code.
        ValueError: No state dict of tensors in the checkpoint.
    """
    if isinstance(checkpoint, dict):
        ckpt, source = checkpoint, source or 'checkpoint dict'
    elif '://' in str(checkpoint):  # URL / remote backend: mmengine's loaders
        from mmengine.runner.checkpoint import CheckpointLoader
        ckpt = CheckpointLoader.load_checkpoint(str(checkpoint), map_location)
    else:
        ckpt = load_weights_only(checkpoint, map_location=map_location)
    source = source or str(checkpoint)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not state or not all(
            isinstance(v, Tensor) for v in state.values()):
        found = sorted(ckpt)[:10] if isinstance(ckpt, dict) else \
            type(ckpt).__name__
        raise ValueError(f'{source}: expected a checkpoint with a '
                         f'state_dict of tensors, found {found}')
    meta = ckpt.get('meta') if state is not ckpt else None
    state = {re.sub(r'^module\.', '', k): v for k, v in state.items()}
    return state, meta if isinstance(meta, dict) else {}


def read_state_dict(checkpoint: CheckpointLike,
                    map_location: str = 'cpu') -> Dict[str, Tensor]:
    """The ``state_dict`` of :func:`read_checkpoint`."""
    return read_checkpoint(checkpoint, map_location)[0]


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


def _unsaved_tensors(module: nn.Module, saved: Dict[str, Any]
                     ) -> Dict[str, Tensor]:
    """Persistent tensors the module has but leaves out of its state dict
    (CG3D's frozen CLIP): a checkpoint need not hold them, may set them."""
    out = {}
    for name, sub in module.named_modules():
        pre = f'{name}.' if name else ''
        skip = getattr(sub, '_non_persistent_buffers_set', set())
        tensors = list(sub.named_parameters(recurse=False)) + [
            (k, b) for k, b in sub.named_buffers(recurse=False)
            if k not in skip]
        out.update({pre + k: t for k, t in tensors if pre + k not in saved})
    return out


def load_pretrained_state(module: nn.Module,
                          state: Dict[str, Tensor],
                          strict: bool = False,
                          zero_pad_in_channels: Sequence[str] = (),
                          source: str = 'checkpoint',
                          target: Optional[str] = None) -> LoadReport:
    """Copy ``state`` into ``module`` and report every incompatible key.

    Args:
        module (nn.Module): Target; its ``state_dict()`` keys are the ones
            ``state`` must hold. Tensors it does not save (frozen parts)
            are not missing, but are set when ``state`` has them.
        state (dict[str, Tensor]): Weights, keys relative to ``module``.
        strict (bool): Raise instead of warning when keys are missing,
            unexpected or of another shape.
        zero_pad_in_channels (Sequence[str]): Module keys whose checkpoint
            tensor may have fewer input channels (dim 1); the extra channels
            are set to zero, so the layer computes what the pretrained one
            did until fine-tuning uses them.
        source (str): Name of the checkpoint in messages.
        target (str, optional): Name of the module in messages; defaults
            to its class name.

    Returns:
        LoadReport: Loaded, missing, unexpected, mismatched, padded keys.

    Raises:
        ValueError: Nothing fits the module; ``strict`` and some key is
            incompatible; a ``zero_pad_in_channels`` key is not the
            module's.
    """
    own = module.state_dict()
    accepted = dict(own, **_unsaved_tensors(module, own))
    name = target or type(module).__name__
    unknown = [k for k in zero_pad_in_channels if k not in accepted]
    if unknown:
        raise ValueError(
            f'zero_pad_in_channels: {unknown} are not keys of {name} (its '
            f'keys start: {_head(sorted(own), 5)})')
    report = LoadReport()
    loadable = {}
    for key, value in state.items():
        if key not in accepted:
            report.unexpected.append(key)
            continue
        shape = accepted[key].shape
        if value.shape == shape:
            loadable[key] = value
        elif key in zero_pad_in_channels and _can_pad(value, shape):
            loadable[key] = _padded_input_channels(value, shape)
            report.padded.append((key, tuple(value.shape), tuple(shape)))
        else:
            report.mismatched.append((key, tuple(value.shape), tuple(shape)))
    report.missing = [k for k in own if k not in state]
    report.loaded = list(loadable)
    if not loadable:
        raise ValueError(
            f'{source}: none of its {len(state)} weights fit {name} '
            f'({report.problems(5)}). Checkpoint keys: '
            f'{_head(sorted(state), 5)}; module keys: {_head(sorted(own), 5)}.'
            ' Is the prefix right and does the config describe the '
            'pretrained architecture?')
    if strict and not report.complete:
        raise ValueError(f'{source} does not fit {name} (strict=True): '
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


def load_model_checkpoint(module: nn.Module,
                          checkpoint: CheckpointLike,
                          prefix: Optional[str] = None,
                          strict: bool = True,
                          zero_pad_in_channels: Sequence[str] = (),
                          map_location: str = 'cpu',
                          source: Optional[str] = None,
                          target: Optional[str] = None) -> LoadReport:
    """Load a checkpoint (or the part under ``prefix``) into ``module``.

    Args:
        module (nn.Module): Target module.
        checkpoint (str | dict): Checkpoint file (read weights-only) or an
            already loaded checkpoint / state dict.
        prefix (str, optional): Keep only the keys under this prefix and
            strip it, e.g. ``'backbone.'``. None: the keys already match
            ``module``.
        strict (bool): Missing, unexpected and mis-shaped keys are an error
            (default); False warns (:class:`PretrainedKeysWarning`) and
            loads what fits.
        zero_pad_in_channels (Sequence[str]): See
            :func:`load_pretrained_state`.
        map_location (str): Defaults to 'cpu'.
        source (str, optional): Name of the checkpoint in messages;
            defaults to the file name.
        target (str, optional): Name of the module in messages (e.g.
            ``'the model of configs/x.py'``); defaults to its class name.

    Returns:
        LoadReport: What was loaded, with the checkpoint's ``meta``.

    Raises:
        FileNotFoundError: The file does not exist.
        UnsafeCheckpointError: The file holds pickled code.
        PrefixNotFoundError: No key under ``prefix``.
        ValueError: No state dict in the file, nothing fits, or (strict)
            some key is missing, unexpected or of another shape.
    """
    state, meta = read_checkpoint(checkpoint, map_location, source)
    source = source or (str(checkpoint) if not isinstance(checkpoint, dict)
                        else 'checkpoint dict')
    where = f'{source} [{prefix}]' if prefix else source
    try:
        selected = select_prefix(state, prefix, source)
    except PrefixNotFoundError as err:
        own = set(module.state_dict())
        if own and own <= set(state):
            raise PrefixNotFoundError(
                f'{err}. Its keys already match {type(module).__name__} (a '
                'checkpoint published with --strip-prefix?): set '
                'prefix=None') from None
        raise
    report = load_pretrained_state(module, selected, strict,
                                   zero_pad_in_channels, where, target)
    report.meta = meta
    return report
