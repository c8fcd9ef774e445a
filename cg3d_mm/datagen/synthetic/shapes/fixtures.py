"""Lamps and bathroom / building fixtures: lamp, bathtub, sink, toilet,
door.

Frame: metres, +y up, resting on y = 0, front facing -z.
"""
import numpy as np

from .assembly import Shape, pick_color, shade
from .common import four_legs, knob, pedestal_column
from .primitives import (box_between, cylinder, ellipsoid, lathe, rod,
                         rotation, torus, transform, tube)


def _shade_mesh(rng, r_bottom: float, height: float, y_bottom: float):
    """A lamp shade: drum, cone or bell (closed frustum)."""
    style = str(rng.choice(['drum', 'cone', 'bell']))
    if style == 'drum':
        top = r_bottom * rng.uniform(0.85, 1.)
        prof = [(r_bottom, y_bottom), (top, y_bottom + height)]
    elif style == 'cone':
        prof = [(r_bottom, y_bottom),
                (r_bottom * rng.uniform(0.3, 0.6), y_bottom + height)]
    else:
        t = np.linspace(0, 1, 6)
        prof = [(r_bottom * (1 - 0.6 * a**0.7), y_bottom + height * a)
                for a in t]
    return lathe(prof, 24)


def build_lamp(rng: np.random.Generator) -> Shape:
    """Lamps: floor, table, desk (articulated arm) and pendant lamps."""
    s = Shape()
    metal = pick_color(rng, str(rng.choice(['metal', 'dark', 'white'])))
    shade_col = pick_color(
        rng, str(rng.choice(['white', 'paper', 'fabric', 'vivid'])))
    style = str(
        rng.choice(['floor', 'table', 'desk', 'pendant'],
                   p=[0.3, 0.3, 0.25, 0.15]))
    if style == 'floor':
        h = rng.uniform(1.3, 1.8)
        s.extend(
            pedestal_column(h * 0.85, 0.012, rng.uniform(0.12, 0.18)), metal)
        sr = rng.uniform(0.15, 0.25)
        s.add(
            _shade_mesh(rng, sr, sr * rng.uniform(0.8, 1.3), h * 0.78),
            shade_col)
    elif style == 'table':
        bh = rng.uniform(0.2, 0.4)
        br = bh * rng.uniform(0.25, 0.4)
        t = np.linspace(0, 1, 7)
        bulge = rng.uniform(0.2, 0.9)
        prof = [(br * (0.5 + bulge * np.sin(np.pi * a) * 0.6), bh * a)
                for a in t]
        s.add(
            lathe([(br * 0.6, 0.)] + prof[1:], 20),
            pick_color(rng, str(rng.choice(['ceramic', 'metal', 'glass']))))
        s.add(rod((0, bh, 0), (0, bh + 0.12, 0), 0.008, 8), metal)
        sr = rng.uniform(0.13, 0.22)
        s.add(
            _shade_mesh(rng, sr, sr * rng.uniform(0.9, 1.3), bh + 0.05),
            shade_col)
    elif style == 'desk':
        s.add(
            cylinder(rng.uniform(0.07, 0.11), 0.025, 20, (0, 0.0125, 0)),
            metal)
        a1 = rng.uniform(0.25, 0.4)
        a2 = rng.uniform(0.25, 0.4)
        ang1 = np.deg2rad(rng.uniform(60, 85))
        ang2 = np.deg2rad(rng.uniform(-20, 30))
        p0 = np.array([0, 0.025, 0.05])
        p1 = p0 + a1 * np.array([0, np.sin(ang1), -np.cos(ang1)])
        p2 = p1 + a2 * np.array([0, np.sin(ang2), -np.cos(ang2)])
        s.add(rod(p0, p1, 0.01, 8), metal)
        s.add(rod(p1, p2, 0.01, 8), metal)
        s.add(ellipsoid((0.018, 0.018, 0.018), p1, 4, 8), metal)
        head = _shade_mesh(rng, rng.uniform(0.06, 0.1), 0.12, -0.12)
        s.add(
            transform(head, rotation('x', -rng.uniform(10, 40)), p2),
            shade_col if rng.random() < 0.5 else metal)
    else:
        h = rng.uniform(0.8, 1.4)
        s.add(cylinder(0.06, 0.03, 16, (0, h - 0.015, 0)), metal)
        s.add(rod((0, h - 0.03, 0), (0, h * 0.45, 0), 0.004, 6), (30, 30, 30))
        sr = rng.uniform(0.15, 0.3)
        s.add(
            _shade_mesh(rng, sr, sr * rng.uniform(0.5, 0.9),
                        h * 0.45 - sr * 0.7), shade_col)
    return s


