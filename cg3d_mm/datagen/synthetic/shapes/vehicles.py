"""Vehicles: airplane, car.

Frame: +y up, resting on y = 0 (wheels / landing height), nose facing -z.
Sizes are model-scale (the datasets normalise every object anyway).
"""
import numpy as np

from .assembly import Shape, pick_color, shade
from .primitives import (box_between, cylinder, lathe, prism, rotation,
                         transform)


def _wing(root: float, tip: float, span: float, sweep: float, thick: float,
          side: int):
    """Trapezoid wing in the xz plane starting at x = 0 (root) to
    side * span; leading edge at -z."""
    poly = [(0., -root / 2), (side * span, -root / 2 + sweep),
            (side * span, -root / 2 + sweep + tip), (0., root / 2)]
    if side < 0:
        poly = poly[::-1]
    # prism(axis='y') extrudes polygon (x, z) along y.
    return prism(poly, thick, 'y')


def build_airplane(rng: np.random.Generator) -> Shape:
    """Airplanes: airliners (swept wings, 2 or 4 engines), propeller planes
    and delta-wing jets; optional T-tail."""
    s = Shape()
    style = str(rng.choice(['airliner', 'prop', 'jet'], p=[0.5, 0.25, 0.25]))
    body = pick_color(rng,
                      str(rng.choice(['white', 'white', 'metal', 'paint'])))
    accent = pick_color(rng, 'vivid')
    length = rng.uniform(0.85, 1.0)
    rad = length * (
        rng.uniform(0.045, 0.07) if style != 'jet' else rng.uniform(
            0.035, 0.05))
    y = rad + 0.05
    # Fuselage: lathe along y, then turned so that the nose points to -z.
    nose, tail = length * 0.12, length * 0.3
    prof = [(0., 0.), (rad * 0.55, nose * 0.3), (rad * 0.9, nose * 0.7),
            (rad, nose), (rad, length - tail), (rad * 0.35, length)]
    fus = lathe(prof, 16)
    s.add(transform(fus, rotation('x', -90.), (0, y, length / 2)), body)
    wing_z = rng.uniform(-0.05, 0.05)
    mount = float(rng.choice([-0.6, 0., 0.6]))
    wy = y + mount * rad
    if style == 'jet':
        span = length * rng.uniform(0.28, 0.38)
        root = length * rng.uniform(0.4, 0.5)
        tip = root * rng.uniform(0.05, 0.2)
        sweep = root - tip
        wing_z = length * 0.1
    else:
        span = length * rng.uniform(0.45, 0.6)
        root = length * rng.uniform(0.13, 0.2)
        tip = root * rng.uniform(0.3, 0.6)
        sweep = (
            length * rng.uniform(0.1, 0.25) if style == 'airliner' else root *
            0.1)
    thick = rad * 0.25
    for side in (-1, 1):
        wing = _wing(root, tip, span, sweep, thick, side)
        dihedral = rng.uniform(0, 6) * side
        s.add(transform(wing, rotation('z', dihedral), (0, wy, wing_z)), body)
    # Tail.
    tail_z = length / 2 - tail * 0.4
    hs = span * rng.uniform(0.3, 0.4)
    t_tail = rng.random() < 0.2 and style != 'jet'
    fin_h = rad * rng.uniform(2.0, 3.2)
    fin = prism([(tail_z - tail * 0.45, 0.), (tail_z + tail * 0.35, 0.),
                 (tail_z + tail * 0.4, fin_h), (tail_z + tail * 0.1, fin_h)],
                thick, 'x')
    s.add(transform(fin, None, (0, y + rad * 0.5, 0)), accent)
    stab_y = y + rad * 0.5 + fin_h * 0.95 if t_tail else y
    for side in (-1, 1):
        stab = _wing(tail * 0.45, tail * 0.2, hs, tail * 0.2, thick, side)
        s.add(transform(stab, None, (0, stab_y, tail_z + tail * 0.05)), body)
    if style == 'airliner':
        n_eng = int(rng.choice([2, 4], p=[0.7, 0.3]))
        er = rad * rng.uniform(0.4, 0.55)
        spots = [0.35] if n_eng == 2 else [0.28, 0.6]
        for side in (-1, 1):
            for f in spots:
                x = side * span * f
                z = wing_z - root / 2 + sweep * f - er
                s.add(
                    cylinder(er, er * 4, 14, (x, wy - er * 1.3, z), axis='z'),
                    shade(body, 0.8))
    elif style == 'prop':
        nz = -length / 2
        s.add(
            cylinder(
                rad * 0.25, rad * 0.4, 10, (0, y, nz - rad * 0.1), axis='z'),
            (40, 40, 40))
        for ang in (0., 90.) if rng.random() < 0.5 else (0., 60., 120.):
            blade = box_between((-rad * 1.8, -rad * 0.12, -0.004),
                                (rad * 1.8, rad * 0.12, 0.004))
            s.add(
                transform(blade, rotation('z', ang), (0, y, nz - rad * 0.3)),
                (40, 40, 40))
    return s


