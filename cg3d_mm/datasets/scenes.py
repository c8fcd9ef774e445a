"""Indoor scenes in mmdet3d's converted S3DIS / ScanNet layout.

mmdet3d 1.x's ``tools/create_data.py`` writes (both datasets)::

    <root>/points/<scene>.bin          float32 (N, 6): x y z r g b (0..255)
    <root>/semantic_mask/<scene>.bin   int64 (N, )
    <root>/instance_mask/<scene>.bin   int64 (N, )
    <root>/{s3dis,scannet}_infos_*.pkl dict(metainfo, data_list)

S3DIS semantic masks hold the 13 S3DIS classes (0..12); ScanNet's hold raw
NYU40 ids (0 = unannotated), mapped to classes later by mmdet3d's
``PointSegClassMapping``. :func:`load_scene` reads a point file and finds
its masks next to it by this layout; :func:`find_scenes` lists the scenes
of an info file, a data root or a ``points/`` folder. Both datasets are
z-up with coordinates in metres.
"""
import glob
import os.path as osp
import pickle
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

S3DIS_CLASSES = ('ceiling', 'floor', 'wall', 'beam', 'column', 'window',
                 'door', 'table', 'chair', 'sofa', 'bookcase', 'board',
                 'clutter')
NYU40_CLASSES = {
    1: 'wall', 2: 'floor', 3: 'cabinet', 4: 'bed', 5: 'chair', 6: 'sofa',
    7: 'table', 8: 'door', 9: 'window', 10: 'bookshelf', 11: 'picture',
    12: 'counter', 13: 'blinds', 14: 'desk', 15: 'shelves', 16: 'curtain',
    17: 'dresser', 18: 'pillow', 19: 'mirror', 20: 'floor mat',
    21: 'clothes', 22: 'ceiling', 23: 'books', 24: 'refrigerator',
    25: 'television', 26: 'paper', 27: 'towel', 28: 'shower curtain',
    29: 'box', 30: 'whiteboard', 31: 'person', 32: 'night stand',
    33: 'toilet', 34: 'sink', 35: 'lamp', 36: 'bathtub', 37: 'bag',
    38: 'otherstructure', 39: 'otherfurniture', 40: 'otherprop'
}
# Object classes queried by default when evaluating scene querying.
QUERY_CLASSES = {
    's3dis': ('table', 'chair', 'sofa', 'bookcase'),
    'scannet': ('chair', 'table', 'sofa', 'bookshelf', 'bed', 'toilet'),
}
SCENE_EXTS = ('.bin', '.npy', '.ply', '.txt')
_BIN_DIMS = 6


@dataclass
class Scene:
    """One scene's points, colours and (optional) labels.

    Attributes:
        name (str): Scene name (the file stem, e.g. 'Area_1_office_1').
        path (str): Point file.
        xyz (np.ndarray): (N, 3) float32 coordinates (z up).
        rgb (np.ndarray, optional): (N, 3) uint8 colours.
        semantic (np.ndarray, optional): (N, ) int64 semantic labels.
        instance (np.ndarray, optional): (N, ) int64 instance ids.
        dataset (str, optional): 's3dis', 'scannet' or None (unknown).
        label_names (dict): Semantic label -> class name.
    """
    name: str
    path: str
    xyz: np.ndarray
    rgb: Optional[np.ndarray] = None
    semantic: Optional[np.ndarray] = None
    instance: Optional[np.ndarray] = None
    dataset: Optional[str] = None
    label_names: Dict[int, str] = field(default_factory=dict)

    @property
    def num_points(self) -> int:
        return len(self.xyz)

    def label_of(self, class_name: str) -> int:
        """The semantic label of ``class_name`` in this scene's dataset."""
        for label, name in self.label_names.items():
            if name == class_name:
                return label
        raise ValueError(f'{self.path}: unknown class {class_name!r} for a '
                         f'{self.dataset or "unlabelled"} scene (known: '
                         f'{sorted(set(self.label_names.values()))})')

    def class_mask(self, class_name: str) -> np.ndarray:
        """(N, ) bool mask of the points labelled ``class_name``."""
        if self.semantic is None:
            raise ValueError(f'{self.path}: no semantic mask found (expected '
                             f'{_mask_path(self.path, "semantic_mask")})')
        return self.semantic == self.label_of(class_name)

    def classes_present(self, min_points: int = 1) -> List[str]:
        """Class names with at least ``min_points`` labelled points."""
        if self.semantic is None:
            return []
        labels, counts = np.unique(self.semantic, return_counts=True)
        return [self.label_names[int(lab)]
                for lab, n in zip(labels, counts)
                if n >= min_points and int(lab) in self.label_names]


