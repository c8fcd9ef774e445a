"""ULIP's released triplets, read as they ship: ShapeNet55 (ULIP) and
Objaverse (ULIP-2)."""
import fnmatch
import json
import os
import os.path as osp
import re
from typing import Callable, Dict, List, Optional, Sequence, Union

from cg3d_mm.registry import DATASETS

from .shapenet_triplets import read_lines, read_taxonomy
from .skipping_dataset import SkippingDataset, resolve_layout_root
from .utils import build_transforms

# ULIP's 30 rendered azimuths, in degrees (names zero-padded to 3 digits).
ULIP_VIEW_DEGREES = tuple(range(0, 360, 12))


@DATASETS.register_module()
class ULIPShapeNetTriplets(SkippingDataset):
    """ULIP's ShapeNet55 triplets (points, rendered views, class names).

    Layout (relative to ``data_root``, ULIP's ``shapenet-55/``; every part
    can be overridden)::

        train.txt / test.txt               lines <synset>-<id>.npy
        taxonomy.json                      [{"synsetId", "name": "a,b"}, ..]
        shapenet_pc/<synset>-<id>.npy      8192 x 3 points
        rendered_images/<synset>-<id>/<synset>-<id>_r_<deg>.png
                                           deg 000, 012, .., 348 (RGB);
                                           ..._r_<deg>_depth0001.png (depth)

    ULIP's smaller release holds only ``only_rgb_depth_images/`` (set
    ``img_dir``). Each item has ``pts_path``, ``img_paths`` (every view of
    ``view_degrees`` x ``image_types``; the pipeline picks one per
    iteration and falls back to another if one is unreadable),
    ``caption_names`` (the synset's comma-split taxonomy names: ULIP's
    caption is one of them, in a template, see ``SampleSourceCaption``),
    ``class_name`` (the first name) and ``gt_label``. Points are xyz only.

    Args:
        data_root (str, optional): The ``shapenet-55`` folder. None with
            ``synthetic`` set: the synthetic world in this layout.
        ann_file (str): Split list. Defaults to 'train.txt'.
        pc_dir, img_dir (str): Point / render folders.
        taxonomy_file (str): ShapeNetCore's taxonomy list (CG3D's
            ``{synset: "names"}`` dict is read too).
        view_degrees (Sequence[int]): Azimuths rendered per object.
            Defaults to ULIP's 30 (0, 12, .., 348).
        image_types (Sequence[str]): Suffixes after ``_r_<deg>``: ``''``
            (RGB, the default: CG3D's image tower sees RGB renders) and /
            or ``'_depth0001'`` (ULIP also draws its depth maps).
        max_missing_ratio (float): See :class:`SkippingDataset`; an entry
            is missing when its point file or view folder is.
        synthetic (dict, optional): ``dict(seed=0, part='train')`` etc.:
            the synthetic world converted to this layout
            (``cg3d_mm.datagen.triplets.convert_layouts``).
    """

    METAINFO: dict = dict(classes=())
    LAYOUT = 'ulip_shapenet'

    def __init__(self,
                 data_root: Optional[str] = None,
                 ann_file: str = 'train.txt',
                 pc_dir: str = 'shapenet_pc',
                 img_dir: str = 'rendered_images',
                 taxonomy_file: str = 'taxonomy.json',
                 view_degrees: Sequence[int] = ULIP_VIEW_DEGREES,
                 image_types: Sequence[str] = ('', ),
                 max_missing_ratio: float = 0.01,
                 synthetic: Optional[dict] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 **kwargs) -> None:
        data_root = resolve_layout_root(type(self).__name__, data_root,
                                        synthetic, self.LAYOUT)
        if not view_degrees or not image_types:
            raise ValueError('ULIPShapeNetTriplets: view_degrees and '
                             'image_types must not be empty')
        self.pc_dir, self.img_dir = pc_dir, img_dir
        self.taxonomy_file = taxonomy_file
        self.view_degrees = tuple(int(d) for d in view_degrees)
        self.image_types = tuple(image_types)
        super().__init__(
            data_root=data_root, ann_file=ann_file,
            data_prefix=dict(pts=pc_dir, img=img_dir),
            pipeline=build_transforms(pipeline), test_mode=test_mode,
            max_missing_ratio=max_missing_ratio, **kwargs)

    def load_data_list(self) -> List[dict]:
        taxonomy = read_taxonomy(osp.join(self.data_root,
                                          self.taxonomy_file))
        # one class per synset, named by its first taxonomy name
        synsets = sorted(taxonomy)
        classes = [taxonomy[s][0] for s in synsets]
        label_of = {s: i for i, s in enumerate(synsets)}
        self._metainfo['classes'] = tuple(classes)
        entries = read_lines(self.ann_file, 'split list')
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
            pts_path = osp.join(self.data_prefix['pts'], f'{name}.npy')
            view_dir = osp.join(self.data_prefix['img'], name)
            if not osp.isfile(pts_path) or not osp.isdir(view_dir):
                missing.append(pts_path if not osp.isfile(pts_path)
                               else view_dir)
                continue
            data_list.append(dict(
                pts_path=pts_path,
                img_paths=[osp.join(view_dir, f'{name}_r_{deg:03d}{t}.png')
                           for deg in self.view_degrees
                           for t in self.image_types],
                caption_names=list(taxonomy[synset]),
                class_name=taxonomy[synset][0],
                gt_label=label_of[synset],
                sample_id=name))
        self.check_missing(
            missing, len(entries),
            f'{self.pc_dir}/<synset>-<id>.npy and '
            f'{self.img_dir}/<synset>-<id>/<synset>-<id>_r_<deg>.png')
        return data_list


