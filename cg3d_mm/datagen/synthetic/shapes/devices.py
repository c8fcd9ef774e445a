"""Electronics and instruments: display, laptop, guitar.

Frame: metres, +y up, resting on y = 0, front (screen, strings) facing -z.
"""
import numpy as np

from .assembly import Shape, pick_color, shade
from .primitives import (box_between, cylinder, ellipsoid, prism, rod,
                         rotation, transform)


def build_display(rng: np.random.Generator) -> Shape:
    """Monitors: flat panels (16:9, 16:10, 4:3) on a neck and base, or a
    CRT; the screen faces -z."""
    s = Shape()
    body = pick_color(rng, str(rng.choice(['dark', 'dark', 'white', 'metal'])))
    screen = pick_color(rng, 'screen')
    crt = rng.random() < 0.12
    w = rng.uniform(0.35, 0.45) if crt else rng.uniform(0.45, 0.75)
    ratio = 0.75 if crt else float(
        rng.choice([9 / 16, 10 / 16, 0.75], p=[0.6, 0.3, 0.1]))
    h = w * ratio
    bez = rng.uniform(0.008, 0.03)
    depth = rng.uniform(0.3, 0.4) if crt else rng.uniform(0.015, 0.05)
    neck_h = rng.uniform(0.05, 0.15) if not crt else 0.02
    y0 = 0.02 + neck_h
    s.add(
        box_between(
            (-w / 2 - bez, y0, -0.01),
            (w / 2 + bez, y0 + h + 2 * bez, 0.01 + (0.02 if crt else depth))),
        body)
    if crt:
        s.add(
            box_between((-w * 0.35, y0 + h * 0.15, 0.03),
                        (w * 0.35, y0 + h * 0.85, depth)), body)
    s.add(
        box_between((-w / 2, y0 + bez, -0.013), (w / 2, y0 + bez + h, -0.01)),
        screen)
    base = str(rng.choice(['rect', 'round', 'vfoot']))
    if base == 'rect':
        s.add(box_between((-w * 0.2, 0, -0.05), (w * 0.2, 0.02, 0.15)), body)
    elif base == 'round':
        s.add(
            cylinder(rng.uniform(0.08, 0.12), 0.02, 24, (0, 0.01, 0.05)), body)
    else:
        for sx in (-1, 1):
            s.add(
                rod((0, 0.01, 0.06), (sx * w * 0.25, 0.01, -0.02), 0.012, 8),
                body)
    if not crt:
        s.add(
            box_between((-0.03, 0.015, 0.02 + depth * 0.3),
                        (0.03, y0 + h * 0.45, 0.04 + depth * 0.3)), body)
    if rng.random() < 0.3:  # power LED
        s.add(
            box_between((w / 2 - 0.03, y0 + 0.002, -0.014),
                        (w / 2 - 0.02, y0 + bez * 0.8, -0.01)), (80, 200, 90))
    return s


def build_laptop(rng: np.random.Generator) -> Shape:
    """Laptops: base with keyboard and touchpad, lid opened 95-135 degrees
    about the rear hinge; the screen faces -z."""
    s = Shape()
    body = pick_color(rng, str(rng.choice(['metal', 'dark', 'white'])))
    w, d = rng.uniform(0.3, 0.38), rng.uniform(0.2, 0.26)
    t = rng.uniform(0.012, 0.022)
    s.add(box_between((-w / 2, 0, -d / 2), (w / 2, t, d / 2)), body)
    keys = shade(body, 0.35) if body[0] > 100 else (20, 20, 22)
    s.add(
        box_between((-w / 2 + 0.02, t, -d / 2 + d * 0.42),
                    (w / 2 - 0.02, t + 0.002, d / 2 - 0.015)), keys)
    s.add(
        box_between((-w * 0.15, t, -d / 2 + 0.012),
                    (w * 0.15, t + 0.001, -d / 2 + d * 0.36)),
        shade(body, 0.85))
    lt = t * rng.uniform(0.4, 0.7)
    lid = Shape()
    lid.add(box_between((-w / 2, 0, -d / 2), (w / 2, lt, d / 2)), body)
    lid.add(
        box_between((-w / 2 + 0.012, -0.0015, -d / 2 + 0.012),
                    (w / 2 - 0.012, 0, d / 2 - 0.02)),
        pick_color(rng, 'screen'))
    # Closed lid lies on the base (screen down); open it about the hinge.
    opening = rng.uniform(95, 135)
    s.merge(
        lid,
        rot=rotation('x', opening),
        translate=(0, t, 0),
        pivot=(0, 0, d / 2))
    return s


