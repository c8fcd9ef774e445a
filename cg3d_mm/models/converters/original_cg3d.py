"""The authors' CG3D checkpoints -> cg3d_mm ``CG3D`` / ``PointClassifier``.

Layout of the original files (github.com/deeptibhegde/CLIP-goes-3D):

* pretraining: ``base_model`` is the point model with its 512-d
  ``projection`` (``pointMLPProject``: kernel-1 ``Conv1d``;
  ``PointTransformerProject``: ``Linear`` plus an unused 55-class
  ``cls_head_finetune``), ``visual_clip_model`` the prompted SLIP image tower
  (timm ViT keys + ``prompt_embeddings`` (1, P, W) and
  ``deep_prompt_embeddings`` (L - 1, P, W)). ``module.`` prefixes (DDP)
  may appear anywhere.
* fine-tuning: ``base_model`` is the classifier (PointMLP's ``classifier``
  Sequential, PointTransformer's ``cls_head_finetune``), no projection.

The maths is the same here (PointMLP's 1x1 convolutions are ``nn.Linear``),
only names and shapes change: a source tensor fits a target when their
dimensions other than 1 agree in order ((O, I, 1) -> (O, I),
(1, 1, 1, C) -> (C,)).
"""
import re
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import Tensor

from cg3d_mm.registry import MODELS

from ..clip.slip import (SLIPConversionError, logit_scale_of,
                         timm_vit_to_open_clip)
from .checkpoint_io import CheckpointConversionError

ENCODERS = ('pointmlp', 'pointtransformer')
_BACKBONE_TYPES = dict(pointmlp='PointMLP',
                       pointtransformer='PointTransformer')

# (original key pattern, cg3d_mm key under ``backbone.``) for PointMLP
_POINTMLP_RULES = [
    (r'embedding\.net\.0\.(\w+)', r'embedding.linear.\1'),
    (r'embedding\.net\.1\.(\w+)', r'embedding.norm.\1'),
    (r'local_grouper_list\.(\d+)\.affine_(alpha|beta)',
     r'groupers.\1.affine_\2'),
    (r'pre_blocks_list\.(\d+)\.transfer\.net\.0\.(\w+)',
     r'local_aggregations.\1.transfer.linear.\2'),
    (r'pre_blocks_list\.(\d+)\.transfer\.net\.1\.(\w+)',
     r'local_aggregations.\1.transfer.norm.\2'),
    (r'pre_blocks_list\.(\d+)\.operation\.(\d+)\.net([12])\.0\.(\w+)',
     r'local_aggregations.\1.blocks.\2.mlp\3.linear.\4'),
    (r'pre_blocks_list\.(\d+)\.operation\.(\d+)\.net([12])\.1\.(\w+)',
     r'local_aggregations.\1.blocks.\2.mlp\3.norm.\4'),
    (r'pos_blocks_list\.(\d+)\.operation\.(\d+)\.net([12])\.0\.(\w+)',
     r'anchor_mlps.\1.\2.mlp\3.linear.\4'),
    (r'pos_blocks_list\.(\d+)\.operation\.(\d+)\.net([12])\.1\.(\w+)',
     r'anchor_mlps.\1.\2.mlp\3.norm.\4'),
]
_POINTMLP_MARK = 'local_grouper_list.'
_POINTTRANSFORMER_MARKS = ('blocks.blocks.', 'encoder.first_conv.')


def _strip_module(state_dict: Dict[str, Any]) -> Dict[str, Any]:
    return {k.replace('module.', ''): v for k, v in state_dict.items()}


def _listing(keys: List[str], limit: int = 6) -> str:
    shown = ', '.join(keys[:limit])
    return shown + (f', ... ({len(keys)} in all)' if len(keys) > limit
                    else '')


def _fit(tensor: Tensor, shape: Tuple[int, ...]) -> Optional[Tensor]:
    """``tensor`` reshaped to ``shape`` when only singleton dims differ."""
    if tuple(tensor.shape) == tuple(shape):
        return tensor
    if [d for d in tensor.shape if d != 1] == [d for d in shape if d != 1]:
        return tensor.reshape(shape)
    return None


def detect_encoder(base_model: Dict[str, Tensor]) -> Optional[str]:
    """'pointmlp', 'pointtransformer' or None, from the original's keys."""
    if any(k.startswith(_POINTMLP_MARK) for k in base_model):
        return 'pointmlp'
    if any(k.startswith(_POINTTRANSFORMER_MARKS) for k in base_model):
        return 'pointtransformer'
    return None


def _backbone_key(encoder: str, key: str) -> Optional[str]:
    if encoder == 'pointtransformer':
        return key
    for pattern, repl in _POINTMLP_RULES:
        if re.fullmatch(pattern, key):
            return re.sub(pattern, repl, key)
    return None


