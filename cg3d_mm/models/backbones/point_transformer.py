"""Point-BERT style PointTransformer backbone (Yu et al., "Point-BERT:
Pre-training 3D Point Cloud Transformers with Masked Point Modeling", CVPR
2022), the transformer encoder CG3D trains."""
from typing import Dict, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmdet3d.utils import ConfigType, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn

from cg3d_mm.ops import furthest_point_sample, gather_points, group_points, knn
from cg3d_mm.registry import MODELS


class MiniPointNet(nn.Module):
    """Encodes each point group into one token (Point-BERT's ``Encoder``).

    Shared MLP -> max over the group -> concatenated back to every point ->
    shared MLP -> max over the group.

    Args:
        in_channels (int): Channels per grouped point (3 for re-centred xyz).
        hidden_channels (Sequence[int]): Widths (h1, h2, h3) of
            ``in -> h1 -> h2`` and ``2*h2 -> h3 -> out``.
        out_channels (int): Token width.
        norm_cfg (dict): Normalisation config.
        act_cfg (dict): Activation config.
    """

    def __init__(self, in_channels: int, hidden_channels: Sequence[int],
                 out_channels: int, norm_cfg: ConfigType,
                 act_cfg: ConfigType) -> None:
        super().__init__()
        h1, h2, h3 = hidden_channels
        # nn.Sequential indices mirror Point-BERT's state-dict keys.
        self.first_conv = nn.Sequential(
            nn.Conv1d(in_channels, h1, 1),
            build_norm_layer(norm_cfg, h1)[1], build_activation_layer(act_cfg),
            nn.Conv1d(h1, h2, 1))
        self.second_conv = nn.Sequential(
            nn.Conv1d(2 * h2, h3, 1),
            build_norm_layer(norm_cfg, h3)[1], build_activation_layer(act_cfg),
            nn.Conv1d(h3, out_channels, 1))

    def forward(self, groups: Tensor) -> Tensor:
        """(B, G, K, C) point groups -> (B, G, out_channels) tokens.

        The second MLP's first convolution multiplies ``[group max ; point
        feature]``; it is split: the group-max half runs once per group and
        is broadcast over the K points, without the concat. (The layers
        stay channels-first: the batch norm's float32 gradients are more
        accurate there than on channels-last rows.)
        """
        batch, num_groups, group_size, channels = groups.shape
        x = groups.reshape(batch * num_groups, group_size,
                           channels).transpose(1, 2)
        x = self.first_conv(x)  # (BG, h2, K)
        conv = self.second_conv[0]
        h2 = x.shape[1]
        per_group = F.linear(x.amax(dim=-1), conv.weight[:, :h2, 0],
                             conv.bias)  # (BG, h3)
        x = F.conv1d(x, conv.weight[:, h2:]) + per_group.unsqueeze(-1)
        x = self.second_conv[1:](x)
        return x.amax(dim=-1).view(batch, num_groups, -1)


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention (ViT style; no bias on qkv by default).

    Args:
        embed_dims (int): Token width.
        num_heads (int): Number of heads.
        qkv_bias (bool): Bias on the qkv projection. Defaults to False.
        attn_drop (float): Attention dropout. Defaults to 0.
        proj_drop (float): Output dropout. Defaults to 0.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 qkv_bias: bool = False,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims={embed_dims} is not divisible by '
                             f'num_heads={num_heads}')
        self.num_heads = num_heads
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(embed_dims, embed_dims * 3, bias=qkv_bias)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: Tensor) -> Tensor:
        """(B, L, C) -> (B, L, C)."""
        batch, length, channels = x.shape
        qkv = self.qkv(x).view(batch, length, 3, self.num_heads,
                               channels // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # (B, H, L, D) each
        x = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.)
        x = x.transpose(1, 2).reshape(batch, length, channels)
        return self.proj_drop(self.proj(x))


class FeedForward(nn.Module):
    """Token-wise MLP ``fc1 -> act -> drop -> fc2 -> drop``."""

    def __init__(self, embed_dims: int, hidden_dims: int, act_cfg: ConfigType,
                 drop: float) -> None:
        super().__init__()
        self.fc1 = nn.Linear(embed_dims, hidden_dims)
        self.act = build_activation_layer(act_cfg)
        self.fc2 = nn.Linear(hidden_dims, embed_dims)
        self.drop = nn.Dropout(drop)

    def forward(self, x: Tensor) -> Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class TransformerBlock(nn.Module):
    """Pre-norm transformer block with stochastic depth."""

    def __init__(self, embed_dims: int, num_heads: int, mlp_ratio: float,
                 qkv_bias: bool, drop: float, attn_drop: float,
                 drop_path: float, norm_cfg: ConfigType,
                 act_cfg: ConfigType) -> None:
        super().__init__()
        self.norm1 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.attn = MultiHeadSelfAttention(embed_dims, num_heads, qkv_bias,
                                           attn_drop, drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0 \
            else nn.Identity()
        self.norm2 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.mlp = FeedForward(embed_dims, int(embed_dims * mlp_ratio),
                               act_cfg, drop)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class PositionalTransformerEncoder(nn.Module):
    """Transformer blocks that add the positional embedding before EVERY
    block (Point-BERT), not only at the input."""

    def __init__(self, blocks: Sequence[TransformerBlock]) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: Tensor, pos: Tensor) -> Tensor:
        """x, pos: (B, L, C) -> (B, L, C)."""
        for block in self.blocks:
            x = block(x + pos)
        return x


