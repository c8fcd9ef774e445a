"""MLP classification head for fine-tuning a point encoder."""
from typing import Dict, Optional, Sequence

import torch.nn.functional as F
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmdet3d.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn

from cg3d_mm.registry import MODELS


@MODELS.register_module()
class PointClsHead(BaseModule):
    """MLP classifier on a global point feature, with its loss.

    Hidden layers are ``Linear -> [norm] -> act -> Dropout``; the last layer
    is a plain ``Linear`` to the classes. The original fine-tuning heads:

    * PointMLP: ``in_channels=1024, mid_channels=(512, 256)``, BN1d, ReLU,
      dropout 0.5 (667,944 parameters for 40 classes);
    * PointTransformer (Point-BERT): ``in_channels=768,
      mid_channels=(256,), norm_cfg=None``, ReLU, dropout 0.5 (207,144
      parameters for 40 classes).

    Label smoothing follows PointMLP's convention: the true class gets
    ``1 - eps`` and the other ``C - 1`` classes share ``eps`` equally.

    Args:
        in_channels (int): Global feature channels.
        num_classes (int): Number of classes.
        mid_channels (Sequence[int]): Hidden widths. Defaults to (512, 256).
        norm_cfg (dict, optional): Norm after each hidden Linear; None for
            none. Defaults to BN1d.
        act_cfg (dict): Activation. Defaults to ReLU.
        dropout_ratio (float): Dropout after each hidden layer. Defaults to
            0.5.
        label_smoothing (float): ``eps`` above. Defaults to 0.
        loss_weight (float): Weight of the loss. Defaults to 1.
        init_cfg (dict or list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 mid_channels: Sequence[int] = (512, 256),
                 norm_cfg: OptConfigType = dict(type='BN1d'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 dropout_ratio: float = 0.5,
                 label_smoothing: float = 0.,
                 loss_weight: float = 1.,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_classes < 2:
            raise ValueError(f'num_classes must be >= 2, got {num_classes}')
        if not 0. <= label_smoothing < 1.:
            raise ValueError(
                f'label_smoothing must be in [0, 1), got {label_smoothing}')
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing
        self.loss_weight = loss_weight
        layers = []
        channels = in_channels
        for width in mid_channels:
            layers.append(nn.Linear(channels, width))
            if norm_cfg is not None:
                layers.append(build_norm_layer(norm_cfg, width)[1])
            layers += [
                build_activation_layer(act_cfg),
                nn.Dropout(dropout_ratio)
            ]
            channels = width
        layers.append(nn.Linear(channels, num_classes))
        self.classifier = nn.Sequential(*layers)

    def forward(self, feat: Tensor) -> Tensor:
        """(B, in_channels) global features -> (B, num_classes) logits."""
        if feat.dim() != 2 or feat.shape[1] != self.in_channels:
            raise ValueError(f'PointClsHead expects features (B, '
                             f'{self.in_channels}), got {tuple(feat.shape)}')
        return self.classifier(feat)

    def loss(self, logits: Tensor, labels: Tensor) -> Dict[str, Tensor]:
        """Cross-entropy (optionally label-smoothed) and accuracy.

        Args:
            logits (Tensor): (B, num_classes).
            labels (Tensor): (B,) int64 class indices.

        Returns:
            dict[str, Tensor]: ``loss_cls`` (scalar, weighted) and
            ``acc_cls`` (scalar in [0, 100], no gradient).
        """
        eps = self.label_smoothing
        # torch spreads its smoothing over all C classes, PointMLP over the
        # C - 1 wrong ones: torch's value eps * C / (C - 1) gives the latter.
        torch_smoothing = eps * self.num_classes / (self.num_classes - 1)
        loss = F.cross_entropy(
            logits, labels.long(), label_smoothing=torch_smoothing)
        acc = (logits.detach().argmax(dim=1) == labels).float().mean() * 100
        return dict(loss_cls=loss * self.loss_weight, acc_cls=acc)

    def predict(self, feat: Tensor) -> Tensor:
        """(B, in_channels) -> (B, num_classes) class probabilities."""
        return self.forward(feat).softmax(dim=-1)


def original_cls_head_cfg(backbone: str,
                          num_classes: int,
                          label_smoothing: Optional[float] = None) -> dict:
    """Config of the original fine-tuning head for ``backbone``.

    Args:
        backbone (str): ``'PointMLP'`` or ``'PointTransformer'``.
        num_classes (int): Number of classes.
        label_smoothing (float, optional): Override of the default 0.

    Returns:
        dict: A ``PointClsHead`` config.
    """
    shapes = {
        'PointMLP':
        dict(in_channels=1024, mid_channels=(512, 256),
             norm_cfg=dict(type='BN1d')),
        'PointTransformer':
        dict(in_channels=768, mid_channels=(256, ), norm_cfg=None),
    }
    if backbone not in shapes:
        raise ValueError(f'backbone must be one of {sorted(shapes)}, '
                         f'got {backbone!r}')
    cfg = dict(type='PointClsHead', num_classes=num_classes,
               **shapes[backbone])
    if label_smoothing is not None:
        cfg['label_smoothing'] = label_smoothing
    return cfg