def detect_dataset(path: str) -> Optional[str]:
    """'s3dis' / 'scannet' from the file name or the info files beside it."""
    stem = osp.splitext(osp.basename(path))[0]
    if re.match(r'Area_\d+_', stem):
        return 's3dis'
    if re.match(r'scene\d{4}_\d{2}', stem):
        return 'scannet'
    root = osp.dirname(osp.dirname(osp.abspath(path)))
    for dataset in ('s3dis', 'scannet'):
        if glob.glob(osp.join(root, f'{dataset}_infos*.pkl')):
            return dataset
    return None


def label_names_of(dataset: Optional[str]) -> Dict[int, str]:
    if dataset == 's3dis':
        return dict(enumerate(S3DIS_CLASSES))
    if dataset == 'scannet':
        return dict(NYU40_CLASSES)
    return {}


def _mask_path(points_path: str, kind: str) -> str:
    """``<root>/points/X.bin`` -> ``<root>/<kind>/X.bin``."""
    folder, base = osp.split(osp.abspath(points_path))
    stem = osp.splitext(base)[0]
    return osp.join(osp.dirname(folder), kind, f'{stem}.bin')


def _read_bin_points(path: str) -> np.ndarray:
    size = osp.getsize(path)
    row = 4 * _BIN_DIMS
    if size % row:
        raise ValueError(
            f'{path}: {size} bytes is not a whole number of float32 rows of '
            f'{_BIN_DIMS} values (expected x y z r g b as written by '
            "mmdet3d's S3DIS/ScanNet converters)")
    return np.fromfile(path, dtype=np.float32).reshape(-1, _BIN_DIMS)


def _read_ply(path: str):
    from plyfile import PlyData
    try:
        vertex = PlyData.read(path)['vertex']
    except Exception as err:
        raise ValueError(f'{path}: cannot read PLY vertices '
                         f'({type(err).__name__}: {err})') from None
    names = {p.name for p in vertex.properties}
    if not {'x', 'y', 'z'} <= names:
        raise ValueError(f'{path}: PLY vertices need x, y, z properties, got '
                         f'{sorted(names)}')
    xyz = np.stack([np.asarray(vertex[a], np.float32) for a in 'xyz'], 1)
    rgb = None
    if {'red', 'green', 'blue'} <= names:
        rgb = np.stack([np.asarray(vertex[c], np.float64)
                        for c in ('red', 'green', 'blue')], 1)
    return xyz, rgb


