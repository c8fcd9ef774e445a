"""Projection of point features into CLIP's space, and CG3D's losses."""
import math
from typing import Dict, Optional

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from mmdet3d.utils import OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor

from cg3d_mm.registry import MODELS

from ..losses import gather_with_grad, info_nce


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and \
        dist.get_world_size() > 1


def gather_mask(mask: Tensor) -> Tensor:
    """All ranks' (B, ) bool masks, concatenated in rank order."""
    if not _distributed():
        return mask
    parts = [torch.zeros_like(mask) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, mask.contiguous())
    return torch.cat(parts)


@MODELS.register_module()
class CG3DHead(BaseModule):
    """Point projection head plus the three symmetric InfoNCE losses.

    The 3D step trains the point encoder with ``point_text + point_image``;
    the prompt step trains the visual prompts with ``image_text`` (CLIP's own
    loss). Positives are the diagonal: other objects of the same class in
    the batch are negatives, as in the paper.

    Samples without a rendered view (a source such as OpenShape's data,
    mixed with image-bearing ones) are marked by ``img_mask``: the two
    image losses are computed over the (global) batch's image-bearing
    samples only, exactly as on a batch made of them alone; the point-text
    loss uses every sample. Without a mask (or with every entry True) the
    losses are the unmasked ones.

    Args:
        in_channels (int): Global point feature size (PointMLP 1024,
            PointTransformer 768).
        embed_dim (int): CLIP embedding size (512 for ViT-B-16).
        logit_scale (float, optional): Initial logit multiplier. None (the
            default) takes the frozen CLIP checkpoint's value via
            :meth:`set_logit_scale`.
        learnable_logit_scale (bool): Train the log-scale with the point
            encoder. Defaults to False (CG3D freezes it).
        loss_weights (dict): Weights of ``point_text``, ``point_image`` and
            ``image_text``. Defaults to 1 each.
        gather_across_ranks (bool): Use the negatives of every process
            (global-batch contrastive loss). Defaults to True.
    """

    LOSS_TERMS = ('point_text', 'point_image', 'image_text')

    def __init__(self,
                 in_channels: int = 1024,
                 embed_dim: int = 512,
                 logit_scale: Optional[float] = None,
                 learnable_logit_scale: bool = False,
                 loss_weights: Optional[Dict[str, float]] = None,
                 gather_across_ranks: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.proj = nn.Linear(in_channels, embed_dim)
        self.log_logit_scale = nn.Parameter(
            torch.tensor(math.log(logit_scale or 1 / 0.07)),
            requires_grad=learnable_logit_scale)
        self._logit_scale_from_clip = logit_scale is None
        weights = dict.fromkeys(self.LOSS_TERMS, 1.0)
        unknown = set(loss_weights or {}) - set(self.LOSS_TERMS)
        if unknown:
            raise ValueError(f'CG3DHead: unknown loss weights {unknown}, '
                             f'expected keys of {self.LOSS_TERMS}')
        weights.update(loss_weights or {})
        self.loss_weights = weights
        self.gather_across_ranks = gather_across_ranks

    def set_logit_scale(self, value: float) -> None:
        """Take CLIP's logit scale unless one was given explicitly."""
        if self._logit_scale_from_clip:
            with torch.no_grad():
                self.log_logit_scale.fill_(math.log(min(float(value), 100.)))

    @property
    def logit_scale(self) -> Tensor:
        return self.log_logit_scale.exp().clamp(max=100.)

    def forward(self, feats: Tensor) -> Tensor:
        """(B, in_channels) point features -> (B, D) normalised fp32
        embeddings (the projection may run under autocast, the norm not)."""
        return F.normalize(self.proj(feats).float(), dim=-1)

    def masked_info_nce(self, a: Tensor, b: Tensor, logit_scale: Tensor,
                        mask: Optional[Tensor]) -> Optional[Tensor]:
        """InfoNCE over the pairs whose ``mask`` entry is True.

        Args:
            a, b (Tensor): (B, D) paired embeddings (rows of ``b`` where the
                mask is False are ignored and may hold anything).
            logit_scale (Tensor): Scalar multiplier.
            mask (Tensor, optional): (B, ) bool; None means all True.

        Returns:
            Tensor | None: The loss of the selected pairs of the (global)
            batch; None when no rank has a selected pair. A rank whose own
            rows are all unselected gets a zero that keeps ``a`` and ``b``
            in the autograd graph (DDP expects every rank's gradients).
        """
        gather = self.gather_across_ranks
        if mask is None:
            return info_nce(a, b, logit_scale, gather)
        if gather and _distributed():
            a, _ = gather_with_grad(a)
            b, _ = gather_with_grad(b)
            mask = gather_mask(mask)
        keep = mask.nonzero().squeeze(1)
        if len(keep) == 0:
            return None
        if len(keep) == len(mask):
            return info_nce(a, b, logit_scale)
        return info_nce(a[keep], b[keep], logit_scale)

    def loss_point(self, point_embeds: Tensor, text_embeds: Tensor,
                   image_embeds: Optional[Tensor],
                   img_mask: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """3D step: align points with (frozen) text and image targets.

        ``img_mask`` (B, ) marks the samples with a view (see the class
        doc); without any, the point-image term is left out.
        """
        scale = self.logit_scale
        gather = self.gather_across_ranks
        losses = dict(loss_point_text=self.loss_weights['point_text'] *
                      info_nce(point_embeds, text_embeds, scale, gather))
        if image_embeds is not None and self.loss_weights['point_image']:
            loss = self.masked_info_nce(point_embeds, image_embeds, scale,
                                        img_mask)
            if loss is not None:
                losses['loss_point_image'] = \
                    self.loss_weights['point_image'] * loss
        return losses

    def loss_prompt(self, image_embeds: Tensor, text_embeds: Tensor,
                    img_mask: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Prompt step: CLIP's image-text loss (the scale is not trained).

        Over the samples with a view (``img_mask``); an empty dict when
        the (global) batch has none: the step has nothing to learn from.
        """
        loss = self.masked_info_nce(image_embeds, text_embeds,
                                    self.logit_scale.detach(), img_mask)
        if loss is None:
            return {}
        return dict(loss_image_text=self.loss_weights['image_text'] * loss)