def map_point_encoder(base_model: Dict[str, Tensor], encoder: str,
                      where: str) -> Tuple[Dict[str, Tensor], dict]:
    """Map the original ``base_model`` onto ``backbone.*`` / ``head.*``.

    Args:
        base_model (dict[str, Tensor]): The original point model's state
            dict (``module.`` prefixes already stripped).
        encoder (str): One of :data:`ENCODERS`.
        where (str): Source name for messages.

    Returns:
        tuple[dict, dict]: cg3d_mm keys, and facts: ``mode``
        (``'pretrain'`` with ``head.proj``, ``'classifier'`` with
        ``head.classifier``), ``num_classes``, ``dropped`` keys.

    Raises:
        CheckpointConversionError: Unknown, missing or mis-shaped keys,
            listed by name.
    """
    backbone = MODELS.build(dict(type=_BACKBONE_TYPES[encoder]))
    expected = {k: tuple(v.shape) for k, v in backbone.state_dict().items()}
    mode = 'pretrain' if 'projection.weight' in base_model else 'classifier'
    cls_prefix = 'classifier.' if encoder == 'pointmlp' else \
        'cls_head_finetune.'
    out, unknown, mismatched, dropped = {}, [], [], []
    misfits = set()  # targets of mis-shaped keys: not missing as well
    num_classes = None
    for key, value in base_model.items():
        if key.startswith('projection.'):
            out['head.proj.' + key[len('projection.'):]] = \
                value.reshape(value.shape[0], -1) if key.endswith(
                    'weight') else value
            continue
        if key.startswith(cls_prefix):
            if mode == 'pretrain':
                dropped.append(key)  # PointTransformerProject's unused head
            else:
                out['head.classifier.' + key[len(cls_prefix):]] = value
            continue
        target = _backbone_key(encoder, key)
        if target is None or target not in expected:
            unknown.append(key)
            continue
        fitted = _fit(value, expected[target])
        if fitted is None:
            misfits.add(target)
            mismatched.append(f'{key} {tuple(value.shape)} -> backbone.'
                              f'{target} {expected[target]}')
            continue
        out['backbone.' + target] = fitted
    missing = [k for k in expected
               if 'backbone.' + k not in out and k not in misfits]
    proj = out.get('head.proj.weight')
    if mode == 'pretrain' and proj is not None and \
            proj.shape[1] != backbone.out_channels:
        mismatched.append(f'projection.weight {tuple(proj.shape)}: expects '
                          f'{backbone.out_channels} input channels')
    if mode == 'classifier':
        weights = sorted((k for k in out if k.startswith('head.classifier.')
                          and k.endswith('weight') and out[k].dim() == 2),
                         key=lambda k: int(k.split('.')[2]))
        if not weights:
            missing.append(f'projection.weight or {cls_prefix}*')
        else:
            num_classes = int(out[weights[-1]].shape[0])
    if unknown or missing or mismatched:
        parts = [f'unknown keys: {_listing(unknown)}' if unknown else '',
                 f'missing keys: {_listing(missing)}' if missing else '',
                 f'mis-shaped keys: {_listing(mismatched)}'
                 if mismatched else '']
        raise CheckpointConversionError(
            f'{where}: base_model does not fit cg3d_mm\'s '
            f'{_BACKBONE_TYPES[encoder]} (' +
            '; '.join(p for p in parts if p) + ')')
    return out, dict(mode=mode, num_classes=num_classes, dropped=dropped)


def _prompts(visual: Dict[str, Tensor], where: str,
             clip_state_dict: Optional[Dict[str, Tensor]],
             clip_where: str) -> Tuple[Tensor, bool]:
    """(L or 1, P, W) prompts of the prompted SLIP tower; checks the frozen
    tower against the SLIP CLIP when one is given."""
    visual = _strip_module(visual)
    shallow = visual.pop('prompt_embeddings', None)
    deep = visual.pop('deep_prompt_embeddings', None)
    if shallow is None:
        raise CheckpointConversionError(
            f'{where}: visual_clip_model has no prompt_embeddings (not a '
            'prompted CG3D image tower)')
    try:
        tower, rest = timm_vit_to_open_clip(visual,
                                            where=f'{where} visual_clip_model')
    except SLIPConversionError as err:
        raise CheckpointConversionError(str(err)) from None
    if rest:
        raise CheckpointConversionError(
            f'{where}: unknown visual_clip_model keys: '
            f'{_listing(sorted(rest))}')
    depth = sum(1 for k in tower if k.endswith('.ln_1.weight'))
    width = tower['class_embedding'].shape[0]
    prompts = shallow if deep is None else torch.cat([shallow, deep])
    expected = (depth if deep is not None else 1, shallow.shape[1], width)
    if tuple(prompts.shape) != expected:
        raise CheckpointConversionError(
            f'{where}: prompts {tuple(shallow.shape)} + deep '
            f'{None if deep is None else tuple(deep.shape)} do not fit a '
            f'{depth}-layer, width-{width} tower (expected {expected})')
    if clip_state_dict is not None:
        bad = []
        for k, v in tower.items():
            ref = clip_state_dict.get('visual.' + k)
            if ref is None or ref.shape != v.shape or not torch.equal(
                    ref.float(), v.float()):
                bad.append(k)
        if bad:
            raise CheckpointConversionError(
                f'{where}: its frozen image tower is not the one in '
                f'{clip_where} (differs in {_listing(bad)}): the two files '
                'are not from the same SLIP')
    return prompts, deep is not None


