"""Seating, tables and storage furniture.

Frame: metres, +y up, resting on y = 0, front facing -z (backs of chairs
and sofas at +z).
"""
import numpy as np

from .assembly import Shape, pick_color, shade
from .common import (bar_handle, drawer_fronts, drawer_handles, four_legs,
                     knob, open_case, pedestal_column)
from .primitives import (box_between, cylinder, rod, rotation, superellipsoid,
                         transform, tube)


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


def build_table(rng: np.random.Generator) -> Shape:
    """Tables: rectangular or round tops on four legs, a pedestal or
    trestles; optional apron and lower shelf."""
    s = Shape()
    top_col = pick_color(rng, str(rng.choice(['wood', 'white', 'dark'])))
    leg_col = top_col if rng.random() < 0.6 else pick_color(rng, 'metal')
    h, t = rng.uniform(0.68, 0.78), rng.uniform(0.025, 0.06)
    if rng.random() < 0.08:  # coffee table
        h = rng.uniform(0.38, 0.5)
    round_top = rng.random() < 0.3
    if round_top:
        r = rng.uniform(0.4, 0.65)
        w = d = 2 * r
        s.add(cylinder(r, t, 32, (0, h - t / 2, 0)), top_col)
        style = str(rng.choice(['four', 'pedestal'], p=[0.4, 0.6]))
    else:
        w, d = rng.uniform(0.8, 1.9), rng.uniform(0.6, 1.0)
        s.add(box_between((-w / 2, h - t, -d / 2), (w / 2, h, d / 2)), top_col)
        style = str(
            rng.choice(['four', 'pedestal', 'trestle'], p=[0.65, 0.15, 0.2]))
    lt = rng.uniform(0.035, 0.07)
    if style == 'four':
        inset = rng.uniform(0.02, 0.08)
        xh = (w / 2 - inset - lt / 2) * (0.72 if round_top else 1.)
        zh = (d / 2 - inset - lt / 2) * (0.72 if round_top else 1.)
        s.extend(four_legs(xh, zh, h - t, lt, rng.random() < 0.4), leg_col)
        if rng.random() < 0.5 and not round_top:  # apron
            ah = rng.uniform(0.06, 0.12)
            s.add(
                box_between((-xh, h - t - ah, -zh - 0.01),
                            (xh, h - t, -zh + 0.01)), leg_col)
            s.add(
                box_between((-xh, h - t - ah, zh - 0.01),
                            (xh, h - t, zh + 0.01)), leg_col)
        if rng.random() < 0.25:  # lower shelf
            y = rng.uniform(0.12, 0.25)
            s.add(box_between((-xh, y, -zh), (xh, y + 0.02, zh)), top_col)
    elif style == 'pedestal':
        s.extend(
            pedestal_column(h - t, rng.uniform(0.04, 0.08),
                            min(w, d) * rng.uniform(0.25, 0.4)), leg_col)
    else:
        for sx in (-1, 1):
            x = sx * (w / 2 - rng.uniform(0.1, 0.2))
            s.add(
                box_between((x - 0.03, 0.06, -d / 2 + 0.1),
                            (x + 0.03, h - t, d / 2 - 0.1)), leg_col)
            s.add(
                box_between((x - 0.05, 0., -d / 2 + 0.05),
                            (x + 0.05, 0.06, d / 2 - 0.05)), leg_col)
        s.add(
            box_between((-w / 2 + 0.15, 0.2, -0.02),
                        (w / 2 - 0.15, 0.26, 0.02)), leg_col)
    return s


def build_desk(rng: np.random.Generator) -> Shape:
    """Desks: a top with drawer pedestals or side panels, a modesty panel,
    optional hutch and keyboard tray."""
    s = Shape()
    col = pick_color(rng, str(rng.choice(['wood', 'white', 'dark'])))
    front_col = shade(col, rng.uniform(0.8, 1.15))
    w, d = rng.uniform(1.1, 1.7), rng.uniform(0.55, 0.8)
    h, t = rng.uniform(0.72, 0.77), rng.uniform(0.025, 0.04)
    s.add(box_between((-w / 2, h - t, -d / 2), (w / 2, h, d / 2)), col)
    style = str(rng.choice(['pedestal', 'double_pedestal', 'panels']))
    handle = str(rng.choice(['knob', 'bar']))
    pw = rng.uniform(0.35, 0.45)
    sides = {
        'pedestal': [int(rng.choice([-1, 1]))],
        'double_pedestal': [-1, 1],
        'panels': []
    }[style]
    for sx in sides:
        x0, x1 = sorted((sx * (w / 2 - 0.01), sx * (w / 2 - 0.01 - pw)))
        s.add(
            box_between((x0, 0, -d / 2 + 0.03), (x1, h - t, d / 2 - 0.02)),
            col)
        rows = int(rng.integers(2, 5))
        s.extend(
            drawer_fronts(x0, x1, 0.05, h - t - 0.01, -d / 2 + 0.03, rows),
            front_col)
        s.extend(
            drawer_handles(x0, x1, 0.05, h - t - 0.01, -d / 2 + 0.03, rows,
                           handle), (60, 60, 60))
    for sx in (-1, 1):
        if sx not in sides:
            x = sx * (w / 2 - 0.03)
            s.add(
                box_between((x - 0.02, 0, -d / 2 + 0.03),
                            (x + 0.02, h - t, d / 2 - 0.03)), col)
    s.add(
        box_between((-w / 2 + 0.05, h * rng.uniform(0.3, 0.5), d / 2 - 0.06),
                    (w / 2 - 0.05, h - t, d / 2 - 0.04)), col)  # modesty
    if len(sides) < 2 and rng.random() < 0.6:  # centre drawer
        x0 = -w / 4 if not sides else (-w / 2 +
                                       0.05 if sides[0] > 0 else w / 2 - 0.05 -
                                       pw)
        s.add(
            box_between((x0, h - t - 0.12, -d / 2 + 0.03),
                        (x0 + pw, h - t, -d / 2 + 0.045)), front_col)
        s.add(knob((x0 + pw / 2, h - t - 0.06, -d / 2 + 0.022)), (60, 60, 60))
    if rng.random() < 0.25:  # hutch on the back edge
        hh = rng.uniform(0.3, 0.6)
        s.extend([
            transform(m, translate=(0, 0, d / 2 - 0.14))
            for m in open_case(w, hh, 0.28, 0.02, y0=h)
        ], col)
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


