"""Procedural indoor rooms (S3DIS-like): walls, floor, ceiling, openings
and furniture, scanned into labelled coloured points.

Rooms are z-up metres. Objects come from the shape builders (y-up, front
-z) through ``(x, y, z) -> (x, -z, y)``, so an object's front faces +y
before its yaw.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .categories import CATEGORY_BY_NAME, S3DIS_CLASSES
from .sampling import sample_surface
from .shapes import build_shape, pick_color
from .shapes.primitives import Mesh, box_between

ROOM_TYPES = ('office', 'conferenceRoom', 'lounge')
SEM = {name: i for i, name in enumerate(S3DIS_CLASSES)}
# Objects are sampled this many times denser than floor, walls, ceiling.
OBJECT_DENSITY = 2.
_SHELL = (SEM['floor'], SEM['ceiling'], SEM['wall'])
# Inward normal of wall k, for the walls y=0, x=W, y=D, x=0.
_WALL_NORMALS = ((0., 1.), (-1., 0.), (0., -1.), (1., 0.))


@dataclass
class Item:
    """One annotated instance (an S3DIS annotation file)."""
    vertices: np.ndarray  # (V, 3)
    faces: np.ndarray  # (F, 3)
    colors: np.ndarray  # (F, 3) uint8
    semantic: int
    # Openings cut in a wall, whose points are dropped: (index of the
    # along-wall axis, wall plane coordinate, lo (along, z), hi (along, z)).
    holes: List[Tuple[int, float, np.ndarray,
                      np.ndarray]] = field(default_factory=list)


@dataclass
class Room:
    """A generated room before sampling."""
    name: str
    size: np.ndarray  # (3, ) W, D, H
    items: List[Item]


def _zup(vertices: np.ndarray) -> np.ndarray:
    return vertices[:, [0, 2, 1]] * np.array([1., -1., 1.])


def _yaw(vertices: np.ndarray, degrees: float) -> np.ndarray:
    t = np.deg2rad(degrees)
    c, s = np.cos(t), np.sin(t)
    return vertices @ np.array([[c, -s, 0.], [s, c, 0.], [0., 0., 1.]]).T


def _facing(normal: Sequence[float]) -> float:
    """Yaw (degrees) that turns an object's front (+y) towards ``normal``."""
    return float(np.degrees(np.arctan2(-normal[0], normal[1])))


def _solid(mesh: Mesh, color, semantic: int) -> Item:
    v, f = mesh
    return Item(v, f, np.repeat(np.asarray([color], np.uint8), len(f), 0),
                semantic)


