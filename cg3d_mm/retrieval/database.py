"""What an index is built over: a folder of point files (labels from
class subfolders) or a dataset, and its items' id, path, label and views."""
import copy
import glob
import os.path as osp
from typing import List, Optional, Tuple

from cg3d_mm.apis.inference import point_pipeline

POINT_EXTS = ('.npy', '.ply', '.txt', '.bin')


def point_files(folder: str) -> List[Tuple[str, Optional[str]]]:
    """(file, class) pairs of a folder: files in class subfolders (their
    names are the labels, ModelNet style), else the folder's own files."""
    def files(d):
        return sorted(p for p in glob.glob(osp.join(d, '*'))
                      if osp.isfile(p)
                      and osp.splitext(p)[1].lower() in POINT_EXTS)

    subdirs = sorted(d for d in glob.glob(osp.join(folder, '*'))
                     if osp.isdir(d))
    labelled = [(p, osp.basename(d)) for d in subdirs for p in files(d)]
    if labelled:
        return labelled
    own = [(p, None) for p in files(folder)]
    if not own:
        raise FileNotFoundError(
            f'{folder}: no point files ({", ".join(POINT_EXTS)}) in it or in '
            'class subfolders')
    return own


def dataset_items(dataset) -> Tuple[List[dict], List[str]]:
    """One item dict per sample of ``dataset`` (``id``, ``path``,
    ``label``, ``class_name``, ``views``) and the dataset's class list."""
    classes = list(dataset.metainfo.get('classes') or [])
    items = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        label = info.get('gt_label')
        name = info.get('class_name')
        if name is None and label is not None and label < len(classes):
            name = classes[label]
        path = info.get('pts_path') or info.get('lidar_points', {}).get(
            'lidar_path')
        items.append(dict(
            id=str(info.get('sample_id', info.get('sample_idx', i))),
            path=osp.abspath(path) if path else None,
            label=None if label is None else int(label),
            class_name=name,
            views=[osp.abspath(v) for v in info.get('img_paths', [])]))
    return items, classes


def database_from_config(cfg, key: str):
    """A dataset config of ``cfg`` named by ``key`` with the model's point
    test pipeline (never the training augmentations).

    Args:
        key (str): ``'test_dataloader'``, ``'val_dataloader'``,
            ``'train_dataloader'`` or any config entry holding a dataset
            config (``type`` key) or a dataloader config (``dataset`` key).
    """
    if key not in cfg:
        raise ValueError(f'{cfg.filename}: no entry {key!r} (expected e.g. '
                         "'test_dataloader', a folder or a saved index)")
    entry = cfg[key]
    dataset_cfg = entry.get('dataset', entry) if isinstance(entry, dict) \
        else None
    if not isinstance(dataset_cfg, dict) or 'type' not in dataset_cfg:
        raise ValueError(f'{cfg.filename}: {key!r} is not a dataset or '
                         'dataloader config')
    dataset_cfg = copy.deepcopy(dict(dataset_cfg))
    dataset_cfg['pipeline'] = point_pipeline(cfg)
    dataset_cfg['test_mode'] = True
    return dataset_cfg
