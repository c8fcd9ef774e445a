"""Check the splits a config reads, or every split of a data root."""
import glob
import json
import os.path as osp
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from cg3d_mm.utils.assets import resolve_asset
from cg3d_mm.utils.io import atomic_write_json

from ..modelnet import MODELNET_DIR
from ..openshape_eval import (LVIS_SPLIT, MODELNET40_POINTS, MODELNET40_SPLIT,
                              OPENSHAPE_DIR, SCANOBJECTNN_POINTS)
from ..scanobjectnn import SCANOBJECTNN_DIR, VARIANTS, variant_file
from ..sharded_triplets import INDEX_FILE
from ..skipping_dataset import resolve_layout_root
from .core import FileCheckCache, Problem, SplitReport
from .modelnet import check_modelnet_split
from .openshape_eval import (check_objaverse_lvis_split,
                             check_openshape_modelnet40_split,
                             check_openshape_scanobjectnn_split)
from .peers import (check_openshape_split, check_ulip2_objaverse_split,
                    check_ulip_shapenet_split, text_sources_of)
from .scanobjectnn import check_scanobjectnn_split
from .scenes import check_scenes_split, find_info_files
from .shapenet import check_shapenet_split
from .shards import check_shards_split

LAYOUTS = ('shapenet', 'modelnet', 'scanobjectnn', 'scenes', 'ulip_shapenet',
           'ulip2_objaverse', 'openshape', 'openshape_eval', 'shards')
# layout name of each peer triplet dataset (its synthetic conversion too)
_PEER_LAYOUTS = dict(ULIPShapeNetTriplets='ulip_shapenet',
                     ULIP2ObjaverseTriplets='ulip2_objaverse',
                     OpenShapeTriplets='openshape')
# the dataloaders a run reads, and whether skips are tolerated there
SPLIT_ROLES = dict(train='train', val='eval', test='eval')
DEFAULT_MAX_BAD_RATIO = 0.01
# mmdet3d's indoor datasets (info .pkl + points/ + masks)
_SCENE_TYPES = ('S3DISDataset', 'S3DISSegDataset', 'ScanNetDataset',
                'ScanNetSegDataset', 'ScanNetInstanceSegDataset')


@dataclass
class DataCheckReport:
    """All splits checked for a run or by ``tools/check_data.py``."""
    splits: List[SplitReport] = field(default_factory=list)
    max_bad_ratio: float = DEFAULT_MAX_BAD_RATIO

    def failures(self) -> List[str]:
        """Why a run must not start: any problem in an evaluation split, a
        problem of a training split's lists or classes, any problem of a
        training split whose dataset cannot skip samples, or more than
        ``max_bad_ratio`` of a training split's samples unreadable."""
        out = []
        for s in self.splits:
            if not s.problems:
                continue
            if s.role == 'eval':
                out.append(f'{s.name} (evaluation split): {len(s.problems)} '
                           'problem(s); evaluation needs every sample')
            elif s.split_problems:
                out.append(f'{s.name}: its list or class names are '
                           'inconsistent')
            elif not s.skips_unreadable:
                out.append(f'{s.name}: {len(s.problems)} problem(s); the '
                           f'{s.layout} dataset does not skip unreadable '
                           'samples')
            elif s.bad_ratio > self.max_bad_ratio:
                out.append(f'{s.name}: {len(s.bad_samples)} of '
                           f'{s.num_samples} samples unreadable '
                           f'({100 * s.bad_ratio:.1f} % > '
                           f'{100 * self.max_bad_ratio:g} %)')
        return out

    @property
    def num_problems(self) -> int:
        return sum(len(s.problems) for s in self.splits)

    def table(self) -> str:
        head = ('split', 'role', 'layout', 'samples', 'files', 'cached',
                'bad samples', 'problems', 'seconds')
        rows = [head]
        for s in self.splits:
            rows.append((s.name, s.role, s.layout, str(s.num_samples),
                         str(s.num_files), str(s.cached_files),
                         str(len(s.bad_samples)), str(len(s.problems))
                         if s.checked else f'not checked: {s.note}',
                         f'{s.seconds:.2f}'))
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ['  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
                 for r in rows]
        lines.insert(1, '  '.join('-' * w for w in widths))
        # limits of checked splits (e.g. pickles not unpickled)
        lines += [f'note [{s.name}]: {s.note}' for s in self.splits
                  if s.checked and s.note]
        return '\n'.join(lines)

    def problem_lines(self, limit: int = 20) -> List[str]:
        lines = [f'[{s.name}] {p.message}' for s in self.splits
                 for p in s.problems]
        if len(lines) > limit:
            lines = lines[:limit] + [f'... and {len(lines) - limit} more']
        return lines

    def to_dict(self) -> dict:
        return dict(max_bad_ratio=self.max_bad_ratio,
                    num_problems=self.num_problems,
                    failures=self.failures(),
                    splits=[s.to_dict() for s in self.splits])

    def write_json(self, path: str) -> None:
        atomic_write_json(path, dict(self.to_dict(), written=time.strftime(
            '%Y-%m-%dT%H:%M:%S')))