class RoomBuilder:
    """Places shapes in a W x D x H room without overlaps."""

    def __init__(self, name: str, size: np.ndarray,
                 rng: np.random.Generator) -> None:
        self.name, self.size, self.rng = name, size, rng
        self.items: List[Item] = []
        self.occupied: List[np.ndarray] = []  # (2, 2) xy rectangles

    def shape_item(
        self,
        category: str,
        yaw: float,
        semantic: Optional[int] = None,
        scale: Sequence[float] = (1., 1., 1.)
    ) -> Item:
        """Build ``category`` turned by ``yaw``, at the origin."""
        v, f, c = build_shape(category, self.rng).to_mesh()
        v = _yaw(_zup(v * np.asarray(scale)), yaw)
        sem = SEM[CATEGORY_BY_NAME[category].s3dis] if semantic is None \
            else semantic
        return Item(v, f, c, sem)

    def free(self, lo: np.ndarray, hi: np.ndarray, pad: float = 0.05) -> bool:
        """Whether the xy rectangle lies in the room and hits nothing."""
        if (lo[:2] < 0.02).any() or (hi[:2] > self.size[:2] - 0.02).any():
            return False
        for rect in self.occupied:
            if (lo[:2] < rect[1] + pad).all() and (hi[:2]
                                                   > rect[0] - pad).all():
                return False
        return True

    def put(self,
            item: Item,
            offset: Sequence[float],
            block: bool = True) -> Item:
        """Translate an item into the room and record its footprint."""
        item.vertices = item.vertices + np.asarray(offset, np.float64)
        self.items.append(item)
        if block:
            self.occupied.append(
                np.stack([item.vertices.min(0)[:2],
                          item.vertices.max(0)[:2]]))
        return item

    def place_at_wall(self,
                      category: str,
                      wall: Optional[int] = None,
                      tries: int = 20,
                      **kwargs) -> Optional[Item]:
        """Put an object with its back to a wall, facing into the room."""
        rng = self.rng
        walls = [wall] if wall is not None else list(rng.permutation(4))
        for w in walls:
            n = np.array(_WALL_NORMALS[w])
            item = self.shape_item(category, _facing(n), **kwargs)
            lo, hi = item.vertices.min(0), item.vertices.max(0)
            ext = hi - lo
            for _ in range(tries):
                gap = rng.uniform(0.02, 0.1)
                if w in (0, 2):
                    x = rng.uniform(0.05, self.size[0] - ext[0] - 0.05)
                    y = gap if w == 0 else self.size[1] - ext[1] - gap
                else:
                    y = rng.uniform(0.05, self.size[1] - ext[1] - 0.05)
                    x = gap if w == 3 else self.size[0] - ext[0] - gap
                off = np.array([x, y, 0.]) - np.array([lo[0], lo[1], lo[2]])
                if self.free(lo + off, hi + off):
                    return self.put(item, off)
        return None

    def place_free(self,
                   category: str,
                   tries: int = 30,
                   **kwargs) -> Optional[Item]:
        """Put an object anywhere on the floor, randomly turned."""
        item = self.shape_item(category, self.rng.uniform(0, 360), **kwargs)
        lo, hi = item.vertices.min(0), item.vertices.max(0)
        for _ in range(tries):
            p = self.rng.uniform([0.1, 0.1],
                                 self.size[:2] - 0.1 - (hi - lo)[:2])
            off = np.array([p[0] - lo[0], p[1] - lo[1], -lo[2]])
            if self.free(lo + off, hi + off):
                return self.put(item, off)
        return None

    def place_on(self,
                 surface: Item,
                 category: str,
                 tries: int = 10) -> Optional[Item]:
        """Put a small object on top of a table-like item."""
        lo, hi = surface.vertices.min(0), surface.vertices.max(0)
        item = self.shape_item(category, self.rng.uniform(0, 360))
        ilo, ihi = item.vertices.min(0), item.vertices.max(0)
        room = (hi - lo)[:2] - (ihi - ilo)[:2] - 0.1
        if (room <= 0).any():
            return None
        p = lo[:2] + 0.05 + self.rng.uniform([0., 0.], room)
        return self.put(
            item, [p[0] - ilo[0], p[1] - ilo[1], hi[2] - ilo[2]], block=False)

    def seat_at(self,
                desk: Item,
                normal: np.ndarray,
                category: str = 'chair') -> Item:
        """A chair in front of a desk (or table side), facing it."""
        item = self.shape_item(category, _facing(-normal))
        lo, hi = desk.vertices.min(0), desk.vertices.max(0)
        centre = (lo + hi) / 2
        ilo, ihi = item.vertices.min(0), item.vertices.max(0)
        half = (hi - lo)[:2] / 2 * np.abs(normal)
        reach = np.abs(normal) @ ((ihi - ilo)[:2] / 2)
        target = centre[:2] + normal * (
            half.sum() + reach + self.rng.uniform(-0.25, 0.15))
        target += self.rng.normal(0, 0.05, 2) * (1 - np.abs(normal))
        icen = (ilo + ihi) / 2
        off = np.array([target[0] - icen[0], target[1] - icen[1], -ilo[2]])
        return self.put(item, off, block=False)


