"""A built-in synthetic 3D world written in the real on-disk layouts of
ShapeNet55 (+ CG3D renders), ModelNet40/10, ScanObjectNN and mmdet3d's
S3DIS, the default data of every cg3d_mm tool."""
from .categories import (CATEGORIES, CATEGORY_BY_NAME, MODELNET10_CLASSES,
                         MODELNET40_CLASSES, S3DIS_CLASSES,
                         SCANOBJECTNN_CLASSES, CategoryInfo,
                         resolve_categories)
from .generator import (GENERATOR_VERSION, LAYOUTS, MANIFEST_NAME,
                        default_root, ensure_synthetic_data, generate)
from .shapes import BUILDERS, Shape, build_shape

__all__ = [
    'CATEGORIES', 'CATEGORY_BY_NAME', 'CategoryInfo', 'resolve_categories',
    'MODELNET40_CLASSES', 'MODELNET10_CLASSES', 'SCANOBJECTNN_CLASSES',
    'S3DIS_CLASSES', 'generate', 'ensure_synthetic_data', 'default_root',
    'LAYOUTS', 'GENERATOR_VERSION', 'MANIFEST_NAME', 'BUILDERS', 'Shape',
    'build_shape'
]
