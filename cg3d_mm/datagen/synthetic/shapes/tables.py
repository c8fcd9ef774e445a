"""Tables and desks.

Frame: metres, +y up, resting on y = 0, front (the user's side of a desk)
facing -z.
"""
import numpy as np

from .assembly import Shape, pick_color, shade
from .common import (drawer_fronts, drawer_handles, four_legs, knob, open_case,
                     pedestal_column)
from .primitives import box_between, cylinder, transform


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
