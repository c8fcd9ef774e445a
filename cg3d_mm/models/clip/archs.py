"""Run-time registration of open_clip architectures.

open_clip builds models from a name -> config registry
(``open_clip.factory._MODEL_CONFIGS``) that it fills from the JSON files in
its ``model_configs/`` folder. Its public hook, ``open_clip.add_model_config``,
only accepts JSON files or folders and rescans them; a rescan only *adds*
entries, so configs inserted here directly survive it. After registration
the name works everywhere open_clip takes a model name
(``create_model``, ``get_tokenizer``, ``get_model_config``, ``list_models``).

Two facts of ported models have no place in open_clip's config and are kept
here, per architecture name, and applied by :func:`apply_arch_extras` right
after open_clip builds the model: a text tower with QuickGELU under a GELU
image tower (open_clip's ``quick_gelu`` switches both towers at once; SLIP
needs one of each) and the image normalisation of models that were not
trained with CLIP's mean/std.
"""
import copy
from typing import Any, Dict, Optional, Sequence

import open_clip
from open_clip import factory as _oc_factory
from open_clip.transformer import QuickGELU
from torch import nn

#: A small CLIP for the CPU demo and the tests: 64x64 images cut into 16x16
#: patches (16 tokens + CLS), image tower 4 layers x width 192 (4 heads),
#: text tower 3 layers x width 128 (4 heads) over 20 tokens (the longest
#: caption of the demo's templates x class names is 13 tokens), 256-d
#: embeddings. Coarse patches make it trainable from scratch on a few
#: hundred renders on a CPU (8x8 patches learnt far slower).
CG3D_TINY_VIT: Dict[str, Any] = dict(
    embed_dim=256,
    vision_cfg=dict(
        image_size=64,
        patch_size=16,
        width=192,
        layers=4,
        head_width=48,  # 4 heads
        mlp_ratio=4.0,
    ),
    text_cfg=dict(
        context_length=20,
        vocab_size=49408,
        width=128,
        heads=4,
        layers=3,
    ),
)


# name -> dict(text_quick_gelu=bool, mean=tuple | None, std=tuple | None)
_ARCH_EXTRAS: Dict[str, Dict[str, Any]] = {}


def register_clip_arch(name: str,
                       cfg: Dict[str, Any],
                       force: bool = False,
                       text_quick_gelu: bool = False,
                       mean: Optional[Sequence[float]] = None,
                       std: Optional[Sequence[float]] = None) -> None:
    """Add an architecture config to open_clip's model registry.

    Args:
        name (str): Model name, as later passed to ``open_clip.create_model``
            or :func:`build_clip`.
        cfg (dict): An open_clip model config, i.e. the content of one of
            open_clip's ``model_configs/*.json`` files: ``embed_dim``,
            ``vision_cfg``, ``text_cfg`` and optional extras such as
            ``quick_gelu``.
        force (bool): Replace an existing config of that name. Without it,
            re-registering the same config is a no-op and registering a
            different one raises. Defaults to False.
        text_quick_gelu (bool): QuickGELU in the text tower only (the image
            tower keeps what ``cfg['quick_gelu']`` says). Defaults to False.
        mean, std (Sequence[float], optional): Image normalisation (pixel
            values in [0, 1]) when it is not CLIP's.
    """
    required = ('embed_dim', 'vision_cfg', 'text_cfg')
    missing = [k for k in required if k not in cfg]
    if missing:
        raise ValueError(f'open_clip config for {name!r} lacks {missing}.')
    registry = getattr(_oc_factory, '_MODEL_CONFIGS', None)
    if not isinstance(registry, dict):
        raise RuntimeError(
            'This open_clip version has no open_clip.factory._MODEL_CONFIGS '
            'registry; register the architecture with '
            'open_clip.add_model_config(<json file>) instead.')
    if (mean is None) != (std is None):
        raise ValueError(f'{name!r}: give both mean and std, or neither.')
    extras = dict(text_quick_gelu=bool(text_quick_gelu),
                  mean=None if mean is None else tuple(mean),
                  std=None if std is None else tuple(std))
    old = registry.get(name)
    changed = old is not None and (
        old != cfg or _ARCH_EXTRAS.get(name, _NO_EXTRAS) != extras)
    if changed and not force:
        raise ValueError(
            f'open_clip already has a different architecture named {name!r}; '
            'pass force=True to replace it.')
    # deep copy: open_clip mutates the configs it is handed
    registry[name] = copy.deepcopy(cfg)
    if extras == _NO_EXTRAS:
        _ARCH_EXTRAS.pop(name, None)
    else:
        _ARCH_EXTRAS[name] = extras


_NO_EXTRAS = dict(text_quick_gelu=False, mean=None, std=None)


def apply_arch_extras(model: nn.Module, name: str) -> nn.Module:
    """Apply what :func:`register_clip_arch` recorded beyond open_clip's
    config to a freshly built open_clip model (in place).

    Args:
        model (nn.Module): ``open_clip.CLIP`` / ``CustomTextCLIP`` built from
            the architecture ``name``.
        name (str): The architecture name.

    Returns:
        nn.Module: ``model``.
    """
    extras = _ARCH_EXTRAS.get(name.replace('/', '-'))
    if not extras:
        return model
    if extras['text_quick_gelu']:
        text = getattr(model, 'text', model)
        blocks = [blk for blk in text.transformer.resblocks
                  if isinstance(getattr(blk.mlp, 'gelu', None), nn.GELU)]
        if len(blocks) != len(text.transformer.resblocks):
            raise RuntimeError(
                f'{name!r}: expected GELU MLPs in every text block to turn '
                'into QuickGELU; this open_clip builds them differently.')
        for blk in blocks:
            blk.mlp.gelu = QuickGELU()
    if extras['mean'] is not None:
        cfg = dict(open_clip.get_model_preprocess_cfg(model))
        cfg.update(mean=extras['mean'], std=extras['std'])
        open_clip.model.set_model_preprocess_cfg(model, cfg)
    return model


def _register_builtin_archs() -> None:
    register_clip_arch('cg3d-tiny-vit', CG3D_TINY_VIT, force=True)
    assert 'cg3d-tiny-vit' in open_clip.list_models()
    # imported here: slip.py builds on register_clip_arch
    from .slip import register_slip_archs
    register_slip_archs()


_register_builtin_archs()
