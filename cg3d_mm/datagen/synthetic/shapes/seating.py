"""Seating: chairs (four-legged or swivel), sofas and benches.

Frame: metres, +y up, resting on y = 0, front facing -z (backs at +z).
"""
import numpy as np

from .assembly import Shape, pick_color, shade
from .common import four_legs
from .primitives import (box_between, cylinder, rod, rotation, superellipsoid,
                         tube)


def _swivel_base(shape: Shape, seat_y: float, color, rng) -> None:
    """Office-chair column, five-spoke star and casters."""
    shape.add(
        cylinder(0.025, seat_y - 0.08, 12, (0, 0.08 + (seat_y - 0.08) / 2, 0)),
        color)
    spoke = rng.uniform(0.26, 0.33)
    for k in range(5):
        ang = np.deg2rad(72 * k + 18)
        tip = (spoke * np.cos(ang), 0.06, spoke * np.sin(ang))
        shape.add(rod((0, 0.08, 0), tip, 0.018, 8), color)
        shape.add(
            cylinder(0.025, 0.03, 10, (tip[0], 0.025, tip[2]), axis='x'),
            (30, 30, 30))


def build_chair(rng: np.random.Generator) -> Shape:
    """Chairs: four legs, swivel or sled base; panel, slat or rail back;
    optional armrests."""
    s = Shape()
    frame = pick_color(rng, str(rng.choice(['wood', 'metal', 'dark'])))
    seat_col = frame if rng.random() < 0.4 else pick_color(
        rng, str(rng.choice(['fabric', 'leather', 'plastic'])))
    w, d = rng.uniform(0.42, 0.56), rng.uniform(0.40, 0.52)
    h, t = rng.uniform(0.42, 0.5), rng.uniform(0.03, 0.08)
    base = str(
        rng.choice(['four', 'four_round', 'swivel', 'sled'],
                   p=[0.4, 0.25, 0.2, 0.15]))
    s.add(box_between((-w / 2, h - t, -d / 2), (w / 2, h, d / 2)), seat_col)
    lt = rng.uniform(0.025, 0.05)
    if base.startswith('four'):
        s.extend(
            four_legs(
                w / 2 - lt,
                d / 2 - lt,
                h - t,
                lt,
                base == 'four_round',
                splay=rng.uniform(0, 0.04) * (rng.random() < .3)), frame)
        if rng.random() < 0.4:  # stretchers
            y = rng.uniform(0.1, 0.2)
            for sx in (-1, 1):
                s.add(
                    box_between(
                        (sx * (w / 2 - lt) - lt / 3, y, -d / 2 + lt),
                        (sx *
                         (w / 2 - lt) + lt / 3, y + lt * 0.6, d / 2 - lt)),
                    frame)
    elif base == 'swivel':
        _swivel_base(s, h - t, frame, rng)
    else:
        for sx in (-1, 1):
            x = sx * (w / 2 - 0.03)
            s.add(
                tube([(x, h - t, -d / 2 + 0.04), (x, 0.012, -d / 2 + 0.02),
                      (x, 0.012, d / 2 - 0.02), (x, h - t, d / 2 - 0.04)],
                     0.012, 8), frame)
    # Back, tilted backwards about the rear seat edge.
    bh = rng.uniform(0.3, 0.55)
    bt = rng.uniform(0.025, 0.06)
    tilt = rng.uniform(0., 14.)
    style = str(rng.choice(['panel', 'slats', 'rails']))
    back = Shape()
    z0 = d / 2 - bt
    back_col = seat_col if style == 'panel' and rng.random() < 0.6 else frame
    if style == 'panel':
        back.add(
            box_between((-w / 2, h, z0), (w / 2, h + bh, d / 2)), back_col)
    else:
        post = max(bt, 0.03)
        for sx in (-1, 1):
            x_out = sx * w / 2
            back.add(
                box_between((x_out, h, z0),
                            (x_out - sx * post, h + bh, d / 2)), frame)
        back.add(
            box_between((-w / 2, h + bh - 0.07, z0 + 0.005),
                        (w / 2, h + bh, d / 2 - 0.005)), frame)
        if style == 'slats':
            n = int(rng.integers(2, 6))
            for x in np.linspace(-w / 2, w / 2, n + 2)[1:-1]:
                back.add(
                    box_between((x - 0.02, h, z0 + 0.008),
                                (x + 0.02, h + bh - 0.07, d / 2 - 0.008)),
                    frame)
        else:
            for y in np.linspace(h + 0.06, h + bh - 0.07,
                                 int(rng.integers(2, 4)) + 1)[:-1]:
                back.add(
                    box_between((-w / 2, y, z0 + 0.008),
                                (w / 2, y + 0.04, d / 2 - 0.008)), frame)
    s.merge(back, rot=rotation('x', tilt), pivot=(0, h, d / 2))
    if rng.random() < 0.35:  # armrests
        ah = h + rng.uniform(0.17, 0.25)
        for sx in (-1, 1):
            x = sx * (w / 2 + 0.02)
            s.add(
                box_between((x - 0.02, h - t, -d / 2 + 0.06),
                            (x + 0.02, ah, -d / 2 + 0.1)), frame)
            s.add(
                box_between((x - 0.035, ah, -d / 2 + 0.03),
                            (x + 0.035, ah + 0.03, d / 2 - 0.02)),
                seat_col if rng.random() < 0.5 else frame)
    return s


