"""ScanObjectNN object scans from the official h5 files (three variants)."""
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset

from cg3d_mm.registry import DATASETS
from cg3d_mm.utils.assets import resolve_asset

from .utils import build_transforms

SCANOBJECTNN_DIR = 'ScanObjectNN'
# The 15 classes in label order (the h5 ``label`` indexes these).
SCANOBJECTNN_CLASSES = ('bag', 'bin', 'box', 'cabinet', 'chair', 'desk',
                        'display', 'door', 'shelf', 'table', 'bed', 'pillow',
                        'sink', 'sofa', 'toilet')
# variant -> (folder, file pattern); "ScanObjectNN" alone is ambiguous
# across papers, so every result names its variant.
VARIANTS = {
    'PB_T50_RS': ('main_split',
                  '{split}_objectdataset_augmentedrot_scale75.h5'),
    'OBJ_BG': ('main_split', '{split}_objectdataset.h5'),
    'OBJ_ONLY': ('main_split_nobg', '{split}_objectdataset.h5'),
}
_SPLIT_FILE = {'train': 'training', 'test': 'test'}


def normalize_variant(variant: str) -> str:
    """``'pb_t50_rs'`` -> ``'PB_T50_RS'``; unknown names are an error."""
    name = str(variant).upper()
    if name not in VARIANTS:
        raise ValueError(f'ScanObjectNN: unknown variant {variant!r}, '
                         f'expected one of {tuple(VARIANTS)}')
    return name


def variant_file(variant: str, split: str = 'test') -> str:
    """Path of a variant's h5 file relative to the ScanObjectNN folder."""
    if split not in _SPLIT_FILE:
        raise ValueError(f"ScanObjectNN: split must be 'train' or 'test', "
                         f'got {split!r}')
    folder, pattern = VARIANTS[normalize_variant(variant)]
    return osp.join(folder, pattern.format(split=_SPLIT_FILE[split]))


def read_scanobjectnn_h5(path: str, num_classes: int = 15):
    """Read ``data`` (N, P, 3+) float32 and ``label`` (N, ) int64.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: Not an h5 file, ``data`` / ``label`` missing (the keys
            found are named) or inconsistent.
    """
    import h5py
    if not osp.isfile(path):
        raise FileNotFoundError(f'ScanObjectNN: {path} does not exist')
    try:
        f = h5py.File(path, 'r')
    except OSError as err:
        raise ValueError(f'{path}: not a readable h5 file ({err})') from None
    with f:
        missing = [k for k in ('data', 'label') if k not in f]
        if missing:
            raise ValueError(
                f'{path}: no {" / ".join(missing)} in the h5 file (keys '
                f'found: {sorted(f.keys())}); expected data [N, 2048, 3] and '
                'label [N]')
        data = np.asarray(f['data'][()], dtype=np.float32)
        label = np.asarray(f['label'][()])
    if data.ndim != 3 or data.shape[2] < 3:
        raise ValueError(f'{path}: data has shape {data.shape}, expected '
                         '[N, num_points, 3]')
    if label.ndim == 2 and label.shape[1] == 1:
        label = label[:, 0]
    if label.ndim != 1 or len(label) != len(data):
        raise ValueError(f'{path}: label has shape {label.shape}, expected '
                         f'[{len(data)}] (one per cloud in data)')
    if not np.issubdtype(label.dtype, np.integer):
        if not np.array_equal(label, np.round(label)):
            raise ValueError(f'{path}: labels are not integers')
    label = label.astype(np.int64)
    bad = (label < 0) | (label >= num_classes)
    if bad.any():
        raise ValueError(f'{path}: {int(bad.sum())} labels outside [0, '
                         f'{num_classes}), e.g. {int(label[bad][0])}')
    return data, label


@DATASETS.register_module()
class ScanObjectNN(BaseDataset):
    """ScanObjectNN (Uy et al.) object scans with their 15 class labels.

    Layout (relative to ``data_root``)::

        main_split/{training,test}_objectdataset_augmentedrot_scale75.h5
                                                  PB_T50_RS (the hardest)
        main_split/{training,test}_objectdataset.h5          OBJ_BG
        main_split_nobg/{training,test}_objectdataset.h5     OBJ_ONLY

    Each file holds ``data`` [N, 2048, 3] and ``label`` [N]. The clouds are
    read once into the data list (a test split is ~70 MB), so items carry
    ``points`` and ``LoadPointCloud`` passes them through.

    Args:
        data_root (str, optional): The ScanObjectNN folder. With
            ``synthetic`` set and no ``data_root``, the built-in synthetic
            world's copy is used.
        variant (str): 'PB_T50_RS', 'OBJ_BG' or 'OBJ_ONLY' (any case).
        split (str): 'test' or 'train'.
        h5_file (str, optional): Read this file (relative to ``data_root``)
            instead of the variant's standard one.
        synthetic (dict, optional): Settings of the built-in synthetic
            world, used when ``data_root`` is None.
        pipeline (list): Transforms (built from mmdet3d's registry).
    """

    METAINFO: dict = dict(classes=SCANOBJECTNN_CLASSES)
    DEFAULT_DIR = SCANOBJECTNN_DIR

    def __init__(self,
                 data_root: Optional[str] = None,
                 variant: str = 'PB_T50_RS',
                 split: str = 'test',
                 h5_file: Optional[str] = None,
                 synthetic: Optional[dict] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 **kwargs) -> None:
        self.variant = normalize_variant(variant)
        self.split = split
        self.h5_file = h5_file or variant_file(self.variant, split)
        if data_root is None:
            if synthetic is None:
                raise ValueError('ScanObjectNN: give data_root (the folder '
                                 'holding main_split/ and main_split_nobg/),'
                                 ' or synthetic=dict(...) for the built-in '
                                 'data')
            data_root = osp.join(resolve_asset('synthetic_data', **synthetic),
                                 SCANOBJECTNN_DIR)
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'ScanObjectNN: data_root {data_root} does not exist '
                '(expected the folder holding main_split/ and '
                'main_split_nobg/)')
        super().__init__(data_root=data_root, ann_file='',
                         pipeline=build_transforms(pipeline),
                         test_mode=test_mode, **kwargs)

    @staticmethod
    def source_files(data_root: str, variant: str = 'PB_T50_RS',
                     split: str = 'test',
                     h5_file: Optional[str] = None) -> List[str]:
        """The files that must exist for this dataset (for availability)."""
        return [osp.join(data_root, h5_file or variant_file(variant, split))]

    def load_data_list(self) -> List[dict]:
        classes = tuple(self._metainfo.get('classes') or ())
        if classes != SCANOBJECTNN_CLASSES:
            raise ValueError(f'ScanObjectNN: metainfo classes {classes} '
                             'differ from the 15 ScanObjectNN classes '
                             f'{SCANOBJECTNN_CLASSES} its labels index')
        path = osp.join(self.data_root, self.h5_file)
        data, labels = read_scanobjectnn_h5(path, len(classes))
        return [
            dict(points=np.ascontiguousarray(data[i, :, :3]),
                 pts_path=f'{path}[{i}]',  # names the sample in errors
                 class_name=classes[labels[i]], gt_label=int(labels[i]))
            for i in range(len(data))
        ]