@MODELS.register_module()
class PointTransformer(BaseModule):
    """Point-BERT style point-cloud transformer.

    FPS picks ``num_groups`` centres, kNN gathers ``group_size`` neighbours
    per centre (re-centred on it), a mini-PointNet encodes each group, a
    linear layer maps to the token width, a CLS token with its learned
    position joins, a positional MLP of the centres is added before every
    block, and a final LayerNorm closes. Global feature:
    ``concat[CLS, max over group tokens]`` (``2 * embed_dims``).

    The defaults are the original configuration (64 groups x 32 points,
    encoder 256, width 384, 12 blocks, 6 heads, mlp ratio 4, no qkv bias,
    drop path 0 -> 0.1) and give **21,858,816 parameters**:

    =========================  ==========
    mini-PointNet              428,800
    reduce_dim 256 -> 384      98,688
    cls_token + cls_pos        768
    pos_embed 3->128->384      50,048
    12 blocks x 1,773,312      21,279,744
    final LayerNorm            768
    =========================  ==========

    Consistency with the original models' counts (reference.md section 4):

    * + CG3D projection ``Linear(768, 512)`` (393,728) = 22,252,544, the
      pretraining encoder without its 55-class head;
    * + that unused head ``Linear(768, 256)`` + ``Linear(256, 55)``
      (210,999) = 22,463,543;
    * + fine-tuning head 768 -> 256 -> ReLU -> Dropout(0.5) -> 40, no BN
      (207,144) = 22,065,960, the classifier. (A Point-MAE style
      768->256->256->40 head with BN would give 22,132,776 instead.)

    Module names follow Point-BERT's (``encoder.first_conv.0``,
    ``blocks.blocks.0.attn.qkv``, ``pos_embed.0``, ...), so its checkpoints
    map onto this class by stripping their prefix.

    Args:
        in_channels (int): Channels per input point (xyz first); extra
            channels are grouped with the re-centred xyz. Defaults to 3.
        num_groups (int): Number of FPS centres G. Defaults to 64.
        group_size (int): Neighbours K per centre. Defaults to 32.
        encoder_channels (int): Mini-PointNet output width. Defaults to 256.
        encoder_hidden_channels (Sequence[int]): Mini-PointNet hidden widths.
        embed_dims (int): Token width. Defaults to 384.
        depth (int): Number of blocks. Defaults to 12.
        num_heads (int): Attention heads. Defaults to 6.
        mlp_ratio (float): Hidden width factor of the MLPs. Defaults to 4.
        qkv_bias (bool): Bias on qkv. Defaults to False.
        pos_hidden_channels (int): Hidden width of the positional MLP.
        drop_rate (float): Dropout after attention/MLP. Defaults to 0.
        attn_drop_rate (float): Attention dropout. Defaults to 0.
        drop_path_rate (float): Stochastic depth of the last block, linear
            from 0 at the first. Defaults to 0.1.
        norm_cfg (dict): Token normalisation. Defaults to LN.
        act_cfg (dict): Transformer activation. Defaults to GELU.
        encoder_norm_cfg (dict): Mini-PointNet normalisation (BN1d).
        encoder_act_cfg (dict): Mini-PointNet activation (ReLU).
        init_cfg (dict or list[dict], optional): Initialisation; defaults to
            Point-BERT's (truncated normal 0.02 for Linear/Conv1d weights,
            zero biases, unit LayerNorms; ``cls_token`` and ``cls_pos``
            always get truncated normal 0.02). CG3D's own code applied no
            init (PyTorch defaults, ``cls_pos ~ N(0, 1)``); ``None`` gives
            PyTorch's defaults for the layers.
    """

    def __init__(self,
                 in_channels: int = 3,
                 num_groups: int = 64,
                 group_size: int = 32,
                 encoder_channels: int = 256,
                 encoder_hidden_channels: Sequence[int] = (128, 256, 512),
                 embed_dims: int = 384,
                 depth: int = 12,
                 num_heads: int = 6,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = False,
                 pos_hidden_channels: int = 128,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.1,
                 norm_cfg: ConfigType = dict(type='LN'),
                 act_cfg: ConfigType = dict(type='GELU'),
                 encoder_norm_cfg: ConfigType = dict(type='BN1d'),
                 encoder_act_cfg: ConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = [
                     dict(
                         type='TruncNormal',
                         layer=['Linear', 'Conv1d'],
                         std=0.02,
                         bias=0.),
                     dict(type='Constant', layer='LayerNorm', val=1., bias=0.)
                 ]) -> None:
        super().__init__(init_cfg=init_cfg)
        if in_channels < 3:
            raise ValueError(f'in_channels must be >= 3 (xyz first), '
                             f'got {in_channels}')
        self.in_channels = in_channels
        self.num_groups = num_groups
        self.group_size = group_size
        self.min_points = max(num_groups, group_size)
        self.embed_dims = embed_dims
        self.out_channels = 2 * embed_dims

        self.encoder = MiniPointNet(in_channels, encoder_hidden_channels,
                                    encoder_channels, encoder_norm_cfg,
                                    encoder_act_cfg)
        self.reduce_dim = nn.Linear(encoder_channels, embed_dims)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.cls_pos = nn.Parameter(torch.zeros(1, 1, embed_dims))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.cls_pos, std=0.02)
        self.pos_embed = nn.Sequential(
            nn.Linear(3, pos_hidden_channels), build_activation_layer(act_cfg),
            nn.Linear(pos_hidden_channels, embed_dims))
        drop_path_rates = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = PositionalTransformerEncoder([
            TransformerBlock(embed_dims, num_heads, mlp_ratio, qkv_bias,
                             drop_rate, attn_drop_rate, rate, norm_cfg,
                             act_cfg) for rate in drop_path_rates
        ])
        self.norm = build_norm_layer(norm_cfg, embed_dims)[1]

    def _check_points(self, points: Tensor) -> None:
        if not isinstance(points, Tensor) or points.dim() != 3 \
                or points.shape[-1] != self.in_channels:
            shape = tuple(points.shape) if isinstance(points, Tensor) \
                else type(points).__name__
            raise ValueError(f'PointTransformer expects points of shape '
                             f'(B, N, {self.in_channels}), got {shape}')
        if points.shape[1] < self.min_points:
            raise ValueError(
                f'PointTransformer needs at least {self.min_points} points '
                f'per cloud (num_groups={self.num_groups}, '
                f'group_size={self.group_size}), got {points.shape[1]}')

    def group(self, points: Tensor) -> Dict[str, Tensor]:
        """Split clouds into re-centred kNN groups around FPS centres.

        Args:
            points (Tensor): (B, N, in_channels), xyz first.

        Returns:
            dict: ``neighborhood`` (B, G, K, in_channels) with xyz relative
            to the centre, ``centers`` (B, G, 3), ``center_indices`` (B, G)
            and ``neighbor_indices`` (B, G, K) into N.
        """
        xyz = points[..., :3].contiguous()
        center_indices = furthest_point_sample(xyz, self.num_groups)
        centers = gather_points(xyz, center_indices)
        neighbor_indices = knn(self.group_size, xyz, centers)
        neighborhood = group_points(xyz, neighbor_indices) - \
            centers.unsqueeze(2)
        if self.in_channels > 3:
            neighborhood = torch.cat(
                [neighborhood,
                 group_points(points[..., 3:], neighbor_indices)],
                dim=-1)
        return dict(
            neighborhood=neighborhood,
            centers=centers,
            center_indices=center_indices,
            neighbor_indices=neighbor_indices)

    def forward(self, points: Tensor) -> Dict[str, Tensor]:
        """Encode point clouds.

        Args:
            points (Tensor): (B, N, in_channels), xyz first, N >=
                ``min_points``.

        Returns:
            dict: With keys

            - global_feat (Tensor): (B, 2 * embed_dims),
              ``concat[CLS, max over group tokens]``.
            - cls_feat (Tensor): (B, embed_dims), the normalised CLS token.
            - tokens (Tensor): (B, G, embed_dims), normalised group tokens.
            - centers (Tensor): (B, G, 3) group centres.
            - center_indices (Tensor): (B, G) centre indices into N.
            - neighbor_indices (Tensor): (B, G, K) group members into N.
        """
        self._check_points(points)
        groups = self.group(points)
        tokens = self.reduce_dim(self.encoder(groups['neighborhood']))
        batch = tokens.shape[0]
        x = torch.cat([self.cls_token.expand(batch, -1, -1), tokens], dim=1)
        pos = torch.cat([
            self.cls_pos.expand(batch, -1, -1),
            self.pos_embed(groups['centers'])
        ],
                        dim=1)
        x = self.norm(self.blocks(x, pos))
        cls_feat, tokens = x[:, 0], x[:, 1:]
        return dict(
            global_feat=torch.cat([cls_feat, tokens.amax(dim=1)], dim=-1),
            cls_feat=cls_feat,
            tokens=tokens,
            centers=groups['centers'],
            center_indices=groups['center_indices'],
            neighbor_indices=groups['neighbor_indices'])
