"""Vessels and containers: bottle, mug, bowl, ashcan, pot, bag, box.

Frame: metres, +y up, resting on y = 0, front facing -z.
"""
import numpy as np

from .assembly import Shape, pick_color, shade
from .primitives import (box_between, cylinder, ellipsoid, lathe, rod,
                         rotation, superellipsoid, torus, transform, tube)


def _hollow(outer, wall: float, bottom: float):
    """Profile of an open vessel from an outer (radius, y) profile: up the
    outside, over the rim, down the inside to the inner floor."""
    outer = np.asarray(outer, np.float64)
    inner = outer[::-1].copy()
    inner[:, 0] = np.maximum(inner[:, 0] - wall, 1e-3)
    inner = inner[inner[:, 1] >= bottom]
    inner = np.vstack([inner, [[inner[-1, 0], bottom], [0., bottom]]])
    return np.vstack([[[0., outer[0, 1]]], outer, inner])


def build_bottle(rng: np.random.Generator) -> Shape:
    """Bottles: wine, water and flask shapes (round or square bodies) with a
    coloured cap."""
    s = Shape()
    body = pick_color(rng, str(rng.choice(['glass', 'glass', 'plastic'])))
    style = str(
        rng.choice(['wine', 'water', 'flask', 'square'],
                   p=[0.35, 0.35, 0.15, 0.15]))
    r = rng.uniform(0.03, 0.05)
    hgt = rng.uniform(0.2, 0.34)
    neck_r = r * rng.uniform(0.3, 0.45)
    if style == 'wine':
        shoulder, neck = hgt * rng.uniform(0.55, 0.65), hgt * 0.92
    elif style == 'water':
        shoulder, neck = hgt * rng.uniform(0.7, 0.8), hgt * 0.9
        neck_r = r * rng.uniform(0.45, 0.6)
    else:
        shoulder, neck = hgt * rng.uniform(0.6, 0.75), hgt * 0.9
    cap_h = hgt * rng.uniform(0.06, 0.1)
    if style == 'square':
        s.add(
            superellipsoid((2 * r, shoulder, 2 * r * rng.uniform(0.6, 1.)),
                           0.2, 0.1, (0, shoulder / 2, 0)), body)
        s.add(
            lathe([(r * 0.9, shoulder * 0.98), (neck_r, neck * 0.97),
                   (neck_r, neck)], 16), body)
    else:
        ang = np.linspace(0, np.pi / 2, 5)
        curve = [(neck_r + (r - neck_r) * np.cos(a),
                  shoulder + (neck * 0.85 - shoulder) * np.sin(a))
                 for a in ang]
        if style == 'flask':
            curve = [(r * 0.9, shoulder * 0.5)] + curve
        prof = [(r * 0.92, 0.), (r, 0.01)] + curve + [(neck_r, neck)]
        s.add(lathe(prof, 20), body)
    s.add(
        cylinder(neck_r * 1.12, cap_h, 14, (0, neck + cap_h / 2, 0)),
        pick_color(rng, str(rng.choice(['plastic', 'metal', 'dark']))))
    if rng.random() < 0.6:  # label band
        s.add(
            cylinder(r * 1.01 if style != 'square' else r * 0.5,
                     shoulder * 0.35, 20, (0, shoulder * 0.45, 0)),
            pick_color(rng, str(rng.choice(['white', 'paper', 'vivid']))))
    return s


def build_mug(rng: np.random.Generator) -> Shape:
    """Mugs and cups: hollow (straight or tapered) body and a handle."""
    s = Shape()
    col = pick_color(rng, 'ceramic')
    r = rng.uniform(0.035, 0.05)
    h = rng.uniform(0.075, 0.12)
    rb = r * rng.uniform(0.75, 1.0)
    wall = rng.uniform(0.004, 0.007)
    outer = [(rb, 0.), (r, h)]
    s.add(lathe(_hollow(outer, wall, 0.01), 24), col)
    # Coffee, sometimes.
    if rng.random() < 0.3:
        s.add(
            cylinder(r - wall * 1.2, 0.004, 20, (0, h * 0.8, 0)), (70, 40, 20))
    # C-shaped handle on +x.
    hr = h * rng.uniform(0.28, 0.38)
    out = rng.uniform(0.02, 0.035)
    cy = h * 0.52
    t = np.linspace(-np.pi / 2, np.pi / 2, 9)
    x_wall = (rb + (r - rb) * 0.52) - 0.003
    path = np.stack([
        x_wall + out * np.cos(t) * 1.1, cy + hr * np.sin(t),
        np.zeros_like(t)
    ], 1)
    s.add(
        tube(path, rng.uniform(0.005, 0.008), 8),
        col if rng.random() < 0.8 else pick_color(rng, 'ceramic'))
    return s


