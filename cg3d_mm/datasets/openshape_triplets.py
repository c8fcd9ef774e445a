"""OpenShape's processed training data, read as it ships."""
import json
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Union

from cg3d_mm.registry import DATASETS

from .skipping_dataset import SkippingDataset, resolve_layout_root
from .utils import build_transforms

OPENSHAPE_DATASETS = ('Objaverse', 'ShapeNet', 'ABO', '3D-FUTURE')


def remap_openshape_path(data_path: str, data_root: str,
                         path_map: Dict[str, str]) -> str:
    """Where a split entry's ``data_path`` is on this machine: an absolute
    path starting with a ``path_map`` key is re-rooted (onto ``data_root``
    when the mapped folder is relative), other absolute paths stay, and
    relative ones are under ``data_root``."""
    if osp.isabs(data_path):
        for old, new in path_map.items():
            if data_path.startswith(old):
                rest = data_path[len(old):].lstrip('/')
                return osp.join(data_root, new, rest) \
                    if not osp.isabs(new) else osp.join(new, rest)
        return data_path
    return osp.join(data_root, data_path)


@DATASETS.register_module()
class OpenShapeTriplets(SkippingDataset):
    """OpenShape's per-shape files and split lists (points + texts, no views).

    Layout (relative to ``data_root``, OpenShape's download)::

        meta_data/split/train_all.json   [{"id", "data_path", "dataset",
                                            "group"}, ...]
        <data_path>                      a pickled dict in a .npy: xyz
                                         (N, 3), rgb (N, 3) in [0, 1],
                                         text [str], blip_caption,
                                         msft_caption, retrieval_text [str],
                                         CLIP features (unused)

    ``data_path`` entries are used as written when absolute (OpenShape's
    files name their machine's paths: ``path_map`` rewrites prefixes) and
    relative to ``data_root`` otherwise. OpenShape ships precomputed CLIP
    features of its renders, not the renders: CG3D's image branch (prompt
    tuning on the views) has nothing to train on, so this source trains the
    point-text loss only. Pack its samples with
    ``PackCG3DInputs(keys=('points', 'img'), blank_img_size=S)`` to mix it
    with image-bearing sources (``has_img=False``), or with
    ``keys=('points', )`` alone (and a point-encoder-only schedule).

    Items: ``pts_path``, ``dataset``, ``group``, ``sample_id`` (the id) and
    ``trust_pickle``; ``LoadOpenShapeShape`` reads the file (points and
    caption candidates), ``SampleSourceCaption`` draws the caption. Points
    are not axis-swapped: OpenShape swaps y and z for its z-up rotations;
    cg3d_mm's rotations take ``up_axis='y'`` instead.

    Args:
        data_root (str, optional): OpenShape's data folder.
        ann_file (str): Split JSON. Defaults to
            'meta_data/split/train_all.json'.
        trust_pickle (bool): Required True: the per-shape files are
            pickled Python objects and loading them runs code from the
            files; only set it for data from a source you trust.
        datasets (Sequence[str], optional): Keep only these ``dataset``
            values (e.g. ``('ShapeNet', )``).
        path_map (dict, optional): Prefix -> replacement for absolute
            ``data_path`` entries, e.g. ``{'/mnt/data/': 'data/openshape/'}``.
        check_files (bool): Stat every file when the list is read (missing
            ones count against ``max_missing_ratio``). Defaults to True.
        max_missing_ratio (float): See :class:`SkippingDataset`.
        synthetic (dict, optional): ``dict(seed=0, part='train_b')`` etc.
    """

    METAINFO: dict = dict(classes=())
    LAYOUT = 'openshape'

    def __init__(self,
                 data_root: Optional[str] = None,
                 ann_file: str = 'meta_data/split/train_all.json',
                 trust_pickle: bool = False,
                 datasets: Optional[Sequence[str]] = None,
                 path_map: Optional[Dict[str, str]] = None,
                 check_files: bool = True,
                 max_missing_ratio: float = 0.01,
                 synthetic: Optional[dict] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 **kwargs) -> None:
        if trust_pickle is not True:
            raise PermissionError(
                'OpenShapeTriplets: OpenShape\'s per-shape files are pickled '
                'Python objects and loading them runs code from the files; '
                'set trust_pickle=True (in the dataset config) only for data '
                'from a source you trust')
        data_root = resolve_layout_root(type(self).__name__, data_root,
                                        synthetic, self.LAYOUT)
        self.trust_pickle = trust_pickle
        self.datasets = tuple(datasets) if datasets else None
        self.path_map = dict(path_map or {})
        self.check_files = check_files
        super().__init__(
            data_root=data_root, ann_file=ann_file,
            pipeline=build_transforms(pipeline), test_mode=test_mode,
            max_missing_ratio=max_missing_ratio, **kwargs)

    def load_data_list(self) -> List[dict]:
        path = self.ann_file
        if not osp.isfile(path):
            raise FileNotFoundError(f'split file {path} does not exist')
        with open(path) as f:
            try:
                entries = json.load(f)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}: not valid JSON ({err})') from None
        if not isinstance(entries, list):
            raise ValueError(f'{path}: expected a list of {{"id", '
                             '"data_path", "dataset", "group"}} entries')
        data_list, missing = [], []
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not {'id', 'data_path'} <= set(
                    entry):
                raise ValueError(
                    f'{path}: entry {i} ({str(entry)[:80]}) needs "id" and '
                    '"data_path" (and "dataset", "group")')
            dataset = entry.get('dataset', '')
            if self.datasets and dataset not in self.datasets:
                continue
            pts_path = remap_openshape_path(str(entry['data_path']),
                                            self.data_root, self.path_map)
            if self.check_files and not osp.isfile(pts_path):
                missing.append(pts_path)
                continue
            data_list.append(dict(
                pts_path=pts_path, dataset=dataset,
                group=entry.get('group'), sample_id=str(entry['id'])))
        if self.datasets and not data_list and not missing:
            raise ValueError(f'{path}: no entry of the datasets '
                             f'{self.datasets}')
        self.check_missing(missing, len(data_list) + len(missing),
                           'the data_path files (relative to data_root, or '
                           'absolute paths rewritten by path_map)')
        return data_list

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        # the opt-in travels with each sample to LoadOpenShapeShape
        info['trust_pickle'] = self.trust_pickle
        return info
