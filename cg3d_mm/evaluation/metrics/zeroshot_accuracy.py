"""Zero-shot classification accuracy with per-class results."""
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log

from cg3d_mm.registry import METRICS
from cg3d_mm.utils.io import atomic_write_json


def accuracy_summary(scores: np.ndarray, labels: np.ndarray,
                     num_classes: int, topk: Sequence[int] = (1, 5)) -> dict:
    """Top-k, class-mean accuracy and the confusion matrix (percent).

    Args:
        scores (np.ndarray): (N, K) class scores.
        labels (np.ndarray): (N, ) ground-truth indices.
        num_classes (int): K.
        topk (Sequence[int]): k values; those > K are skipped.

    Returns:
        dict: ``top{k}``, ``class_mean`` (mean over classes present in
        ``labels``), ``per_class`` (list, None for absent classes),
        ``confusion`` (K x K counts, rows = truth).
    """
    pred = scores.argmax(axis=1)
    order = np.argsort(-scores, axis=1, kind='stable')
    out = {}
    for k in topk:
        if k <= num_classes:
            hit = (order[:, :k] == labels[:, None]).any(axis=1)
            out[f'top{k}'] = float(hit.mean() * 100)
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, (labels, pred), 1)
    support = confusion.sum(axis=1)
    per_class = [float(confusion[c, c] / support[c] * 100)
                 if support[c] else None for c in range(num_classes)]
    present = [a for a in per_class if a is not None]
    out['class_mean'] = float(np.mean(present)) if present else 0.0
    out['per_class'] = per_class
    out['confusion'] = confusion.tolist()
    return out


@METRICS.register_module()
class ZeroShotAccuracy(BaseMetric):
    """Top-1 / top-5 / class-mean accuracy of zero-shot predictions.

    Reads ``pred_score`` and ``gt_label`` of each predicted sample. The
    full result (per-class accuracy, confusion matrix, class names) is
    written as JSON next to the run's log (or into ``out_dir``).

    Args:
        topk (Sequence[int]): Defaults to (1, 5).
        out_dir (str, optional): Where to write the JSON; defaults to the
            current run's log folder.
        name (str, optional): Tag of the JSON file (e.g. the benchmark).
    """

    default_prefix = 'zeroshot'

    def __init__(self, topk: Sequence[int] = (1, 5),
                 out_dir: Optional[str] = None, name: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = tuple(topk)
        self.out_dir = out_dir
        self.name = name
        self.last_summary: Optional[dict] = None

    def process(self, data_batch, data_samples: Sequence) -> None:
        for sample in data_samples:
            get = sample.get if isinstance(sample, dict) else \
                (lambda k, s=sample: getattr(s, k, None))
            score, label = get('pred_score'), get('gt_label')
            if score is None:
                raise ValueError('ZeroShotAccuracy: a prediction has no '
                                 'pred_score (were class names set? add '
                                 'ZeroShotClassesHook to custom_hooks)')
            if label is None:
                raise ValueError('ZeroShotAccuracy: a sample has no gt_label')
            self.results.append((torch.as_tensor(score).float().cpu(),
                                 int(torch.as_tensor(label).view(-1)[0])))

    def compute_metrics(self, results: List) -> dict:
        scores = torch.stack([r[0] for r in results]).numpy()
        labels = np.array([r[1] for r in results], dtype=np.int64)
        classes = list((self.dataset_meta or {}).get('classes') or [])
        num_classes = scores.shape[1]
        if classes and len(classes) != num_classes:
            raise ValueError(f'{len(classes)} dataset classes but scores over '
                             f'{num_classes}')
        summary = accuracy_summary(scores, labels, num_classes, self.topk)
        summary.update(num_samples=int(len(labels)), classes=classes)
        self.last_summary = summary
        self._dump(summary)
        return {k: v for k, v in summary.items()
                if k.startswith('top') or k == 'class_mean'}

    def _dump(self, summary: dict) -> None:
        out_dir = self.out_dir
        if out_dir is None:
            log_file = getattr(MMLogger.get_current_instance(), 'log_file',
                               None)
            if not log_file:
                return
            out_dir = osp.dirname(log_file)
        tag = f'_{self.name}' if self.name else ''
        path = osp.join(out_dir, f'zeroshot{tag}.json')
        atomic_write_json(path, summary)
        print_log(f'zero-shot results written to {path}', logger='current')
