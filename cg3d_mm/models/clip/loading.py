"""Build a frozen-CLIP source for CG3D with open_clip.

Two ways to get weights, both kept as users need them:

* ``pretrained='<tag>'`` (e.g. ``'laion2b_s34b_b88k'`` with ``ViT-B-16``,
  ``'openai'`` with ``ViT-B-16-quickgelu``): open_clip downloads and loads
  the weights itself; a tag trained with another activation than the arch
  is refused (open_clip would only warn).
* ``checkpoint='<file>'``: a local open_clip / OpenAI-layout state dict, bare
  or wrapped as ``{'state_dict': ...}``, read with
  ``torch.load(weights_only=True)`` and checked key by key against the named
  architecture, so a wrong file fails with a readable message.

The image backbone and the text encoder are both built from the same CLIP.
:func:`build_clip` therefore keeps loaded models in a weak cache keyed by
(model name, weights source, options): while a tower built from a CLIP is
alive, building the other tower from the same config reuses it instead of
reading the file a second time.
"""
import contextlib
import difflib
import logging
import os
import os.path as osp
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import open_clip
import torch
from torch import nn

from cg3d_mm.utils.assets import resolve_asset

from .archs import apply_arch_extras  # importing registers the built-ins

_OPENAI_EXTRA_KEYS = ('input_resolution', 'context_length', 'vocab_size')


class CLIPCheckpointError(ValueError):
    """A CLIP checkpoint file that cannot be loaded into the named arch."""


@dataclass(eq=False)
class CLIPBundle:
    """A loaded open_clip model and the facts needed to feed it.

    Attributes:
        model (nn.Module): The open_clip ``CLIP`` / ``CustomTextCLIP`` model,
            in eval mode.
        tokenizer (Callable): open_clip tokenizer for the model:
            ``list[str] -> LongTensor (T, context_length)``.
        image_size (tuple[int, int]): Input (H, W) of the image tower.
        mean (tuple[float, ...]): Per-channel mean of the image
            normalisation, in [0, 1] pixel units.
        std (tuple[float, ...]): Per-channel std of the image normalisation.
        model_name (str): open_clip architecture name.
        pretrained (str, optional): open_clip pretrained tag, if any.
        checkpoint (str, optional): Local checkpoint path, if any.
    """
    model: nn.Module
    tokenizer: Callable
    image_size: Tuple[int, int]
    mean: Tuple[float, ...]
    std: Tuple[float, ...]
    model_name: str
    pretrained: Optional[str] = None
    checkpoint: Optional[str] = None


# (name, pretrained, checkpoint identity, options) -> bundle, alive only as
# long as something (a tower module) holds the bundle.
_BUNDLES: 'weakref.WeakValueDictionary[tuple, CLIPBundle]' = \
    weakref.WeakValueDictionary()


def clear_clip_cache() -> None:
    """Forget all cached CLIP models (the next build loads afresh)."""
    _BUNDLES.clear()