def build_guitar(rng: np.random.Generator) -> Shape:
    """Guitars standing on the body's bottom: acoustic (two bouts and a
    sound hole), electric (angular body, pickups) and bass."""
    s = Shape()
    style = str(
        rng.choice(['acoustic', 'electric', 'bass'], p=[0.5, 0.3, 0.2]))
    wood = pick_color(rng, 'wood')
    neck_col = pick_color(rng, 'wood')
    dark = (25, 22, 20)
    if style == 'acoustic':
        r1 = rng.uniform(0.17, 0.2)
        r2 = r1 * rng.uniform(0.72, 0.82)
        th = rng.uniform(0.08, 0.11)
        c1 = r1
        c2 = c1 + r1 * 0.75 + r2 * 0.6
        body = wood if rng.random() < 0.7 else pick_color(rng, 'vivid')
        s.add(cylinder(r1, th, 28, (0, c1, 0), axis='z'), body)
        s.add(cylinder(r2, th, 24, (0, c2, 0), axis='z'), body)
        s.add(
            cylinder(
                r2 * 0.9, th * 0.95, 16, ((0, (c1 + c2) / 2, 0)), axis='z'),
            body)
        s.add(
            cylinder(
                r2 * 0.35, 0.004, 20, (0, c2 - r2 * 0.2, -th / 2), axis='z'),
            dark)
        s.add(
            box_between((-0.07, c1 - r1 * 0.45, -th / 2 - 0.008),
                        (0.07, c1 - r1 * 0.3, -th / 2)), dark)
        top, face = c2 + r2 * 0.8, -th / 2
        neck_len = rng.uniform(0.42, 0.5)
    else:
        body = pick_color(rng, 'vivid')
        th = rng.uniform(0.04, 0.05)
        bw = rng.uniform(0.3, 0.36)
        bh = rng.uniform(0.38, 0.46)
        # Convex outline of a solid body plus a cutaway horn.
        poly = [(-bw * 0.3, 0.), (bw * 0.3, 0.), (bw / 2, bh * 0.3),
                (bw * 0.4, bh * 0.65), (bw * 0.15, bh * 0.8),
                (-bw * 0.2, bh * 0.75), (-bw / 2, bh * 0.35)]
        s.add(prism(poly, th, 'z'), body)
        s.add(
            prism([(-bw * 0.25, bh * 0.6), (-bw * 0.1, bh * 0.75),
                   (-bw * 0.22, bh * 1.0), (-bw * 0.32, bh * 0.75)], th, 'z'),
            body)
        for y in (bh * 0.3, bh * 0.5):
            s.add(
                box_between((-0.04, y, -th / 2 - 0.006),
                            (0.04, y + 0.025, -th / 2)), dark)
        for k in range(int(rng.integers(2, 5))):
            s.add(
                cylinder(
                    0.012,
                    0.015,
                    10, (bw * 0.25, bh * (0.15 + 0.08 * k), -th / 2 - 0.007),
                    axis='z'), (200, 200, 200))
        top, face = bh * 0.78, -th / 2
        neck_len = rng.uniform(0.42, 0.48) * (1.3 if style == 'bass' else 1.)
    nw = 0.05 if style != 'bass' else 0.055
    s.add(
        box_between((-nw / 2, top - 0.05, face),
                    (nw / 2, top + neck_len, face + 0.025)), neck_col)
    s.add(
        box_between((-nw / 2 - 0.001, top - 0.03, face - 0.003),
                    (nw / 2 + 0.001, top + neck_len, face)), dark)
    head = box_between((-0.045, 0, -0.008),
                       (0.045, rng.uniform(0.14, 0.2), 0.008))
    tilt = rng.uniform(0, 14)
    s.add(
        transform(head, rotation('x', tilt),
                  (0, top + neck_len, face + 0.012)), neck_col)
    n_pegs = 4 if style == 'bass' else 6
    for k in range(n_pegs):
        side = -1 if k < n_pegs // 2 else 1
        y = top + neck_len + 0.035 + 0.04 * (k % (n_pegs // 2))
        s.add(
            rod((side * 0.045, y, face + 0.01), (side * 0.07, y, face + 0.01),
                0.005, 6), (200, 200, 200))
    s.add(
        ellipsoid((0.01, 0.01, 0.01), (0, top + neck_len, face), 3, 6),
        (220, 220, 220))
    return s
