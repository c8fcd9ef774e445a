from . import transforms  # noqa: F401
from .shapenet_triplets import ShapeNetTriplets

__all__ = ['ShapeNetTriplets']
