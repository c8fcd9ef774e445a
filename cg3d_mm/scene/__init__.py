"""Language scene querying: segment a scene into clusters, encode each one
and score it against text queries."""
from .clustering import cluster_scene, estimate_normals, kmeans
from .evaluation import best_cluster_iou, evaluate_scene_queries
from .outputs import render_query, write_query_outputs
from .planes import remove_floor_ceiling
from .querier import (QueryResult, SceneQuerier, SceneSegmentation,
                      select_clusters, to_model_frame)

__all__ = [
    'QueryResult', 'SceneQuerier', 'SceneSegmentation', 'select_clusters',
    'to_model_frame', 'remove_floor_ceiling', 'cluster_scene',
    'estimate_normals', 'kmeans', 'evaluate_scene_queries',
    'best_cluster_iou', 'render_query', 'write_query_outputs'
]
