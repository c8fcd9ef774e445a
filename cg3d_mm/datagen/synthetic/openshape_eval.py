"""OpenShape's ModelNet40 and ScanObjectNN evaluation files of the world.

::

    OpenShape/meta_data/modelnet40/test_split.json
        [{"name": "chair_0021", "category": "chair"}, ...]: the test shapes
        of the ModelNet40 layout, in its test-list order
    OpenShape/meta_data/modelnet40/test_pc.npy
        object array of dicts, same order: xyz (10000, 3) float32 in the
        unit sphere (the same points as the ModelNet40 text files),
        rgb (10000, 3) float32 in 0..255 (face colours; the release's
        scale)
    OpenShape/meta_data/scanobjectnn/xyz_label.npy
        np.save of a dict: xyz (list of (2048, 3) float32), label (int64
        ScanObjectNN indices): the OBJ_ONLY scans of the ScanObjectNN
        layout, train and test (OpenShape's file holds 2,890 clouds, the
        train + test size of a full variant), no rgb (the loader's constant
        0.4, as for the release's scans)

The ModelNet40 clouds are rebuilt from the ModelNet layout's per-object
random streams, so the two layouts hold the same shapes; the ScanObjectNN
file reuses the scans the ScanObjectNN layout simulated.
"""
import json
import os.path as osp
from typing import Dict, Sequence

import numpy as np

from cg3d_mm.datasets.openshape_eval import (MODELNET40_POINTS,
                                             MODELNET40_SPLIT, OPENSHAPE_DIR,
                                             SCANOBJECTNN_POINTS)

from .fileio import makedirs
from .modelnet import POINTS_PER_SHAPE, ModelNetTask, shape_id
from .sampling import normalize_unit_sphere, sample_surface
from .scanobjectnn import ScanTask
from .seeding import object_rng
from .shapes import build_shape

SCAN_VARIANT = 'obj_only'


def openshape_modelnet_cloud(task: ModelNetTask,
                             seed: int) -> Dict[str, np.ndarray]:
    """The ModelNet layout's object of ``task`` with its face colours."""
    rng = object_rng(seed, 'modelnet', task.category, task.index)
    vertices, faces, colors = build_shape(task.category, rng).to_mesh()
    points, _, face = sample_surface(vertices, faces, POINTS_PER_SHAPE, rng)
    return dict(xyz=normalize_unit_sphere(points).astype(np.float32),
                rgb=colors[face, :3].astype(np.float32))


def write_openshape_modelnet(root: str, tasks: Sequence[ModelNetTask],
                             clouds: Sequence[Dict[str, np.ndarray]]) -> None:
    """Write the split JSON and the clouds of the test ``tasks``."""
    order = sorted(range(len(tasks)),
                   key=lambda i: (tasks[i].modelnet_class, tasks[i].index))
    split = [dict(name=shape_id(tasks[i]), category=tasks[i].modelnet_class)
             for i in order]
    pcs = np.empty(len(order), dtype=object)
    for k, i in enumerate(order):
        pcs[k] = clouds[i]
    base = osp.join(root, OPENSHAPE_DIR)
    makedirs(osp.dirname(osp.join(base, MODELNET40_SPLIT)))
    with open(osp.join(base, MODELNET40_SPLIT), 'w') as f:
        json.dump(split, f)
        f.write('\n')
    np.save(osp.join(base, MODELNET40_POINTS), pcs, allow_pickle=True)


def write_openshape_scanobjectnn(
        root: str, tasks: Sequence[ScanTask],
        scans: Sequence[Dict[str, np.ndarray]]) -> None:
    """Write the OBJ_ONLY scans of ``tasks`` (same order) as one dict."""
    path = osp.join(root, OPENSHAPE_DIR, SCANOBJECTNN_POINTS)
    makedirs(osp.dirname(path))
    np.save(path, dict(
        xyz=[np.asarray(s[SCAN_VARIANT], np.float32) for s in scans],
        label=np.array([t.label for t in tasks], np.int64)),
        allow_pickle=True)
