from .classification_accuracy import ClassificationAccuracy
from .retrieval_metric import (RetrievalMetric, ranking_stats,
                               retrieval_metrics, summarize_ranking)
from .scene_query_iou import SceneQueryIoU, mask_iou_counts
from .zeroshot_accuracy import ZeroShotAccuracy, accuracy_summary

__all__ = [
    'ZeroShotAccuracy', 'accuracy_summary', 'ClassificationAccuracy',
    'RetrievalMetric', 'ranking_stats', 'retrieval_metrics',
    'summarize_ranking', 'SceneQueryIoU', 'mask_iou_counts'
]
