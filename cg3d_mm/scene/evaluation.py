"""Scene-query IoU against ground-truth classes (``SceneQueryIoU``)."""
from typing import Optional, Sequence

import numpy as np
from tqdm import tqdm

from cg3d_mm.datasets.scenes import default_query_classes, load_scene
from cg3d_mm.evaluation.metrics.scene_query_iou import SceneQueryIoU

from .querier import SceneQuerier


def best_cluster_iou(labels: np.ndarray, gt_mask: np.ndarray) -> float:
    """IoU of the single best cluster with ``gt_mask`` (an upper bound of
    top-1 selection given the clustering)."""
    kept = labels >= 0
    k = int(labels.max()) + 1 if kept.any() else 0
    if k == 0 or not gt_mask.any():
        return 0.0
    sizes = np.bincount(labels[kept], minlength=k)
    inter = np.bincount(labels[kept & gt_mask], minlength=k)
    union = sizes + gt_mask.sum() - inter
    return float((inter / union).max())


def evaluate_scene_queries(querier: SceneQuerier,
                           scene_paths: Sequence[str],
                           classes: Optional[Sequence[str]] = None,
                           min_gt_points: int = 50,
                           progress: bool = True) -> dict:
    """IoU of class queries over scenes (``SceneQueryIoU``).

    Each scene is clustered once; every class of ``classes`` (default: the
    dataset's object classes, e.g. table / chair / sofa / bookcase for
    S3DIS) with at least ``min_gt_points`` ground-truth points in the
    scene is queried by its name.

    Returns:
        dict: ``metrics`` (mIoU, per-class IoU, oracle mIoU in percent),
        ``queries`` (one entry per scene and class), ``num_scenes``.
    """
    metric = SceneQueryIoU()
    inner, querier.progress = querier.progress, False  # one bar: scenes
    try:
        _evaluate_scenes(querier, scene_paths, classes, min_gt_points,
                         progress, metric)
    finally:
        querier.progress = inner
    if not metric.results:
        raise ValueError(f'no scene had any of the classes {classes} with '
                         f'>= {min_gt_points} points')
    used = len({r['scene'] for r in metric.results})
    metric.evaluate(len(metric.results))
    summary = dict(metric.last_summary)
    summary['num_scenes'] = used
    summary['settings'] = querier.settings()
    return summary


def _evaluate_scenes(querier: SceneQuerier, scene_paths: Sequence[str],
                     classes: Optional[Sequence[str]], min_gt_points: int,
                     progress: bool, metric: SceneQueryIoU) -> None:
    for path in tqdm(scene_paths, desc='scenes', unit='scene',
                     disable=not progress):
        scene = load_scene(path)
        if scene.semantic is None:
            raise ValueError(f'{path}: evaluation needs the semantic mask '
                             '(semantic_mask/<scene>.bin next to points/)')
        wanted = list(classes) if classes else default_query_classes(
            scene.dataset)
        present = set(scene.classes_present(min_gt_points))
        queries = [c for c in wanted if c in present]
        if not queries:
            continue
        for c, res in zip(queries, querier.run(scene, queries)):
            gt = scene.class_mask(c)
            metric.process(None, [dict(
                scene=scene.name, query=c, pred_mask=res.mask, gt_mask=gt,
                oracle_iou=best_cluster_iou(res.segmentation.labels, gt))])