def _shell(b: RoomBuilder) -> None:
    """Floor, ceiling, walls, door, windows, board, column and beam."""
    rng = b.rng
    W, D, H = b.size
    floor_c = pick_color(rng, str(rng.choice(['metal', 'wood', 'fabric'])))
    wall_c = pick_color(rng, 'white', 10)
    ceil_c = pick_color(rng, 'white', 6)
    b.items.append(
        _quad_item(
            np.array([0., 0., 0.]), [W, 0, 0], [0, D, 0], floor_c,
            SEM['floor']))
    b.items.append(
        _quad_item(
            np.array([0., 0., H]), [W, 0, 0], [0, D, 0], ceil_c,
            SEM['ceiling']))
    walls = [
        _quad_item(
            np.array([0., 0., 0.]), [W, 0, 0], [0, 0, H], wall_c, SEM['wall']),
        _quad_item(
            np.array([W, 0., 0.]), [0, D, 0], [0, 0, H], wall_c, SEM['wall']),
        _quad_item(
            np.array([0., D, 0.]), [W, 0, 0], [0, 0, H], wall_c, SEM['wall']),
        _quad_item(
            np.array([0., 0., 0.]), [0, D, 0], [0, 0, H], wall_c, SEM['wall']),
    ]
    b.items.extend(walls)
    used = set()

    def spot(w: int, width: float) -> Optional[Tuple[float, float]]:
        """Start along wall w of a free span of ``width``, and the wall's
        plane coordinate."""
        length = W if w in (0, 2) else D
        if width > length - 0.6:
            return None
        coord = 0. if w in (0, 3) else (D if w == 2 else W)
        return rng.uniform(0.3, length - width - 0.3), coord

    def opening(w: int, width: float, z0: float,
                z1: float) -> Optional[Tuple[float, float]]:
        """A spot whose wall points are cut away (door, window)."""
        found = spot(w, width)
        if found is not None:
            along = 0 if w in (0, 2) else 1  # x along walls y=0 and y=D
            walls[w].holes.append((along, found[1], np.array([found[0], z0]),
                                   np.array([found[0] + width, z1])))
        return found

    # Door: the door shape, in the wall plane, facing into the room.
    dw = int(rng.integers(4))
    used.add(dw)
    door = b.shape_item('door', _facing(_WALL_NORMALS[dw]))
    lo, hi = door.vertices.min(0), door.vertices.max(0)
    ext = hi - lo
    along = ext[0] if dw in (0, 2) else ext[1]
    found = opening(dw, along, 0., ext[2])
    if found is not None:
        a, coord = found
        if dw in (0, 2):
            off = [a - lo[0], coord - (lo[1] + hi[1]) / 2, -lo[2]]
        else:
            off = [coord - (lo[0] + hi[0]) / 2, a - lo[1], -lo[2]]
        b.put(door, off, block=False)
        # Keep the door's swing area clear.
        dlo, dhi = door.vertices.min(0), door.vertices.max(0)
        b.occupied.append(np.stack([dlo[:2] - 0.9, dhi[:2] + 0.9]))
    # Windows on up to two other walls.
    for w in rng.permutation([k for k in range(4)
                              if k != dw])[:int(rng.integers(0, 3))]:
        width, z0 = rng.uniform(0.8, 2.0), rng.uniform(0.8, 1.1)
        z1 = min(H - 0.3, z0 + rng.uniform(0.9, 1.4))
        found = opening(int(w), width, z0, z1)
        if found is None:
            continue
        a, coord = found
        glass = pick_color(rng, 'glass')
        frame = pick_color(rng, str(rng.choice(['white', 'metal'])))
        n = np.array(_WALL_NORMALS[w])
        for (p0, p1), col in _window_parts(
                int(w), a, width, z0, z1, coord, n, glass, frame):
            b.items.append(_solid(box_between(p0, p1), col, SEM['window']))
        used.add(int(w))
    # Board on a free wall, mostly in offices and conference rooms.
    if rng.random() < (0.3 if b.name.startswith('lounge') else 0.8):
        free_walls = [k for k in range(4) if k not in used] or [0]
        w = int(rng.choice(free_walls))
        width = rng.uniform(1.2, 2.4)
        found = spot(w, width)
        if found is not None:  # boards hang on the wall: nothing is cut
            a, coord = found
            n = np.array(_WALL_NORMALS[w])
            z0 = rng.uniform(0.8, 1.0)
            z1 = z0 + rng.uniform(0.9, 1.2)
            p0, p1 = _on_wall(w, a, a + width, z0, z1, coord, n, 0.0, 0.03)
            b.items.append(
                _solid(
                    box_between(p0, p1), pick_color(rng, 'white', 6),
                    SEM['board']))
    if rng.random() < 0.35:  # column in a corner
        cw, cd = rng.uniform(0.3, 0.6, 2)
        cx = 0. if rng.random() < 0.5 else W - cw
        cy = 0. if rng.random() < 0.5 else D - cd
        b.items.append(
            _solid(
                box_between((cx, cy, 0.), (cx + cw, cy + cd, H)), wall_c,
                SEM['column']))
        b.occupied.append(np.array([[cx, cy], [cx + cw, cy + cd]]))
    if rng.random() < 0.35:  # beam under the ceiling
        bw, bh = rng.uniform(0.3, 0.5), rng.uniform(0.3, 0.5)
        if rng.random() < 0.5:
            y = rng.uniform(0.5, D - 0.5 - bw)
            p0, p1 = (0., y, H - bh), (W, y + bw, H)
        else:
            x = rng.uniform(0.5, W - 0.5 - bw)
            p0, p1 = (x, 0., H - bh), (x + bw, D, H)
        b.items.append(_solid(box_between(p0, p1), ceil_c, SEM['beam']))