def build_bathtub(rng: np.random.Generator) -> Shape:
    """Bathtubs: built-in boxes or free-standing (clawfoot) tubs with a
    faucet."""
    s = Shape()
    col = pick_color(rng, 'white')
    w, d = rng.uniform(1.4, 1.8), rng.uniform(0.7, 0.85)
    h = rng.uniform(0.45, 0.6)
    legs = rng.random() < 0.35
    y0 = rng.uniform(0.1, 0.18) if legs else 0.
    t = rng.uniform(0.05, 0.1)
    s.add(box_between((-w / 2, y0, -d / 2), (w / 2, y0 + 0.08, d / 2)), col)
    for sx in (-1, 1):
        s.add(
            box_between((sx * w / 2, y0, -d / 2),
                        (sx * (w / 2 - t * 1.8), y0 + h, d / 2)), col)
        s.add(
            box_between((-w / 2, y0, sx * d / 2),
                        (w / 2, y0 + h, sx * (d / 2 - t))), col)
    if legs:
        s.extend(
            four_legs(w / 2 - 0.15, d / 2 - 0.1, y0, 0.05, True, splay=0.03),
            pick_color(rng, 'metal'))
    else:  # apron panel
        s.add(
            box_between((-w / 2, 0, -d / 2 - 0.01), (w / 2, h, -d / 2)),
            shade(col, 0.95))
    fx = -w / 2 + 0.08
    metal = pick_color(rng, 'metal')
    s.add(
        tube([(fx, y0 + h, 0), (fx, y0 + h + 0.15, 0),
              (fx + 0.12, y0 + h + 0.15, 0)], 0.012, 8), metal)
    for sz in (-1, 1):
        s.add(
            cylinder(0.02, 0.04, 10, (fx - 0.02, y0 + h + 0.02, sz * 0.08)),
            metal)
    return s


def build_sink(rng: np.random.Generator) -> Shape:
    """Sinks: pedestal, vanity (cabinet + counter) and wall-hung basins,
    with a faucet."""
    s = Shape()
    col = pick_color(rng, 'white')
    metal = pick_color(rng, 'metal')
    style = str(rng.choice(['pedestal', 'vanity', 'wall']))
    top = rng.uniform(0.8, 0.9)
    br = rng.uniform(0.2, 0.3)
    bd = rng.uniform(0.12, 0.18)
    a = np.linspace(0, np.pi / 2, 6)
    prof = [(br * 0.4 + br * 0.6 * np.sin(x), top - bd * np.cos(x)) for x in a]
    inner = [(max(r - 0.015, 0.01), max(y, top - bd + 0.015))
             for r, y in prof[::-1]]
    basin = lathe([(0., top - bd)] + prof + inner + [(0.01, top - bd + 0.015),
                                                     (0., top - bd + 0.015)],
                  24)
    basin = transform(basin, None, (0, 0, 0), (1., 1., rng.uniform(0.7, 1.)))
    if style == 'vanity':
        w, d = rng.uniform(0.6, 1.2), rng.uniform(0.45, 0.55)
        cab = pick_color(rng, str(rng.choice(['wood', 'white', 'dark'])))
        s.add(
            box_between((-w / 2, 0.08, -d / 2 + 0.02),
                        (w / 2, top - 0.03, d / 2)), cab)
        s.add(
            box_between((-w / 2 + 0.02, 0, -d / 2 + 0.06),
                        (w / 2 - 0.02, 0.08, d / 2)), shade(cab, 0.6))
        for x0, x1 in ((-w / 2, 0.), (0., w / 2)):
            s.add(
                box_between((x0 + 0.006, 0.09, -d / 2 + 0.005),
                            (x1 - 0.006, top - 0.04, -d / 2 + 0.02)),
                shade(cab, 1.1))
        # Counter with the basin dropped in: four slabs around the opening.
        ct = 0.03
        bz = br * 0.9
        s.add(box_between((-w / 2, top - ct, -d / 2), (-br, top, d / 2)), col)
        s.add(box_between((br, top - ct, -d / 2), (w / 2, top, d / 2)), col)
        s.add(box_between((-br, top - ct, -d / 2), (br, top, -bz)), col)
        s.add(box_between((-br, top - ct, bz), (br, top, d / 2)), col)
        s.add(basin, col)
        back = d / 2 - 0.06
    else:
        s.add(basin, col)
        s.add(
            box_between((-br, top - bd, br * 0.6), (br, top + 0.02, br * 0.9)),
            col)
        if style == 'pedestal':
            s.add(
                lathe([(0.12, 0.), (0.07, 0.15), (0.06, top - bd),
                       (0.1, top - bd + 0.05)], 16), col)
        back = br * 0.75
    s.add(
        tube([(0, top, back), (0, top + 0.18, back),
              (0, top + 0.18, back - 0.12)], 0.012, 8), metal)
    for sx in (-1, 1):
        s.add(cylinder(0.018, 0.04, 10, (sx * 0.1, top + 0.02, back)), metal)
    return s