def build_sofa(rng: np.random.Generator) -> Shape:
    """Sofas: seat base, back, 0-2 arms, cushions, optional chaise."""
    s = Shape()
    col = pick_color(rng, str(rng.choice(['fabric', 'leather'])))
    cush = shade(col, rng.uniform(0.9, 1.12))
    w = rng.uniform(1.3, 2.4)
    d, seat_h = rng.uniform(0.8, 1.0), rng.uniform(0.38, 0.46)
    leg_h = rng.uniform(0.05, 0.14) if rng.random() < 0.6 else 0.
    base_top = seat_h - rng.uniform(0.1, 0.16)
    bt = rng.uniform(0.15, 0.25)
    back_h = seat_h + rng.uniform(0.35, 0.5)
    arms = int(rng.choice([0, 1, 2], p=[0.1, 0.1, 0.8]))
    aw = rng.uniform(0.1, 0.24)
    arm_h = seat_h + rng.uniform(0.12, 0.25)
    x_in = w / 2 - (aw if arms else 0.)
    s.add(box_between((-w / 2, leg_h, -d / 2), (w / 2, base_top, d / 2)), col)
    s.add(
        box_between((-w / 2, base_top, d / 2 - bt), (w / 2, back_h, d / 2)),
        col)
    arm_sides = [-1, 1] if arms == 2 else (
        [int(rng.choice([-1, 1]))] if arms == 1 else [])
    for sx in arm_sides:
        x0, x1 = sorted((sx * w / 2, sx * (w / 2 - aw)))
        s.add(
            superellipsoid((x1 - x0, arm_h - leg_h, d), 0.2, 0.2,
                           ((x0 + x1) / 2, (arm_h + leg_h) / 2, 0.)), col)
    n = int(rng.integers(1, 4))
    xl = -w / 2 if -1 not in arm_sides else -x_in
    xr = w / 2 if 1 not in arm_sides else x_in
    edges = np.linspace(xl, xr, n + 1)
    for a, b in zip(edges[:-1], edges[1:]):
        s.add(
            superellipsoid(
                (b - a - 0.01, seat_h - base_top + 0.02, d - bt), 0.25, 0.4,
                ((a + b) / 2, (seat_h + base_top) / 2, -bt / 2)), cush)
        if rng.random() < 0.7:
            s.add(
                superellipsoid(
                    (b - a - 0.02, back_h - seat_h - 0.04, 0.14), 0.3, 0.4,
                    ((a + b) / 2, (seat_h + back_h) / 2, d / 2 - bt - 0.06)),
                cush)
    if rng.random() < 0.15:  # chaise longue extension at one end
        sx = int(rng.choice([-1, 1]))
        x0, x1 = sorted(
            (sx * (w / 2 - (aw if arms else 0)), sx * (w / 2 - 0.7)))
        s.add(
            box_between((x0, leg_h, -d / 2 - 0.6), (x1, seat_h, -d / 2)), cush)
    if leg_h > 0:
        s.extend(
            four_legs(w / 2 - 0.06, d / 2 - 0.06, leg_h, 0.04,
                      rng.random() < 0.5), pick_color(rng, 'wood'))
    return s


def build_bench(rng: np.random.Generator) -> Shape:
    """Benches: slab or slatted seats on legs, slab ends or A-frames;
    optional backrest (park bench)."""
    s = Shape()
    col = pick_color(rng, str(rng.choice(['wood', 'wood', 'metal', 'paint'])))
    frame = col if rng.random() < 0.5 else pick_color(rng, 'dark')
    w, d, h = rng.uniform(1.0, 2.0), rng.uniform(0.3,
                                                 0.5), rng.uniform(0.4, 0.48)
    t = rng.uniform(0.03, 0.06)
    if rng.random() < 0.5:
        s.add(box_between((-w / 2, h - t, -d / 2), (w / 2, h, d / 2)), col)
    else:
        n = int(rng.integers(3, 6))
        edges = np.linspace(-d / 2, d / 2, n + 1)
        for a, b in zip(edges[:-1], edges[1:]):
            s.add(
                box_between((-w / 2, h - t, a + 0.006), (w / 2, h, b - 0.006)),
                col)
    style = str(rng.choice(['legs', 'slabs', 'aframe']))
    xh = w / 2 - rng.uniform(0.05, 0.2)
    if style == 'legs':
        s.extend(
            four_legs(xh, d / 2 - 0.04, h - t, 0.05,
                      rng.random() < 0.3), frame)
    elif style == 'slabs':
        for sx in (-1, 1):
            s.add(
                box_between((sx * xh - 0.03, 0, -d / 2 + 0.02),
                            (sx * xh + 0.03, h - t, d / 2 - 0.02)), frame)
    else:
        for sx in (-1, 1):
            x = sx * xh
            s.add(
                tube([(x, 0.01, -d / 2), (x, h - t, 0.), (x, 0.01, d / 2)],
                     0.018, 8), frame)
    if rng.random() < 0.4:  # backrest
        bh = rng.uniform(0.3, 0.45)
        for sx in (-1, 1):
            s.add(
                box_between((sx * xh - 0.025, h, d / 2 - 0.05),
                            (sx * xh + 0.025, h + bh, d / 2 - 0.01)), frame)
        for y in np.linspace(h + 0.08, h + bh - 0.06, int(rng.integers(2, 4))):
            s.add(
                box_between((-w / 2, y, d / 2 - 0.01),
                            (w / 2, y + 0.06, d / 2 + 0.02)), col)
    return s