def _on_wall(w: int, a0: float, a1: float, z0: float, z1: float, coord: float,
             n: np.ndarray, d0: float,
             d1: float) -> Tuple[np.ndarray, np.ndarray]:
    """Box corners on wall ``w`` spanning [a0, a1] along the wall, [z0, z1]
    in height and [d0, d1] into the room."""
    if w in (0, 2):
        y0, y1 = sorted((coord + n[1] * d0, coord + n[1] * d1))
        return np.array([a0, y0, z0]), np.array([a1, y1, z1])
    x0, x1 = sorted((coord + n[0] * d0, coord + n[0] * d1))
    return np.array([x0, a0, z0]), np.array([x1, a1, z1])


def _window_parts(w, a, width, z0, z1, coord, n, glass, frame):
    t = 0.05
    yield _on_wall(w, a, a + width, z0, z1, coord, n, -0.03, 0.0), glass
    yield _on_wall(w, a, a + width, z0, z0 + t, coord, n, -0.03, 0.06), frame
    yield _on_wall(w, a, a + width, z1 - t, z1, coord, n, -0.03, 0.03), frame
    yield _on_wall(w, a, a + t, z0, z1, coord, n, -0.03, 0.03), frame
    yield _on_wall(w, a + width - t, a + width, z0, z1, coord, n, -0.03,
                   0.03), frame


def _quad_item(corner: np.ndarray, u, v, color, semantic: int) -> Item:
    u, v = np.asarray(u, np.float64), np.asarray(v, np.float64)
    verts = np.stack([corner, corner + u, corner + u + v, corner + v])
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    return Item(verts, faces, np.repeat(np.asarray([color], np.uint8), 2, 0),
                semantic)


def _furnish(b: RoomBuilder, kind: str) -> None:
    rng = b.rng
    W, D, _ = b.size
    clutter_small = ['mug', 'bottle', 'laptop', 'pot']
    if kind == 'office':
        for _ in range(int(rng.integers(1, 4))):
            desk = b.place_at_wall(str(rng.choice(['desk', 'desk', 'table'])))
            if desk is None:
                continue
            lo, hi = desk.vertices.min(0), desk.vertices.max(0)
            n = np.array(_nearest_wall_normal(lo, hi, b.size))
            b.seat_at(desk, n)
            if rng.random() < 0.8:
                b.place_on(desk, 'display')
            for _ in range(int(rng.integers(0, 3))):
                b.place_on(desk, str(rng.choice(clutter_small)))
        for _ in range(int(rng.integers(1, 3))):
            b.place_at_wall('bookshelf')
        if rng.random() < 0.5:
            b.place_at_wall('cabinet')
        for _ in range(int(rng.integers(0, 3))):
            b.place_free(str(rng.choice(['ashcan', 'box', 'pot'])))
    elif kind == 'conferenceRoom':
        long_x = W >= D
        table = b.shape_item(
            'table',
            0. if long_x else 90.,
            scale=(rng.uniform(1.3, 1.9), 1., 1.))
        lo, hi = table.vertices.min(0), table.vertices.max(0)
        off = np.array([W / 2, D / 2, 0.]) - (lo + hi) / 2
        off[2] = -lo[2]
        b.put(table, off)
        tlo, thi = table.vertices.min(0), table.vertices.max(0)
        for side in (-1., 1.):
            n = np.array([0., side]) if long_x else np.array([side, 0.])
            span = (tlo[0], thi[0]) if long_x else (tlo[1], thi[1])
            k = int(rng.integers(2, 5))
            for t in np.linspace(span[0], span[1], k + 2)[1:-1]:
                chair = b.shape_item('chair', _facing(-n))
                clo, chi = chair.vertices.min(0), chair.vertices.max(0)
                c = (clo + chi) / 2
                ext = (chi - clo)[:2]
                if long_x:
                    edge = thi[1] if side > 0 else tlo[1]
                    y = edge + side * (ext[1] / 2 + rng.uniform(-0.15, 0.15))
                    off = [t - c[0], y - c[1], -clo[2]]
                else:
                    edge = thi[0] if side > 0 else tlo[0]
                    x = edge + side * (ext[0] / 2 + rng.uniform(-0.15, 0.15))
                    off = [x - c[0], t - c[1], -clo[2]]
                b.put(chair, off, block=False)
        for _ in range(int(rng.integers(1, 5))):
            b.place_on(table, str(rng.choice(clutter_small)))
        if rng.random() < 0.6:
            b.place_at_wall(str(rng.choice(['bookshelf', 'cabinet'])))
        if rng.random() < 0.5:
            b.place_free('ashcan')
    else:  # lounge
        for _ in range(int(rng.integers(1, 3))):
            b.place_at_wall('sofa')
        low = b.shape_item(
            'table',
            rng.uniform(0, 360),
            scale=(1., rng.uniform(0.55, 0.7), 1.))
        lo, hi = low.vertices.min(0), low.vertices.max(0)
        for _ in range(20):
            p = rng.uniform([W * 0.3, D * 0.3], [W * 0.7, D * 0.7])
            off = np.array([
                p[0] - (lo[0] + hi[0]) / 2, p[1] - (lo[1] + hi[1]) / 2, -lo[2]
            ])
            if b.free(lo + off, hi + off):
                b.put(low, off)
                for _ in range(int(rng.integers(0, 3))):
                    b.place_on(
                        low, str(rng.choice(['mug', 'bottle', 'bowl', 'pot'])))
                break
        for _ in range(int(rng.integers(0, 3))):
            b.place_free('chair')
        for _ in range(int(rng.integers(1, 3))):
            b.place_free(str(rng.choice(['pot', 'lamp'])))
        if rng.random() < 0.6:
            b.place_at_wall('bookshelf')


