"""Weights-only checkpoint loading for mmengine under torch >= 2.6.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``. Since torch 2.6
that means weights-only, and mmengine's own training checkpoints no longer
load (their message hub holds ``HistoryBuffer`` objects and numpy arrays).
Turning weights-only off (``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``) would let any
checkpoint run code when loaded. Instead we keep weights-only loading and
allow exactly the extra types mmengine writes, then route every local
checkpoint that mmengine loads (``resume``, ``load_from``, ``tools/test.py``,
``init_cfg=dict(type='Pretrained')``) through :func:`load_weights_only`, which
turns torch's refusal into a message that names the file.
"""
import os.path as osp
import pickle
import re
from typing import Any, Optional, Union

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds pickled objects other than weights and plain data."""


def _history_buffer_statistic(obj: Any, name: str) -> Any:
    """A ``getattr`` restricted to HistoryBuffer's statistic methods.

    A pickled ``HistoryBuffer`` stores ``getattr(HistoryBuffer, 'mean')`` and
    friends; allowing the real ``builtins.getattr`` would open a path from any
    allowed object to arbitrary code, so the global is mapped to this.
    """
    # the built-in statistics are registered lazily (first instance), custom
    # ones with HistoryBuffer.register_statistics
    allowed = {'min', 'max', 'mean', 'current'}
    allowed.update(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(HistoryBuffer, name)
    raise UnsafeCheckpointError(
        f'getattr({obj!r}, {name!r}) is not allowed in a checkpoint')


_SAFE_GLOBALS = [
    HistoryBuffer,
    np.ndarray,
    np.dtype,
    np.core.multiarray._reconstruct,
    np.core.multiarray.scalar,
    (_history_buffer_statistic, 'builtins.getattr'),
]
# numpy >= 1.25 pickles dtypes through their classes in numpy.dtypes
_SAFE_GLOBALS += [
    getattr(np.dtypes, n) for n in dir(getattr(np, 'dtypes', None) or object)
    if n.endswith('DType')
]
_registered = False


def register_safe_globals() -> None:
    """Allow the types mmengine writes into checkpoints (idempotent)."""
    global _registered
    if not _registered:
        torch.serialization.add_safe_globals(_SAFE_GLOBALS)
        _registered = True


def _refusal_detail(err: Exception) -> str:
    msg = str(err)
    for pattern in (r'Unsupported global: GLOBAL (\S+)',
                    r'unsupported GLOBAL (\S+)',
                    r'Trying to call reduce for func=(\S+)',
                    r'(Unsupported operand \S+)'):
        found = re.search(pattern, msg)
        if found:
            return found.group(1).rstrip('.,')
    # torch puts the reason after 'WeightsUnpickler error:' (maybe on the
    # next line) or after its preamble
    tail = msg.split('WeightsUnpickler error:', 1)[-1]
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(
        ('Weights only load failed', 'Check the documentation'))]
    return lines[0] if lines else type(err).__name__


def load_weights_only(filename: Union[str, 'osp.PathLike'],
                      map_location: Optional[Any] = None) -> Any:
    """``torch.load(filename, weights_only=True)`` with a clear refusal.

    Args:
        filename: Path of a local checkpoint file.
        map_location: As in :func:`torch.load`.

    Returns:
        The loaded object (usually a dict with ``state_dict`` and ``meta``).

    Raises:
        FileNotFoundError: The file does not exist.
        UnsafeCheckpointError: The file holds a pickled object that is not
            plain weights or data; nothing from it was executed.
    """
    register_safe_globals()
    filename = str(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    try:
        return torch.load(filename, map_location=map_location,
                          weights_only=True)
    except pickle.UnpicklingError as err:
        raise UnsafeCheckpointError(
            f'Refusing to load checkpoint {filename}: it contains a pickled '
            f'object that is not plain weights or data '
            f'({_refusal_detail(err)}). cg3d_mm loads checkpoints with '
            f'torch.load(weights_only=True) so that opening a file cannot run '
            f'code. If you trust this file, convert it once with: python '
            f'tools/publish_checkpoint.py --trust-pickle {filename} '
            f'OUT.pth') from None


def load_from_weights_only(filename: str, map_location: Optional[Any] = None
                           ) -> Any:
    """mmengine's local-file loader (mmengine logs ``__name__[10:]``)."""
    return load_weights_only(filename, map_location)


def install_weights_only_loader() -> None:
    """Make mmengine load every local checkpoint through load_weights_only."""
    register_safe_globals()
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_weights_only, force=True)