def build_bowl(rng: np.random.Generator) -> Shape:
    """Bowls: hollow spherical or conical bowls, optional foot ring."""
    s = Shape()
    col = pick_color(rng, str(rng.choice(['ceramic', 'wood', 'plastic'])))
    rad = rng.uniform(0.07, 0.15)
    depth = rad * rng.uniform(0.4, 0.7)
    foot = rng.uniform(0.005, 0.015) if rng.random() < 0.6 else 0.
    style = str(rng.choice(['round', 'conical']))
    t = np.linspace(0., 1., 8)
    if style == 'round':
        r0 = rad * rng.uniform(0.35, 0.5)
        prof = [(r0 + (rad - r0) * np.sin(a * np.pi / 2),
                 foot + depth * (1 - np.cos(a * np.pi / 2))) for a in t]
    else:
        r0 = rad * rng.uniform(0.3, 0.45)
        prof = [(r0 + (rad - r0) * a, foot + depth * a) for a in t]
    wall = rad * rng.uniform(0.04, 0.07)
    s.add(lathe(_hollow(prof, wall, foot + wall), 28), col)
    if foot:
        s.add(cylinder(r0 * 0.9, foot, 24, (0, foot / 2, 0)), col)
    return s


def build_ashcan(rng: np.random.Generator) -> Shape:
    """Trash bins: round or square open bins, optional lid and pedal."""
    s = Shape()
    col = pick_color(rng, str(rng.choice(['plastic', 'metal', 'dark'])))
    h = rng.uniform(0.3, 0.75)
    r = h * rng.uniform(0.3, 0.45)
    rb = r * rng.uniform(0.75, 1.0)
    wall = 0.008
    square = rng.random() < 0.4
    if square:
        w, d = 2 * r, 2 * r * rng.uniform(0.7, 1.0)
        t = wall
        s.add(box_between((-w / 2, 0, -d / 2), (w / 2, t, d / 2)), col)
        for sx in (-1, 1):
            s.add(
                box_between((sx * w / 2, 0, -d / 2),
                            (sx * (w / 2 - t), h, d / 2)), col)
            s.add(
                box_between((-w / 2, 0, sx * d / 2),
                            (w / 2, h, sx * (d / 2 - t))), col)
    else:
        s.add(lathe(_hollow([(rb, 0.), (r, h)], wall, 0.01), 24), col)
        if rng.random() < 0.5:  # rim
            s.add(torus(r, 0.008, (0, h, 0), 24, 6), shade(col, 0.8))
    lid = str(
        rng.choice(['none', 'flat', 'dome', 'swing'], p=[0.4, 0.25, 0.2,
                                                         0.15]))
    lid_col = col if rng.random() < 0.6 else pick_color(rng, 'plastic')
    lr = r * 1.04
    if lid == 'flat':
        if square:
            s.add(
                box_between((-w / 2 - 0.01, h, -d / 2 - 0.01),
                            (w / 2 + 0.01, h + 0.02, d / 2 + 0.01)), lid_col)
        else:
            s.add(cylinder(lr, 0.02, 24, (0, h + 0.01, 0)), lid_col)
    elif lid in ('dome', 'swing'):
        a = np.linspace(0, np.pi / 2, 6)
        s.add(
            lathe([(lr * np.cos(x), h + lr * 0.5 * np.sin(x)) for x in a], 20),
            lid_col)
        if lid == 'swing':
            s.add(
                box_between((-lr * 0.6, h + lr * 0.15, -0.01),
                            (lr * 0.6, h + lr * 0.42, 0.01)), (30, 30, 30))
    if rng.random() < 0.3:  # pedal
        s.add(
            box_between((-0.05, 0.01, -rb - 0.06), (0.05, 0.03, -rb + 0.01)),
            (60, 60, 60))
    return s


