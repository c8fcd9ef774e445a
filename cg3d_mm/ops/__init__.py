"""Point-cloud ops with one API for CPU and CUDA tensors.

CUDA tensors use mmcv's kernels when mmcv was built with them; everything
else runs vectorised PyTorch (and fpsample for CPU FPS). Coordinates are
(B, N, 3) and features channels-last (B, N, C); indices are int64.
:func:`mmcv_point_ops_cpu_fallback` makes mmdet3d's PointNet++ layers run on
CPU tensors.
"""
from .gathering import gather_points, group_points
from .mmcv_cpu_fallback import mmcv_point_ops_cpu_fallback
from .neighbors import ball_query, knn
from .sampling import (available_fps_backends, furthest_point_sample,
                       furthest_point_sample_with_dist)

__all__ = [
    'furthest_point_sample', 'furthest_point_sample_with_dist', 'knn',
    'ball_query', 'gather_points', 'group_points',
    'mmcv_point_ops_cpu_fallback', 'available_fps_backends'
]