def _caption_list(value, where: str) -> List[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, str) for v in value):
        raise ValueError(f'{where}: expected a caption or a list of '
                         f'captions, got {type(value).__name__}')
    return [v.strip() for v in value if v.strip()]


def read_caption_file(path: str) -> Dict[str, Union[List[str],
                                                    Dict[str, List[str]]]]:
    """Captions of ULIP-2 style triplets, by object uid.

    Accepted JSON forms (the released file's exact form could not be
    verified from public code, see the dataset doc):

    - ``{uid: caption | [captions]}``: captions of the object;
    - ``{uid: {view_file: caption | [captions]}}``: captions per view;
    - ``{".../<uid>/<view_file>": caption | [captions]}``: keyed by the
      rendered view's path (any prefix), read as per view.

    Returns:
        dict: uid -> list of captions, or uid -> {view file -> captions}.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'caption file {path} does not exist')
    with open(path) as f:
        try:
            raw = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{path}: not valid JSON ({err})') from None
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f'{path}: expected a non-empty dict uid -> '
                         'captions (or view path -> captions)')
    out: Dict[str, Union[List[str], Dict[str, List[str]]]] = {}
    for key, value in raw.items():
        where = f'{path}: entry {key!r}'
        if '/' in key.strip('/'):
            parts = key.rstrip('/').split('/')
            uid, view = parts[-2], parts[-1]
            views = out.setdefault(uid, {})
            if not isinstance(views, dict):
                raise ValueError(f'{where}: uid {uid} has captions both '
                                 'per object and per view')
            views.setdefault(view, []).extend(_caption_list(value, where))
        elif isinstance(value, dict):
            out[key] = {view: _caption_list(v, f'{where}, view {view!r}')
                        for view, v in value.items()}
        else:
            out[key] = _caption_list(value, where)
    return out


@DATASETS.register_module()
class ULIP2ObjaverseTriplets(SkippingDataset):
    """ULIP-2's Objaverse triplets (coloured points, views, captions).

    Layout (relative to ``data_root``, ULIP-2's ``ULIP-Objaverse_triplets``
    release)::

        objaverse_pc_parallel/<uid>/<uid>_8192.npz  arr_0: 8192 x 6
                                                    (xyz + rgb)
        rendered_images/<uid>/<view>.png            ASSUMED (see below)
        captions.json                               ASSUMED (see below)

    The point files are as salesforce's own loaders (LAVIS,
    X-InstructBLIP) read them. The names of the rendered views and of the
    caption file could not be verified from public code; they are
    settings, and the defaults are assumptions: every image of
    ``<img_dir>/<uid>/`` matching ``view_glob`` and not ``view_exclude``
    (depth maps) is a view, and ``caption_file`` is one of the forms
    :func:`read_caption_file` reads (per object, or per view - then a
    view's own captions caption it, as ULIP-2 captions each render).
    Colours are taken as stored (assumed in [0, 1]; add a
    ``NormalizeColor`` step to the pipeline otherwise).

    Each item has ``pts_path``, ``img_paths``, ``view_captions`` (view
    file -> captions) or ``caption_groups`` (``{'caption': [...]}``) and
    ``sample_id`` (the uid). Objects without point file, views or
    captions count as missing (see ``max_missing_ratio``).

    Args:
        data_root (str, optional): The release's root folder.
        ann_file (str): A list of uids, one a line (None or '': every uid
            of ``caption_file``).
        pc_dir (str): Point folder. Defaults to 'objaverse_pc_parallel'.
        pc_pattern (str): Point file of a uid inside ``pc_dir``. Defaults
            to '{uid}/{uid}_8192.npz'.
        img_dir (str): View folder, one sub-folder per uid. Defaults to
            'rendered_images'.
        view_glob (str): Views among a uid's files. Defaults to '*.png'.
        view_exclude (str): Regular expression of files that are not RGB
            views. Defaults to 'depth'.
        caption_file (str): Defaults to 'captions.json'.
        max_missing_ratio (float): See :class:`SkippingDataset`.
        synthetic (dict, optional): ``dict(seed=0, part='train_a')`` etc.
    """

    METAINFO: dict = dict(classes=())
    LAYOUT = 'ulip2_objaverse'

    def __init__(self,
                 data_root: Optional[str] = None,
                 ann_file: Optional[str] = None,
                 pc_dir: str = 'objaverse_pc_parallel',
                 pc_pattern: str = '{uid}/{uid}_8192.npz',
                 img_dir: str = 'rendered_images',
                 view_glob: str = '*.png',
                 view_exclude: Optional[str] = 'depth',
                 caption_file: str = 'captions.json',
                 max_missing_ratio: float = 0.01,
                 synthetic: Optional[dict] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 **kwargs) -> None:
        data_root = resolve_layout_root(type(self).__name__, data_root,
                                        synthetic, self.LAYOUT)
        if '{uid}' not in pc_pattern:
            raise ValueError(f'pc_pattern must contain {{uid}}, got '
                             f'{pc_pattern!r}')
        self.pc_dir, self.pc_pattern = pc_dir, pc_pattern
        self.img_dir, self.view_glob = img_dir, view_glob
        self.view_exclude = re.compile(view_exclude) if view_exclude \
            else None
        self.caption_file = caption_file
        super().__init__(
            data_root=data_root, ann_file=ann_file or '',
            data_prefix=dict(pts=pc_dir, img=img_dir),
            pipeline=build_transforms(pipeline), test_mode=test_mode,
            max_missing_ratio=max_missing_ratio, **kwargs)

    def _views(self, uid: str) -> List[str]:
        folder = osp.join(self.data_prefix['img'], uid)
        try:
            names = os.listdir(folder)
        except OSError:
            return []
        return [osp.join(folder, n) for n in sorted(names)
                if fnmatch.fnmatch(n, self.view_glob) and not (
                    self.view_exclude and self.view_exclude.search(n))]

    def load_data_list(self) -> List[dict]:
        captions = read_caption_file(osp.join(self.data_root,
                                              self.caption_file))
        uids = (read_lines(self.ann_file, 'uid list') if self.ann_file
                else sorted(captions))
        data_list, missing = [], []
        for uid in uids:
            pts_path = osp.join(self.data_prefix['pts'],
                                self.pc_pattern.format(uid=uid))
            views = self._views(uid) if osp.isfile(pts_path) else []
            caps = captions.get(uid)
            if not osp.isfile(pts_path):
                missing.append(pts_path)
                continue
            if not views:
                missing.append(osp.join(self.data_prefix['img'], uid,
                                        self.view_glob))
                continue
            if not caps:
                missing.append(f'{uid} in {self.caption_file}')
                continue
            info = dict(pts_path=pts_path, img_paths=views, sample_id=uid)
            if isinstance(caps, dict):
                info['view_captions'] = caps
            else:
                info['caption_groups'] = dict(caption=caps)
            data_list.append(info)
        self.check_missing(
            missing, len(uids),
            f'{self.pc_dir}/{self.pc_pattern}, views {self.img_dir}/<uid>/'
            f'{self.view_glob} and captions in {self.caption_file}')
        return data_list
