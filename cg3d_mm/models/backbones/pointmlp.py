"""PointMLP backbone (Ma et al., "Rethinking Network Design and Local Geometry
in Point Cloud: A Simple Residual MLP Framework", ICLR 2022)."""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmdet3d.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn

from cg3d_mm.ops import furthest_point_sample, gather_points, group_points, knn
from cg3d_mm.registry import MODELS


class PointwiseMLP(nn.Module):
    """Linear (a 1x1 convolution) + norm (+ activation) on channels-last
    points, the unit every PointMLP MLP uses.

    Working on (..., C) rows turns each layer into one large GEMM and a
    2-D batch norm, which on CPU beats ``Conv1d`` over (B*S, C, k)
    neighbourhoods (most for narrow layers); the statistics are the same
    (BN still normalises each channel over all points and neighbours).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        bias (bool): Whether the linear layer has a bias.
        norm_cfg (dict): Normalisation config (a 1-D norm, e.g. BN1d).
        act_cfg (dict, optional): Activation config; None for none.
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool,
                 norm_cfg: ConfigType, act_cfg: OptConfigType) -> None:
        super().__init__()
        self.linear = nn.Linear(in_channels, out_channels, bias=bias)
        self.norm = build_norm_layer(norm_cfg, out_channels)[1]
        self.act = build_activation_layer(act_cfg) if act_cfg else None

    def forward(self, x: Tensor) -> Tensor:
        """(..., C_in) -> (..., C_out)."""
        shape = x.shape[:-1]
        x = x.reshape(-1, x.shape[-1])
        folded = self.folded_linear()
        if folded is None:
            x = self.norm_act(self.linear(x))
        else:
            x = _act(self.act, F.linear(x, *folded))
        return x.view(*shape, -1)

    def norm_act(self, x: Tensor) -> Tensor:
        """Norm (+ activation) of the (R, C_out) linear output."""
        return _act(self.act, self.norm(x))

    def folded_linear(self) -> Optional[Tuple[Tensor, Tensor]]:
        """The linear layer with the batch norm folded in, or None.

        In eval mode a batch norm with running statistics is an affine map
        ``y * s + t`` (``s = gamma / sqrt(var + eps)``, ``t = beta - mean *
        s``), so ``norm(W x + b) = (s * W) x + (s * b + t)``: one GEMM and
        no pass over the (R, C_out) activations, which dominate once they
        outgrow the caches (batch 16 x 1024 points: the norm took 14 % of
        a forward). None in training, for other norms, untracked
        statistics and under autocast: there the norm is what returns the
        activations to fp32, and CPU elementwise kernels (the residual add,
        ReLU, max) on bf16 ran 4-10x slower than on fp32 here.
        """
        norm = self.norm
        if self.training or not isinstance(norm, nn.modules.batchnorm.
                                           _BatchNorm) or \
                norm.running_mean is None or torch.is_autocast_enabled(
                    norm.running_mean.device.type):
            return None
        scale = torch.rsqrt(norm.running_var + norm.eps)
        shift = -norm.running_mean * scale
        if norm.affine:
            scale = scale * norm.weight
            shift = shift * norm.weight + norm.bias
        bias = shift if self.linear.bias is None else \
            self.linear.bias * scale + shift
        return self.linear.weight * scale[:, None], bias


def _act(act: nn.Module, x: Tensor) -> Tensor:
    # ReLU in place on a fresh norm / sum output: one pass and one
    # allocation fewer (neither's backward reads its output)
    if type(act) is nn.ReLU:
        return F.relu_(x)
    return x if act is None else act(x)


class ResidualPointMLP(nn.Module):
    """Two shared MLPs with a residual connection: act(mlp2(mlp1(x)) + x).

    Args:
        channels (int): Input and output channels.
        res_expansion (float): Hidden width factor. Defaults to 1.
        bias (bool): Whether the linear layers have a bias.
        norm_cfg (dict): Normalisation layer config.
        act_cfg (dict): Activation config.
    """

    def __init__(self, channels: int, res_expansion: float, bias: bool,
                 norm_cfg: ConfigType, act_cfg: ConfigType) -> None:
        super().__init__()
        hidden = int(channels * res_expansion)
        self.mlp1 = PointwiseMLP(channels, hidden, bias, norm_cfg, act_cfg)
        self.mlp2 = PointwiseMLP(hidden, channels, bias, norm_cfg, None)
        self.act = build_activation_layer(act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        """(..., C) -> (..., C)."""
        # the sum is a fresh tensor: the ReLU runs in place on it (not on a
        # view, which autograd would replay with copies in the backward)
        return _act(self.act, self.mlp2(self.mlp1(x)) + x)


class Neighbourhoods(NamedTuple):
    """What :class:`AnchorGrouper` samples, before the grouped tensor is
    built (see :meth:`AnchorGrouper.sample`).

    Attributes:
        anchor_xyz (Tensor): (B, S, 3).
        anchor_idx (Tensor): (B, S) anchor indices into N.
        neighbor_idx (Tensor): (B, S, k) kNN indices into N.
        points (Tensor): (B, N, C') the grouped channels of every point
            (features, then xyz with ``use_xyz``).
        anchor_feats (Tensor): (B, S, C) anchor features.
        inv_std (Tensor): (B, ) 1 / (std of the offsets + 1e-5) per cloud.
    """
    anchor_xyz: Tensor
    anchor_idx: Tensor
    neighbor_idx: Tensor
    points: Tensor
    anchor_feats: Tensor
    inv_std: Tensor


class AnchorGrouper(nn.Module):
    """FPS anchors + kNN neighbourhoods, normalised around their anchor.

    The grouped features minus the anchor's features are divided by their
    standard deviation (one scalar per cloud, over all anchors, neighbours
    and channels), then scaled by a learnable ``alpha`` and shifted by a
    learnable ``beta`` (one per channel). The anchor's own features are
    concatenated to every neighbour: output channels ``2 * C`` (+3 with xyz).

    Args:
        channels (int): Feature channels C of the incoming points.
        num_anchors (int): Number of FPS anchors S.
        num_neighbors (int): Neighbours k per anchor.
        use_xyz (bool): Also group the coordinates. Defaults to False.
    """

    def __init__(self,
                 channels: int,
                 num_anchors: int,
                 num_neighbors: int,
                 use_xyz: bool = False) -> None:
        super().__init__()
        self.num_anchors = num_anchors
        self.num_neighbors = num_neighbors
        self.use_xyz = use_xyz
        grouped_channels = channels + (3 if use_xyz else 0)
        self.affine_alpha = nn.Parameter(torch.ones(grouped_channels))
        self.affine_beta = nn.Parameter(torch.zeros(grouped_channels))

    def sample(self, xyz: Tensor, feats: Tensor) -> Neighbourhoods:
        """FPS anchors, their kNN and the per-cloud std of the offsets,
        without building the (B, S, k, 2C) grouped tensor.

        Args:
            xyz (Tensor): (B, N, 3) coordinates.
            feats (Tensor): (B, N, C) features.
        """
        anchor_idx = furthest_point_sample(xyz, self.num_anchors)
        anchor_xyz = gather_points(xyz, anchor_idx)
        neighbor_idx = knn(self.num_neighbors, xyz, anchor_xyz)
        points = torch.cat([feats, xyz], dim=-1) if self.use_xyz else feats
        anchors = gather_points(points, anchor_idx)
        offsets = group_points(points, neighbor_idx) - anchors.unsqueeze(2)
        inv_std = 1 / (offsets.flatten(1).std(dim=1) + 1e-5)
        anchor_feats = anchors[..., :feats.shape[-1]] if self.use_xyz \
            else anchors
        return Neighbourhoods(anchor_xyz, anchor_idx, neighbor_idx, points,
                              anchor_feats, inv_std)

    def forward(self, xyz: Tensor,
                feats: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Group the points (the explicit layout; :class:`PointMLP` uses
        :meth:`sample` and :meth:`LocalAggregation.transfer_grouped`, which
        never build it).

        Args:
            xyz (Tensor): (B, N, 3) coordinates.
            feats (Tensor): (B, N, C) features.

        Returns:
            tuple[Tensor]: anchor xyz (B, S, 3), grouped features
            (B, S, k, 2C[+3]): ``[alpha * offset / std + beta ; anchor
            features]``, and anchor indices (B, S) into N.
        """
        nb = self.sample(xyz, feats)
        anchors = gather_points(nb.points, nb.anchor_idx)
        offsets = group_points(nb.points, nb.neighbor_idx) - \
            anchors.unsqueeze(2)
        grouped = self.affine_alpha * (
            offsets * nb.inv_std.view(-1, 1, 1, 1)) + self.affine_beta
        grouped = torch.cat([
            grouped, nb.anchor_feats.unsqueeze(2).expand(
                -1, -1, self.num_neighbors, -1)
        ], dim=-1)
        return nb.anchor_xyz, grouped, nb.anchor_idx


class LocalAggregation(nn.Module):
    """Pre-extraction: shared residual MLPs over each neighbourhood, then a
    max over the k neighbours.

    Args:
        in_channels (int): Grouped channels (2C, or 2C + 3 with xyz).
        out_channels (int): Output channels.
        num_blocks (int): Residual blocks after the transfer MLP.
        res_expansion (float): Hidden width factor of the residual blocks.
        bias (bool): Whether the linear layers have a bias.
        norm_cfg (dict): Normalisation layer config.
        act_cfg (dict): Activation config.
    """

    def __init__(self, in_channels: int, out_channels: int, num_blocks: int,
                 res_expansion: float, bias: bool, norm_cfg: ConfigType,
                 act_cfg: ConfigType) -> None:
        super().__init__()
        self.transfer = PointwiseMLP(in_channels, out_channels, bias,
                                     norm_cfg, act_cfg)
        self.blocks = nn.Sequential(*[
            ResidualPointMLP(out_channels, res_expansion, bias, norm_cfg,
                             act_cfg) for _ in range(num_blocks)
        ])

    def forward(self, grouped: Tensor) -> Tensor:
        """(B, S, k, C_in) -> (B, S, C_out)."""
        return _max_over_neighbours(self.blocks(self.transfer(grouped)))

    def transfer_grouped(self, nb: Neighbourhoods, alpha: Tensor,
                         beta: Tensor) -> Tensor:
        """:meth:`forward` of ``grouper(xyz, feats)``, from
        ``grouper.sample(xyz, feats)`` without the grouped tensor.

        The transfer linear ``W = [W_o, W_a]`` multiplies ``[alpha * (p_j -
        p_s) / std + beta ; f_s]`` for neighbour j of anchor s. That is
        ``(P_j - P_s) / std + (W_o beta + W_a f_s + b)`` with ``P = points
        @ (W_o diag(alpha))^T``: the offset half runs once per point (N
        rows, not S * k), the anchor half once per anchor (S rows), and the
        per-neighbour work is a gather and an add.

        Args:
            nb (Neighbourhoods): From :meth:`AnchorGrouper.sample`.
            alpha (Tensor): (C', ) the grouper's ``affine_alpha``.
            beta (Tensor): (C', ) the grouper's ``affine_beta``.

        Returns:
            Tensor: (B, S, C_out).
        """
        transfer = self.transfer
        folded = transfer.folded_linear()  # eval: the norm folded in
        weight, bias = folded if folded is not None else (
            transfer.linear.weight, transfer.linear.bias)
        c = nb.points.shape[-1]
        w_offset, w_anchor = weight[:, :c], weight[:, c:]
        # 1/std folded into the per-point projection (N rows, cheap)
        proj = (nb.points @ (w_offset * alpha).t()) * \
            nb.inv_std.view(-1, 1, 1)
        const = nb.anchor_feats @ w_anchor.t() + w_offset @ beta - \
            gather_points(proj, nb.anchor_idx)
        if bias is not None:
            const = const + bias
        x = group_points(proj, nb.neighbor_idx) + const.unsqueeze(2)
        if folded is not None:
            x = _act(transfer.act, x)
        else:
            shape = x.shape
            x = transfer.norm_act(x.view(-1, shape[-1])).view(shape)
        return _max_over_neighbours(self.blocks(x))


def _max_over_neighbours(x: Tensor) -> Tensor:
    # max() rather than amax(): its backward scatters into the argmax (one
    # pass) instead of masking ties over the whole (B, S, k, C) tensor;
    # equal gradients, as the ReLU before it zeroes them at tied zeros
    return x.max(dim=2).values


@MODELS.register_module()
class PointMLP(BaseModule):
    """PointMLP point-cloud encoder (the "pointMLP" variant of the paper).

    Per stage: FPS anchors, kNN neighbourhoods with "anchor" affine
    normalisation (:class:`AnchorGrouper`), a shared residual MLP over each
    neighbourhood followed by a max over neighbours (pre-extraction), and
    residual MLPs over the anchors (pos-extraction). Global feature: max over
    the last stage's anchors.

    The defaults are the original configuration (embed 64, k=24, anchors
    512/256/128/64, widths 128/256/512/1024, 2 + 2 blocks per stage, no
    bias, ReLU, ``use_xyz=False``) and give **12,570,560 parameters**:

    ======================  ============================================
    embedding               Linear(3, 64) + BN                   320
    stage 64 -> 128         alpha/beta, transfer, 4 res. blocks  149,888
    stage 128 -> 256                                             594,688
    stage 256 -> 512                                             2,369,024
    stage 512 -> 1024                                            9,456,640
    ======================  ============================================

    (a stage C -> 2C has 2C + 2C*2C + 2*2C + 8*(2C)^2 + 16*2C parameters).
    This backbone plus CG3D's pretraining projection ``Linear(1024, 512)``
    (524,800) gives the original pretraining encoder's 13,095,360; plus the
    fine-tuning classifier :class:`PointClsHead` 1024->512->256->40 with BN
    (667,944) the original classifier's 13,238,504.

    The original's 1x1 ``Conv1d`` layers are ``nn.Linear`` here (same
    parameters; a checkpoint converts by squeezing the last weight dim).

    Args:
        in_channels (int): Channels per input point (xyz first). Defaults
            to 3.
        embed_channels (int): Width of the point embedding. Defaults to 64.
        num_anchors (Sequence[int]): FPS anchors per stage.
        num_neighbors (int | Sequence[int]): kNN size per stage.
        dim_expansion (Sequence[int]): Width factor per stage.
        pre_blocks (Sequence[int]): Residual blocks in each pre-extraction.
        pos_blocks (Sequence[int]): Residual blocks in each pos-extraction.
        res_expansion (float): Hidden width factor of residual blocks.
        bias (bool): Bias of the linear (1x1 conv) layers. Defaults to
            False.
        use_xyz (bool): Group coordinates with the features. Defaults to
            False (the original pointMLP).
        norm_cfg (dict): Normalisation config. Defaults to BN1d.
        act_cfg (dict): Activation config. Defaults to ReLU.
        cpu_eval_chunk (int, optional): In eval mode on CPU, encode this
            many clouds at a time (same outputs: eval-mode clouds are
            independent). The per-neighbour activations of a batch of 16
            clouds outgrow the caches and every elementwise pass slows
            down: on a 2-core EPYC a forward took 1.4x (fp32) to 1.7x
            (bf16) longer per cloud at batch 16 than at batch 2. None: the
            whole batch. Defaults to 2; GPUs always take the whole batch.
        init_cfg (dict or list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int = 3,
                 embed_channels: int = 64,
                 num_anchors: Sequence[int] = (512, 256, 128, 64),
                 num_neighbors: Union[int, Sequence[int]] = 24,
                 dim_expansion: Sequence[int] = (2, 2, 2, 2),
                 pre_blocks: Sequence[int] = (2, 2, 2, 2),
                 pos_blocks: Sequence[int] = (2, 2, 2, 2),
                 res_expansion: float = 1.0,
                 bias: bool = False,
                 use_xyz: bool = False,
                 norm_cfg: ConfigType = dict(type='BN1d'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 cpu_eval_chunk: Optional[int] = 2,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if cpu_eval_chunk is not None and cpu_eval_chunk < 1:
            raise ValueError(f'cpu_eval_chunk must be None or >= 1, got '
                             f'{cpu_eval_chunk}')
        self.cpu_eval_chunk = cpu_eval_chunk
        num_stages = len(num_anchors)
        if isinstance(num_neighbors, int):
            num_neighbors = (num_neighbors, ) * num_stages
        if not (len(num_neighbors) == len(dim_expansion) == len(pre_blocks)
                == len(pos_blocks) == num_stages):
            raise ValueError(
                'num_anchors, num_neighbors, dim_expansion, pre_blocks and '
                'pos_blocks need one entry per stage, got lengths '
                f'{num_stages}, {len(num_neighbors)}, {len(dim_expansion)}, '
                f'{len(pre_blocks)}, {len(pos_blocks)}')
        if in_channels < 3:
            raise ValueError(f'in_channels must be >= 3 (xyz first), '
                             f'got {in_channels}')
        for i in range(1, num_stages):
            if num_anchors[i] > num_anchors[i - 1] or \
                    num_neighbors[i] > num_anchors[i - 1]:
                raise ValueError(
                    f'stage {i} samples {num_anchors[i]} anchors with '
                    f'k={num_neighbors[i]} from {num_anchors[i - 1]} points: '
                    'neither may exceed the previous stage\'s anchors')
        self.in_channels = in_channels
        self.num_anchors = tuple(num_anchors)
        self.num_neighbors = tuple(num_neighbors)
        # Points per input cloud needed by the first stage.
        self.min_points = max(num_anchors[0], num_neighbors[0])

        self.embedding = PointwiseMLP(in_channels, embed_channels, bias,
                                      norm_cfg, act_cfg)
        self.groupers = nn.ModuleList()
        self.local_aggregations = nn.ModuleList()
        self.anchor_mlps = nn.ModuleList()
        channels = embed_channels
        self.stage_channels = [embed_channels]
        for i in range(num_stages):
            out_channels = channels * dim_expansion[i]
            self.groupers.append(
                AnchorGrouper(channels, num_anchors[i], num_neighbors[i],
                              use_xyz))
            self.local_aggregations.append(
                LocalAggregation(2 * channels + (3 if use_xyz else 0),
                                 out_channels, pre_blocks[i], res_expansion,
                                 bias, norm_cfg, act_cfg))
            self.anchor_mlps.append(
                nn.Sequential(*[
                    ResidualPointMLP(out_channels, res_expansion, bias,
                                     norm_cfg, act_cfg)
                    for _ in range(pos_blocks[i])
                ]))
            channels = out_channels
            self.stage_channels.append(channels)
        self.out_channels = channels

    def _check_points(self, points: Tensor) -> None:
        if not isinstance(points, Tensor) or points.dim() != 3 \
                or points.shape[-1] != self.in_channels:
            shape = tuple(points.shape) if isinstance(points, Tensor) \
                else type(points).__name__
            raise ValueError(f'PointMLP expects points of shape (B, N, '
                             f'{self.in_channels}), got {shape}')
        if points.shape[1] < self.min_points:
            raise ValueError(
                f'PointMLP needs at least {self.min_points} points per '
                f'cloud (num_anchors[0]={self.num_anchors[0]}, '
                f'k={self.num_neighbors[0]}), got {points.shape[1]}')

    def forward(self, points: Tensor) -> Dict[str, Union[Tensor, List]]:
        """Encode point clouds.

        Args:
            points (Tensor): (B, N, in_channels), xyz first, N >=
                ``min_points``.

        Returns:
            dict: With keys

            - global_feat (Tensor): (B, out_channels), max over the last
              stage.
            - xyz (list[Tensor]): (B, N_i, 3) per stage; entry 0 is the
              input, then the anchors of each stage.
            - features (list[Tensor]): (B, C_i, N_i) per stage (transposed
              views of the channels-last activations); entry 0 is the point
              embedding.
            - indices (list[Tensor]): (B, N_i) int64 indices of each stage's
              points into the input points.
        """
        self._check_points(points)
        chunk = self.cpu_eval_chunk
        if chunk and not self.training and points.device.type == 'cpu' \
                and len(points) > chunk:
            return _concat_outputs(
                [self._encode(part) for part in points.split(chunk)])
        return self._encode(points)

    def _encode(self, points: Tensor) -> Dict[str, Union[Tensor, List]]:
        """:meth:`forward` of one batch (or chunk) of clouds."""
        xyz = points[..., :3].contiguous()
        x = self.embedding(points)  # channels-last (B, N, C) inside
        batch, num_points = points.shape[:2]
        indices = torch.arange(
            num_points, device=points.device).expand(batch, -1)
        out_xyz, out_feats, out_indices = [xyz], [x.transpose(1, 2)], [indices]
        for grouper, aggregate, anchor_mlp in zip(self.groupers,
                                                  self.local_aggregations,
                                                  self.anchor_mlps):
            nb = grouper.sample(xyz, x)
            x = anchor_mlp(aggregate.transfer_grouped(
                nb, grouper.affine_alpha, grouper.affine_beta))
            xyz = nb.anchor_xyz
            indices = indices.gather(1, nb.anchor_idx)
            out_xyz.append(xyz)
            out_feats.append(x.transpose(1, 2))
            out_indices.append(indices)
        return dict(
            global_feat=x.max(dim=1).values,
            xyz=out_xyz,
            features=out_feats,
            indices=out_indices)


def _concat_outputs(parts: List[dict]) -> Dict[str, Union[Tensor, List]]:
    """Concatenate :meth:`PointMLP.forward` outputs of consecutive chunks
    along the batch dimension."""
    out = {}
    for key, first in parts[0].items():
        if isinstance(first, Tensor):
            out[key] = torch.cat([p[key] for p in parts])
        else:
            out[key] = [torch.cat(level) for level in zip(
                *(p[key] for p in parts))]
    return out