def build_bed(rng: np.random.Generator) -> Shape:
    """Beds: frame, mattress, headboard, optional footboard, pillows and
    blanket; the head is at +z."""
    s = Shape()
    wood = pick_color(rng,
                      str(rng.choice(['wood', 'white', 'dark', 'fabric'])))
    w, l = rng.uniform(0.9, 1.9), rng.uniform(1.9, 2.15)
    fh = rng.uniform(0.2, 0.4)
    mt = rng.uniform(0.15, 0.28)
    legs = rng.random() < 0.5
    y0 = rng.uniform(0.08, 0.16) if legs else 0.
    s.add(box_between((-w / 2, y0, -l / 2), (w / 2, fh, l / 2)), wood)
    if legs:
        s.extend(four_legs(w / 2 - 0.04, l / 2 - 0.04, y0, 0.06), wood)
    sheet = pick_color(rng, str(rng.choice(['white', 'fabric'])))
    top = fh + mt
    s.add(
        superellipsoid((w - 0.04, mt, l - 0.06), 0.15, 0.25,
                       (0, fh + mt / 2, -0.02)), sheet)
    hb = top + rng.uniform(0.3, 0.8)
    s.add(
        box_between((-w / 2 - 0.02, 0, l / 2 - 0.06),
                    (w / 2 + 0.02, hb, l / 2 + 0.02)), wood)
    if rng.random() < 0.4:
        s.add(
            box_between(
                (-w / 2 - 0.02, 0, -l / 2 - 0.04),
                (w / 2 + 0.02, top + rng.uniform(-0.05, 0.25), -l / 2 + 0.02)),
            wood)
    pill = pick_color(rng, 'white')
    n = 1 if w < 1.2 else 2
    for x in (np.linspace(-w / 4, w / 4, n) if n > 1 else [0.]):
        s.add(
            superellipsoid((w / n - 0.15, 0.12, 0.4), 0.3, 0.7,
                           (x, top + 0.05, l / 2 - 0.3)), pill)
    if rng.random() < 0.6:  # blanket over the foot end
        s.add(
            box_between(
                (-w / 2 + 0.005, fh + 0.05, -l / 2 + 0.02),
                (w / 2 - 0.005, top + 0.025, l / 2 - rng.uniform(0.6, 0.9))),
            pick_color(rng, 'fabric'))
    return s


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


def build_pillow(rng: np.random.Generator) -> Shape:
    """Pillows and cushions: a puffy superellipsoid lying flat, sometimes
    with piping."""
    s = Shape()
    col = pick_color(rng, str(rng.choice(['white', 'fabric', 'fabric'])))
    if rng.random() < 0.5:  # bed pillow
        sx, sz = rng.uniform(0.5, 0.75), rng.uniform(0.32, 0.5)
    else:  # square cushion
        sx = sz = rng.uniform(0.35, 0.55)
    th = rng.uniform(0.1, 0.2)
    s.add(
        superellipsoid((sx, th, sz), rng.uniform(0.15, 0.4),
                       rng.uniform(0.7, 1.0), (0, th / 2, 0), 10, 28), col)
    if rng.random() < 0.3:
        # piping around the seam, along a rounded rectangle
        tt = np.linspace(0, 2 * np.pi, 40, endpoint=False)
        e = 0.25
        x = np.sign(np.cos(tt)) * np.abs(np.cos(tt))**e * sx / 2
        z = np.sign(np.sin(tt)) * np.abs(np.sin(tt))**e * sz / 2
        s.add(
            tube(
                np.stack([x, np.full_like(x, th / 2), z], 1),
                0.008,
                6,
                closed=True), shade(col, 0.7))
    return s
