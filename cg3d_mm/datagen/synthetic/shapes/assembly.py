"""A shape as coloured parts, and the material palettes parts draw from."""
from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

import numpy as np

from .primitives import Mesh, concatenate, transform

# Plausible base colours per material (RGB 0..255); a part picks one and
# jitters it a little so no two shapes share exact colours.
PALETTES = {
    'wood': [(150, 100, 60), (181, 136, 90), (110, 70, 40), (205, 170, 120),
             (80, 52, 32), (160, 120, 80)],
    'metal': [(175, 175, 180), (125, 125, 130), (70, 70, 75), (200, 200, 205),
              (150, 140, 120)],
    'dark': [(35, 35, 38), (55, 55, 60), (25, 25, 30), (70, 65, 60)],
    'fabric': [(150, 40, 40), (45, 75, 140), (90, 110, 60), (200, 185, 155),
               (85, 85, 95), (180, 120, 60), (120, 60, 110), (60, 120, 120),
               (160, 160, 160)],
    'leather': [(95, 55, 30), (40, 30, 25), (140, 90, 55), (165, 120, 80)],
    'plastic': [(220, 60, 50), (40, 110, 200), (240, 200, 40), (60, 160, 80),
                (240, 240, 240), (40, 40, 45), (240, 130, 40),
                (150, 150, 155)],
    'white': [(238, 238, 232), (245, 245, 245), (225, 228, 230),
              (240, 236, 225)],
    'ceramic': [(240, 240, 235), (60, 90, 160), (200, 60, 50), (240, 210, 90),
                (90, 150, 110), (30, 30, 35), (230, 220, 200)],
    'glass': [(60, 120, 70), (130, 80, 35), (150, 200, 215), (70, 100, 140),
              (200, 220, 225)],
    'terracotta': [(190, 95, 60), (170, 80, 50), (210, 120, 80),
                   (120, 110, 100), (230, 225, 215)],
    'paint': [(240, 240, 240), (200, 60, 50), (50, 80, 140), (60, 120, 80),
              (230, 200, 60), (170, 170, 170), (90, 60, 40)],
    'paper': [(190, 150, 100), (175, 135, 85), (205, 170, 120)],
    'foliage': [(60, 130, 50), (40, 100, 40), (90, 150, 60), (50, 110, 70)],
    'screen': [(20, 22, 30), (30, 35, 50), (15, 15, 18)],
    'vivid': [(200, 30, 40), (30, 60, 170), (250, 190, 30), (30, 140, 60),
              (240, 240, 240), (20, 20, 20), (230, 100, 20), (120, 40, 150)],
}


def pick_color(rng: np.random.Generator,
               palette: str,
               jitter: float = 14.) -> Tuple[int, int, int]:
    """A jittered colour from a named palette.

    Args:
        rng (np.random.Generator): Random generator.
        palette (str): A key of :data:`PALETTES`.
        jitter (float): Maximum per-channel jitter.

    Returns:
        tuple[int, int, int]: RGB in 0..255.
    """
    if palette not in PALETTES:
        raise KeyError(f'unknown palette {palette!r}; expected one of '
                       f'{sorted(PALETTES)}')
    options = PALETTES[palette]
    base = np.asarray(options[rng.integers(len(options))], np.float64)
    rgb = (base + rng.uniform(-jitter, jitter, 3)).clip(0, 255)
    return tuple(int(c) for c in rgb.round())


def shade(color: Sequence[int], factor: float) -> Tuple[int, int, int]:
    """Darken (< 1) or lighten (> 1) a colour."""
    return tuple(int(c) for c in np.clip(np.asarray(color) * factor, 0, 255))


@dataclass
class Shape:
    """A procedural object: coloured parts in metres, +y up, resting on
    y = 0, front facing -z (the ShapeNetCore v2 frame).

    Attributes:
        parts (list[tuple[Mesh, tuple[int, int, int]]]): (mesh, RGB) pairs.
    """
    parts: List[Tuple[Mesh, Tuple[int, int,
                                  int]]] = field(default_factory=list)

    def add(self, mesh: Mesh, color: Sequence[int]) -> 'Shape':
        """Append a part; returns self for chaining."""
        self.parts.append((mesh, tuple(int(c) for c in color)))
        return self

    def extend(self, meshes: Sequence[Mesh], color: Sequence[int]) -> 'Shape':
        """Append several parts of one colour."""
        for mesh in meshes:
            self.add(mesh, color)
        return self

    def merge(self, other: 'Shape', **transform_kwargs) -> 'Shape':
        """Append the parts of another shape, optionally transformed (see
        :func:`primitives.transform`)."""
        for mesh, color in other.parts:
            self.add(
                transform(mesh, **transform_kwargs)
                if transform_kwargs else mesh, color)
        return self

    def transformed(self, **transform_kwargs) -> 'Shape':
        """A transformed copy (see :func:`primitives.transform`)."""
        return Shape().merge(self, **transform_kwargs)

    def to_mesh(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flatten into one mesh.

        Returns:
            tuple: vertices (V, 3) float64, faces (F, 3) int64 and face
            colours (F, 3) uint8.
        """
        if not self.parts:
            raise ValueError('shape has no parts')
        verts, faces = concatenate([m for m, _ in self.parts])
        colors = np.concatenate([
            np.repeat(np.asarray([c], np.uint8), len(m[1]), 0)
            for m, c in self.parts
        ])
        return verts, faces, colors

    def bounds(self) -> np.ndarray:
        """(2, 3) minimum and maximum corner."""
        verts = np.vstack([m[0] for m, _ in self.parts])
        return np.stack([verts.min(0), verts.max(0)])