def build_pot(rng: np.random.Generator) -> Shape:
    """Flower pots: tapered pot with rim and soil, with a bush, stalks or a
    cactus (or empty)."""
    s = Shape()
    col = pick_color(rng, 'terracotta')
    h = rng.uniform(0.15, 0.4)
    r = h * rng.uniform(0.45, 0.7)
    rb = r * rng.uniform(0.6, 0.85)
    s.add(
        lathe(
            _hollow([(rb, 0.), (r, h * 0.88), (r * 1.08, h * 0.9),
                     (r * 1.08, h)], 0.012, 0.02), 24), col)
    soil_y = h * 0.9
    s.add(cylinder(r * 0.98, 0.01, 24, (0, soil_y, 0)), (80, 55, 35))
    plant = str(
        rng.choice(['bush', 'stalks', 'cactus', 'none'],
                   p=[0.35, 0.3, 0.2, 0.15]))
    green = pick_color(rng, 'foliage')
    if plant == 'bush':
        for _ in range(int(rng.integers(3, 7))):
            c = (rng.uniform(-r, r) * 0.6,
                 soil_y + rng.uniform(0.05, 0.2) * h / 0.3,
                 rng.uniform(-r, r) * 0.6)
            s.add(
                ellipsoid(np.full(3, r * rng.uniform(0.4, 0.7)), c, 6, 10),
                shade(green, rng.uniform(0.85, 1.15)))
    elif plant == 'stalks':
        for _ in range(int(rng.integers(3, 7))):
            top = (rng.uniform(-r, r), soil_y + h * rng.uniform(0.8, 2.0),
                   rng.uniform(-r, r))
            s.add(rod((0, soil_y, 0), top, 0.004, 6), (70, 110, 50))
            s.add(ellipsoid((0.02, 0.05, 0.012), top, 4, 8), green)
    elif plant == 'cactus':
        ch = h * rng.uniform(0.8, 1.6)
        cr = r * 0.35
        s.add(cylinder(cr, ch, 14, (0, soil_y + ch / 2, 0)), green)
        s.add(ellipsoid((cr, cr, cr), (0, soil_y + ch, 0), 4, 14), green)
        if rng.random() < 0.6:
            s.add(
                tube([(0, soil_y + ch * 0.4, 0),
                      (cr * 2.2, soil_y + ch * 0.4, 0),
                      (cr * 2.2, soil_y + ch * 0.75, 0)], cr * 0.6, 10), green)
    return s


def build_bag(rng: np.random.Generator) -> Shape:
    """Bags: tote, backpack, suitcase and duffel."""
    s = Shape()
    col = pick_color(rng,
                     str(rng.choice(['fabric', 'leather', 'plastic', 'dark'])))
    style = str(rng.choice(['tote', 'backpack', 'suitcase', 'duffel']))
    if style == 'tote':
        w, h, d = rng.uniform(0.3,
                              0.45), rng.uniform(0.25,
                                                 0.4), rng.uniform(0.1, 0.18)
        s.add(superellipsoid((w, h, d), 0.15, 0.15, (0, h / 2, 0)), col)
        for sz in (-1, 1):
            t = np.linspace(0, np.pi, 9)
            path = np.stack([
                w * 0.25 * np.cos(t), h + h * 0.45 * np.sin(t),
                np.full_like(t, sz * d * 0.3)
            ], 1)
            s.add(tube(path, 0.008, 6), shade(col, 0.7))
    elif style == 'backpack':
        w, h, d = rng.uniform(0.28,
                              0.36), rng.uniform(0.4,
                                                 0.5), rng.uniform(0.15, 0.22)
        s.add(superellipsoid((w, h, d), 0.35, 0.4, (0, h / 2, 0)), col)
        s.add(
            superellipsoid((w * 0.7, h * 0.4, d * 0.35), 0.3, 0.3,
                           (0, h * 0.3, -d / 2)), shade(col, 0.85))
        t = np.linspace(0, np.pi, 9)
        s.add(
            tube(
                np.stack([
                    w * 0.12 * np.cos(t), h + 0.03 * np.sin(t),
                    np.full_like(t, 0.02)
                ], 1), 0.008, 6), (40, 40, 40))
        for sx in (-1, 1):
            s.add(
                tube([(sx * w * 0.25, h * 0.9, d / 2),
                      (sx * w * 0.3, h * 0.5, d / 2 + 0.04),
                      (sx * w * 0.3, h * 0.1, d / 2)], 0.012, 6), (40, 40, 40))
    elif style == 'suitcase':
        w, h, d = rng.uniform(0.38,
                              0.5), rng.uniform(0.5,
                                                0.75), rng.uniform(0.2, 0.28)
        y0 = 0.04
        s.add(superellipsoid((w, h, d), 0.1, 0.1, (0, y0 + h / 2, 0)), col)
        for sx in (-1, 1):
            s.add(
                rod((sx * w * 0.3, y0 + h, d * 0.35),
                    (sx * w * 0.3, y0 + h + rng.uniform(0.05, 0.35), d * 0.35),
                    0.008, 6), (60, 60, 60))
            s.add(
                cylinder(
                    0.025, 0.02, 12, (sx * w * 0.4, 0.025, d * 0.35),
                    axis='x'), (20, 20, 20))
        top = s.parts[-2][0][0][:, 1].max()
        s.add(
            rod((-w * 0.3, top, d * 0.35), (w * 0.3, top, d * 0.35), 0.012, 6),
            (60, 60, 60))
    else:
        length, rad = rng.uniform(0.45, 0.7), rng.uniform(0.13, 0.18)
        s.add(
            superellipsoid((length, 2 * rad, 2 * rad * 0.9), 0.8, 0.9,
                           (0, rad, 0)), col)
        for sx in (-1, 1):
            t = np.linspace(0, np.pi, 9)
            s.add(
                tube(
                    np.stack([
                        sx * 0.08 + 0.06 * np.cos(t),
                        2 * rad + 0.08 * np.sin(t),
                        np.zeros_like(t)
                    ], 1), 0.01, 6), (40, 40, 40))
    return s


