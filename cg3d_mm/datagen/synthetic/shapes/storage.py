"""Storage furniture: bookshelves, cabinets and night stands.

Frame: metres, +y up, resting on y = 0, front (doors, drawers) facing -z.
"""
import numpy as np

from .assembly import Shape, pick_color, shade
from .common import (bar_handle, drawer_fronts, drawer_handles, four_legs,
                     open_case)
from .primitives import box_between


def build_bookshelf(rng: np.random.Generator) -> Shape:
    """Bookshelves: open case with 2-6 shelves, optional back and books."""
    s = Shape()
    col = pick_color(rng, str(rng.choice(['wood', 'white', 'dark'])))
    w, h = rng.uniform(0.6, 1.3), rng.uniform(0.8, 2.0)
    d, t = rng.uniform(0.25, 0.4), rng.uniform(0.018, 0.03)
    s.extend(open_case(w, h, d, t, back=rng.random() < 0.7), col)
    n = int(np.clip(round(h / rng.uniform(0.3, 0.4)), 2, 6))
    levels = np.linspace(t, h - t, n + 1)
    for y in levels[1:-1]:
        s.add(
            box_between((-w / 2 + t, y - t / 2, -d / 2 + 0.005),
                        (w / 2 - t, y + t / 2, d / 2 - t)), col)
    if rng.random() < 0.7:  # books
        for lo, hi in zip(levels[:-1], levels[1:]):
            x = -w / 2 + t + 0.01
            end = x + (w - 2 * t) * rng.uniform(0.3, 0.95)
            y = lo + t / 2
            while x < end:
                bw = rng.uniform(0.02, 0.05)
                bh = (hi - lo - t) * rng.uniform(0.6, 0.92)
                bd = d * rng.uniform(0.6, 0.85)
                s.add(
                    box_between((x, y, -bd / 2 + 0.01),
                                (x + bw, y + bh, bd / 2)),
                    pick_color(rng, 'vivid', jitter=30))
                x += bw + 0.003
    return s


def build_cabinet(rng: np.random.Generator) -> Shape:
    """Cabinets: dressers (drawer rows), cupboards and sideboards (doors),
    on a plinth or legs."""
    s = Shape()
    col = pick_color(rng, str(rng.choice(['wood', 'white', 'paint', 'dark'])))
    front = shade(col, rng.uniform(0.85, 1.1))
    style = str(rng.choice(['dresser', 'cupboard', 'sideboard']))
    if style == 'dresser':
        w, h, d = rng.uniform(0.8,
                              1.6), rng.uniform(0.7,
                                                1.1), rng.uniform(0.4, 0.55)
    elif style == 'cupboard':
        w, h, d = rng.uniform(0.6,
                              1.2), rng.uniform(1.2,
                                                2.0), rng.uniform(0.4, 0.6)
    else:
        w, h, d = rng.uniform(1.2,
                              1.8), rng.uniform(0.7,
                                                0.9), rng.uniform(0.4, 0.5)
    legs = rng.random() < 0.4
    y0 = rng.uniform(0.08, 0.18) if legs else 0.06
    s.add(box_between((-w / 2, y0, -d / 2), (w / 2, h - 0.025, d / 2)), col)
    s.add(
        box_between((-w / 2 - 0.015, h - 0.025, -d / 2 - 0.015),
                    (w / 2 + 0.015, h, d / 2)), col)
    if legs:
        s.extend(
            four_legs(
                w / 2 - 0.05,
                d / 2 - 0.05,
                y0,
                0.04,
                rng.random() < 0.5,
                splay=0.015), col)
    else:
        s.add(
            box_between((-w / 2 + 0.02, 0, -d / 2 + 0.03),
                        (w / 2 - 0.02, y0, d / 2 - 0.02)), shade(col, 0.6))
    handle = str(rng.choice(['knob', 'bar', 'two_knobs']))
    z = -d / 2
    if style == 'dresser':
        cols = 2 if w > 1.1 and rng.random() < 0.5 else 1
        rows = int(rng.integers(3, 6))
        xs = np.linspace(-w / 2, w / 2, cols + 1)
        for a, b in zip(xs[:-1], xs[1:]):
            s.extend(drawer_fronts(a, b, y0, h - 0.03, z, rows), front)
            s.extend(
                drawer_handles(a, b, y0, h - 0.03, z, rows, handle),
                (70, 70, 70))
    else:
        doors = int(rng.integers(1, 3)) if style == 'cupboard' else int(
            rng.integers(2, 5))
        xs = np.linspace(-w / 2, w / 2, doors + 1)
        for i, (a, b) in enumerate(zip(xs[:-1], xs[1:])):
            s.add(
                box_between((a + 0.006, y0 + 0.006, z - 0.015),
                            (b - 0.006, h - 0.035, z)), front)
            hx = b - 0.05 if i % 2 == 0 else a + 0.05
            s.add(
                bar_handle(hx, (y0 + h) / 2 if style == 'sideboard' else y0 +
                           (h - y0) * 0.5, z - 0.015, 0.12, True),
                (70, 70, 70))
    return s


def build_night_stand(rng: np.random.Generator) -> Shape:
    """Night stands: a small bedside cabinet with 1-3 drawers and an
    optional open cubby."""
    s = Shape()
    col = pick_color(rng, str(rng.choice(['wood', 'white', 'dark'])))
    front = shade(col, rng.uniform(0.85, 1.12))
    w, d, h = rng.uniform(0.4, 0.6), rng.uniform(0.35,
                                                 0.48), rng.uniform(0.45, 0.7)
    legs = rng.random() < 0.5
    y0 = rng.uniform(0.1, 0.2) if legs else 0.
    if legs:
        s.extend(
            four_legs(
                w / 2 - 0.03,
                d / 2 - 0.03,
                y0,
                0.035,
                rng.random() < 0.5,
                splay=0.01), col)
    cubby = rng.random() < 0.5
    y_split = y0 + (h - y0) * (rng.uniform(0.4, 0.6) if cubby else 1.)
    s.add(box_between((-w / 2, y0, -d / 2), (w / 2, y_split, d / 2)), col)
    if cubby:
        s.extend(open_case(w, h - y_split, d, 0.02, y0=y_split), col)
    rows = int(rng.integers(1, 4 if not cubby else 3))
    lo = y0 + 0.01
    s.extend(
        drawer_fronts(-w / 2, w / 2, lo, y_split - 0.01, -d / 2, rows), front)
    s.extend(
        drawer_handles(-w / 2, w / 2, lo, y_split - 0.01, -d / 2, rows,
                       str(rng.choice(['knob', 'bar']))), (80, 80, 80))
    s.add(
        box_between((-w / 2 - 0.01, h, -d / 2 - 0.01),
                    (w / 2 + 0.01, h + 0.02, d / 2 + 0.005)), col)
    return s
