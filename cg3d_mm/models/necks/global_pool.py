"""Neck that reduces any point backbone's output to one global feature."""
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmdet3d.utils import OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor

from cg3d_mm.registry import MODELS

BackboneOutput = Union[Tensor, Dict[str, Union[Tensor, List[Tensor]]]]


@MODELS.register_module()
class GlobalPoolNeck(BaseModule):
    """Pool a point backbone's output into a global feature (B, C).

    Accepted inputs:

    * a dict with ``global_feat`` (B, C) (:class:`PointMLP`,
      :class:`PointTransformer`): passed through unchanged (no pooling);
    * a dict of per-stage feature lists (B, C, N) - mmdet3d's
      ``PointNet2SASSG`` / ``PointNet2SAMSG`` (``sa_features``),
      :class:`PointMLP` (``features``) - or ``fp_features``: the deepest stage
      (last non-None entry of the first key found in ``feature_keys``) is
      pooled over its points;
    * a tensor (B, C, N) (pooled) or (B, C) (passed through).

    Args:
        pool (str): ``'max'``, ``'avg'`` or ``'maxavg'`` (concatenation of
            both, doubling the channels). Defaults to ``'max'``.
        in_channels (int, optional): Channels of the pooled stage; only used
            to expose ``out_channels`` for configs.
        feature_keys (Sequence[str]): Keys searched, in order, for per-stage
            feature lists.
        init_cfg (dict or list[dict], optional): Initialisation config.
    """

    POOLS = ('max', 'avg', 'maxavg')

    def __init__(self,
                 pool: str = 'max',
                 in_channels: Optional[int] = None,
                 feature_keys: Sequence[str] = ('sa_features', 'features',
                                                'fp_features'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if pool not in self.POOLS:
            raise ValueError(f'pool must be one of {self.POOLS}, got {pool!r}')
        self.pool = pool
        self.feature_keys = tuple(feature_keys)
        self.in_channels = in_channels
        self.out_channels = None if in_channels is None else \
            in_channels * (2 if pool == 'maxavg' else 1)

    def _deepest_stage(self, feats: Dict) -> Tensor:
        for key in self.feature_keys:
            stages = feats.get(key)
            if stages is None:
                continue
            if isinstance(stages, Tensor):
                return stages
            available = [s for s in stages if s is not None]
            if available:
                return available[-1]
        raise ValueError(
            'GlobalPoolNeck found neither `global_feat` nor a non-empty '
            f'feature list under {self.feature_keys} in the backbone output '
            f'(keys: {sorted(feats)})')

    def forward(self, feats: BackboneOutput) -> Tensor:
        """Reduce backbone output to (B, C) (or (B, 2C) for ``'maxavg'``).

        Args:
            feats (dict | Tensor): Backbone output, see the class docstring.

        Returns:
            Tensor: (B, out_channels) global feature.
        """
        if isinstance(feats, dict):
            if feats.get('global_feat') is not None:
                return feats['global_feat']
            feats = self._deepest_stage(feats)
        if not isinstance(feats, Tensor) or feats.dim() not in (2, 3):
            shape = tuple(feats.shape) if isinstance(feats, Tensor) \
                else type(feats).__name__
            raise ValueError('GlobalPoolNeck expects features (B, C, N) or '
                             f'(B, C), got {shape}')
        if feats.dim() == 2:
            return feats
        if self.pool == 'max':
            return feats.amax(dim=-1)
        if self.pool == 'avg':
            return feats.mean(dim=-1)
        return torch.cat([feats.amax(dim=-1), feats.mean(dim=-1)], dim=-1)