@contextlib.contextmanager
def _quiet_random_init_warning(active: bool):
    """Hide open_clip's 'initialized randomly' warning when we load the
    weights ourselves right after creating the model."""

    def drop(record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith('No pretrained weights')

    logger = logging.getLogger()
    if active:
        logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


def _check_model_name(model_name: str) -> None:
    if model_name.startswith(('hf-hub:', 'local-dir:')):
        return  # open_clip resolves these itself
    known = open_clip.list_models()
    if model_name.replace('/', '-') not in known:
        close = difflib.get_close_matches(model_name, known, n=5, cutoff=0.5)
        raise ValueError(
            f'Unknown open_clip architecture {model_name!r}. Close matches: '
            f'{close}. See open_clip.list_models(), or add one with '
            'cg3d_mm.models.clip.register_clip_arch().')


def _check_pretrained_tag(model_name: str, tag: str,
                          force_quick_gelu: bool = False) -> None:
    """The tag exists for the arch, and both agree on QuickGELU.

    open_clip only warns when a tag trained with QuickGELU (OpenAI's, for
    instance) is loaded into a GELU model; both CLIP towers then run with
    the wrong activation. Here that is an error naming the right model.
    """
    if model_name.startswith(('hf-hub:', 'local-dir:')):
        return
    name = model_name.replace('/', '-')
    if not open_clip.pretrained.is_pretrained_cfg(name, tag):
        tags = open_clip.list_pretrained_tags_by_model(name)
        raise ValueError(
            f'open_clip has no pretrained tag {tag!r} for {model_name!r}; '
            f'known tags: {tags}. For a local weights file use '
            'checkpoint=<path> instead.')
    tag_quick = bool(open_clip.pretrained.get_pretrained_cfg(name, tag).get(
        'quick_gelu', False))
    model_quick = force_quick_gelu or bool(
        (open_clip.get_model_config(name) or {}).get('quick_gelu', False))
    if tag_quick == model_quick:
        return
    if tag_quick:
        fix = (f"model_name='{name}-quickgelu'"
               if f'{name}-quickgelu' in open_clip.list_models() else
               'force_quick_gelu=True')
        raise ValueError(
            f'open_clip\'s {tag!r} weights for {model_name!r} were trained '
            f'with QuickGELU, but {model_name!r} builds GELU towers: both '
            f'CLIP towers would be silently degraded. Use {fix} with '
            f'pretrained={tag!r}.')
    base = name[:-len('-quickgelu')] if name.endswith('-quickgelu') else None
    fix = (f"model_name='{base}'" if base in open_clip.list_models() else
           'an architecture without QuickGELU')
    raise ValueError(
        f'open_clip\'s {tag!r} weights for {model_name!r} were trained with '
        f'GELU, but {model_name!r} builds QuickGELU towers'
        + (' (force_quick_gelu=True)' if force_quick_gelu else '')
        + f'. Use {fix} with pretrained={tag!r}.')


def read_clip_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """Read a CLIP state dict from a local file, safely.

    Accepts a bare state dict or ``{'state_dict': state_dict, ...}``; strips
    ``module.`` prefixes (DDP) and the non-tensor entries OpenAI's files carry
    (``input_resolution``, ``context_length``, ``vocab_size``).

    Args:
        path (str): File written with ``torch.save``.

    Returns:
        dict[str, Tensor]: The state dict.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'CLIP checkpoint file not found: {path!r}')
    try:
        obj = torch.load(path, map_location='cpu', weights_only=True)
    except RuntimeError as e:
        if 'TorchScript' in str(e):
            raise CLIPCheckpointError(
                f'{path!r} is a TorchScript archive (like OpenAI\'s original '
                '.pt files), which cannot be read with weights_only=True. '
                "Use pretrained='openai' with a '-quickgelu' arch (e.g. "
                "model_name='ViT-B-16-quickgelu'; open_clip loads those "
                'itself) or re-save its state_dict() with torch.save.'
            ) from None
        raise CLIPCheckpointError(
            f'Cannot read CLIP checkpoint {path!r}: {e}') from e
    except Exception as e:  # unpickling refused / corrupt file
        raise CLIPCheckpointError(
            f'Cannot read CLIP checkpoint {path!r} with '
            f'torch.load(weights_only=True): {e}') from e
    if isinstance(obj, dict) and isinstance(obj.get('state_dict'), dict):
        obj = obj['state_dict']
    if not isinstance(obj, dict) or not obj:
        raise CLIPCheckpointError(
            f'{path!r} does not hold a state dict (got {type(obj).__name__}).')
    state_dict = {}
    for k, v in obj.items():
        if k.startswith('module.'):
            k = k[len('module.'):]
        if k in _OPENAI_EXTRA_KEYS:
            continue  # metadata of OpenAI's files, not weights
        if not torch.is_tensor(v):
            raise CLIPCheckpointError(
                f'{path!r}: entry {k!r} is a {type(v).__name__}, not a '
                'tensor; expected a CLIP state dict.')
        state_dict[k] = v
    return state_dict


def _describe(keys: List[str], limit: int = 5) -> str:
    shown = ', '.join(keys[:limit])
    more = f', ... ({len(keys)} in all)' if len(keys) > limit else ''
    return shown + more


def load_clip_checkpoint(model: nn.Module,
                         path: str,
                         model_name: str = '?') -> None:
    """Load a local CLIP checkpoint into ``model``, strictly.

    Args:
        model (nn.Module): open_clip ``CLIP`` or ``CustomTextCLIP``.
        path (str): Checkpoint file (see :func:`read_clip_state_dict`).
        model_name (str): Architecture name, used in error messages.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        CLIPCheckpointError: The file is unreadable or its keys / shapes do
            not match the architecture (the message names the file, the arch
            and the first offending keys).
    """
    state_dict = read_clip_state_dict(path)
    # text tower stored flat (CLIP layout) but the model keeps it in `.text`
    if hasattr(model, 'text') and 'text_projection' in state_dict:
        state_dict = open_clip.model.convert_to_custom_text_state_dict(
            state_dict)
    own = model.state_dict()
    # logit_scale saved as a scalar vs a 1-element vector: same value
    for key in ('logit_scale', 'logit_bias'):
        if key in state_dict and key in own and \
                state_dict[key].numel() == own[key].numel():
            state_dict[key] = state_dict[key].reshape(own[key].shape)

    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    mismatched = [
        f'{k}: file {tuple(v.shape)} vs model {tuple(own[k].shape)}'
        for k, v in state_dict.items()
        if k in own and tuple(v.shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f'missing keys: {_describe(missing)}')
        if unexpected:
            parts.append(f'unexpected keys: {_describe(unexpected)}')
        if mismatched:
            parts.append(f'shape mismatches: {_describe(mismatched)}')
        raise CLIPCheckpointError(
            f'CLIP checkpoint {path!r} does not fit the open_clip '
            f'architecture {model_name!r}: ' + '; '.join(parts))
    model.load_state_dict(state_dict, strict=True)


def preprocess_facts(model: nn.Module) -> Tuple[tuple, tuple, tuple]:
    """Image (H, W), mean and std of an open_clip model or image tower."""
    cfg = open_clip.get_model_preprocess_cfg(model)
    visual = getattr(model, 'visual', model)
    size = cfg.get('size', getattr(visual, 'image_size', 224))
    if isinstance(size, int):
        size = (size, size)
    mean = tuple(cfg.get('mean', open_clip.OPENAI_DATASET_MEAN))
    std = tuple(cfg.get('std', open_clip.OPENAI_DATASET_STD))
    return tuple(size), mean, std


def build_clip(model_name: str,
               pretrained: Optional[str] = None,
               checkpoint: Optional[str] = None,
               cache_dir: Optional[str] = None,
               shared: bool = True,
               random_init: bool = False,
               **create_kwargs) -> CLIPBundle:
    """Create an open_clip model and load its weights.

    Args:
        model_name (str): open_clip architecture, e.g. ``'ViT-B-16'`` or a
            name added with :func:`register_clip_arch` (``'cg3d-tiny-vit'``).
            OpenAI weights were trained with QuickGELU: use the
            ``'-quickgelu'`` arch names (or ``force_quick_gelu=True``) with
            them; a tag whose activation differs from the arch's is an
            error. ``'SLIP-ViT-B-16'`` is the SLIP CLIP of the original
            CG3D (weights from
            ``tools/model_converters/slip_to_open_clip.py``).
        pretrained (str, optional): open_clip pretrained tag; open_clip
            downloads the weights (into ``cache_dir``).
        checkpoint (str, optional): Local weights file. Exclusive with
            ``pretrained``. Neither: random weights (tests only).
        cache_dir (str, optional): open_clip download directory.
        shared (bool): Reuse a model already built with the same arguments
            and still held by someone (e.g. the image tower when building
            the text tower). Defaults to True.
        random_init (bool): Random weights are intended (a CLIP about to
            be trained, e.g. the demo CLIP): no "initialized randomly"
            warning. Defaults to False.
        **create_kwargs: Extra options of ``open_clip.create_model``
            (``force_quick_gelu``, ``force_image_size``, ``precision``...).

    Returns:
        CLIPBundle: Model (eval mode) plus tokenizer and image preprocessing.
    """
    if pretrained and checkpoint:
        raise ValueError(
            'Pass either pretrained=<tag> or checkpoint=<file>, not both.')
    if pretrained and osp.isfile(pretrained):
        # a path given as `pretrained`: route it through the checked loader
        pretrained, checkpoint = None, pretrained
    _check_model_name(model_name)
    if checkpoint is not None:
        checkpoint = osp.abspath(osp.expanduser(checkpoint))
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(
                f'CLIP checkpoint file not found: {checkpoint!r}')
        stat = os.stat(checkpoint)
        source = ('file', checkpoint, stat.st_mtime_ns, stat.st_size)
    else:
        source = ('tag', pretrained)
    key = (model_name, source, tuple(sorted(
        (k, repr(v)) for k, v in create_kwargs.items())))
    if shared:
        bundle = _BUNDLES.get(key)
        if bundle is not None:
            return bundle

    if pretrained:
        _check_pretrained_tag(model_name, pretrained,
                              bool(create_kwargs.get('force_quick_gelu')))
        try:
            model = open_clip.create_model(
                model_name, pretrained=pretrained, cache_dir=cache_dir,
                **create_kwargs)
        except RuntimeError as e:
            raise RuntimeError(
                f'open_clip could not load {model_name!r} with pretrained='
                f'{pretrained!r} ({e}). Without network access, download the '
                'weights elsewhere and pass checkpoint=<local file>.') from e
        apply_arch_extras(model, model_name)
    else:
        with _quiet_random_init_warning(checkpoint is not None
                                        or random_init):
            model = open_clip.create_model(
                model_name, pretrained=None, **create_kwargs)
        apply_arch_extras(model, model_name)
        if checkpoint is not None:
            load_clip_checkpoint(model, checkpoint, model_name)
    model.eval()

    image_size, mean, std = preprocess_facts(model)
    bundle = CLIPBundle(
        model=model,
        tokenizer=open_clip.get_tokenizer(model_name),
        image_size=image_size,
        mean=mean,
        std=std,
        model_name=model_name,
        pretrained=pretrained,
        checkpoint=checkpoint)
    if shared:
        _BUNDLES[key] = bundle
    return bundle


def build_clip_from_cfg(cfg: Any) -> CLIPBundle:
    """:func:`build_clip` from a config dict (or an already built bundle).

    Args:
        cfg (dict | CLIPBundle): ``dict(model_name=..., pretrained=...,
            checkpoint=..., ...)`` as written in mmengine configs. The CPU
            demo's ``dict(model_name='cg3d-tiny-vit', demo=dict(...))``
            takes its checkpoint from
            the ``demo_clip`` asset of :mod:`cg3d_mm.datagen` (trained once on
            the synthetic renders, then loaded like any local checkpoint).
    """
    if isinstance(cfg, CLIPBundle):
        return cfg
    if not isinstance(cfg, dict) or 'model_name' not in cfg:
        raise TypeError(
            "clip must be a dict like dict(model_name='ViT-B-16-quickgelu', "
            f"pretrained='openai') or a CLIPBundle, got {cfg!r}")
    cfg = dict(cfg)
    demo = cfg.pop('demo', None)
    if demo is not None:
        if cfg.get('pretrained') or cfg.get('checkpoint'):
            raise ValueError('clip: `demo` trains its own weights; remove '
                             'pretrained/checkpoint, or remove demo')
        cfg['checkpoint'] = resolve_asset(
            'demo_clip', model_name=cfg['model_name'], **dict(demo))
    return build_clip(**cfg)
