"""Beds and pillows.

Frame: metres, +y up, resting on y = 0; a bed's headboard at +z.
"""
import numpy as np

from .assembly import Shape, pick_color, shade
from .common import four_legs
from .primitives import box_between, superellipsoid, tube


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