def build_box(rng: np.random.Generator) -> Shape:
    """Boxes: cardboard boxes (closed, open flaps or taped), crates and
    storage boxes with lids."""
    s = Shape()
    style = str(rng.choice(['cardboard', 'open', 'crate', 'storage']))
    w, h, d = (rng.uniform(0.2, 0.7) for _ in range(3))
    if style in ('cardboard', 'open'):
        col = pick_color(rng, 'paper')
        s.add(box_between((-w / 2, 0, -d / 2), (w / 2, h, d / 2)), col)
        if style == 'open':
            flap = shade(col, 0.92)
            for sx in (-1, 1):
                fl = transform(
                    box_between((0, 0, -d / 2), (0.004, d * 0.45, d / 2)),
                    rotation('z', -sx * rng.uniform(20, 60)))
                s.add(transform(fl, translate=(sx * w / 2, h, 0)), flap)
                fl = transform(
                    box_between((-w / 2, 0, 0), (w / 2, w * 0.4, 0.004)),
                    rotation('x', sx * rng.uniform(20, 60)))
                s.add(transform(fl, translate=(0, h, sx * d / 2)), flap)
        else:
            s.add(
                box_between((-0.03, h, -d / 2 - 0.002),
                            (0.03, h + 0.002, d / 2 + 0.002)), (200, 180, 120))
    elif style == 'crate':
        col = pick_color(rng, 'wood')
        n = int(rng.integers(3, 6))
        ys = np.linspace(0, h, n + 1)
        for a, b in zip(ys[:-1], ys[1:]):
            for sx in (-1, 1):
                s.add(
                    box_between((-w / 2, a + 0.005, sx * d / 2),
                                (w / 2, b - 0.005, sx * (d / 2 - 0.015))), col)
                s.add(
                    box_between((sx * w / 2, a + 0.005, -d / 2),
                                (sx * (w / 2 - 0.015), b - 0.005, d / 2)), col)
        for sx in (-1, 1):
            for sz in (-1, 1):
                s.add(
                    box_between((sx * w / 2, 0, sz * d / 2),
                                (sx * (w / 2 - 0.04), h, sz * (d / 2 - 0.04))),
                    shade(col, 0.85))
        s.add(box_between((-w / 2, 0, -d / 2), (w / 2, 0.015, d / 2)), col)
    else:
        col = pick_color(rng, 'plastic')
        s.add(
            box_between((-w / 2 + 0.01, 0, -d / 2 + 0.01),
                        (w / 2 - 0.01, h, d / 2 - 0.01)), col)
        s.add(
            box_between((-w / 2, h, -d / 2), (w / 2, h + 0.025, d / 2)),
            shade(col, rng.uniform(0.7, 1.2)))
    return s