def _pipeline_facts(pipeline: Sequence) -> dict:
    """What a pipeline reads: views at all, and the fewest points it needs."""
    types = [t.get('type') if isinstance(t, dict) else type(t).__name__
             for t in pipeline or ()]
    min_points = 1
    for t in pipeline or ():
        if isinstance(t, dict) and t.get('type') == 'SamplePoints':
            min_points = max(min_points, int(t.get('num_points', 1)))
    return dict(read_views='LoadTripletImage' in types,
                min_points=min_points)


def _min_cols(pipeline: Sequence) -> int:
    """Columns a point file needs for the pipeline's ``LoadPointCloud``."""
    cols = 3
    for t in pipeline or ():
        if isinstance(t, dict) and t.get('type') == 'LoadPointCloud':
            cols = max(cols, max(t.get('use_dims', (0, 1, 2))) + 1)
    return cols


def _data_root(ds: dict, default_dir: str) -> str:
    root = ds.get('data_root')
    if root is None and ds.get('synthetic') is not None:
        root = osp.join(resolve_asset('synthetic_data', **ds['synthetic']),
                        default_dir)
    if root is None:
        raise ValueError(f'{ds.get("type")}: no data_root in the config')
    return root


def check_dataset_cfg(ds: dict, name: str, role: str,
                      workers: Optional[int] = None, use_cache: bool = True,
                      deep: bool = False) -> List[SplitReport]:
    """Check the data one dataset config reads (wrappers are unwrapped)."""
    ds = dict(ds)
    kind = str(ds.get('type', '')).split('.')[-1]
    if 'dataset' in ds and kind not in ('ShapeNetTriplets', 'ModelNet',
                                        'ScanObjectNN'):
        return check_dataset_cfg(ds['dataset'], name, role, workers,
                                 use_cache, deep)
    if kind == 'MixedShardedTriplets':  # each source is a ShardedTriplets
        return [r for i, src in enumerate(ds.get('sources') or ())
                for r in check_dataset_cfg(
                    dict(src, type='ShardedTriplets'), f'{name}[{i}]', role,
                    workers, use_cache, deep)]
    if 'datasets' in ds:
        return [r for i, d in enumerate(ds['datasets'])
                for r in check_dataset_cfg(d, f'{name}[{i}]', role, workers,
                                           use_cache, deep)]
    facts = _pipeline_facts(ds.get('pipeline'))
    classes = (ds.get('metainfo') or {}).get('classes')
    common = dict(role=role, name=name, workers=workers)
    if kind == 'ShapeNetTriplets':
        root = _data_root(ds, 'ShapeNet55')
        keys = ('ann_file', 'pc_dir', 'img_dir', 'class_file',
                'taxonomy_file', 'num_views', 'drop_shared_with')
        return [check_shapenet_split(
            root, **{k: ds[k] for k in keys if k in ds}, **facts,
            classes=classes, deep=deep,
            cache=FileCheckCache(root, use_cache), **common)]
    if kind == 'ModelNet':
        root = _data_root(ds, MODELNET_DIR)
        keys = ('num_classes', 'split', 'dat_file')
        return [check_modelnet_split(
            root, **{k: ds[k] for k in keys if k in ds},
            min_points=facts['min_points'], classes=classes,
            cache=FileCheckCache(root, use_cache), **common)]
    if kind == 'ScanObjectNN':
        root = _data_root(ds, SCANOBJECTNN_DIR)
        keys = ('variant', 'split', 'h5_file')
        return [check_scanobjectnn_split(
            root, **{k: ds[k] for k in keys if k in ds},
            min_points=facts['min_points'],
            cache=FileCheckCache(root, use_cache), **common)]
    peers = _check_peer_cfg(ds, kind, facts, classes, common, use_cache,
                            deep)
    if peers is not None:
        return [peers]
    if kind in _SCENE_TYPES and ds.get('ann_file'):
        root = ds.get('data_root') or ''
        info = osp.join(root, ds['ann_file'])
        return [check_scenes_split(info, root or None,
                                   ds.get('data_prefix'),
                                   cache=FileCheckCache(root or '.',
                                                        use_cache),
                                   **common)]
    return [SplitReport(name=name, layout='?', role=role, source='',
                        checked=False, note=f'unknown dataset type {kind!r}')]


