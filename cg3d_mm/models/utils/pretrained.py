"""Loud loading of pretrained (CG3D) weights into a downstream module.

mmengine's ``init_cfg=dict(type='Pretrained', prefix=...)`` keeps the keys
under the prefix and loads them with ``strict=False``: a wrong prefix, a
renamed layer or a different width is only written to the log as "missing
keys" and the model trains from a half-random initialisation. The
``CG3DPretrained`` initializer registered here loads through
:func:`~cg3d_mm.models.utils.checkpoint_loader.load_model_checkpoint`, the
loader every cg3d_mm entry point uses (weights-only, explicit prefix, loud
on missing / unexpected / mis-shaped keys), with ``strict=False`` by
default: incompatible keys are a :class:`PretrainedKeysWarning` (and in the
log) unless ``strict=True``. ``zero_pad_in_channels`` lets a CG3D xyz
encoder initialise a detector backbone that also reads a height channel.
On top of the loader, the initializer keeps the submodules' own
``init_weights`` from overwriting the loaded tensors
(:func:`protect_loaded`) and must be the last initializer of its module.

Usage::

    backbone=dict(type='PointMLP', init_cfg=dict(
        type='CG3DPretrained', checkpoint='work_dirs/.../epoch_100.pth',
        prefix='backbone.', strict=True))
"""
from typing import Dict, Optional, Sequence

import torch
from mmengine.model.weight_init import update_init_info
from torch import Tensor, nn

# the cg3d_mm scope's registry: found under default_scope='cg3d_mm' (the
# configs') or as 'cg3d_mm.CG3DPretrained' from another scope.
from cg3d_mm.registry import WEIGHT_INITIALIZERS

from .checkpoint_loader import LoadReport, load_model_checkpoint

INIT_TYPE = 'CG3DPretrained'


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
            :func:`~.checkpoint_loader.load_pretrained_state`.
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
        report = load_model_checkpoint(
            module, self.checkpoint, self.prefix, self.strict,
            self.zero_pad_in_channels, self.map_location)
        where = f'{self.checkpoint}' + (f' [{self.prefix}]'
                                        if self.prefix else '')
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