def build_car(rng: np.random.Generator) -> Shape:
    """Cars: sedan, hatchback, SUV, pickup and sports-car proportions,
    four wheels, lights; the hood points to -z."""
    s = Shape()
    style = str(rng.choice(['sedan', 'hatchback', 'suv', 'pickup', 'sports']))
    paint = pick_color(rng,
                       str(rng.choice(['vivid', 'white', 'metal', 'dark'])))
    glass = (40, 50, 65)
    length = rng.uniform(0.9, 1.0)
    width = length * rng.uniform(0.4, 0.46)
    wr = length * rng.uniform(
        0.075, 0.095) * (1.2 if style in ('suv', 'pickup') else 1.)
    clear = wr * 0.5
    body_h = length * (0.16 if style == 'sports' else rng.uniform(0.18, 0.24))
    top = clear + body_h
    L2 = length / 2
    # Lower body: side profile (z, y) with a sloped nose and tail.
    side = [(-L2, clear + 0.01), (L2, clear + 0.01), (L2, top - 0.03),
            (L2 - 0.05, top), (-L2 + 0.12, top), (-L2, top - body_h * 0.4)]
    lower = prism([(z, y) for z, y in side], width, 'x')
    s.add(lower, paint)
    # Cabin (greenhouse) as a trapezoid prism with a roof slab.
    cab_h = length * {
        'sedan': 0.14,
        'hatchback': 0.15,
        'suv': 0.18,
        'pickup': 0.16,
        'sports': 0.1
    }[style]
    if style == 'sedan' or style == 'sports':
        c0, c1 = -L2 + length * 0.35, L2 - length * 0.25
    elif style in ('hatchback', 'suv'):
        c0, c1 = -L2 + length * 0.33, L2 - 0.02
    else:
        c0, c1 = -L2 + length * 0.3, -L2 + length * 0.55
    slope_f = cab_h * rng.uniform(0.8, 1.3)
    slope_r = cab_h * (0.9 if style in ('sedan', 'sports') else 0.2)
    cabin = [(c0, top), (c1, top), (c1 - slope_r, top + cab_h),
             (c0 + slope_f, top + cab_h)]
    s.add(prism(cabin, width * 0.86, 'x'), glass)
    s.add(
        prism([(c0 + slope_f, top + cab_h - 0.004),
               (c1 - slope_r, top + cab_h - 0.004),
               (c1 - slope_r, top + cab_h + 0.012),
               (c0 + slope_f, top + cab_h + 0.012)], width * 0.87, 'x'), paint)
    if style == 'pickup':  # open bed walls
        for sx in (-1, 1):
            s.add(
                box_between((sx * width / 2, top, c1 + 0.02),
                            (sx * (width / 2 - 0.02), top + 0.05, L2)), paint)
    for sx in (-1, 1):
        for z in (-L2 + length * 0.2, L2 - length * 0.18):
            s.add(
                cylinder(
                    wr,
                    width * 0.14,
                    16, (sx * (width / 2 - width * 0.05), wr, z),
                    axis='x'), (25, 25, 25))
            s.add(
                cylinder(
                    wr * 0.55,
                    width * 0.145,
                    12, (sx * (width / 2 - width * 0.05), wr, z),
                    axis='x'), (170, 170, 175))
        s.add(
            box_between((sx * width * 0.42, top - body_h * 0.45, -L2 - 0.004),
                        (sx * width * 0.28, top - body_h * 0.2, -L2 + 0.01)),
            (240, 240, 210))
        s.add(
            box_between((sx * width * 0.45, top - body_h * 0.4, L2 - 0.01),
                        (sx * width * 0.32, top - body_h * 0.2, L2 + 0.004)),
            (200, 30, 30))
    return s
