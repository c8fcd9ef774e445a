"""Parts shared by several categories: legs, drawers, handles, panels."""
from typing import List, Sequence

import numpy as np

from .primitives import Mesh, box_between, cylinder, ellipsoid, rod


def four_legs(x_half: float,
              z_half: float,
              height: float,
              thick: float,
              round_legs: bool = False,
              splay: float = 0.,
              y0: float = 0.) -> List[Mesh]:
    """Four legs at (+-x_half, +-z_half) from ``y0`` up to ``height``.

    ``splay`` moves the feet outwards by that many metres.
    """
    legs = []
    for sx in (-1, 1):
        for sz in (-1, 1):
            top = (sx * x_half, height, sz * z_half)
            foot = (sx * (x_half + splay), y0, sz * (z_half + splay))
            if round_legs or splay:
                legs.append(rod(foot, top, thick / 2., 10))
            else:
                legs.append(
                    box_between(
                        (top[0] - thick / 2, y0, top[2] - thick / 2),
                        (top[0] + thick / 2, height, top[2] + thick / 2)))
    return legs


def knob(center: Sequence[float], radius: float = 0.012) -> Mesh:
    """A small round knob on a front (-z) face."""
    return ellipsoid((radius, radius, radius * 0.8), center, 4, 8)


def bar_handle(cx: float,
               cy: float,
               z: float,
               length: float,
               vertical: bool = False) -> Mesh:
    """A bar handle in front of the plane z (facing -z)."""
    half = length / 2.
    if vertical:
        return rod((cx, cy - half, z - 0.018), (cx, cy + half, z - 0.018),
                   0.007, 8)
    return rod((cx - half, cy, z - 0.018), (cx + half, cy, z - 0.018), 0.007,
               8)


def drawer_fronts(x0: float,
                  x1: float,
                  y0: float,
                  y1: float,
                  z: float,
                  rows: int,
                  gap: float = 0.008,
                  thick: float = 0.015) -> List[Mesh]:
    """``rows`` drawer fronts stacked between y0 and y1 in front of z."""
    fronts = []
    edges = np.linspace(y0, y1, rows + 1)
    for lo, hi in zip(edges[:-1], edges[1:]):
        fronts.append(
            box_between((x0 + gap, lo + gap / 2, z - thick),
                        (x1 - gap, hi - gap / 2, z)))
    return fronts


def drawer_handles(x0: float,
                   x1: float,
                   y0: float,
                   y1: float,
                   z: float,
                   rows: int,
                   style: str,
                   thick: float = 0.015) -> List[Mesh]:
    """One handle per drawer row: 'knob', 'bar' or 'two_knobs'."""
    handles = []
    edges = np.linspace(y0, y1, rows + 1)
    cx = (x0 + x1) / 2
    for lo, hi in zip(edges[:-1], edges[1:]):
        cy = (lo + hi) / 2
        zf = z - thick
        if style == 'bar':
            handles.append(bar_handle(cx, cy, zf, min(0.16, (x1 - x0) * 0.4)))
        elif style == 'two_knobs':
            for fx in (0.25, 0.75):
                handles.append(knob((x0 + fx * (x1 - x0), cy, zf - 0.008)))
        else:
            handles.append(knob((cx, cy, zf - 0.008)))
    return handles


def open_case(width: float,
              height: float,
              depth: float,
              thick: float,
              y0: float = 0.,
              back: bool = True) -> List[Mesh]:
    """Carcass open at the front (-z): sides, top, bottom and back panel,
    centred on x = z = 0, from y0 to y0 + height."""
    w, d, t = width / 2, depth / 2, thick
    parts = [
        box_between((-w, y0, -d), (-w + t, y0 + height, d)),
        box_between((w - t, y0, -d), (w, y0 + height, d)),
        box_between((-w + t, y0 + height - t, -d), (w - t, y0 + height, d)),
        box_between((-w + t, y0, -d), (w - t, y0 + t, d)),
    ]
    if back:
        parts.append(
            box_between((-w + t, y0 + t, d - t), (w - t, y0 + height - t, d)))
    return parts


def pedestal_column(height: float,
                    radius: float,
                    base_radius: float,
                    y0: float = 0.) -> List[Mesh]:
    """A central column on a round base plate (tables, lamps, stands)."""
    plate = max(0.015, height * 0.04)
    return [
        cylinder(base_radius, plate, 24, (0, y0 + plate / 2, 0)),
        cylinder(radius, height - plate, 16,
                 (0, y0 + plate + (height - plate) / 2, 0)),
    ]
