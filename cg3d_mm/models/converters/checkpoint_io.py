"""Reading released checkpoints safely and writing converted ones whole."""
import hashlib
import os.path as osp
import pickle
import zipfile
from typing import Any, Dict

import torch

from cg3d_mm.utils.checkpoint import UnsafeCheckpointError, load_weights_only
from cg3d_mm.utils.io import atomic_write


class CheckpointConversionError(ValueError):
    """A source checkpoint that cannot be converted; names the file."""


def read_source_checkpoint(path: str, trust_pickle: bool = False) -> Any:
    """Load a released checkpoint, weights-only unless trusted.

    Args:
        path (str): The file.
        trust_pickle (bool): Load with ``weights_only=False``: only for a
            file whose origin is trusted (unpickling can run code). Released
            training checkpoints often pickle their ``argparse.Namespace``.

    Raises:
        FileNotFoundError: No such file.
        CheckpointConversionError: Unreadable (truncated, not a torch file)
            or holding pickled objects (without ``trust_pickle``).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such file')
    try:
        if trust_pickle:
            return torch.load(path, map_location='cpu', weights_only=False)
        return load_weights_only(path, map_location='cpu')
    except UnsafeCheckpointError as err:
        detail = str(err).split('(', 1)[-1].split(')', 1)[0]
        raise CheckpointConversionError(
            f'{path}: holds pickled objects besides weights ({detail}), so '
            'it was not loaded. If you trust where the file comes from, '
            'rerun with --trust-pickle.') from None
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError,
            zipfile.BadZipFile, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() \
            else type(err).__name__
        raise CheckpointConversionError(
            f'{path}: cannot be read as a torch checkpoint (truncated or '
            f'not written by torch.save?): {first}') from None


def file_sha256(path: str) -> str:
    sha = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            sha.update(block)
    return sha.hexdigest()


def write_converted(path: str, state_dict: Dict[str, torch.Tensor],
                    meta: Dict[str, Any]) -> None:
    """Save ``{'state_dict', 'meta'}`` atomically (no partial file ever).

    The result loads with ``torch.load(weights_only=True)``.
    """
    state_dict = {k: v.detach().cpu().contiguous()
                  for k, v in state_dict.items()}
    atomic_write(path, lambda f: torch.save(
        dict(state_dict=state_dict, meta=meta), f))