def _not_cg3d_message(obj: Any, where: str) -> str:
    keys = sorted(obj) if isinstance(obj, dict) else []
    msg = (f'{where}: not a CG3D checkpoint of the original code: no '
           f"'base_model' entry (top-level keys: {_listing(keys)})")
    inner = obj.get('state_dict') if isinstance(obj, dict) else None
    if isinstance(inner, dict) and any(
            'image_projection' in k or 'visual.' in k for k in inner):
        msg += ('; it looks like a SLIP / CLIP checkpoint: convert it with '
                'tools/model_converters/slip_to_open_clip.py')
    elif isinstance(inner, dict) and any(
            k.startswith(('backbone.', 'head.')) for k in inner):
        msg += '; it looks like a cg3d_mm checkpoint already'
    return msg


def convert_cg3d_checkpoint(
        checkpoint: Any,
        where: str,
        encoder: Optional[str] = None,
        clip_state_dict: Optional[Dict[str, Tensor]] = None,
        clip_where: str = 'the CLIP checkpoint') -> Tuple[dict, dict]:
    """Convert one loaded original checkpoint.

    Args:
        checkpoint: The loaded file (a dict with ``base_model`` and, for
            pretraining, ``visual_clip_model``).
        where (str): Source name for messages.
        encoder (str, optional): Expected encoder; detected when None.
        clip_state_dict (dict, optional): The converted SLIP (open_clip
            keys): its logit scale is recorded and the frozen image tower of
            ``checkpoint`` must equal its image tower.
        clip_where (str): Name of that file for messages.

    Returns:
        tuple[dict, dict]: The cg3d_mm state dict and a plain ``meta``.
    """
    if not isinstance(checkpoint, dict) or not isinstance(
            checkpoint.get('base_model'), dict):
        raise CheckpointConversionError(_not_cg3d_message(checkpoint, where))
    base = _strip_module(checkpoint['base_model'])
    detected = detect_encoder(base)
    if detected is None:
        raise CheckpointConversionError(
            f'{where}: base_model is neither a PointMLP nor a '
            f'PointTransformer of the original code (keys like '
            f'{_listing(sorted(base), 3)})')
    if encoder is not None and encoder != detected:
        mark = next(k for k in base if k.startswith(
            (_POINTMLP_MARK, ) + _POINTTRANSFORMER_MARKS))
        raise CheckpointConversionError(
            f'{where}: holds a {_BACKBONE_TYPES[detected]} (keys like '
            f'{mark}), not a {_BACKBONE_TYPES[encoder]}: pass --encoder '
            f'{detected} or leave --encoder out')
    state_dict, facts = map_point_encoder(base, detected, where)
    meta = dict(encoder=detected, mode=facts['mode'],
                dropped_keys=facts['dropped'])
    if facts['mode'] == 'classifier':
        meta['num_classes'] = facts['num_classes']
    else:
        visual = checkpoint.get('visual_clip_model')
        if not isinstance(visual, dict):
            raise CheckpointConversionError(
                f'{where}: a pretraining checkpoint (base_model has a '
                'projection) without visual_clip_model (the prompted image '
                'tower)')
        prompts, deep = _prompts(visual, where, clip_state_dict, clip_where)
        state_dict['img_backbone.prompts'] = prompts
        if clip_state_dict is not None:
            scale, source = logit_scale_of(clip_state_dict), clip_where
        else:
            # SLIP clamps its logit scale at ln(100); only losses use it
            scale, source = 100.0, 'default (no --clip given)'
        state_dict['text_encoder.logit_scale'] = torch.tensor(scale)
        state_dict['head.log_logit_scale'] = torch.tensor(scale).log()
        meta.update(num_prompts=int(prompts.shape[1]), deep_prompts=deep,
                    logit_scale=scale, logit_scale_source=source)
    for key in ('epoch', 'best_metrics', 'metrics'):
        value = checkpoint.get(key)
        if isinstance(value, (int, float)) or (isinstance(value, dict) and all(
                isinstance(v, (int, float)) for v in value.values())):
            meta[f'original_{key}'] = value
    return state_dict, meta
