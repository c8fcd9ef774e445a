from . import transforms  # noqa: F401
from .modelnet import ModelNet
from .scanobjectnn import ScanObjectNN
from .scenes import Scene, find_scenes, load_scene
from .shapenet_triplets import ShapeNetTriplets

__all__ = [
    'ShapeNetTriplets', 'ModelNet', 'ScanObjectNN', 'Scene', 'find_scenes',
    'load_scene'
]
