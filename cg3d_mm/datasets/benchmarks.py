"""The zero-shot benchmark test sets: which datasets, which split, and how
each is built for evaluation (the same list for ``tools/zeroshot_benchmark.py``
and the linear probe).

The list is read from the zero-shot dataset configs,
``configs/cg3d/zeroshot/_base_/datasets/<key>.py`` (in the installed package:
``cg3d_mm/.mim/configs``), so a benchmark is added by adding one such file
with a ``zeroshot_dataset`` and a ``zeroshot_evaluator`` named ``<key>``.
"""
import glob
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from mmengine.config import Config

from cg3d_mm.registry import DATASETS
from cg3d_mm.utils.assets import resolve_asset
from cg3d_mm.utils.mim import PACKAGE_DIR

from .scanobjectnn import VARIANTS as SCANOBJECTNN_VARIANTS

BENCHMARK_CONFIG_DIR = osp.join(PACKAGE_DIR, '.mim', 'configs', 'cg3d',
                                'zeroshot', '_base_', 'datasets')
# set by build_benchmark_dataset, not part of a benchmark's definition
_BUILD_ARGS = ('data_root', 'test_mode', 'pipeline')


@dataclass(frozen=True)
class Benchmark:
    """One zero-shot benchmark: a dataset config without root / pipeline.

    Attributes:
        key (str): Short id (JSON / file names), e.g. ``'modelnet40'``: the
            name of its config file.
        name (str): Dataset name for the table: the dataset type, with its
            class count when the config sets one (``'ModelNet40'``).
        variant (str): Split variant ('' when the dataset has one).
        dataset (dict): ``type`` and arguments of the test dataset.
    """
    key: str
    name: str
    variant: str
    dataset: dict = field(hash=False)


def read_benchmark(path: str) -> Benchmark:
    """The benchmark of one ``_base_/datasets`` config file.

    Raises:
        ValueError: The file has no ``zeroshot_dataset`` or its
            ``zeroshot_evaluator`` is not named after the file.
    """
    key = osp.splitext(osp.basename(path))[0]
    cfg = Config.fromfile(path)
    dataset = cfg.get('zeroshot_dataset')
    evaluator = cfg.get('zeroshot_evaluator') or {}
    if not dataset or 'type' not in dataset:
        raise ValueError(f'{path}: expected a zeroshot_dataset dict with a '
                         'type (the test set of this benchmark)')
    if evaluator.get('name') != key:
        raise ValueError(f'{path}: zeroshot_evaluator.name must be the file '
                         f'name {key!r} (the benchmark key), got '
                         f'{evaluator.get("name")!r}')
    dataset = {k: v for k, v in dataset.to_dict().items()
               if k not in _BUILD_ARGS}
    name = dataset['type'] + str(dataset.get('num_classes', ''))
    return Benchmark(key, name, str(dataset.get('variant', '')), dataset)


# The paper's benchmarks first, then the others (e.g. OpenShape's files).
_PAPER_DATASETS = ('ModelNet', 'ScanObjectNN')


def _table_order(bench: Benchmark) -> tuple:
    # ModelNet10, ModelNet40, then ScanObjectNN's variants in the dataset's
    # order (PB_T50_RS, the one the paper reports, first), then the others
    # by dataset type
    variants = list(SCANOBJECTNN_VARIANTS)
    rank = variants.index(bench.variant) if bench.variant in variants \
        else len(variants)
    kind = bench.dataset['type']
    family = _PAPER_DATASETS.index(kind) if kind in _PAPER_DATASETS \
        else len(_PAPER_DATASETS)
    return (family, kind, bench.dataset.get('num_classes', 0), rank,
            bench.key)


def load_benchmarks(config_dir: str = BENCHMARK_CONFIG_DIR
                    ) -> Tuple[Benchmark, ...]:
    """Every benchmark defined in ``config_dir``, in table order.

    Raises:
        FileNotFoundError: No dataset config in ``config_dir`` (a package
            installed without its configs).
    """
    paths = sorted(glob.glob(osp.join(config_dir, '*.py')))
    if not paths:
        raise FileNotFoundError(
            f'no zero-shot dataset configs in {config_dir}: the package was '
            'installed without its configs (reinstall with pip install -e . '
            'from the repository)')
    return tuple(sorted(map(read_benchmark, paths), key=_table_order))


BENCHMARKS: Tuple[Benchmark, ...] = load_benchmarks()


XYZ_DIMS = (0, 1, 2)
XYZ_RGB_DIMS = (0, 1, 2, 3, 4, 5)


def zeroshot_pipeline(num_points: int, use_color: bool = False,
                      constant_color: bool = False) -> List[dict]:
    """The evaluation pipeline: deterministic FPS to ``num_points``, unit
    sphere, points only (same sample twice -> same tensor).

    Args:
        num_points (int): Points per cloud.
        use_color (bool): Keep xyz + rgb (N, 6) for a colour model.
        constant_color (bool): With ``use_color``, for a source without
            colours: xyz + OpenShape's constant grey (``AddConstantColor``).
    """
    if use_color and constant_color:
        load = [dict(type='LoadPointCloud', use_dims=XYZ_DIMS),
                dict(type='AddConstantColor')]
    else:
        load = [dict(type='LoadPointCloud',
                     use_dims=XYZ_RGB_DIMS if use_color else XYZ_DIMS)]
    return load + [
        dict(type='SamplePoints', num_points=num_points, method='fps'),
        dict(type='NormalizePoints'),
        dict(type='PackCG3DInputs', keys=('points', )),
    ]


def config_uses_color(cfg: Config) -> bool:
    """Whether the config's model reads xyz + rgb: its test pipeline's
    ``LoadPointCloud`` keeps 6 columns (``test_dataloader.dataset.pipeline``,
    else ``test_pipeline``), else its backbone has ``in_channels=6``."""
    test_ds = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    for pipeline in (test_ds.get('pipeline'), cfg.get('test_pipeline')):
        for t in pipeline or ():
            if isinstance(t, dict) and t.get('type') == 'LoadPointCloud':
                return len(t.get('use_dims', XYZ_DIMS)) >= 6
    backbone = (cfg.get('model') or {}).get('backbone') or {}
    return backbone.get('in_channels', 3) >= 6


def build_benchmark_dataset(bench: Benchmark, data_root: str,
                            num_points: int, use_color: bool = False):
    """The benchmark's test dataset, or (None, reason) if files are absent.

    ModelNet falls back from the text layout to the release's
    ``modelnet{K}_test_8192pts_fps.dat`` when only the pickle is present.
    With ``use_color`` (a colour model) the clouds are xyz + rgb: the
    file's colours for coloured sources (``HAS_COLOR``), OpenShape's
    constant grey for the others; without, coloured sources are read
    without their colours.

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
    has_color = getattr(cls, 'HAS_COLOR', False)
    if has_color and not use_color:
        args.setdefault('use_color', False)
    dataset = cls(data_root=root, test_mode=True,
                  pipeline=zeroshot_pipeline(num_points, use_color,
                                             constant_color=not has_color),
                  **args)
    return dataset, None


def resolve_data_root(cfg: Config, data_root: Optional[str] = None) -> str:
    """Folder holding ``modelnet40_normal_resampled/``, ``ScanObjectNN/``
    and ``OpenShape/``.

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
