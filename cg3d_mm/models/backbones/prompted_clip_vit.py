"""CLIP image tower with deep visual prompts (VPT-deep), as used by CG3D.

The CLIP weights stay frozen; only ``num_prompts`` tokens per layer learn.
Token layout inside the transformer (B images, P prompts, N patches)::

    [CLS, prompt_1 .. prompt_P, patch_1 .. patch_N]

Where the prompts enter, relative to open_clip's ``VisionTransformer``:
``_embeds`` patchifies, prepends CLS, adds the positional embedding and then
applies ``ln_pre`` to the whole sequence. The prompts are inserted *after*
``_embeds``: they get no position (as in CG3D / VPT) and are not passed
through ``ln_pre``, so the first layer's prompts are treated exactly like the
deeper layers' ones, which replace residual-stream tokens that were never
normalised either. The image features are the CLS token after ``ln_post``
and the projection, i.e. what ``CLIP.encode_image`` returns (unnormalised).

open_clip's plain ``ResidualAttentionBlock``s are run through
:func:`residual_attention_block` (same weights and maths, faster with
autograd on CPU), so forward hooks registered on those block modules do not
fire; hook their submodules (``ln_1``, ``attn.out_proj``, ``mlp``...) or
this module instead.
"""
import math
from typing import Optional

import torch
from mmengine.model import BaseModule
from open_clip.transformer import ResidualAttentionBlock, VisionTransformer
from torch import Tensor, nn
from torch.nn import functional as F
from torch.utils.checkpoint import checkpoint

from cg3d_mm.registry import MODELS

from ..clip.loading import build_clip_from_cfg, preprocess_facts


def _plain_block(block: nn.Module) -> bool:
    """Whether :func:`residual_attention_block` computes ``block`` exactly."""
    attn = getattr(block, 'attn', None)
    return (type(block) is ResidualAttentionBlock
            and not hasattr(block, 'ln_1_kv')
            and isinstance(attn, nn.MultiheadAttention)
            and attn.batch_first and attn._qkv_same_embed_dim
            and attn.in_proj_weight is not None and attn.bias_k is None
            and attn.dropout == 0.)


