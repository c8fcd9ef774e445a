"""ScanObjectNN layout: simulated partial scans in the real h5 files.

::

    ScanObjectNN/main_split/training_objectdataset_augmentedrot_scale75.h5
    ScanObjectNN/main_split/test_objectdataset_augmentedrot_scale75.h5
                                   PB_T50_RS-like: perturbed box, rotated
    ScanObjectNN/main_split/{training,test}_objectdataset.h5       OBJ_BG
    ScanObjectNN/main_split_nobg/{training,test}_objectdataset.h5  OBJ_ONLY

Each file holds ``data`` float32 (N, 2048, 3), ``label`` int64 (N, ) indices
into the 15 real class names (only covered classes occur) and ``mask``
int8 (N, 2048), 1 for object points and -1 for background points.

A scan: the object stands on a floor patch, often in front of a wall and
next to a box; one or two cameras see it (z-buffer visibility), the points
inside the object's (enlarged) box form OBJ_BG, the object's own points
OBJ_ONLY, and a box translated by up to 50 % of its size, turned and scaled,
then a random turn about the up axis (+y) gives PB_T50_RS. Every variant is
jittered, centred and scaled into the unit sphere. The three variants share
objects and the train / test split, as in the real release.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import h5py
import numpy as np

from cg3d_mm.render import Camera, visible_points

from .categories import CategoryInfo
from .fileio import makedirs
from .sampling import choose, normalize_unit_sphere, sample_surface
from .seeding import object_rng, split_indices
from .shapes import build_shape
from .shapes.primitives import concatenate, transform

SCANOBJECTNN_DIR = 'ScanObjectNN'
POINTS_PER_SCAN = 2048
TEST_FRACTION = 0.2
VARIANT_FILES = {
    'pb_t50_rs':
    ('main_split', '{split}_objectdataset_augmentedrot_scale75.h5'),
    'obj_bg': ('main_split', '{split}_objectdataset.h5'),
    'obj_only': ('main_split_nobg', '{split}_objectdataset.h5'),
}
_SPLIT_FILE_NAMES = {'train': 'training', 'test': 'test'}
_DENSE_OBJECT, _DENSE_BACKGROUND = 6000, 6000
_NOISE = 0.006  # jitter, in units of the object's radius


@dataclass(frozen=True)
class ScanTask:
    """One scanned object."""
    category: str
    label: int
    index: int
    split: str


def scanobjectnn_tasks(categories: Sequence[CategoryInfo],
                       shapes_per_class: int, seed: int) -> List[ScanTask]:
    """All objects of the layout (categories with a ScanObjectNN class)."""
    tasks = []
    for c in categories:
        if c.scanobjectnn is None:
            continue
        parts = split_indices(shapes_per_class, {
            'train': 1 - TEST_FRACTION,
            'test': TEST_FRACTION
        }, seed, f'scanobjectnn/{c.name}')
        for split, idx in parts.items():
            tasks += [
                ScanTask(c.name, c.scanobjectnn, int(i), split) for i in idx
            ]
    return sorted(tasks, key=lambda t: (t.category, t.index))


def _grid_quad(corner: np.ndarray,
               u: np.ndarray,
               v: np.ndarray,
               n: int = 6) -> Tuple[np.ndarray, np.ndarray]:
    """Planar quad corner + [0, 1]^2 (u, v) as an n x n grid of triangles
    (small triangles keep the rasteriser's near-plane clipping harmless)."""
    s = np.linspace(0., 1., n + 1)
    a, b = np.meshgrid(s, s, indexing='ij')
    verts = corner + a.reshape(-1, 1) * u + b.reshape(-1, 1) * v
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing='ij')
    k = (i * (n + 1) + j).ravel()
    faces = np.concatenate([
        np.stack([k, k + n + 1, k + 1], 1),
        np.stack([k + 1, k + n + 1, k + n + 2], 1)
    ])
    return verts, faces