def _check_peer_cfg(ds: dict, kind: str, facts: dict,
                    classes: Optional[tuple], common: dict, use_cache: bool,
                    deep: bool) -> Optional[SplitReport]:
    """The check of a peer-layout, OpenShape test set or shard dataset
    config; None for other types. A data root that cannot be resolved is
    a ``list`` problem of the split (the dataset could not start)."""
    pick = lambda *keys: {k: ds[k] for k in keys if k in ds}  # noqa: E731
    min_points = facts['min_points']
    try:
        if kind in _PEER_LAYOUTS:
            root = resolve_layout_root(kind, ds.get('data_root'),
                                       ds.get('synthetic'),
                                       _PEER_LAYOUTS[kind])
        elif kind == 'ShardedTriplets':
            root = ds.get('data_root')
            if root is None and ds.get('synthetic') is not None:
                root = resolve_asset('synthetic_shards', **ds['synthetic'])
        elif kind in ('ObjaverseLVIS', 'OpenShapeModelNet40',
                      'OpenShapeScanObjectNN'):
            root = _data_root(ds, OPENSHAPE_DIR)
        else:
            return None
    except (FileNotFoundError, ValueError) as err:
        report = SplitReport(name=common['name'], layout=kind,
                             role=common['role'], source=str(
                                 ds.get('data_root')))
        report.problems.append(Problem(report.source, 'list', str(err)))
        return report
    cache = FileCheckCache(root or '.', use_cache)
    common = dict(common, cache=cache, deep=deep)
    if kind == 'ULIPShapeNetTriplets':
        return check_ulip_shapenet_split(
            root, **pick('ann_file', 'pc_dir', 'img_dir', 'taxonomy_file',
                         'view_degrees', 'image_types'),
            **facts, min_cols=_min_cols(ds.get('pipeline')), **common)
    if kind == 'ULIP2ObjaverseTriplets':
        return check_ulip2_objaverse_split(
            root, **pick('ann_file', 'pc_dir', 'pc_pattern', 'img_dir',
                         'view_glob', 'view_exclude', 'caption_file'),
            **facts, min_cols=_min_cols(ds.get('pipeline')), **common)
    if kind == 'OpenShapeTriplets':
        return check_openshape_split(
            root, **pick('ann_file', 'datasets', 'path_map'),
            trust_pickle=ds.get('trust_pickle', False) is True,
            text_sources=text_sources_of(ds.get('pipeline')),
            min_points=min_points, **common)
    if kind == 'ShardedTriplets':
        return check_shards_split(
            data_root=root, **pick('shards', 'index_file', 'require_images',
                                   'point_channels'),
            classes=classes, min_points=min_points, **common)
    trust = ds.get('trust_pickle', False) is True
    if kind == 'ObjaverseLVIS':
        return check_objaverse_lvis_split(
            root, **pick('split_file', 'shape_root', 'path_prefix'),
            trust_pickle=trust, min_points=min_points, **common)
    if kind == 'OpenShapeModelNet40':
        return check_openshape_modelnet40_split(
            root, **pick('split_file', 'points_file', 'classes',
                         'rgb_scale'),
            trust_pickle=trust, min_points=min_points, **common)
    return check_openshape_scanobjectnn_split(
        root, **pick('data_file', 'rgb_scale'), classes=classes,
        trust_pickle=trust, min_points=min_points, **common)