def _as_rgb(values: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """0..255 (or 0..1) colours -> uint8; None when they look like normals."""
    if values is None or len(values) == 0:
        return None
    values = np.asarray(values, np.float64)
    if not np.isfinite(values).all() or values.min() < 0 or \
            values.max() > 255:
        return None
    if values.max() <= 1.0:
        values = values * 255.
    return values.round().clip(0, 255).astype(np.uint8)


def _read_mask(path: str, num_points: int, what: str) -> Optional[np.ndarray]:
    if not osp.isfile(path):
        return None
    size = osp.getsize(path)
    if size % 8:
        raise ValueError(f'{path}: {size} bytes is not a whole number of '
                         f'int64 labels (expected the {what} written by '
                         "mmdet3d's converters)")
    mask = np.fromfile(path, dtype=np.int64)
    if len(mask) != num_points:
        raise ValueError(f'{path}: {what} has {len(mask)} labels but the '
                         f'scene has {num_points} points')
    return mask


def load_scene(path: str,
               dataset: Optional[str] = None,
               semantic_path: Optional[str] = None,
               instance_path: Optional[str] = None) -> Scene:
    """Read a scene and its masks.

    Args:
        path (str): Point file: ``.bin`` (mmdet3d converted, float32 N x 6),
            ``.npy`` / ``.txt`` (N x 3, or N x 6+ with colours 0..255 in
            columns 3..5) or ``.ply`` (x y z [red green blue]).
        dataset (str, optional): 's3dis' or 'scannet' (the meaning of the
            semantic labels); detected from the name or the info files by
            default.
        semantic_path, instance_path (str, optional): Mask files; by
            default ``<root>/semantic_mask/<scene>.bin`` and
            ``<root>/instance_mask/<scene>.bin`` when they exist.

    Returns:
        Scene: The scene.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'scene file {path} does not exist')
    ext = osp.splitext(path)[1].lower()
    rgb = None
    if ext == '.bin':
        pts = _read_bin_points(path)
        xyz, rgb = pts[:, :3], pts[:, 3:6]
    elif ext == '.ply':
        xyz, rgb = _read_ply(path)
    elif ext in ('.npy', '.txt'):
        from .transforms.loading import read_points
        pts = read_points(path)
        xyz = pts[:, :3]
        rgb = pts[:, 3:6] if pts.shape[1] >= 6 else None
    else:
        raise ValueError(f'{path}: unsupported scene file type {ext!r} '
                         f'(expected one of {SCENE_EXTS}; .bin as written '
                         "by mmdet3d's S3DIS/ScanNet converters)")
    if len(xyz) == 0:
        raise ValueError(f'{path}: the scene has no points')
    if not np.isfinite(xyz).all():
        bad = int((~np.isfinite(xyz)).any(axis=1).sum())
        raise ValueError(f'{path}: {bad} of {len(xyz)} points are NaN or inf')
    dataset = dataset or detect_dataset(path)
    if dataset not in (None, 's3dis', 'scannet'):
        raise ValueError(f"dataset must be 's3dis', 'scannet' or None, got "
                         f'{dataset!r}')
    n = len(xyz)
    semantic = _read_mask(semantic_path or _mask_path(path, 'semantic_mask'),
                          n, 'semantic mask')
    if semantic_path and semantic is None:
        raise FileNotFoundError(f'semantic mask {semantic_path} does not '
                                'exist')
    instance = _read_mask(instance_path or _mask_path(path, 'instance_mask'),
                          n, 'instance mask')
    return Scene(name=osp.splitext(osp.basename(path))[0],
                 path=osp.abspath(path),
                 xyz=np.ascontiguousarray(xyz, dtype=np.float32),
                 rgb=_as_rgb(rgb), semantic=semantic, instance=instance,
                 dataset=dataset, label_names=label_names_of(dataset))


def _scenes_of_info(info_file: str) -> List[str]:
    with open(info_file, 'rb') as f:
        try:
            infos = pickle.load(f)
        except Exception as err:
            raise ValueError(f'{info_file}: not a readable info pickle '
                             f'({type(err).__name__}: {err})') from None
    data_list = infos.get('data_list') if isinstance(infos, dict) else infos
    if not isinstance(data_list, list):
        raise ValueError(f'{info_file}: expected an mmdet3d info file (a '
                         'dict with data_list)')
    root = osp.dirname(osp.abspath(info_file))
    paths = []
    for i, entry in enumerate(data_list):
        try:
            rel = entry['lidar_points']['lidar_path']
        except (KeyError, TypeError):
            raise ValueError(f'{info_file}: entry {i} has no '
                             'lidar_points.lidar_path') from None
        candidates = [rel, osp.join(root, rel),
                      osp.join(root, 'points', osp.basename(rel))]
        found = next((c for c in candidates if osp.isfile(c)), None)
        if found is None:
            raise FileNotFoundError(f'{info_file}: entry {i} points to {rel}'
                                    f', not found (looked in {root} and '
                                    f'{osp.join(root, "points")})')
        paths.append(osp.abspath(found))
    return paths


def find_scenes(source: str) -> List[str]:
    """Point files of the scenes named by ``source``.

    Args:
        source (str): A scene file; an info ``.pkl``; a data root holding
            ``*_infos_*.pkl`` (all listed scenes) or ``points/``; or a
            folder of scene files.

    Returns:
        list[str]: Sorted absolute paths (info-file order for infos).
    """
    if osp.isfile(source):
        if source.endswith('.pkl'):
            return _scenes_of_info(source)
        return [osp.abspath(source)]
    if not osp.isdir(source):
        raise FileNotFoundError(f'scene source {source} does not exist '
                                '(expected a scene file, an info .pkl or a '
                                'data root)')
    infos = sorted(glob.glob(osp.join(source, '*_infos_*.pkl')))
    if infos:
        paths = []
        for info in infos:
            paths += [p for p in _scenes_of_info(info) if p not in paths]
        return paths
    folder = osp.join(source, 'points') if osp.isdir(
        osp.join(source, 'points')) else source
    paths = sorted(osp.abspath(p) for p in glob.glob(osp.join(folder, '*'))
                   if osp.splitext(p)[1].lower() in SCENE_EXTS)
    if not paths:
        raise FileNotFoundError(f'{source}: no scene files ({SCENE_EXTS}) '
                                'and no *_infos_*.pkl found')
    return paths


def default_query_classes(dataset: Optional[str]) -> List[str]:
    """The object classes queried in evaluation for a dataset."""
    if dataset in QUERY_CLASSES:
        return list(QUERY_CLASSES[dataset])
    raise ValueError('cannot pick default query classes for scenes of an '
                     'unknown dataset: pass the class names')