def build_toilet(rng: np.random.Generator) -> Shape:
    """Toilets: pedestal base, bowl, seat ring, lid (closed or up) and
    cistern at the back (+z)."""
    s = Shape()
    col = pick_color(rng, 'white')
    seat_col = col if rng.random() < 0.7 else pick_color(rng, 'plastic')
    h = rng.uniform(0.38, 0.44)
    br = rng.uniform(0.17, 0.21)
    elong = rng.uniform(1.15, 1.4)
    bz = -0.05
    base = lathe([(0.11, 0.), (0.09, h * 0.5), (br * 0.8, h - 0.08)], 16)
    s.add(transform(base, None, (0, 0, bz), (1., 1., elong)), col)
    prof = [(br * 0.6, h - 0.12), (br, h - 0.02), (br * 0.88, h - 0.02),
            (br * 0.45, h - 0.15), (0.01, h - 0.15)]
    s.add(transform(lathe(prof, 24), None, (0, 0, bz), (1., 1., elong)), col)
    ring = torus(br * 0.8, 0.018, (0, 0, 0), 24, 6)
    s.add(transform(ring, None, (0, h + 0.0, bz), (1., 0.6, elong)), seat_col)
    lid = cylinder(br * 0.98, 0.015, 24, (0, 0, 0))
    lid = transform(lid, None, (0, 0, 0), (1., 1., elong))
    hinge_z = bz + br * elong
    if rng.random() < 0.5:
        s.add(transform(lid, None, (0, h + 0.03, bz)), seat_col)
    else:
        up = transform(
            lid,
            rotation('x', rng.uniform(75, 100)), (0, 0, 0),
            pivot=(0, 0, br * elong))
        s.add(transform(up, None, (0, h + 0.03, bz)), seat_col)
    tw, td = rng.uniform(0.35, 0.45), rng.uniform(0.15, 0.22)
    th = rng.uniform(0.3, 0.42)
    style = str(rng.choice(['tank', 'wall']))
    if style == 'tank':
        ty = h + 0.02
        s.add(
            box_between((-tw / 2, ty - 0.2, hinge_z),
                        (tw / 2, ty + th, hinge_z + td)), col)
        s.add(
            box_between((-tw / 2 - 0.01, ty + th, hinge_z - 0.01),
                        (tw / 2 + 0.01, ty + th + 0.03, hinge_z + td + 0.01)),
            col)
        s.add(
            knob((tw / 2 - 0.06, ty + th - 0.05, hinge_z - 0.005), 0.015),
            pick_color(rng, 'metal'))
    else:  # low back box / in-wall cistern plate
        s.add(
            box_between((-0.2, 0, hinge_z), (0.2, h + 0.5, hinge_z + 0.12)),
            shade(col, 0.97))
        s.add(
            box_between((-0.08, h + 0.3, hinge_z - 0.01),
                        (0.08, h + 0.4, hinge_z)), pick_color(rng, 'metal'))
    return s


def build_door(rng: np.random.Generator) -> Shape:
    """Doors: slab with raised panels or a glass pane, handle on both faces,
    optional frame."""
    s = Shape()
    col = pick_color(rng, str(rng.choice(['wood', 'paint', 'white'])))
    w, h, t = rng.uniform(0.75,
                          0.95), rng.uniform(1.95,
                                             2.15), rng.uniform(0.035, 0.05)
    s.add(box_between((-w / 2, 0, -t / 2), (w / 2, h, t / 2)), col)
    style = str(rng.choice(['flat', 'panels', 'glass']))
    if style == 'panels':
        cols = int(rng.integers(1, 3))
        rows = int(rng.integers(2, 4))
        xs = np.linspace(-w / 2 + 0.1, w / 2 - 0.1, cols + 1)
        ys = np.linspace(0.15, h - 0.15, rows + 1)
        for x0, x1 in zip(xs[:-1], xs[1:]):
            for y0, y1 in zip(ys[:-1], ys[1:]):
                for sz in (-1, 1):
                    s.add(
                        box_between(
                            (x0 + 0.04, y0 + 0.04, sz * t / 2),
                            (x1 - 0.04, y1 - 0.04, sz * (t / 2 + 0.008))),
                        shade(col, 0.92))
    elif style == 'glass':
        y0 = h * rng.uniform(0.35, 0.55)
        s.add(
            box_between((-w / 2 + 0.12, y0, -t / 2 - 0.003),
                        (w / 2 - 0.12, h - 0.15, t / 2 + 0.003)),
            pick_color(rng, 'glass'))
    metal = pick_color(rng, 'metal')
    hx, hy = w / 2 - 0.08, rng.uniform(0.95, 1.05)
    lever = rng.random() < 0.6
    for sz in (-1, 1):
        z = sz * (t / 2 + 0.03)
        s.add(rod((hx, hy, sz * t / 2), (hx, hy, z), 0.008, 8), metal)
        if lever:
            s.add(rod((hx, hy, z), (hx - 0.12, hy, z), 0.009, 8), metal)
        else:
            s.add(ellipsoid((0.028, 0.028, 0.02), (hx, hy, z), 4, 10), metal)
    if rng.random() < 0.6:  # frame
        fc = col if rng.random() < 0.5 else pick_color(rng, 'white')
        fw, ft = 0.07, t + 0.06
        s.add(
            box_between((-w / 2 - fw, 0, -ft / 2), (-w / 2, h + fw, ft / 2)),
            fc)
        s.add(
            box_between((w / 2, 0, -ft / 2), (w / 2 + fw, h + fw, ft / 2)), fc)
        s.add(box_between((-w / 2, h, -ft / 2), (w / 2, h + fw, ft / 2)), fc)
    return s
