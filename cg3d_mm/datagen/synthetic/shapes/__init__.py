"""Procedural shape builders, one per category.

Every builder maps a ``np.random.Generator`` to a :class:`Shape` (coloured
parts in metres, +y up, resting on y = 0, front facing -z as in
ShapeNetCore v2).
"""
from typing import Callable, Dict

import numpy as np

from .assembly import PALETTES, Shape, pick_color
from .bedding import build_bed, build_pillow
from .containers import (build_ashcan, build_bag, build_bottle, build_bowl,
                         build_box, build_mug, build_pot)
from .devices import build_display, build_guitar, build_laptop
from .fixtures import (build_bathtub, build_door, build_lamp, build_sink,
                       build_toilet)
from .seating import build_bench, build_chair, build_sofa
from .storage import build_bookshelf, build_cabinet, build_night_stand
from .tables import build_desk, build_table
from .vehicles import build_airplane, build_car

ShapeBuilder = Callable[[np.random.Generator], Shape]

BUILDERS: Dict[str, ShapeBuilder] = {
    'airplane': build_airplane,
    'ashcan': build_ashcan,
    'bag': build_bag,
    'bathtub': build_bathtub,
    'bed': build_bed,
    'bench': build_bench,
    'bookshelf': build_bookshelf,
    'bottle': build_bottle,
    'bowl': build_bowl,
    'box': build_box,
    'cabinet': build_cabinet,
    'car': build_car,
    'chair': build_chair,
    'desk': build_desk,
    'display': build_display,
    'door': build_door,
    'guitar': build_guitar,
    'lamp': build_lamp,
    'laptop': build_laptop,
    'mug': build_mug,
    'night_stand': build_night_stand,
    'pillow': build_pillow,
    'pot': build_pot,
    'sink': build_sink,
    'sofa': build_sofa,
    'table': build_table,
    'toilet': build_toilet,
}


def build_shape(category: str, rng: np.random.Generator) -> Shape:
    """Build one random instance of ``category``.

    Args:
        category (str): A key of :data:`BUILDERS`.
        rng (np.random.Generator): Source of all randomness (same state,
            same shape).

    Returns:
        Shape: the object, its lowest point on y = 0 (wall-hung sinks and
        pendant lamps included).
    """
    if category not in BUILDERS:
        raise KeyError(f'no shape builder for category {category!r}; '
                       f'expected one of {sorted(BUILDERS)}')
    shape = BUILDERS[category](rng)
    bottom = shape.bounds()[0, 1]
    return shape.transformed(translate=(0., -bottom, 0.)) if bottom else shape


__all__ = [
    'BUILDERS', 'PALETTES', 'Shape', 'ShapeBuilder', 'build_shape',
    'pick_color'
]
