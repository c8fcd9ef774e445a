"""S3DIS layout in mmdet3d 1.x's converted format (rooms for language
scene querying).

::

    s3dis/points/Area_X_<room>.bin         float32 (N, 6): xyz, rgb 0..255
    s3dis/semantic_mask/Area_X_<room>.bin  int64 (N, ): 0..12 S3DIS classes
    s3dis/instance_mask/Area_X_<room>.bin  int64 (N, ): instances from 1
    s3dis/s3dis_infos_Area_X.pkl           dict(metainfo, data_list)
    s3dis/seg_info/Area_X_resampled_scene_idxs.npy, Area_X_label_weight.npy

Rooms are named like the real ones ('office_1', 'conferenceRoom_1',
'lounge_1'). The info files follow what mmdet3d 1.4's converter writes
(``tools/create_data.py s3dis`` then ``update_infos_to_v2``): ``metainfo``
with the detection categories, and one entry per room with
``sample_idx``, ``lidar_points`` (``num_pts_feats``, ``lidar_path``),
``instances`` (axis-aligned ``bbox_3d`` [cx, cy, cz, dx, dy, dz] and
``bbox_label_3d`` for table, chair, sofa, bookcase, board),
``pts_semantic_mask_path`` and ``pts_instance_mask_path`` (file names; the
dataset's ``data_prefix`` adds the folders). ``seg_info`` holds the
re-sampled scene indices and label weights mmdet3d's segmentation configs
load for training, computed the same way (4096-point samples).
"""
import os.path as osp
import pickle
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .categories import S3DIS_CLASSES, S3DIS_DET_CLASSES
from .fileio import makedirs
from .rooms import ROOM_TYPES, make_room, scan_room
from .seeding import object_rng

S3DIS_DIR = 's3dis'
SEG_SAMPLE_POINTS = 4096
_DET_IDS = {S3DIS_CLASSES.index(c): i for i, c in enumerate(S3DIS_DET_CLASSES)}


@dataclass(frozen=True)
class RoomTask:
    """One room to generate."""
    area: int
    room: str  # e.g. 'office_1'

    @property
    def name(self) -> str:
        """'Area_X_<room>', the file stem."""
        return f'Area_{self.area}_{self.room}'


def room_tasks(areas: Sequence[int], rooms_per_area: int,
               seed: int) -> List[RoomTask]:
    """Rooms of every area; room types drawn per area from the seed."""
    tasks = []
    for area in areas:
        rng = object_rng(seed, 'scenes', f'Area_{area}')
        kinds = rng.choice(ROOM_TYPES, rooms_per_area, p=[0.5, 0.25, 0.25])
        counter: Dict[str, int] = {}
        for kind in kinds:
            counter[kind] = counter.get(kind, 0) + 1
            tasks.append(RoomTask(int(area), f'{kind}_{counter[kind]}'))
    return tasks


def prepare_s3dis(root: str) -> None:
    """Create the layout's directories."""
    for sub in ('points', 'semantic_mask', 'instance_mask', 'seg_info'):
        makedirs(osp.join(root, S3DIS_DIR, sub))


def write_room(root: str, task: RoomTask, seed: int, num_points: int) -> Dict:
    """Generate and write one room.

    Returns:
        dict: what the info file needs: ``name``, ``num_points``, per-class
        point ``counts`` (14, ) and the detection ``instances``.
    """
    rng = object_rng(seed, 'scenes', task.name)
    room = make_room(task.room, rng)
    points, semantic, instance = scan_room(room, num_points, rng)
    base = osp.join(root, S3DIS_DIR)
    points.tofile(osp.join(base, 'points', f'{task.name}.bin'))
    semantic.astype(np.int64).tofile(
        osp.join(base, 'semantic_mask', f'{task.name}.bin'))
    instance.astype(np.int64).tofile(
        osp.join(base, 'instance_mask', f'{task.name}.bin'))
    return dict(
        name=task.name,
        num_points=len(points),
        counts=np.bincount(semantic, minlength=len(S3DIS_CLASSES) + 1),
        instances=_instances(points, semantic, instance))


def _instances(points: np.ndarray, semantic: np.ndarray,
               instance: np.ndarray) -> List[dict]:
    """Axis-aligned boxes of the furniture instances, by instance id."""
    out = []
    for i in np.unique(instance):
        sel = instance == i
        label = int(semantic[sel][0])
        if label not in _DET_IDS:
            continue
        xyz = points[sel, :3]
        lo, hi = xyz.min(0), xyz.max(0)
        box = np.concatenate([(lo + hi) / 2, hi - lo]).astype(np.float32)
        out.append(dict(bbox_3d=box.tolist(), bbox_label_3d=_DET_IDS[label]))
    return out


def write_s3dis_index(root: str, tasks: Sequence[RoomTask],
                      results: Sequence[Dict]) -> None:
    """Write one info pkl and the seg_info arrays per area."""
    base = osp.join(root, S3DIS_DIR)
    areas: Dict[int, List[Tuple[RoomTask, Dict]]] = {}
    for task, res in zip(tasks, results):
        areas.setdefault(task.area, []).append((task, res))
    for area, rooms in sorted(areas.items()):
        data_list = []
        for i, (task, res) in enumerate(rooms):
            data_list.append(
                dict(
                    sample_idx=i,
                    lidar_points=dict(
                        num_pts_feats=6, lidar_path=f'{task.name}.bin'),
                    instances=res['instances'],
                    pts_semantic_mask_path=f'{task.name}.bin',
                    pts_instance_mask_path=f'{task.name}.bin'))
        infos = dict(
            metainfo=dict(
                categories={
                    c: i
                    for i, c in enumerate(S3DIS_DET_CLASSES)
                },
                dataset='s3dis',
                info_version='1.1'),
            data_list=data_list)
        with open(osp.join(base, f's3dis_infos_Area_{area}.pkl'), 'wb') as f:
            pickle.dump(infos, f, protocol=4)
        scene_idxs, weights = _seg_info([r['num_points'] for _, r in rooms],
                                        [r['counts'] for _, r in rooms])
        np.save(
            osp.join(base, 'seg_info',
                     f'Area_{area}_resampled_scene_idxs.npy'), scene_idxs)
        np.save(
            osp.join(base, 'seg_info', f'Area_{area}_label_weight.npy'),
            weights)


def _seg_info(num_points: Sequence[int],
              counts: Sequence[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
    """Scene indices repeated by size (one per 4096-point sample) and
    PointNet++-style label weights 1 / log(1.2 + frequency)."""
    num_points = np.asarray(num_points, np.float64)
    prob = num_points / num_points.sum()
    num_iter = int(num_points.sum() / SEG_SAMPLE_POINTS)
    scene_idxs = np.concatenate([
        np.full(int(round(p * num_iter)), i, np.int32)
        for i, p in enumerate(prob)
    ] + [np.zeros(0, np.int32)])
    hist = np.sum(counts, 0)[:len(S3DIS_CLASSES)].astype(np.float64)
    freq = hist / hist.sum()
    weights = (1. / np.log(1.2 + freq)).astype(np.float32)
    return scene_idxs, weights