def residual_attention_block(block: ResidualAttentionBlock, x: Tensor,
                             cls_only: bool = False) -> Tensor:
    """open_clip's ``ResidualAttentionBlock.forward`` on batch-first tokens.

    Same weights and maths, written out because ``nn.MultiheadAttention``
    transposes batch-first inputs to (L, B, D) before its input projection:
    with autograd on (prompt training) that strided input sends the
    projection through a batched matmul with an expanded weight, slower on
    CPU than the plain matmul used here.

    Args:
        block (ResidualAttentionBlock): A block accepted by
            :func:`_plain_block`.
        x (Tensor): (B, L, D) tokens.
        cls_only (bool): Compute only the first (CLS) token's output: its
            query still attends to every token, but the other L - 1 tokens
            skip the query, output projection and MLP. Exact for the last
            block of a CLS-pooled tower, whose other outputs are unused.

    Returns:
        Tensor: (B, L, D), or (B, 1, D) with ``cls_only``.
    """
    attn = block.attn
    batch, length, dim = x.shape
    heads = attn.num_heads
    h = block.ln_1(x)
    w, b = attn.in_proj_weight, attn.in_proj_bias
    if cls_only:
        x = x[:, :1]
    q = F.linear(h[:, :1] if cls_only else h, w[:dim],
                 None if b is None else b[:dim])
    kv = F.linear(h, w[dim:], None if b is None else b[dim:])
    q = q.view(batch, -1, heads, dim // heads).transpose(1, 2)
    k, v = kv.view(batch, length, 2, heads,
                   dim // heads).permute(2, 0, 3, 1, 4).unbind(0)
    out = F.scaled_dot_product_attention(q, k, v)  # (B, heads, Lq, d)
    out = out.transpose(1, 2).reshape(batch, -1, dim)
    x = x + block.ls_1(attn.out_proj(out))
    return x + block.ls_2(block.mlp(block.ln_2(x)))


def vpt_init_range(patch_size: int, width: int) -> float:
    """Half-width of the uniform prompt init used by CG3D.

    ``sqrt(6 / (3 * patch + width))``: a Xavier-uniform range with the patch
    embedding's fan-in counted as CG3D's code does (3 channels x patch side,
    0.0857 for ViT-B/16). VPT's paper counts the full patch area
    (3 x 16 x 16, giving 0.0625); pass ``prompt_init_range`` to use that.
    """
    return math.sqrt(6.0 / (3 * patch_size + width))


@MODELS.register_module()
class PromptedCLIPViT(BaseModule):
    """Frozen open_clip ViT image encoder with learnable deep prompts.

    Args:
        clip (dict, optional): CLIP to take the image tower from, passed to
            :func:`cg3d_mm.models.clip.build_clip`, e.g.
            ``dict(model_name='ViT-B-16', pretrained='laion2b_s34b_b88k')`` or
            ``dict(model_name='cg3d-tiny-vit', checkpoint='tiny.pth')``.
        visual (VisionTransformer, optional): An already built open_clip
            image tower, instead of ``clip``.
        num_prompts (int): Prompt tokens per layer. 0 gives plain CLIP.
            Defaults to 5.
        deep (bool): New prompts at every layer (VPT-deep); if False, only
            the first layer gets prompts and they flow through all layers
            (VPT-shallow). Defaults to True.
        with_cp (bool): Gradient checkpointing of the transformer blocks
            (saves activation memory when prompts are trained; same
            outputs and gradients). Defaults to False.
        last_block_cls_only (bool): For CLS-pooled towers, run the last
            block for the CLS token only (the other tokens' outputs are
            never used; same result, about 1/12 less work for ViT-B).
            Defaults to True.
        prompt_init_range (float, optional): Prompts start as
            ``uniform(-v, v)``; defaults to :func:`vpt_init_range`.
        init_cfg (dict, optional): mmengine init config. Defaults to None.

    Attributes:
        prompts (nn.Parameter | None): (L or 1, num_prompts, width), the only
            trainable weights.
        out_channels (int): Output embedding size (= ``embed_dim``).
        image_size (tuple[int, int]): Expected input (H, W).
        mean, std (tuple[float, ...]): Normalisation the inputs must have had
            (pixel values in [0, 1] units).
    """

    def __init__(self,
                 clip: Optional[dict] = None,
                 visual: Optional[VisionTransformer] = None,
                 num_prompts: int = 5,
                 deep: bool = True,
                 with_cp: bool = False,
                 last_block_cls_only: bool = True,
                 prompt_init_range: Optional[float] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if (clip is None) == (visual is None):
            raise ValueError(
                'Give exactly one of `clip` (a config) or `visual`.')
        if clip is not None:
            # keep the bundle: shares the loaded CLIP with the text encoder
            self._clip_bundle = build_clip_from_cfg(clip)
            visual = self._clip_bundle.model.visual
        self._check_supported(visual)
        self.visual = visual
        self.visual.requires_grad_(False)
        self.visual.eval()

        self.image_size, self.mean, self.std = preprocess_facts(visual)
        self.num_layers = len(visual.transformer.resblocks)
        self.width = visual.transformer.width
        self.out_channels = self.embed_dim = (
            visual.proj.shape[1] if visual.proj is not None else self.width)
        self.num_prompts = num_prompts
        self.deep = deep
        self.with_cp = with_cp
        self.last_block_cls_only = last_block_cls_only
        # blocks open_clip may build differently (custom / cross-attention /
        # dropout) keep their own forward
        self._plain_blocks = [_plain_block(blk)
                              for blk in visual.transformer.resblocks]

        if num_prompts > 0:
            depth = self.num_layers if deep else 1
            self.prompts = nn.Parameter(
                torch.empty(depth, num_prompts, self.width))
            if prompt_init_range is None:
                prompt_init_range = vpt_init_range(
                    visual.patch_size[0], self.width)
            self.prompt_init_range = prompt_init_range
            self.reset_prompts()
        else:
            self.register_parameter('prompts', None)

    @staticmethod
    def _check_supported(visual: nn.Module) -> None:
        if not isinstance(visual, VisionTransformer):
            raise TypeError(
                'PromptedCLIPViT needs an open_clip VisionTransformer image '
                f'tower; got {type(visual).__name__} (timm / ResNet towers '
                'are not supported).')
        if visual.attn_pool is not None:
            raise NotImplementedError(
                'open_clip image towers with an attentional pooler '
                '(CoCa-style) are not supported; use a CLS- or '
                'average-pooled ViT.')
        if visual.pool_type not in ('tok', 'avg'):
            raise NotImplementedError(
                f"Image tower pool_type {visual.pool_type!r} is not supported "
                "(only 'tok' and 'avg').")
        if not visual.transformer.batch_first:
            raise NotImplementedError(
                'Only batch-first open_clip transformers are supported.')

    def reset_prompts(self) -> None:
        """Re-draw the prompts from ``uniform(-v, v)``."""
        if self.prompts is not None:
            v = self.prompt_init_range
            nn.init.uniform_(self.prompts, -v, v)

    def train(self, mode: bool = True) -> 'PromptedCLIPViT':
        """Set train mode, but keep the frozen CLIP in eval mode.

        Prompts are plain tensors (no mode); the CLIP tower must never switch
        on patch dropout or similar training-only behaviour.
        """
        super().train(mode)
        self.visual.eval()
        return self

    def _block(self, i: int, x: Tensor) -> Tensor:
        """Block ``i`` on (B, L, W) tokens; (B, 1, W) if only CLS is kept."""
        block = self.visual.transformer.resblocks[i]
        if self._plain_blocks[i]:
            cls_only = (self.last_block_cls_only and i == self.num_layers - 1
                        and self.visual.pool_type == 'tok')
            fn, args = residual_attention_block, (block, x, cls_only)
        else:
            fn, args = block, (x, )
        if self.with_cp and x.requires_grad and torch.is_grad_enabled():
            return checkpoint(fn, *args, use_reentrant=False)
        return fn(*args)

    def forward(self, images: Tensor) -> Tensor:
        """Encode images.

        Args:
            images (Tensor): (B, 3, H, W), already normalised with
                ``mean`` / ``std``.

        Returns:
            Tensor: (B, out_channels) image embeddings, not L2-normalised.
        """
        visual = self.visual
        x = visual._embeds(images)  # (B, 1 + N, W): CLS + patches, pos, ln_pre
        num_p = self.num_prompts
        batch = x.shape[0]
        for i in range(self.num_layers):
            if num_p and (i == 0 or self.deep):
                prompts = self.prompts[i if self.deep else 0]
                prompts = prompts.to(x.dtype).expand(batch, -1, -1)
                # layer 0 inserts after CLS; later layers drop the previous
                # layer's prompt outputs and put their own in their place
                patches = x[:, 1:] if i == 0 else x[:, 1 + num_p:]
                x = torch.cat([x[:, :1], prompts, patches], dim=1)
            x = self._block(i, x)
        return self._pool(x[:, :1], x[:, 1 + num_p:])

    def _pool(self, cls_tok: Tensor, patches: Tensor) -> Tensor:
        """open_clip's ``_pool`` + projection, prompts excluded.

        Args:
            cls_tok (Tensor): (B, 1, W) CLS token after the last block.
            patches (Tensor): (B, N, W) patch tokens after the last block.

        Returns:
            Tensor: (B, out_channels).
        """
        visual = self.visual
        if visual.pool_type == 'tok':
            # LayerNorm is per token: normalising only CLS == ln_post(x)[:, 0]
            pooled = visual.ln_post(cls_tok[:, 0])
        elif visual.final_ln_after_pool:
            pooled = visual.ln_post(patches.mean(dim=1))
        else:
            pooled = visual.ln_post(patches).mean(dim=1)
        if visual.proj is not None:
            pooled = pooled @ visual.proj
        return pooled