def scan_object(task: ScanTask, seed: int) -> Dict[str, np.ndarray]:
    """Simulate the scan of one object.

    Returns:
        dict: for each variant name, a (2048, 3) float32 cloud and its
        (2048, ) int8 mask (key ``<variant>_mask``).
    """
    rng = object_rng(seed, 'scanobjectnn', task.category, task.index)
    vertices, faces, _ = build_shape(task.category, rng).to_mesh()
    lo, hi = vertices.min(0), vertices.max(0)
    size = hi - lo
    centre = (lo + hi) / 2
    radius = np.linalg.norm(size) / 2

    # Background: floor patch, maybe a wall behind, maybe a neighbour box.
    margin = max(radius * 1.5, 0.5)
    bg = [
        _grid_quad(
            np.array([lo[0] - margin, 0., lo[2] - margin]),
            np.array([size[0] + 2 * margin, 0., 0.]),
            np.array([0., 0., size[2] + 2 * margin]))
    ]
    wall = rng.random() < 0.6
    if wall:
        wz = hi[2] + rng.uniform(0.02, 0.4)
        bg.append(
            _grid_quad(
                np.array([lo[0] - margin, 0., wz]),
                np.array([size[0] + 2 * margin, 0., 0.]),
                np.array([0., max(size[1] * 1.5, 1.5), 0.])))
    if rng.random() < 0.35:
        nb_v, nb_f, _ = build_shape('box', rng).to_mesh()
        side = rng.choice([-1., 1.])
        shift = (
            hi[0] + 0.05 - nb_v[:, 0].min() if side > 0 else lo[0] - 0.05 -
            nb_v[:, 0].max())
        bg.append(
            transform(
                (nb_v, nb_f),
                translate=(shift, 0., centre[2] + rng.uniform(-0.2, 0.2))))
    bg_v, bg_f = concatenate(bg)

    obj_pts, _, _ = sample_surface(vertices, faces, _DENSE_OBJECT, rng)
    bg_pts, _, _ = sample_surface(bg_v, bg_f, _DENSE_BACKGROUND, rng)
    # Work in the camera's unit frame: object centred, radius 1.
    all_v = (np.concatenate([vertices, bg_v]) - centre) / radius
    all_f = np.concatenate([faces, bg_f + len(vertices)])
    pts = (np.concatenate([obj_pts, bg_pts]) - centre) / radius
    is_obj = np.arange(len(pts)) < len(obj_pts)
    seen = np.zeros(len(pts), bool)
    spread = 70. if wall else 160.
    for _ in range(int(rng.integers(1, 3))):
        cam = Camera(
            azimuth=rng.uniform(-spread, spread),
            elevation=rng.uniform(15., 50.))
        seen |= visible_points(pts, all_v, all_f, cam, 160, tolerance=0.02)
    if not (seen & is_obj).any():  # degenerate view: keep the object
        seen |= is_obj

    half = size / 2 / radius
    out = {}
    # OBJ_ONLY: the object's visible points.
    idx = np.nonzero(seen & is_obj)[0]
    out['obj_only'], out['obj_only_mask'] = _finish(pts, is_obj, idx, rng)
    # OBJ_BG: everything seen inside the (slightly enlarged) object box.
    box_half = half * (1. + rng.uniform(0.02, 0.15)) + 0.02
    inside = (np.abs(pts) <= box_half).all(1)
    idx = np.nonzero(seen & inside)[0]
    out['obj_bg'], out['obj_bg_mask'] = _finish(pts, is_obj, idx, rng)
    # PB_T50_RS: box shifted by up to 50 % of its size, turned, scaled.
    shift = rng.uniform(-0.5, 0.5, 3) * half * 2 * np.array([1., 0.5, 1.])
    turn = np.deg2rad(rng.uniform(-45., 45.))
    c, s = np.cos(turn), np.sin(turn)
    rot = np.array([[c, 0., s], [0., 1., 0.], [-s, 0., c]])
    local = (pts - shift) @ rot
    inside = (np.abs(local) <= box_half * rng.uniform(0.9, 1.2)).all(1)
    idx = np.nonzero(seen & inside)[0]
    if not (is_obj[idx]).any():  # the box missed the object: keep it
        idx = np.nonzero(seen & (is_obj | inside))[0]
    cloud, mask = _finish(pts, is_obj, idx, rng)
    yaw = rng.uniform(0., 2 * np.pi)
    c, s = np.cos(yaw), np.sin(yaw)
    out['pb_t50_rs'] = (
        cloud @ np.array([[c, 0., s], [0., 1., 0.], [-s, 0., c]]).T).astype(
            np.float32)
    out['pb_t50_rs_mask'] = mask
    return out


def _finish(pts: np.ndarray, is_obj: np.ndarray, idx: np.ndarray,
            rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Pick 2048 of ``idx``, jitter, normalise; returns (cloud, mask)."""
    pick = idx[choose(len(idx), POINTS_PER_SCAN, rng)]
    cloud = pts[pick] + rng.normal(0., _NOISE, (POINTS_PER_SCAN, 3))
    mask = np.where(is_obj[pick], 1, -1).astype(np.int8)
    return normalize_unit_sphere(cloud).astype(np.float32), mask


def write_scanobjectnn(root: str, tasks: Sequence[ScanTask],
                       scans: Sequence[Dict[str, np.ndarray]]) -> None:
    """Write the six h5 files from the scans of ``tasks`` (same order)."""
    for variant, (folder, pattern) in VARIANT_FILES.items():
        makedirs(osp.join(root, SCANOBJECTNN_DIR, folder))
        for split, file_split in _SPLIT_FILE_NAMES.items():
            rows = [i for i, t in enumerate(tasks) if t.split == split]
            data = np.stack([scans[i][variant] for i in rows]).astype(
                np.float32) if rows else np.zeros(
                    (0, POINTS_PER_SCAN, 3), np.float32)
            mask = np.stack([scans[i][f'{variant}_mask']
                             for i in rows]) if rows else np.zeros(
                                 (0, POINTS_PER_SCAN), np.int8)
            label = np.array([tasks[i].label for i in rows], np.int64)
            path = osp.join(root, SCANOBJECTNN_DIR, folder,
                            pattern.format(split=file_split))
            with h5py.File(path, 'w', track_order=False) as f:
                f.create_dataset('data', data=data, track_times=False)
                f.create_dataset('label', data=label, track_times=False)
                f.create_dataset('mask', data=mask, track_times=False)
