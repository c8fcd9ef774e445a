"""SLIP (Mu et al., 2022) in open_clip: the CLIP CG3D was trained with.

CG3D pretrained its point encoders against SLIP ViT-B/16
(``slip_base_100ep.pt``). SLIP is CLIP's text tower (open_clip key names,
QuickGELU MLPs) next to a timm ``VisionTransformer`` image tower
(``vit_base_patch16_224``, ``num_classes=0``) with a separate
``image_projection``. The image tower differs from open_clip's ViT in ways
that change every output, so the registered ``SLIP-ViT-B-16`` differs from
``ViT-B-16`` in exactly those:

* no LayerNorm before the transformer (``no_ln_pre``);
* LayerNorm eps 1e-6 (timm's) instead of 1e-5;
* GELU in the image MLPs but QuickGELU in the text MLPs (open_clip's
  ``quick_gelu`` flag switches both, see :func:`.archs.apply_arch_extras`);
* ImageNet mean / std as the input normalisation.

timm's patch embedding is a convolution *with* bias while open_clip's
``conv1`` has none. The bias adds the same vector to every patch token
before the positional embedding, so adding it to the positional embedding of
the patch rows (not the CLS row) is exact: :func:`timm_vit_to_open_clip`
folds it there.
"""
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from .archs import register_clip_arch

#: timm / torchvision ImageNet statistics, SLIP's input normalisation.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SLIP_VIT_B_16 = 'SLIP-ViT-B-16'
#: SLIP's self-supervised (SimCLR) head, unused once trained.
SLIP_SSL_PREFIX = 'image_mlp.'


def slip_arch_cfg(embed_dim: int = 512,
                  image_size: int = 224,
                  patch_size: int = 16,
                  vision_width: int = 768,
                  vision_layers: int = 12,
                  vision_heads: int = 12,
                  text_width: int = 512,
                  text_heads: int = 8,
                  text_layers: int = 12,
                  context_length: int = 77) -> dict:
    """open_clip config of a SLIP-style CLIP (defaults: SLIP ViT-B/16).

    Register it with ``register_clip_arch(name, cfg, text_quick_gelu=True,
    mean=IMAGENET_MEAN, std=IMAGENET_STD)``, as :func:`register_slip_archs`
    does; smaller sizes serve tests.
    """
    return dict(
        embed_dim=embed_dim,
        vision_cfg=dict(
            image_size=image_size,
            patch_size=patch_size,
            width=vision_width,
            layers=vision_layers,
            head_width=vision_width // vision_heads,
            mlp_ratio=4.0,
            no_ln_pre=True,
            norm_kwargs=dict(eps=1e-6),
        ),
        text_cfg=dict(
            context_length=context_length,
            vocab_size=49408,
            width=text_width,
            heads=text_heads,
            layers=text_layers,
        ),
    )


def register_slip_arch(name: str, cfg: dict, force: bool = False) -> None:
    """Register a SLIP-style config (QuickGELU text, ImageNet stats)."""
    register_clip_arch(name, cfg, force=force, text_quick_gelu=True,
                       mean=IMAGENET_MEAN, std=IMAGENET_STD)


def register_slip_archs() -> None:
    """Register ``SLIP-ViT-B-16`` with open_clip (idempotent)."""
    register_slip_arch(SLIP_VIT_B_16, slip_arch_cfg(), force=True)


class SLIPConversionError(ValueError):
    """A state dict that is not in the layout a converter expects."""


def _take(state_dict: Dict[str, Tensor], key: str, where: str) -> Tensor:
    if key not in state_dict:
        raise SLIPConversionError(f'{where}: missing key {key!r}')
    return state_dict.pop(key)


