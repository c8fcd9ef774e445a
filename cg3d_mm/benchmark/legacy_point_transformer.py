"""PointTransformer's group encoder as it was before its speed work (issue
19), kept for the benchmark only (see :mod:`cg3d_mm.benchmark.encoders`):
the same parameters, the 1x1 convolutions on channels-first groups and the
group max concatenated to every point. Not registered, not part of the
library."""
import inspect

import torch
from torch import Tensor

from cg3d_mm.models.backbones.point_transformer import (MiniPointNet,
                                                        PointTransformer)


class LegacyMiniPointNet(MiniPointNet):
    """:class:`MiniPointNet` with the forward of before issue 19."""

    def forward(self, groups: Tensor) -> Tensor:
        """(B, G, K, C) point groups -> (B, G, out_channels) tokens."""
        batch, num_groups, group_size, channels = groups.shape
        x = groups.reshape(batch * num_groups, group_size,
                           channels).transpose(1, 2)
        x = self.first_conv(x)  # (BG, h2, K)
        group_max = x.amax(dim=-1, keepdim=True).expand(-1, -1, group_size)
        x = self.second_conv(torch.cat([group_max, x], dim=1))
        return x.amax(dim=-1).view(batch, num_groups, -1)


class LegacyPointTransformer(PointTransformer):
    """:class:`PointTransformer` whose group encoder is
    :class:`LegacyMiniPointNet` (same arguments, same state-dict keys)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        args = inspect.signature(PointTransformer.__init__).bind(
            self, **kwargs)
        args.apply_defaults()
        a = args.arguments
        self.encoder = LegacyMiniPointNet(
            a['in_channels'], a['encoder_hidden_channels'],
            a['encoder_channels'], a['encoder_norm_cfg'],
            a['encoder_act_cfg'])
