"""Slim, weights-only checkpoints named by their sha256 (model-zoo style)."""
import hashlib
import os
import os.path as osp
import tempfile
from typing import Optional, Sequence

import torch

from ..version import __version__
from .checkpoint import load_weights_only

PLAIN_META_KEYS = ('epoch', 'iter', 'seed', 'experiment_name', 'time',
                   'mmengine_version', 'cg3d_mm_version', 'dataset_meta',
                   'cfg')


def _plain(value):
    """True when ``value`` holds only types a weights-only load accepts."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def slim_checkpoint(checkpoint: dict,
                    keep_prefix: Optional[Sequence[str]] = None,
                    strip_prefix: Optional[str] = None) -> dict:
    """Return ``{'state_dict': ..., 'meta': ...}`` with only plain values."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise ValueError('the checkpoint has no state_dict of tensors')
    if keep_prefix:
        state_dict = {k: v for k, v in state_dict.items()
                      if any(k.startswith(p) for p in keep_prefix)}
        if not state_dict:
            raise ValueError(f'no state_dict key starts with {keep_prefix}')
    if strip_prefix:
        state_dict = {(k[len(strip_prefix):] if k.startswith(strip_prefix)
                       else k): v for k, v in state_dict.items()}
    meta = {k: v for k, v in checkpoint.get('meta', {}).items()
            if k in PLAIN_META_KEYS and _plain(v)}
    meta['cg3d_mm_version'] = __version__
    # contiguous CPU copies: no views into the optimizer-laden original
    state_dict = {k: v.detach().cpu().clone() for k, v in state_dict.items()}
    return {'state_dict': state_dict, 'meta': meta}


def publish_checkpoint(in_file: str,
                       out_file: str,
                       keep_prefix: Optional[Sequence[str]] = None,
                       strip_prefix: Optional[str] = None,
                       trust_pickle: bool = False) -> str:
    """Write a slim checkpoint of ``in_file``; return its final path.

    The file is written to a temporary name and renamed once complete, as
    ``<out_file stem>-<sha256[:8]>.pth``.
    """
    if trust_pickle:
        checkpoint = torch.load(in_file, map_location='cpu',
                                weights_only=False)
    else:
        checkpoint = load_weights_only(in_file, map_location='cpu')
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{in_file}: expected a dict checkpoint, got '
                         f'{type(checkpoint).__name__}')
    slim = slim_checkpoint(checkpoint, keep_prefix, strip_prefix)
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix='.pth', dir=out_dir)
    os.close(fd)
    try:
        torch.save(slim, tmp)
        sha = hashlib.sha256()
        with open(tmp, 'rb') as f:
            for block in iter(lambda: f.read(1 << 20), b''):
                sha.update(block)
        stem = out_file[:-4] if out_file.endswith('.pth') else out_file
        final = f'{stem}-{sha.hexdigest()[:8]}.pth'
        os.replace(tmp, final)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return final
