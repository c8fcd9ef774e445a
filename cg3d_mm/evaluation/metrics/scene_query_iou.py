"""IoU of language scene queries against ground-truth class points.

For one scene and one class query the prediction is the set of scene
points in the selected clusters and the ground truth the points labelled
with that class; ``IoU = |pred & gt| / |pred | gt|`` over *all* points of the
scene (removed floor/ceiling points included, so points lost there count as
misses). Per class the IoU is averaged over the scenes it was queried in;
``mIoU`` is the mean over classes (percent).
"""
import os.path as osp
from collections import defaultdict
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric

from cg3d_mm.registry import METRICS
from cg3d_mm.utils.io import atomic_write_json


def mask_iou_counts(pred_mask: np.ndarray,
                    gt_mask: np.ndarray) -> Tuple[int, int]:
    """Intersection and union sizes of two boolean point masks.

    Args:
        pred_mask (np.ndarray): (N, ) bool, predicted points.
        gt_mask (np.ndarray): (N, ) bool, ground-truth points.

    Returns:
        tuple[int, int]: ``(|pred & gt|, |pred | gt|)``.
    """
    pred_mask = np.asarray(pred_mask, dtype=bool).reshape(-1)
    gt_mask = np.asarray(gt_mask, dtype=bool).reshape(-1)
    if pred_mask.shape != gt_mask.shape:
        raise ValueError(f'pred_mask has {pred_mask.size} points but gt_mask '
                         f'{gt_mask.size}: both must cover the whole scene')
    return (int(np.count_nonzero(pred_mask & gt_mask)),
            int(np.count_nonzero(pred_mask | gt_mask)))


@METRICS.register_module()
class SceneQueryIoU(BaseMetric):
    """Mean IoU of scene queries, per class and over classes.

    Each processed sample is a dict with ``scene`` (name), ``query`` (the
    class queried), ``pred_mask`` and ``gt_mask`` ((N, ) bool over the
    scene's points) and optionally ``oracle_iou`` (a diagnostic, e.g. the
    IoU of the best single cluster, averaged the same way). Pairs whose
    union is empty (class absent and nothing selected) are ignored.

    Args:
        out_dir (str, optional): Write the per-query and per-class results
            as JSON there.
        name (str, optional): Tag of the JSON file.
    """

    default_prefix = 'scene_query'

    def __init__(self, out_dir: Optional[str] = None,
                 name: Optional[str] = None, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.out_dir = out_dir
        self.name = name
        self.last_summary: Optional[dict] = None

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            missing = [k for k in ('scene', 'query', 'pred_mask', 'gt_mask')
                       if k not in sample]
            if missing:
                raise ValueError(f'SceneQueryIoU: sample lacks {missing}')
            inter, union = mask_iou_counts(sample['pred_mask'],
                                           sample['gt_mask'])
            if union == 0:
                continue
            self.results.append(dict(
                scene=str(sample['scene']), query=str(sample['query']),
                intersection=inter, union=union,
                num_pred=int(np.count_nonzero(sample['pred_mask'])),
                num_gt=int(np.count_nonzero(sample['gt_mask'])),
                oracle_iou=sample.get('oracle_iou')))

    def compute_metrics(self, results: List[dict]) -> dict:
        per_class, oracle = defaultdict(list), defaultdict(list)
        for r in results:
            r['iou'] = r['intersection'] / r['union']
            per_class[r['query']].append(r['iou'])
            if r['oracle_iou'] is not None:
                oracle[r['query']].append(float(r['oracle_iou']))
        class_iou = {c: float(np.mean(v) * 100)
                     for c, v in sorted(per_class.items())}
        metrics = dict(
            mIoU=float(np.mean(list(class_iou.values())))
            if class_iou else float('nan'),
            query_mean_IoU=float(np.mean([r['iou'] for r in results]) * 100)
            if results else float('nan'))
        metrics.update({f'IoU_{c}': v for c, v in class_iou.items()})
        if oracle:
            metrics['oracle_mIoU'] = float(np.mean(
                [np.mean(v) * 100 for v in oracle.values()]))
        self.last_summary = dict(metrics=metrics, queries=results,
                                 num_queries=len(results))
        self._dump(self.last_summary)
        return metrics

    def _dump(self, summary: dict) -> None:
        if self.out_dir is None:
            return
        tag = f'_{self.name}' if self.name else ''
        atomic_write_json(osp.join(self.out_dir, f'scene_query_iou{tag}.json'),
                          summary)