def check_config(cfg, splits: Sequence[str] = ('train', 'val', 'test'),
                 max_bad_ratio: float = DEFAULT_MAX_BAD_RATIO,
                 workers: Optional[int] = None, use_cache: bool = True,
                 deep: bool = False) -> DataCheckReport:
    """Check ``cfg.<split>_dataloader.dataset`` for each of ``splits``."""
    report = DataCheckReport(max_bad_ratio=max_bad_ratio)
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader or not loader.get('dataset'):
            continue
        report.splits += check_dataset_cfg(
            loader['dataset'].to_dict() if hasattr(loader['dataset'],
                                                   'to_dict') else
            loader['dataset'], split, SPLIT_ROLES[split], workers,
            use_cache, deep)
    return report


def _role_of(name: str) -> str:
    return 'train' if 'train' in name else 'eval'


def check_data_root(data_root: str, layout: str,
                    max_bad_ratio: float = DEFAULT_MAX_BAD_RATIO,
                    workers: Optional[int] = None, use_cache: bool = True,
                    deep: bool = False, num_views: int = 5,
                    read_views: bool = True,
                    trust_pickle: bool = False) -> DataCheckReport:
    """Check every split found in ``data_root`` of ``layout`` (all views
    unless ``read_views=False``: no pipeline says what a run reads).

    ``trust_pickle`` lets a ``deep`` check unpickle the OpenShape layouts'
    files (without it they are checked from headers and opcodes)."""
    if layout not in LAYOUTS:
        raise ValueError(f'unknown layout {layout!r}, expected one of '
                         f'{LAYOUTS}')
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'data root {data_root} does not exist')
    cache = FileCheckCache(data_root, use_cache)
    common: Dict = dict(cache=cache, workers=workers)
    splits: List[SplitReport] = []
    if layout == 'shapenet':
        lists = [f for f in ('train_img.txt', 'val_img.txt', 'test_img.txt')
                 if osp.isfile(osp.join(data_root, f))] or ['train_img.txt']
        splits = [check_shapenet_split(data_root, f, role=_role_of(f),
                                       num_views=num_views, deep=deep,
                                       read_views=read_views, **common)
                  for f in lists]
    elif layout == 'modelnet':
        for k in (40, 10):
            for split in ('train', 'test'):
                if osp.isfile(osp.join(data_root,
                                       f'modelnet{k}_{split}.txt')):
                    splits.append(check_modelnet_split(
                        data_root, k, split, role=_role_of(split), **common))
        for dat in sorted(glob.glob(osp.join(data_root, '*.dat'))):
            base = osp.basename(dat)
            k = 10 if base.startswith('modelnet10') else 40
            splits.append(check_modelnet_split(
                data_root, k, dat_file=base, role=_role_of(base), **common))
        if not splits:
            splits.append(check_modelnet_split(data_root, 40, 'test',
                                               **common))
    elif layout == 'scanobjectnn':
        for variant in VARIANTS:
            for split in ('train', 'test'):
                if osp.isfile(osp.join(data_root,
                                       variant_file(variant, split))):
                    splits.append(check_scanobjectnn_split(
                        data_root, variant, split, role=_role_of(split),
                        **common))
        if not splits:
            splits.append(check_scanobjectnn_split(data_root, **common))
    elif layout in ('ulip_shapenet', 'ulip2_objaverse', 'openshape',
                    'openshape_eval', 'shards'):
        splits = _peer_splits(data_root, layout, common, deep, read_views,
                              True if trust_pickle else None)
    else:
        infos = find_info_files(data_root)
        splits = [check_scenes_split(i, data_root, **common) for i in infos]
        if not infos:
            splits.append(check_scenes_split(
                osp.join(data_root, '<no *_infos*.pkl>'), data_root,
                **common))
    return DataCheckReport(splits=splits, max_bad_ratio=max_bad_ratio)


