"""Light-weight numpy mesh primitives for the procedural shapes.

Every primitive is a closed triangle mesh with outward-facing (counter-
clockwise) triangles, returned as ``(vertices (V, 3) float64, faces (F, 3)
int64)``. They are a few times faster to build than the trimesh
equivalents, which matters when generating thousands of shapes.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

Mesh = Tuple[np.ndarray, np.ndarray]


def _orient_outward(vertices: np.ndarray, faces: np.ndarray) -> Mesh:
    """Flip all faces when the signed volume of a closed mesh is negative."""
    tri = vertices[faces]
    volume = np.einsum('ij,ij->i', tri[:, 0], np.cross(tri[:, 1],
                                                       tri[:, 2])).sum()
    if volume < 0:
        faces = faces[:, ::-1]
    return vertices, np.ascontiguousarray(faces)


def rotation(axis: str, degrees: float) -> np.ndarray:
    """(3, 3) right-handed rotation about 'x', 'y' or 'z'."""
    t = np.deg2rad(degrees)
    c, s = np.cos(t), np.sin(t)
    if axis == 'x':
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == 'y':
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    if axis == 'z':
        return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    raise ValueError(f"axis must be 'x', 'y' or 'z', got {axis!r}")


def transform(
    mesh: Mesh,
    rot: Optional[np.ndarray] = None,
    translate: Sequence[float] = (0., 0., 0.),
    scale: Sequence[float] = (1., 1., 1.),
    pivot: Sequence[float] = (0., 0., 0.)
) -> Mesh:
    """Scale, then rotate about ``pivot``, then translate a mesh.

    A negative scale determinant flips the faces to stay outward.
    """
    v, f = mesh
    scale = np.broadcast_to(np.asarray(scale, np.float64), (3, ))
    pivot = np.asarray(pivot, np.float64)
    v = v * scale
    if rot is not None:
        v = (v - pivot) @ np.asarray(rot).T + pivot
    v = v + np.asarray(translate, np.float64)
    if np.prod(scale) < 0:
        f = f[:, ::-1]
    return v, f


def box(size: Sequence[float], center: Sequence[float] = (0., 0., 0.)) -> Mesh:
    """Axis-aligned box of extents ``size`` centred at ``center``."""
    s = np.asarray(size, np.float64) / 2.
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1)
                        for z in (-1, 1)], np.float64) * s + center
    faces = np.array(
        [[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
         [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]],
        np.int64)
    return _orient_outward(corners, faces)


def box_between(lo: Sequence[float], hi: Sequence[float]) -> Mesh:
    """Axis-aligned box from its minimum and maximum corners."""
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    return box(np.abs(hi - lo), (lo + hi) / 2.)


def lathe(profile: Sequence[Tuple[float, float]], sections: int = 24) -> Mesh:
    """Solid of revolution about the y axis.

    Args:
        profile (Sequence[tuple[float, float]]): (radius, y) points from
            one end to the other. Ends with a radius > 0 are closed on the
            axis, so the solid is always closed; a profile that goes out and
            comes back inside (a cup's wall) makes a hollow vessel.
        sections (int): Segments around the axis.

    Returns:
        Mesh: the solid.
    """
    prof = np.asarray(profile, np.float64).copy()
    prof[np.abs(prof[:, 0]) < 1e-9, 0] = 0.
    if prof[0, 0] > 0:
        prof = np.vstack([[0., prof[0, 1]], prof])
    if prof[-1, 0] > 0:
        prof = np.vstack([prof, [0., prof[-1, 1]]])
    theta = np.linspace(0., 2. * np.pi, sections, endpoint=False)
    ring = np.stack([np.cos(theta), np.sin(theta)], 1)
    verts, index = [], []
    count = 0
    for r, y in prof:
        if r <= 0:  # a pole: one vertex on the axis
            verts.append([[0., y, 0.]])
            index.append(np.full(sections, count))
            count += 1
        else:
            verts.append(
                np.stack(
                    [r * ring[:, 0],
                     np.full(sections, y), r * ring[:, 1]], 1))
            index.append(np.arange(count, count + sections))
            count += sections
    faces = []
    k = np.arange(sections)
    k1 = (k + 1) % sections
    for a, b in zip(index[:-1], index[1:]):
        if a[0] == a[1] and b[0] == b[1]:
            continue
        if a[0] != a[1]:
            faces.append(np.stack([a[k], b[k], a[k1]], 1))
        if b[0] != b[1]:
            faces.append(np.stack([a[k1], b[k], b[k1]], 1))
    return _orient_outward(np.vstack(verts), np.vstack(faces))


def cylinder(radius: float,
             height: float,
             sections: int = 20,
             center: Sequence[float] = (0., 0., 0.),
             axis: str = 'y',
             radius_top: Optional[float] = None) -> Mesh:
    """Cylinder (or frustum with ``radius_top``) along ``axis``."""
    top = radius if radius_top is None else radius_top
    mesh = lathe([(radius, -height / 2.), (top, height / 2.)], sections)
    rot = {'y': None, 'x': rotation('z', -90.), 'z': rotation('x', 90.)}
    if axis not in rot:
        raise ValueError(f"axis must be 'x', 'y' or 'z', got {axis!r}")
    return transform(mesh, rot[axis], center)


def ellipsoid(radii: Sequence[float],
              center: Sequence[float] = (0., 0., 0.),
              rings: int = 8,
              sections: int = 16) -> Mesh:
    """Ellipsoid with semi-axes ``radii``."""
    phi = np.linspace(-np.pi / 2, np.pi / 2, rings + 1)
    mesh = lathe(np.stack([np.cos(phi), np.sin(phi)], 1), sections)
    return transform(mesh, None, center, radii)


def superellipsoid(size: Sequence[float],
                   exponent: float = 0.3,
                   exponent_y: Optional[float] = None,
                   center: Sequence[float] = (0., 0., 0.),
                   rings: int = 10,
                   sections: int = 20) -> Mesh:
    """Rounded box (cushions, pillows, bags): a superellipsoid.

    Args:
        size (Sequence[float]): Full extents (x, y, z).
        exponent (float): Horizontal squareness, 0 (box) .. 1 (ellipse).
        exponent_y (float, optional): Vertical squareness, defaults to
            ``exponent``; 1 gives pillow-like puffy sides.
        center (Sequence[float]): Centre.
        rings (int): Segments from bottom to top.
        sections (int): Segments around.
    """
    ey = exponent if exponent_y is None else exponent_y

    def spow(x, e):
        return np.sign(x) * np.abs(x)**e

    phi = np.linspace(-np.pi / 2, np.pi / 2, rings + 1)[1:-1]
    theta = np.linspace(0, 2 * np.pi, sections, endpoint=False)
    p, t = np.meshgrid(phi, theta, indexing='ij')
    cp = spow(np.cos(p), ey)
    v = np.stack([
        cp * spow(np.cos(t), exponent),
        spow(np.sin(p), ey), cp * spow(np.sin(t), exponent)
    ], -1).reshape(-1, 3)
    n = sections
    rows = len(phi)
    verts = np.vstack([[[0., -1., 0.]], v, [[0., 1., 0.]]])
    k = np.arange(n)
    k1 = (k + 1) % n
    faces = [np.stack([np.zeros(n, np.int64), 1 + k1, 1 + k], 1)]
    for r in range(rows - 1):
        a, b = 1 + r * n, 1 + (r + 1) * n
        faces += [
            np.stack([a + k, a + k1, b + k], 1),
            np.stack([a + k1, b + k1, b + k], 1)
        ]
    top = len(verts) - 1
    a = 1 + (rows - 1) * n
    faces.append(np.stack([np.full(n, top), a + k, a + k1], 1))
    mesh = _orient_outward(verts, np.vstack(faces).astype(np.int64))
    return transform(mesh, None, center, np.asarray(size) / 2.)


def tube(path: Sequence[Sequence[float]],
         radius: float,
         sections: int = 10,
         closed: bool = False) -> Mesh:
    """Circular tube swept along a polyline (handles, arms, frames).

    Args:
        path (Sequence): (K, 3) points, K >= 2.
        radius (float): Tube radius.
        sections (int): Segments around the tube.
        closed (bool): Join the last point to the first (a ring) instead of
            capping both ends.
    """
    pts = np.asarray(path, np.float64)
    tang = np.gradient(
        pts, axis=0) if len(pts) > 2 else np.repeat((pts[1:] - pts[:1]), 2, 0)
    if closed:
        tang = np.roll(pts, -1, 0) - np.roll(pts, 1, 0)
    tang /= np.linalg.norm(tang, axis=1, keepdims=True)
    # Parallel-transported frame: no twisting along the path.
    ref = np.array([0., 1., 0.]) if abs(tang[0, 1]) < 0.9 else np.array(
        [1., 0., 0.])
    normal = np.cross(tang[0], ref)
    normal /= np.linalg.norm(normal)
    theta = np.linspace(0, 2 * np.pi, sections, endpoint=False)
    rings = []
    for i, t in enumerate(tang):
        normal = normal - t * (normal @ t)
        normal /= np.linalg.norm(normal)
        binormal = np.cross(t, normal)
        rings.append(pts[i] + radius * (np.cos(theta)[:, None] * normal +
                                        np.sin(theta)[:, None] * binormal))
    verts = np.vstack(rings)
    k = np.arange(sections)
    k1 = (k + 1) % sections
    faces = []
    n_seg = len(pts) if closed else len(pts) - 1
    for i in range(n_seg):
        a, b = i * sections, ((i + 1) % len(pts)) * sections
        faces += [
            np.stack([a + k, b + k, a + k1], 1),
            np.stack([a + k1, b + k, b + k1], 1)
        ]
    if not closed:
        c0, c1 = len(verts), len(verts) + 1
        verts = np.vstack([verts, pts[:1], pts[-1:]])
        last = (len(pts) - 1) * sections
        faces += [
            np.stack([np.full(sections, c0), k, k1], 1),
            np.stack([np.full(sections, c1), last + k1, last + k], 1)
        ]
    return _orient_outward(verts, np.vstack(faces).astype(np.int64))


def rod(p0: Sequence[float],
        p1: Sequence[float],
        radius: float,
        sections: int = 10) -> Mesh:
    """Straight round rod between two points."""
    return tube([p0, p1], radius, sections)


def torus(major: float,
          minor: float,
          center: Sequence[float] = (0., 0., 0.),
          sections: int = 24,
          tube_sections: int = 8,
          arc: float = 360.) -> Mesh:
    """Torus (or a torus arc, capped) in the xz plane around the y axis."""
    closed = arc >= 360.
    n = sections if closed else max(2, int(sections * arc / 360.) + 1)
    t = np.deg2rad(np.linspace(0., arc, n, endpoint=not closed))
    path = np.stack([major * np.cos(t),
                     np.zeros_like(t), major * np.sin(t)], 1) + np.asarray(
                         center, np.float64)
    return tube(path, minor, tube_sections, closed=closed)


def prism(polygon: Sequence[Tuple[float, float]],
          depth: float,
          axis: str = 'z',
          center: Sequence[float] = (0., 0., 0.)) -> Mesh:
    """Extrude a convex polygon (u, v) by ``depth``.

    The polygon lies in the plane perpendicular to ``axis``: (x, y) for
    'z', (z, y) for 'x', (x, z) for 'y'.
    """
    poly = np.asarray(polygon, np.float64)
    n = len(poly)
    d = depth / 2.
    verts = np.vstack(
        [np.c_[poly, np.full(n, -d)], np.c_[poly, np.full(n, d)]])
    k = np.arange(n)
    k1 = (k + 1) % n
    fan = np.stack(
        [np.zeros(n - 2, np.int64),
         np.arange(1, n - 1),
         np.arange(2, n)], 1)
    faces = np.vstack([
        fan[:, ::-1], fan + n,
        np.stack([k, k1, k1 + n], 1),
        np.stack([k, k1 + n, k + n], 1)
    ])
    verts, faces = _orient_outward(verts, faces)
    if axis == 'z':
        out = verts
    elif axis == 'x':
        out = verts[:, [2, 1, 0]]
    elif axis == 'y':
        out = verts[:, [0, 2, 1]]
    else:
        raise ValueError(f"axis must be 'x', 'y' or 'z', got {axis!r}")
    return _orient_outward(out + np.asarray(center, np.float64), faces)


def concatenate(meshes: Sequence[Mesh]) -> Mesh:
    """Join meshes into one (no welding)."""
    offsets = np.cumsum([0] + [len(v) for v, _ in meshes[:-1]])
    verts = np.vstack([v for v, _ in meshes])
    faces = np.vstack([f + o for (_, f), o in zip(meshes, offsets)])
    return verts, faces