def timm_vit_to_open_clip(state_dict: Dict[str, Tensor],
                          proj: Optional[Tensor] = None,
                          where: str = 'timm ViT'
                          ) -> Tuple[Dict[str, Tensor], Dict[str, Tensor]]:
    """Map a timm ``VisionTransformer`` state dict onto open_clip's ViT.

    Args:
        state_dict (dict[str, Tensor]): timm keys (``cls_token``,
            ``pos_embed``, ``patch_embed.proj.*``, ``blocks.{i}.*``,
            ``norm.*``), a class-token ViT without pre-norm or head. Not
            modified.
        proj (Tensor, optional): (width, embed_dim) projection applied after
            the final norm (SLIP's ``image_projection``); becomes ``proj``.
        where (str): Name of the source, for error messages.

    Returns:
        tuple[dict, dict]: open_clip ``VisionTransformer`` keys (no
        ``visual.`` prefix) and the source entries that were not used.

    Raises:
        SLIPConversionError: A required key is missing or the tower has a
            part open_clip's ViT cannot hold (pre-norm, head, ...).
    """
    sd = dict(state_dict)
    out = {}
    pos = _take(sd, 'pos_embed', where)  # (1, 1 + N, W)
    cls_token = _take(sd, 'cls_token', where)  # (1, 1, W)
    weight = _take(sd, 'patch_embed.proj.weight', where)
    bias = sd.pop('patch_embed.proj.bias', None)
    pos = pos.reshape(pos.shape[-2], pos.shape[-1]).clone()
    if bias is not None:
        # conv(x) + b + pos == conv(x) + (pos + b) on every patch row
        pos[1:] += bias
    out['class_embedding'] = cls_token.reshape(-1)
    out['positional_embedding'] = pos
    out['conv1.weight'] = weight
    depth = 0
    while f'blocks.{depth}.norm1.weight' in sd:
        src, dst = f'blocks.{depth}.', f'transformer.resblocks.{depth}.'
        for a, b in (('norm1', 'ln_1'), ('norm2', 'ln_2'),
                     ('attn.qkv', 'attn.in_proj'),
                     ('attn.proj', 'attn.out_proj'), ('mlp.fc1', 'mlp.c_fc'),
                     ('mlp.fc2', 'mlp.c_proj')):
            for p in ('weight', 'bias'):
                name = (f'{b}_{p}' if b == 'attn.in_proj' else f'{b}.{p}')
                out[dst + name] = _take(sd, f'{src}{a}.{p}', where)
        depth += 1
    if depth == 0:
        raise SLIPConversionError(f'{where}: no transformer blocks '
                                  "('blocks.0.norm1.weight' is missing)")
    for p in ('weight', 'bias'):
        out[f'ln_post.{p}'] = _take(sd, f'norm.{p}', where)
    if proj is not None:
        out['proj'] = proj
    unsupported = [k for k in sd if k.split('.')[0] in (
        'norm_pre', 'fc_norm', 'head', 'pre_logits', 'reg_token')]
    if unsupported:
        raise SLIPConversionError(
            f'{where}: parts open_clip\'s ViT has no place for: '
            f'{unsupported[:5]}')
    return out, sd


def slip_to_open_clip(state_dict: Dict[str, Tensor],
                      where: str = 'SLIP checkpoint') -> Dict[str, Tensor]:
    """Convert a SLIP CLIP state dict into an open_clip ``CLIP`` one.

    Args:
        state_dict (dict[str, Tensor]): SLIP's ``state_dict`` (``module.``
            prefixes allowed): ``visual.*`` (timm ViT), ``image_projection``,
            the CLIP text tower (``token_embedding``, ``transformer.*``, ...)
            and ``logit_scale``. SLIP's SSL head (``image_mlp.*``) is
            dropped.
        where (str): Name of the source, for error messages.

    Returns:
        dict[str, Tensor]: Keys of an open_clip ``CLIP`` built from a
        :func:`slip_arch_cfg` architecture.

    Raises:
        SLIPConversionError: Missing parts, or keys no CLIP part explains
            (listed by name).
    """
    sd = {(k[len('module.'):] if k.startswith('module.') else k): v
          for k, v in state_dict.items()}
    visual = {k[len('visual.'):]: sd.pop(k) for k in list(sd)
              if k.startswith('visual.')}
    if not visual:
        raise SLIPConversionError(f'{where}: no image tower (visual.*)')
    proj = _take(sd, 'image_projection', where)
    vis, rest = timm_vit_to_open_clip(visual, proj, where + ' visual')
    if rest:
        raise SLIPConversionError(
            f'{where}: unexpected image-tower keys {sorted(rest)[:5]}')
    out = {'visual.' + k: v for k, v in vis.items()}
    text_keys = ('token_embedding.', 'positional_embedding', 'transformer.',
                 'ln_final.', 'text_projection', 'logit_scale')
    for k in list(sd):
        if k.startswith(text_keys):
            out[k] = sd.pop(k)
        elif k.startswith(SLIP_SSL_PREFIX):
            sd.pop(k)
    for k in ('token_embedding.weight', 'positional_embedding',
              'text_projection', 'logit_scale', 'ln_final.weight'):
        if k not in out:
            raise SLIPConversionError(f'{where}: missing key {k!r}')
    if sd:
        raise SLIPConversionError(
            f'{where}: keys that are no part of SLIP\'s CLIP: '
            f'{sorted(sd)[:5]}' + (f' ({len(sd)} in all)'
                                   if len(sd) > 5 else ''))
    return {k: v.detach().clone().contiguous() for k, v in out.items()}


def slip_state_dict_info(state_dict: Dict[str, Tensor]) -> dict:
    """Sizes of a converted SLIP state dict (for messages and checks)."""
    pos = state_dict['visual.positional_embedding']
    conv = state_dict['visual.conv1.weight']
    return dict(
        vision_width=int(conv.shape[0]),
        patch_size=int(conv.shape[-1]),
        num_patches=int(pos.shape[0]) - 1,
        embed_dim=int(state_dict['visual.proj'].shape[1]),
        text_width=int(state_dict['token_embedding.weight'].shape[1]))


def logit_scale_of(state_dict: Dict[str, Tensor]) -> float:
    """``exp(logit_scale)`` clamped to 100, as CLIP and SLIP use it."""
    value = torch.as_tensor(state_dict['logit_scale']).float().exp()
    return float(value.clamp(max=100.).reshape(()))
