"""Objaverse-LVIS layout: an LVIS-style split in OpenShape's format.

::

    OpenShape/meta_data/split/lvis.json
        [{"uid", "category", "data_path", "group"}, ...], data_path as in
        the release: /mnt/data/objaverse-processed/merged_for_training_final/
        Objaverse/000-000/<uid>.npy
    OpenShape/objaverse-processed/merged_for_training_final/Objaverse/
        000-000/<uid>.npy   np.save of a dict: xyz (10000, 3) float32 in the
                            unit sphere (+y up), rgb (10000, 3) float32 in
                            [0, 1] (the colour of the face each point lies
                            on, as the renderer paints it), id, dataset,
                            group

Like Objaverse-LVIS, many classes with few shapes each: every category of
the world under an LVIS-style name (lowercase, underscores, a sense in
parentheses, e.g. ``car_(automobile)``), 2 to 4 shapes per class (at most
``shapes_per_class``), objects of their own (not those of the other
layouts).
"""
import json
import os.path as osp
from dataclasses import dataclass
from typing import List, Sequence

import numpy as np

from cg3d_mm.datasets.openshape_eval import (LVIS_SPLIT, OPENSHAPE_DIR,
                                             OPENSHAPE_MOUNT)

from .categories import CategoryInfo
from .fileio import makedirs
from .sampling import normalize_unit_sphere, sample_surface
from .seeding import model_id, object_rng
from .shapenet import face_rgb
from .shapes import build_shape

POINTS_PER_SHAPE = 10000
SHAPES_PER_CLASS = (2, 4)  # inclusive range, drawn per class
GROUP = '000-000'
SHAPE_DIR = 'objaverse-processed/merged_for_training_final/Objaverse'
# LVIS-style class name of each category (one of its taxonomy names)
LVIS_NAMES = {
    'airplane': 'airplane',
    'ashcan': 'trash_can',
    'bag': 'suitcase',
    'bathtub': 'bathtub',
    'bed': 'bed',
    'bench': 'bench',
    'bookshelf': 'bookcase',
    'bottle': 'bottle',
    'bowl': 'bowl',
    'box': 'box',
    'cabinet': 'cabinet',
    'car': 'car_(automobile)',
    'chair': 'chair',
    'desk': 'desk',
    'display': 'monitor_(computer_equipment)',
    'door': 'door',
    'guitar': 'guitar',
    'lamp': 'lamp',
    'laptop': 'laptop_computer',
    'mug': 'mug',
    'night_stand': 'nightstand',
    'pillow': 'pillow',
    'pot': 'flowerpot',
    'sink': 'sink',
    'sofa': 'sofa',
    'table': 'table',
    'toilet': 'toilet',
}


@dataclass(frozen=True)
class LVISTask:
    """One Objaverse-LVIS shape to write."""
    category: str
    lvis_name: str
    index: int
    uid: str


def lvis_tasks(categories: Sequence[CategoryInfo], shapes_per_class: int,
               seed: int) -> List[LVISTask]:
    """All shapes of the layout: 2-4 per category (seeded, capped at
    ``shapes_per_class``)."""
    lo, hi = SHAPES_PER_CLASS
    tasks = []
    for c in categories:
        key = f'lvis/{c.name}'
        drawn = int(object_rng(seed, 'split', key).integers(lo, hi + 1))
        tasks += [
            LVISTask(c.name, LVIS_NAMES.get(c.name, c.name), i,
                     model_id(seed, key, i))
            for i in range(min(drawn, shapes_per_class))
        ]
    return tasks


def _shape_file(root: str, task: LVISTask) -> str:
    return osp.join(root, OPENSHAPE_DIR, SHAPE_DIR, GROUP, f'{task.uid}.npy')


def write_lvis_object(root: str, task: LVISTask, seed: int) -> None:
    """Build one shape and write its pickled xyz + rgb dict."""
    rng = object_rng(seed, 'shapenet', f'lvis/{task.category}', task.index)
    vertices, faces, colors = build_shape(task.category, rng).to_mesh()
    points, _, face = sample_surface(vertices, faces, POINTS_PER_SHAPE, rng)
    data = dict(
        xyz=normalize_unit_sphere(points).astype(np.float32),
        rgb=face_rgb(colors, face),
        id=task.uid, dataset='Objaverse', group=GROUP)
    np.save(_shape_file(root, task), data, allow_pickle=True)


def prepare_lvis(root: str) -> None:
    """Create the layout's directories."""
    makedirs(osp.join(root, OPENSHAPE_DIR, SHAPE_DIR, GROUP))
    makedirs(osp.dirname(osp.join(root, OPENSHAPE_DIR, LVIS_SPLIT)))


def write_lvis_index(root: str, tasks: Sequence[LVISTask]) -> None:
    """Write ``meta_data/split/lvis.json`` (by category, then index)."""
    entries = [
        dict(uid=t.uid, category=t.lvis_name,
             data_path=f'{OPENSHAPE_MOUNT}/{SHAPE_DIR}/{GROUP}/{t.uid}.npy',
             group=GROUP)
        for t in sorted(tasks, key=lambda t: (t.lvis_name, t.index))
    ]
    with open(osp.join(root, OPENSHAPE_DIR, LVIS_SPLIT), 'w') as f:
        json.dump(entries, f)
        f.write('\n')
