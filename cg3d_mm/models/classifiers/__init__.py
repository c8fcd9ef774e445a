from .point_classifier import (PointClassifier, global_point_feats,
                               uses_mmcv_point_ops)

__all__ = ['PointClassifier', 'global_point_feats', 'uses_mmcv_point_ops']
