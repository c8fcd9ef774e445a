"""Supervised classification accuracy (overall and class-mean)."""
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from cg3d_mm.registry import METRICS

from .zeroshot_accuracy import accuracy_summary


@METRICS.register_module()
class ClassificationAccuracy(BaseMetric):
    """Overall (``top1``) and class-mean accuracy of a point classifier.

    The numbers papers report for ModelNet40 / ScanObjectNN fine-tuning are
    ``accuracy/top1`` (overall accuracy, OA) and ``accuracy/class_mean``
    (mAcc). Reads ``pred_score`` and ``gt_label`` of each sample.

    Args:
        topk (Sequence[int]): Defaults to (1, ).
        collect_device (str): Device for collecting results across ranks.
        prefix (str, optional): Defaults to ``'accuracy'``.
    """

    default_prefix = 'accuracy'

    def __init__(self, topk: Sequence[int] = (1, ),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = tuple(topk)

    def process(self, data_batch, data_samples: Sequence) -> None:
        for sample in data_samples:
            get = sample.get if isinstance(sample, dict) else \
                (lambda k, s=sample: getattr(s, k, None))
            score, label = get('pred_score'), get('gt_label')
            if score is None or label is None:
                raise ValueError('ClassificationAccuracy: every sample needs '
                                 'pred_score and gt_label (got '
                                 f'pred_score={score is not None}, '
                                 f'gt_label={label is not None})')
            self.results.append((torch.as_tensor(score).float().cpu(),
                                 int(torch.as_tensor(label).view(-1)[0])))

    def compute_metrics(self, results: List) -> dict:
        scores = torch.stack([r[0] for r in results]).numpy()
        labels = np.array([r[1] for r in results], dtype=np.int64)
        classes = (self.dataset_meta or {}).get('classes') or ()
        if classes and len(classes) != scores.shape[1]:
            raise ValueError(f'{len(classes)} dataset classes but the model '
                             f'scores {scores.shape[1]}: set the head\'s '
                             'num_classes to the dataset\'s')
        summary = accuracy_summary(scores, labels, scores.shape[1],
                                   self.topk)
        return {k: v for k, v in summary.items()
                if k.startswith('top') or k == 'class_mean'}