def _ulip_view_degrees(data_root: str) -> dict:
    """The azimuths of a converted layout (its manifest), else ULIP's."""
    try:
        with open(osp.join(data_root, 'layout_manifest.json')) as f:
            return dict(view_degrees=json.load(f)['view_degrees'])
    except (OSError, ValueError, KeyError):
        return {}


def _peer_splits(data_root: str, layout: str, common: dict, deep: bool,
                 read_views: bool, trust: Optional[bool]
                 ) -> List[SplitReport]:
    """Every split of a peer layout, OpenShape test-file folder or shard
    folder (``<root>/shards.json``, else each ``<root>/*/shards.json``)."""
    common = dict(common, deep=deep)
    if layout == 'ulip_shapenet':
        lists = [f for f in ('train.txt', 'val.txt', 'test.txt')
                 if osp.isfile(osp.join(data_root, f))] or ['train.txt']
        return [check_ulip_shapenet_split(
            data_root, f, role=_role_of(f), read_views=read_views,
            **_ulip_view_degrees(data_root), **common) for f in lists]
    if layout == 'ulip2_objaverse':
        lists = [f for f in ('train.txt', 'val.txt', 'test.txt')
                 if osp.isfile(osp.join(data_root, f))] or [None]
        return [check_ulip2_objaverse_split(
            data_root, f, role=_role_of(f or 'train'), read_views=read_views,
            **common) for f in lists]
    if layout == 'openshape':
        split_dir = osp.join(data_root, 'meta_data', 'split')
        files = sorted(f for f in glob.glob(osp.join(split_dir, '*.json'))
                       if osp.basename(f) != osp.basename(LVIS_SPLIT))
        files = files or [osp.join(split_dir, 'train_all.json')]
        return [check_openshape_split(
            data_root, f, trust_pickle=trust,
            role=_role_of(osp.basename(f)), name=osp.basename(f), **common)
            for f in files]
    if layout == 'openshape_eval':
        out = []
        if osp.isfile(osp.join(data_root, LVIS_SPLIT)):
            out.append(check_objaverse_lvis_split(
                data_root, trust_pickle=trust, **common))
        if any(osp.isfile(osp.join(data_root, f))
               for f in (MODELNET40_SPLIT, MODELNET40_POINTS)):
            out.append(check_openshape_modelnet40_split(
                data_root, trust_pickle=trust, **common))
        if osp.isfile(osp.join(data_root, SCANOBJECTNN_POINTS)):
            out.append(check_openshape_scanobjectnn_split(
                data_root, trust_pickle=trust, **common))
        return out or [check_objaverse_lvis_split(data_root,
                                                  trust_pickle=trust,
                                                  **common)]
    folders = [data_root] if osp.isfile(osp.join(data_root, INDEX_FILE)) \
        else sorted(osp.dirname(p) for p in glob.glob(
            osp.join(data_root, '*', INDEX_FILE))) or [data_root]
    return [check_shards_split(
        data_root=d, role=_role_of(osp.basename(osp.abspath(d))),
        require_images=read_views, name=osp.basename(osp.abspath(d)),
        **common) for d in folders]
