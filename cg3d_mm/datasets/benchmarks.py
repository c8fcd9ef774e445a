"""The zero-shot benchmark test sets: which datasets, which split, and how
each is built for evaluation (the same list for ``tools/zeroshot_benchmark.py``
and the linear probe)."""
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from mmengine.config import Config

from cg3d_mm.registry import DATASETS
from cg3d_mm.utils.assets import resolve_asset


@dataclass(frozen=True)
class Benchmark:
    """One zero-shot benchmark: a dataset config without root / pipeline.

    Attributes:
        key (str): Short id (JSON / file names), e.g. ``'modelnet40'``.
        name (str): Dataset name for the table.
        variant (str): Split variant ('' when the dataset has one).
        dataset (dict): ``type`` and arguments of the test dataset.
    """
    key: str
    name: str
    variant: str
    dataset: dict = field(hash=False)


BENCHMARKS: Tuple[Benchmark, ...] = (
    Benchmark('modelnet10', 'ModelNet10', '',
              dict(type='ModelNet', num_classes=10, split='test')),
    Benchmark('modelnet40', 'ModelNet40', '',
              dict(type='ModelNet', num_classes=40, split='test')),
    Benchmark('scanobjectnn_pb_t50_rs', 'ScanObjectNN', 'PB_T50_RS',
              dict(type='ScanObjectNN', variant='PB_T50_RS', split='test')),
    Benchmark('scanobjectnn_obj_bg', 'ScanObjectNN', 'OBJ_BG',
              dict(type='ScanObjectNN', variant='OBJ_BG', split='test')),
    Benchmark('scanobjectnn_obj_only', 'ScanObjectNN', 'OBJ_ONLY',
              dict(type='ScanObjectNN', variant='OBJ_ONLY', split='test')),
)


def zeroshot_pipeline(num_points: int) -> List[dict]:
    """The evaluation pipeline: deterministic FPS to ``num_points``, unit
    sphere, points only (same sample twice -> same tensor)."""
    return [
        dict(type='LoadPointCloud', use_dims=(0, 1, 2)),
        dict(type='SamplePoints', num_points=num_points, method='fps'),
        dict(type='NormalizePoints'),
        dict(type='PackCG3DInputs', keys=('points', )),
    ]


def build_benchmark_dataset(bench: Benchmark, data_root: str,
                            num_points: int):
    """The benchmark's test dataset, or (None, reason) if files are absent.

    ModelNet falls back from the text layout to the release's
    ``modelnet{K}_test_8192pts_fps.dat`` when only the pickle is present.

    Returns:
        tuple: (dataset or None, skip reason or None).
    """
    ds_cfg = dict(bench.dataset)
    cls = DATASETS.get(ds_cfg['type'])
    root = osp.join(data_root, cls.DEFAULT_DIR)
    args = {k: v for k, v in ds_cfg.items() if k != 'type'}
    missing = [f for f in cls.source_files(root, **args)
               if not osp.isfile(f)]
    if missing and ds_cfg['type'] == 'ModelNet' and 'dat_file' not in args:
        dat = cls.default_dat_file(args.get('num_classes', 40),
                                   args.get('split', 'test'))
        dat_missing = [f for f in cls.source_files(root, dat_file=dat,
                                                   **args)
                       if not osp.isfile(f)]
        if not dat_missing:
            missing, args['dat_file'] = [], dat
    if missing:
        return None, f'missing {", ".join(missing)}'
    dataset = cls(data_root=root, test_mode=True,
                  pipeline=zeroshot_pipeline(num_points), **args)
    return dataset, None


def resolve_data_root(cfg: Config, data_root: Optional[str] = None) -> str:
    """Folder holding ``modelnet40_normal_resampled/`` and ``ScanObjectNN/``.

    ``data_root`` if given; the built-in synthetic world for configs that
    use it (``synthetic`` settings and no data root); else the folder that
    holds the config's test data (``data/ShapeNet55/`` -> ``data``); else
    ``data``.
    """
    if data_root is not None:
        return str(data_root)
    test_ds = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    synthetic = cfg.get('synthetic', None)
    if synthetic is None and test_ds.get('data_root') is None:
        synthetic = test_ds.get('synthetic')
    if synthetic is not None:
        return resolve_asset('synthetic_data', **synthetic)
    if test_ds.get('data_root'):
        return osp.dirname(osp.normpath(test_ds['data_root'])) or '.'
    return 'data'
