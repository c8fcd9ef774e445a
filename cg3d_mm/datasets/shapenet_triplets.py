"""(point cloud, rendered view, caption) triplets in CG3D's ShapeNet layout."""
import json
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Union

from mmengine.logging import print_log

from cg3d_mm.registry import DATASETS
from cg3d_mm.utils.assets import resolve_asset
from cg3d_mm.utils.class_names import taxonomy_class

from .skipping_dataset import SkippingDataset
from .utils import build_transforms


def read_lines(path: str, what: str) -> List[str]:
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} {path} does not exist')
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def read_taxonomy(path: str) -> Dict[str, List[str]]:
    """Map synset id -> its listed names (``"name1,name2"`` split).

    Accepts ``{synset: "name1,name2,..."}`` (CG3D / Point-BERT) and
    ShapeNetCore's own list of ``{"synsetId": ..., "name": ...}``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'taxonomy file {path} does not exist')
    with open(path) as f:
        try:
            raw = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{path}: not valid JSON ({err})') from None
    if isinstance(raw, list):
        raw = {d['synsetId']: d['name'] for d in raw
               if 'synsetId' in d and 'name' in d}
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f'{path}: expected a dict synset -> "name1,name2" '
                         'or a ShapeNetCore taxonomy list')
    return {k: [n.strip() for n in v.split(',') if n.strip()] or [k]
            for k, v in raw.items()}


@DATASETS.register_module()
class ShapeNetTriplets(SkippingDataset):
    """CG3D pretraining triplets: ShapeNet55 points + renders + captions.

    Layout (relative to ``data_root``; every part can be overridden)::

        shapenet_pc/<synset>-<id>.npy               8192 x 3 points
        shapenet_render/img/<synset>/<id>/000.png   views 000..004
        train_img.txt / val_img.txt / test_img.txt  lines <synset>-<id>.npy
        shape_names.txt                             class names (label order)
        taxonomy.json                               synset -> "name,..."

    Each item has ``pts_path``, ``img_paths`` (all views; the pipeline picks
    one per iteration), ``class_name``, ``gt_label``. Captions are made by
    the pipeline's ``SampleCaption``.

    Args:
        data_root (str): Dataset root. With ``synthetic`` set and no
            ``data_root``, the built-in synthetic set is used (generated
            into the cache directory on first use).
        ann_file (str): Split list. Defaults to 'train_img.txt'.
        pc_dir, img_dir (str): Point / render folders.
        class_file, taxonomy_file (str): Class list and synset names.
        num_views (int): Views per object. Defaults to 5.
        max_missing_ratio (float): Entries whose point file or view folder
            is missing are skipped with a log line while they are at most
            this fraction of the list; beyond it the dataset refuses to
            start. Defaults to 0.01.
        synthetic (dict, optional): Settings of the built-in synthetic
            world (e.g. ``dict(seed=0)``), used when ``data_root`` is None.
        drop_shared_with (Sequence[str]): Split lists (relative to
            ``data_root``) whose samples are removed from this split, with
            a warning giving the count; e.g. ``('test_img.txt', )`` for a
            checkpoint-selection split (CG3D's ``val_img.txt`` holds the
            test shapes). Lists that do not exist are skipped.
        warn_shared_with (Sequence[str]): Split lists whose samples are
            kept in this split, with a warning giving the count (e.g.
            validation shapes the encoder trains on).
    """

    METAINFO: dict = dict(classes=())

    def __init__(self,
                 data_root: Optional[str] = None,
                 ann_file: str = 'train_img.txt',
                 pc_dir: str = 'shapenet_pc',
                 img_dir: str = 'shapenet_render/img',
                 class_file: str = 'shape_names.txt',
                 taxonomy_file: str = 'taxonomy.json',
                 num_views: int = 5,
                 max_missing_ratio: float = 0.01,
                 synthetic: Optional[dict] = None,
                 drop_shared_with: Sequence[str] = (),
                 warn_shared_with: Sequence[str] = (),
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 **kwargs) -> None:
        if data_root is None:
            if synthetic is None:
                raise ValueError('ShapeNetTriplets: give data_root, or '
                                 'synthetic=dict(...) for the built-in data')
            data_root = osp.join(
                resolve_asset('synthetic_data', **synthetic), 'ShapeNet55')
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'ShapeNetTriplets: data_root {data_root} does not exist '
                '(expected the ShapeNet55 folder with shapenet_pc/, '
                'shapenet_render/img/ and the split lists)')
        self.pc_dir = pc_dir
        self.img_dir = img_dir
        self.class_file = class_file
        self.taxonomy_file = taxonomy_file
        self.num_views = num_views
        self.drop_shared_with = tuple(drop_shared_with)
        self.warn_shared_with = tuple(warn_shared_with)
        super().__init__(
            max_missing_ratio=max_missing_ratio,
            data_root=data_root, ann_file=ann_file,
            data_prefix=dict(pts=pc_dir, img=img_dir),
            pipeline=build_transforms(pipeline),
            test_mode=test_mode, **kwargs)

    def _load_classes(self) -> List[str]:
        path = osp.join(self.data_root, self.class_file)
        classes = read_lines(path, 'class list')
        if len(set(classes)) != len(classes):
            raise ValueError(f'{path}: class names are not unique')
        return classes

    def load_data_list(self) -> List[dict]:
        classes = self._load_classes()
        given = self._metainfo.get('classes')
        if given and tuple(given) != tuple(classes):
            raise ValueError(f'metainfo classes {tuple(given)} differ from '
                             f'{self.class_file} ({tuple(classes)})')
        self._metainfo['classes'] = tuple(classes)
        label_of = {c: i for i, c in enumerate(classes)}
        taxonomy = read_taxonomy(osp.join(self.data_root,
                                          self.taxonomy_file))

        entries = self._check_shared(read_lines(self.ann_file, 'split list'))
        data_list, missing = [], []
        for line in entries:
            name = line[:-4] if line.endswith('.npy') else line
            synset, _, model_id = name.partition('-')
            if not model_id:
                raise ValueError(f'{self.ann_file}: bad entry {line!r} '
                                 '(expected <synset>-<id>.npy)')
            if synset not in taxonomy:
                raise ValueError(f'{self.ann_file}: synset {synset} of '
                                 f'{line!r} is not in {self.taxonomy_file}')
            class_name = taxonomy_class(taxonomy[synset], label_of)
            if class_name is None:
                raise ValueError(
                    f'{self.ann_file}: no name of synset {synset} of '
                    f'{line!r} ({", ".join(taxonomy[synset])}) is in '
                    f'{self.class_file}')
            pts_path = osp.join(self.data_prefix['pts'], f'{name}.npy')
            view_dir = osp.join(self.data_prefix['img'], synset, model_id)
            if not osp.isfile(pts_path) or not osp.isdir(view_dir):
                missing.append(pts_path if not osp.isfile(pts_path)
                               else view_dir)
                continue
            data_list.append(dict(
                pts_path=pts_path,
                img_paths=[osp.join(view_dir, f'{v:03d}.png')
                           for v in range(self.num_views)],
                class_name=class_name,
                gt_label=label_of[class_name],
                sample_id=name))
        self._check_missing(missing, len(entries))
        return data_list

    def _check_shared(self, entries: List[str]) -> List[str]:
        """Drop / report the samples this split shares with other lists."""
        def stem(line: str) -> str:
            return line[:-4] if line.endswith('.npy') else line

        for other, drop in ([(f, True) for f in self.drop_shared_with] +
                            [(f, False) for f in self.warn_shared_with]):
            path = osp.join(self.data_root, other)
            if not osp.isfile(path) or osp.abspath(path) == osp.abspath(
                    self.ann_file):
                continue
            listed = {stem(line) for line in read_lines(path, 'split list')}
            shared = [line for line in entries if stem(line) in listed]
            if not shared:
                continue
            total = len(entries)
            if drop:
                entries = [line for line in entries
                           if stem(line) not in listed]
            print_log(
                f'{self.ann_file}: {"dropped" if drop else "keeping"} '
                f'{len(shared)} of its {total} samples that are also in '
                f'{other}' + ('' if drop else ' (results on this split are '
                              f'partly on {other} shapes)'),
                logger='current', level=30)
        return entries

    def _check_missing(self, missing: List[str], total: int) -> None:
        self.check_missing(
            missing, total, f'{self.pc_dir}/<synset>-<id>.npy and '
            f'{self.img_dir}/<synset>/<id>/000.png..')