def _nearest_wall_normal(lo, hi, size) -> Tuple[float, float]:
    centre = (lo + hi) / 2
    d = [centre[1], size[0] - centre[0], size[1] - centre[1], centre[0]]
    return _WALL_NORMALS[int(np.argmin(d))]


def make_room(name: str, rng: np.random.Generator) -> Room:
    """Build one furnished room; ``name`` starts with its type (e.g.
    'office_2')."""
    kind = name.rsplit('_', 1)[0]
    if kind not in ROOM_TYPES:
        raise ValueError(f'room type must be one of {ROOM_TYPES}, got '
                         f'{kind!r}')
    size = np.array(
        [rng.uniform(4., 8.),
         rng.uniform(4., 7.),
         rng.uniform(2.7, 3.2)])
    b = RoomBuilder(name, size, rng)
    _shell(b)
    _furnish(b, kind)
    return Room(name, size, b.items)


def scan_room(
        room: Room, num_points: int,
        rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample a room into S3DIS-like arrays.

    Every instance gets points in proportion to its area (at least 30),
    objects at ``OBJECT_DENSITY`` times the density of the room shell so that
    they stay recognisable in small scans; colours get noise, positions
    jitter; coordinates are shifted so the minimum is 0, as mmdet3d's S3DIS
    converter does.

    Returns:
        tuple: points (N, 6) float32 (xyz, rgb 0..255), semantic (N, )
        int64 and instance (N, ) int64 labels (instances from 1).
    """
    areas = []
    for it in room.items:
        tri = it.vertices[it.faces]
        areas.append(
            np.linalg.norm(
                np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]),
                axis=1).sum() / 2)
    shell = np.array([it.semantic in _SHELL for it in room.items])
    weight = np.asarray(areas) * np.where(shell, 1., OBJECT_DENSITY)
    counts = np.maximum(30, np.round(num_points * weight /
                                     weight.sum())).astype(int)
    pts, rgb, sem, ins = [], [], [], []
    for k, (it, n) in enumerate(zip(room.items, counts)):
        p, _, f = sample_surface(it.vertices, it.faces, int(n), rng)
        keep = np.ones(len(p), bool)
        for axis, _, lo, hi in it.holes:
            along = p[:, axis]
            keep &= ~((along >= lo[0]) & (along <= hi[0]) & (p[:, 2] >= lo[1])
                      & (p[:, 2] <= hi[1]))
        p, f = p[keep], f[keep]
        pts.append(p + rng.normal(0., 0.003, p.shape))
        rgb.append((it.colors[f].astype(np.float64) +
                    rng.normal(0., 6., (len(f), 3))).clip(0, 255).round())
        sem.append(np.full(len(p), it.semantic, np.int64))
        ins.append(np.full(len(p), k + 1, np.int64))
    xyz = np.concatenate(pts)
    xyz -= xyz.min(0)
    points = np.concatenate([xyz, np.concatenate(rgb)], 1).astype(np.float32)
    return points, np.concatenate(sem), np.concatenate(ins)
