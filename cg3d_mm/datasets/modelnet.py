"""ModelNet40 / ModelNet10 in PointNet++'s ``modelnet40_normal_resampled``
layout, or the ``.dat`` pickles of the Point-BERT release."""
import os
import os.path as osp
import pickle
from collections import defaultdict
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset

from cg3d_mm.registry import DATASETS
from cg3d_mm.utils.assets import resolve_asset

from .shapenet_triplets import read_lines
from .transforms.loading import read_points
from .utils import build_transforms

MODELNET_DIR = 'modelnet40_normal_resampled'
ROW_FORMAT = "'x,y,z,nx,ny,nz' rows (6 comma-separated values)"


class UnsafePickleError(pickle.UnpicklingError):
    """A ``.dat`` file refers to something other than numpy arrays."""


def _latin1_bytes(text: str, encoding: str = 'latin1') -> bytes:
    # protocol-2 pickles store bytes as _codecs.encode(str, 'latin1'); only
    # that exact call is allowed (other codecs are not plain data)
    if encoding not in ('latin1', 'latin-1'):
        raise UnsafePickleError(f'_codecs.encode with {encoding!r}')
    return text.encode('latin-1')


def _safe_globals() -> dict:
    try:
        from numpy._core import multiarray, numeric  # numpy >= 2
    except ImportError:
        from numpy.core import multiarray, numeric
    allowed = {}
    for core in ('numpy.core', 'numpy._core'):  # numpy 1.x / 2.x pickles
        allowed[(f'{core}.multiarray', '_reconstruct')] = \
            multiarray._reconstruct
        allowed[(f'{core}.multiarray', 'scalar')] = multiarray.scalar
        allowed[(f'{core}.numeric', '_frombuffer')] = numeric._frombuffer
    allowed[('numpy', 'ndarray')] = np.ndarray
    allowed[('numpy', 'dtype')] = np.dtype
    allowed[('_codecs', 'encode')] = _latin1_bytes
    return allowed


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickle lists / tuples of numpy arrays and numbers, nothing else."""

    _allowed = None

    def find_class(self, module: str, name: str):
        if _NumpyOnlyUnpickler._allowed is None:
            _NumpyOnlyUnpickler._allowed = _safe_globals()
        found = self._allowed.get((module, name))
        if found is None:
            raise UnsafePickleError(f'{module}.{name}')
        return found


def load_numpy_pickle(path: str):
    """Load a pickle that may only hold numpy arrays, numbers and lists.

    Nothing outside numpy's array reconstruction is ever imported or called,
    so a tampered file cannot run code.

    Raises:
        UnsafePickleError: The file references any other global.
    """
    try:
        with open(path, 'rb') as f:
            # latin1 reads numpy arrays pickled under Python 2
            return _NumpyOnlyUnpickler(f, encoding='latin1').load()
    except UnsafePickleError as err:
        raise UnsafePickleError(
            f'{path}: refusing to unpickle {err}; a ModelNet .dat file must '
            'hold only numpy arrays ([list of point arrays, list of '
            'labels]), nothing from it was executed') from None
    except FileNotFoundError:
        raise FileNotFoundError(f'{path} does not exist') from None
    except Exception as err:  # truncated / not a pickle
        raise ValueError(f'{path}: not a readable pickle of numpy arrays '
                         f'({type(err).__name__}: {err})') from None


@DATASETS.register_module()
class ModelNet(BaseDataset):
    """ModelNet40 / ModelNet10 shapes with their class labels.

    Layout (relative to ``data_root``)::

        modelnet{40,10}_shape_names.txt        class names (label order)
        modelnet{40,10}_{train,test}.txt       ids like ``night_stand_0001``
        <class>/<class>_XXXX.txt               10,000 rows x,y,z,nx,ny,nz
        modelnet40_test_8192pts_fps.dat        optional, see ``dat_file``

    Items of the text layout carry ``pts_path`` and are read when the item
    is requested (the files are large); items of a ``.dat`` file carry their
    ``points`` in memory. Either way ``points`` reaches the pipeline as
    float32 (N, 3), or (N, 6) with ``use_normals``, so ``LoadPointCloud``
    passes it through.

    Args:
        data_root (str, optional): The ``modelnet40_normal_resampled``
            folder. With ``synthetic`` set and no ``data_root``, the built-in
            synthetic world's copy is used.
        num_classes (int): 40 or 10: selects the ``modelnet{K}_*`` lists.
        split (str): 'test' or 'train'.
        use_normals (bool): Keep the normals as columns 3-5. Defaults to
            False (CG3D's encoders read xyz only).
        dat_file (str, optional): Read this pickle (relative to
            ``data_root``) instead of the text files, e.g.
            ``'modelnet40_test_8192pts_fps.dat'``: ``[list of (N, 6) arrays,
            list of labels]``. Loaded with an unpickler that accepts numpy
            arrays only.
        synthetic (dict, optional): Settings of the built-in synthetic
            world, used when ``data_root`` is None.
        pipeline (list): Transforms (built from mmdet3d's registry).
    """

    METAINFO: dict = dict(classes=())
    DEFAULT_DIR = MODELNET_DIR

    def __init__(self,
                 data_root: Optional[str] = None,
                 num_classes: int = 40,
                 split: str = 'test',
                 use_normals: bool = False,
                 dat_file: Optional[str] = None,
                 synthetic: Optional[dict] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 **kwargs) -> None:
        if num_classes not in (40, 10):
            raise ValueError(f'ModelNet: num_classes must be 40 or 10, got '
                             f'{num_classes!r}')
        if split not in ('train', 'test'):
            raise ValueError(f"ModelNet: split must be 'train' or 'test', "
                             f'got {split!r}')
        if data_root is None:
            if synthetic is None:
                raise ValueError('ModelNet: give data_root (the '
                                 f'{MODELNET_DIR} folder), or '
                                 'synthetic=dict(...) for the built-in data')
            data_root = osp.join(resolve_asset('synthetic_data', **synthetic),
                                 MODELNET_DIR)
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'ModelNet: data_root {data_root} does not exist (expected '
                f'the {MODELNET_DIR} folder with modelnet{num_classes}_*.txt '
                'lists and one folder per class)')
        self.num_classes = num_classes
        self.split = split
        self.use_normals = use_normals
        self.dat_file = dat_file
        pipeline = build_transforms(pipeline)
        _check_load_dims(pipeline, use_normals)
        super().__init__(data_root=data_root, ann_file='', pipeline=pipeline,
                         test_mode=test_mode, **kwargs)

    @staticmethod
    def source_files(data_root: str, num_classes: int = 40,
                     split: str = 'test',
                     dat_file: Optional[str] = None) -> List[str]:
        """The files that must exist for this dataset (for availability)."""
        prefix = f'modelnet{num_classes}'
        files = [f'{prefix}_shape_names.txt',
                 dat_file or f'{prefix}_{split}.txt']
        return [osp.join(data_root, f) for f in files]

    @staticmethod
    def default_dat_file(num_classes: int = 40, split: str = 'test') -> str:
        """Name of the Point-BERT release's pickle of a split."""
        return f'modelnet{num_classes}_{split}_8192pts_fps.dat'

    @property
    def _columns(self) -> int:
        return 6 if self.use_normals else 3

    def _load_classes(self) -> List[str]:
        path = osp.join(self.data_root,
                        f'modelnet{self.num_classes}_shape_names.txt')
        classes = read_lines(path, 'ModelNet shape-names list')
        if len(set(classes)) != len(classes):
            raise ValueError(f'{path}: class names are not unique')
        given = self._metainfo.get('classes')
        if given and tuple(given) != tuple(classes):
            raise ValueError(f'metainfo classes {tuple(given)} differ from '
                             f'{path} ({tuple(classes)})')
        self._metainfo['classes'] = tuple(classes)
        return classes

    def load_data_list(self) -> List[dict]:
        classes = self._load_classes()
        if self.dat_file is not None:
            return self._load_dat(classes)
        return self._load_txt(classes)

    def _load_txt(self, classes: List[str]) -> List[dict]:
        list_file = osp.join(self.data_root,
                             f'modelnet{self.num_classes}_{self.split}.txt')
        ids = read_lines(list_file, 'ModelNet split list')
        label_of = {c: i for i, c in enumerate(classes)}
        data_list, missing = [], defaultdict(list)
        for shape_id in ids:
            class_name, _, number = shape_id.rpartition('_')
            if not class_name or not number.isdigit():
                raise ValueError(f'{list_file}: bad id {shape_id!r} '
                                 '(expected <class>_XXXX, e.g. '
                                 'airplane_0001)')
            if class_name not in label_of:
                raise ValueError(
                    f'{list_file}: class {class_name!r} of {shape_id!r} is '
                    f'not in modelnet{self.num_classes}_shape_names.txt')
            path = osp.join(self.data_root, class_name, f'{shape_id}.txt')
            if not osp.isfile(path):
                missing[class_name].append(path)
                continue
            data_list.append(dict(pts_path=path, class_name=class_name,
                                  gt_label=label_of[class_name],
                                  sample_id=shape_id))
        self._report_missing(missing, list_file)
        return data_list

    def _report_missing(self, missing: dict, list_file: str) -> None:
        # A partial test split gives numbers nobody can compare: refuse.
        if not missing:
            return
        for class_name in sorted(missing):
            folder = osp.join(self.data_root, class_name)
            files = [f for f in os.listdir(folder) if f.endswith('.txt')] \
                if osp.isdir(folder) else []
            if not files:
                state = 'has no point files' if osp.isdir(folder) \
                    else 'is missing'
                raise FileNotFoundError(
                    f'ModelNet: class folder {folder} {state} but '
                    f'{list_file} lists {len(missing[class_name])} of its '
                    f'shapes (expected {class_name}/{class_name}_XXXX.txt '
                    f'with {ROW_FORMAT})')
        paths = [p for c in sorted(missing) for p in missing[c]]
        raise FileNotFoundError(
            f'ModelNet: {len(paths)} point files listed in {list_file} do not '
            f'exist (e.g. {", ".join(paths[:3])})')

    def _load_dat(self, classes: List[str]) -> List[dict]:
        path = osp.join(self.data_root, self.dat_file)
        content = load_numpy_pickle(path)
        if not (isinstance(content, (list, tuple)) and len(content) == 2):
            raise ValueError(f'{path}: expected [list of point arrays, list '
                             f'of labels], got {type(content).__name__}')
        points, labels = content
        if len(points) != len(labels):
            raise ValueError(f'{path}: {len(points)} point arrays but '
                             f'{len(labels)} labels')
        data_list = []
        for i, (pts, label) in enumerate(zip(points, labels)):
            pts = np.asarray(pts)
            if pts.ndim != 2 or pts.shape[1] < self._columns:
                raise ValueError(
                    f'{path}: sample {i} has shape {tuple(pts.shape)}, '
                    f'expected (N, 6) x,y,z,nx,ny,nz points')
            label = np.asarray(label).reshape(-1)
            if label.size != 1 or not 0 <= int(label[0]) < len(classes):
                raise ValueError(
                    f'{path}: sample {i} has label {label.tolist()}, expected '
                    f'one index in [0, {len(classes)}) of '
                    f'modelnet{self.num_classes}_shape_names.txt')
            label = int(label[0])
            data_list.append(dict(
                points=np.ascontiguousarray(pts[:, :self._columns],
                                            dtype=np.float32),
                pts_path=f'{path}[{i}]',  # names the sample in errors
                class_name=classes[label], gt_label=label))
        return data_list

    def read_txt_points(self, path: str) -> np.ndarray:
        """Read one ``<class>_XXXX.txt`` and check it is N x 6."""
        try:
            pts = read_points(path)
        except IOError as err:
            raise type(err)(f'{err} (expected {ROW_FORMAT})') from None
        if pts.shape[1] != 6:
            raise ValueError(f'{path}: rows have {pts.shape[1]} values, '
                             f'expected {ROW_FORMAT}')
        return np.ascontiguousarray(pts[:, :self._columns])

    def prepare_data(self, idx: int):
        info = self.get_data_info(idx)
        if info.get('points') is None:
            info['points'] = self.read_txt_points(info['pts_path'])
        return self.pipeline(info)


def _check_load_dims(pipeline: List[Callable], use_normals: bool) -> None:
    """Refuse a ``LoadPointCloud`` that would silently drop or miss normals."""
    from .transforms.loading import LoadPointCloud
    for t in pipeline:
        if isinstance(t, LoadPointCloud):
            widest = max(t.use_dims)
            if use_normals and widest < 5:
                raise ValueError(
                    f'ModelNet: use_normals=True but LoadPointCloud keeps '
                    f'columns {t.use_dims}; use use_dims=(0, 1, 2, 3, 4, 5)')
            if not use_normals and widest > 2:
                raise ValueError(
                    f'ModelNet: LoadPointCloud keeps columns {t.use_dims} but '
                    'use_normals=False gives xyz only; set use_normals=True')
