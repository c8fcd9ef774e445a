"""Language scene querying: segment a scene into clusters, encode each one
and score it against text queries."""
from .querier import (QueryResult, SceneQuerier, evaluate_scene_queries,
                      remove_floor_ceiling, write_query_outputs)

__all__ = [
    'QueryResult', 'SceneQuerier', 'evaluate_scene_queries',
    'remove_floor_ceiling', 'write_query_outputs'
]
