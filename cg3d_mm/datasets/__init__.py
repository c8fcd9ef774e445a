from . import transforms  # noqa: F401
from .mixed_shards import MixedShardedTriplets
from .modelnet import ModelNet
from .openshape_eval import (ObjaverseLVIS, OpenShapeModelNet40,
                             OpenShapeScanObjectNN)
from .openshape_triplets import OpenShapeTriplets
from .samplers import MixtureSampler
from .scanobjectnn import ScanObjectNN
from .scenes import Scene, find_scenes, load_scene
from .shapenet_triplets import ShapeNetTriplets
from .sharded_triplets import ShardedTriplets
from .ulip_triplets import ULIP2ObjaverseTriplets, ULIPShapeNetTriplets

__all__ = [
    'ShapeNetTriplets', 'ModelNet', 'ScanObjectNN', 'Scene', 'find_scenes',
    'load_scene', 'ULIPShapeNetTriplets', 'ULIP2ObjaverseTriplets',
    'OpenShapeTriplets', 'ShardedTriplets', 'MixedShardedTriplets',
    'MixtureSampler',
    'ObjaverseLVIS', 'OpenShapeModelNet40', 'OpenShapeScanObjectNN'
]
