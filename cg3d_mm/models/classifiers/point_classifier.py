"""Supervised point-cloud classifier: point encoder + MLP head."""
from typing import Dict, List, Optional, Union

import torch
from mmdet3d.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.model import BaseModel
from torch import Tensor

from cg3d_mm.registry import MODELS
from cg3d_mm.structures import PointDataSample

from ..data_preprocessors import build_data_preprocessor
from ..utils import global_point_feats, uses_mmcv_point_ops


@MODELS.register_module()
class PointClassifier(BaseModel):
    """Point backbone (+ neck) + :class:`PointClsHead`, for fine-tuning.

    The backbone is typically initialised from a CG3D pretraining
    checkpoint through its ``init_cfg`` (``type='CG3DPretrained',
    prefix='backbone.'``); the head always starts from scratch.

    Modes of :meth:`forward`:

    - ``'loss'``: ``loss_cls`` (+ logged ``acc_cls``) from
      ``data_samples[i].gt_label``;
    - ``'predict'``: samples with ``pred_score`` (K, ) softmax and
      ``pred_label`` (1, );
    - ``'tensor'``: (B, K) logits.

    Args:
        backbone (dict): Point backbone, ``(B, N, C)`` points in.
        head (dict): ``PointClsHead`` config (see ``original_cls_head_cfg``
            for the original fine-tuning heads).
        neck (dict, optional): Reduces the backbone output to (B, D), e.g.
            ``GlobalPoolNeck`` for mmdet3d's ``PointNet2SASSG``; without it
            the backbone's ``global_feat`` is used.
        data_preprocessor (dict, optional): Defaults to
            ``CG3DDataPreprocessor`` (stacks the points of a batch).
        init_cfg (dict or list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 head: ConfigType,
                 neck: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=build_data_preprocessor(data_preprocessor),
            init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.head = MODELS.build(head)
        self._mmcv_ops = uses_mmcv_point_ops(self.backbone)

    def extract_feat(self, points: Tensor) -> Tensor:
        """(B, N, C) points -> (B, D) global features (head input)."""
        return global_point_feats(self.backbone, self.neck, points,
                                  self._mmcv_ops)

    def _points(self, inputs: Union[dict, Tensor]) -> Tensor:
        points = inputs['points'] if isinstance(inputs, dict) else inputs
        if not isinstance(points, Tensor) or points.dim() != 3:
            shape = tuple(points.shape) if isinstance(points, Tensor) \
                else type(points).__name__
            raise ValueError('PointClassifier expects inputs["points"] of '
                             f'shape (B, N, C), got {shape}')
        return points

    def loss(self, inputs: dict,
             data_samples: List[PointDataSample]) -> Dict[str, Tensor]:
        """Classification loss and batch accuracy.

        Args:
            inputs (dict): ``points`` (B, N, C).
            data_samples (list[PointDataSample]): With ``gt_label``.

        Returns:
            dict[str, Tensor]: ``loss_cls`` and ``acc_cls``.
        """
        if not data_samples or any('gt_label' not in s
                                   for s in data_samples):
            raise ValueError('PointClassifier.loss: every sample needs a '
                             'gt_label (PackCG3DInputs sets it from the '
                             "dataset's gt_label)")
        labels = torch.cat([s.gt_label.view(-1) for s in data_samples])
        logits = self.head(self.extract_feat(self._points(inputs)))
        return self.head.loss(logits, labels.to(logits.device))

    def predict(self, inputs: dict,
                data_samples: Optional[List[PointDataSample]] = None
                ) -> List[PointDataSample]:
        """Class probabilities and labels, written into the samples."""
        logits = self.head(self.extract_feat(self._points(inputs)))
        scores = logits.float().softmax(dim=-1)
        if data_samples is None:
            data_samples = [PointDataSample() for _ in range(len(scores))]
        for sample, score in zip(data_samples, scores):
            sample.pred_score = score
            sample.pred_label = score.argmax().view(1)
        return data_samples

    def forward(self, inputs: dict,
                data_samples: Optional[List[PointDataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.head(self.extract_feat(self._points(inputs)))
        raise ValueError(f'Invalid mode {mode!r}: expected loss, predict '
                         'or tensor')
