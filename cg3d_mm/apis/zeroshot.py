"""Zero-shot 3D classification benchmarks of one CG3D checkpoint.

One model, built once, is evaluated on every benchmark whose files are
present (ModelNet10, ModelNet40, ScanObjectNN PB_T50_RS / OBJ_BG /
OBJ_ONLY), always on the TEST split and with prompts fixed in advance: no
checkpoint, prompt or hyper-parameter is ever selected here. Used by
``tools/zeroshot_benchmark.py``.
"""
import os
import os.path as osp
import re
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log

from cg3d_mm.datasets.benchmarks import (BENCHMARKS, Benchmark,
                                         build_benchmark_dataset,
                                         resolve_data_root)
from cg3d_mm.evaluation.metrics.zeroshot_accuracy import accuracy_summary
from cg3d_mm.registry import MODELS
from cg3d_mm.utils.io import atomic_write_json
from cg3d_mm.utils.templates import TEMPLATE_SETS
from cg3d_mm.utils.templates import resolve_templates as _template_set

POINT_ENCODER_PREFIXES = ('backbone.', 'neck.', 'head.')


def template_set_name(templates: Sequence[str]) -> str:
    """'single' / 'ensemble' for the named sets, else 'custom(<n>)'."""
    for name, known in TEMPLATE_SETS.items():
        if tuple(templates) == tuple(known):
            return name
    return f'custom({len(templates)})'


def resolve_templates(template_sets: Optional[Sequence[str]],
                      default: Sequence[str]
                      ) -> List[Tuple[str, Tuple[str, ...]]]:
    """``['single', 'ensemble']`` -> [(name, templates)]; None -> default."""
    if not template_sets:
        default = _template_set(default, 'model test_cfg.templates')
        return [(template_set_name(default), default)]
    return [(name, _template_set(name, 'template set'))
            for name in template_sets]


def _as_config(config: Union[str, Config]) -> Config:
    if isinstance(config, Config):
        return config
    if not osp.isfile(str(config)):
        raise FileNotFoundError(f'config {config} does not exist')
    return Config.fromfile(str(config))


def config_num_points(cfg: Config) -> int:
    """Points per cloud the config's model was trained / tested with.

    Taken from ``SamplePoints`` of the config's test pipeline, else from a
    top-level ``num_points``: a checkpoint is specific to its point count.
    """
    pipeline = (cfg.get('test_dataloader') or {}).get('dataset', {}).get(
        'pipeline') or []
    for t in pipeline:
        if isinstance(t, dict) and t.get('type') == 'SamplePoints':
            return int(t['num_points'])
    if cfg.get('num_points'):
        return int(cfg.num_points)
    raise ValueError(f'{cfg.filename}: cannot tell the point count (no '
                     'SamplePoints in test_dataloader.dataset.pipeline and '
                     'no num_points); pass num_points explicitly')


def _state_dict_of(checkpoint: Union[str, dict]) -> Tuple[dict, str]:
    from mmengine.runner.checkpoint import CheckpointLoader

    # cg3d_mm routes local files through load_weights_only: nothing in the
    # file can run code while it is read.
    if isinstance(checkpoint, dict):
        ckpt, name = checkpoint, 'checkpoint dict'
    else:
        name = str(checkpoint)
        ckpt = CheckpointLoader.load_checkpoint(name, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'{name}: expected a checkpoint dict with a '
                         f'state_dict, got {type(ckpt).__name__}')
    state = {re.sub(r'^module\.', '', k): v for k, v in state.items()}
    return state, name


def load_point_encoder(model: torch.nn.Module,
                       checkpoint: Union[str, dict]) -> dict:
    """Load a CG3D checkpoint (weights only) into ``model``.

    The frozen CLIP towers come from the model config; the checkpoint must
    hold the point encoder (``backbone.`` [+ ``neck.``] + ``head.``).

    Returns:
        dict: ``missing`` and ``unexpected`` key lists.

    Raises:
        ValueError: No ``backbone.`` weights, point-encoder weights missing
            or of the wrong shape (checkpoint and config do not match).
    """
    state, name = _state_dict_of(checkpoint)
    if not any(k.startswith('backbone.') for k in state):
        prefixes = sorted({k.split('.')[0] for k in state})
        raise ValueError(
            f'{name}: no point-encoder weights (no "backbone." keys; it holds '
            f'{len(state)} tensors under {prefixes[:8]}). Expected a CG3D '
            'checkpoint written by tools/train.py (or '
            'tools/publish_checkpoint.py).')
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as err:  # size mismatch: a different architecture
        raise ValueError(f'{name} does not fit the model of the config: '
                         f'{err}') from None
    missing = [k for k in result.missing_keys
               if k.startswith(POINT_ENCODER_PREFIXES)]
    if missing:
        raise ValueError(
            f'{name} lacks {len(missing)} point-encoder weights of the '
            f'config\'s model (e.g. {missing[:3]}): checkpoint and config '
            'describe different encoders')
    if result.unexpected_keys:
        print_log(f'{name}: ignoring {len(result.unexpected_keys)} unexpected '
                  f'keys (e.g. {result.unexpected_keys[:3]})',
                  logger='current', level=30)
    return dict(missing=list(result.missing_keys),
                unexpected=list(result.unexpected_keys))


def build_zeroshot_model(config: Union[str, Config],
                         checkpoint: Union[str, dict],
                         device: str = 'cpu') -> torch.nn.Module:
    """Build the config's model once and load the checkpoint's weights."""
    from mmengine.registry import init_default_scope
    cfg = _as_config(config)
    init_default_scope(cfg.get('default_scope', 'cg3d_mm'))
    model = MODELS.build(cfg.model)
    load_point_encoder(model, checkpoint)
    return model.to(device).eval()


@torch.no_grad()
def evaluate_zeroshot(model: torch.nn.Module, dataset,
                      templates: Sequence[str], batch_size: int = 32,
                      num_workers: int = 0, progress: bool = True,
                      desc: str = 'zero-shot') -> dict:
    """Zero-shot accuracy of ``model`` on ``dataset`` (all of it).

    Class prototypes are built once from ``dataset.metainfo['classes']``
    and ``templates``; scores come from ``model.test_step``.

    Returns:
        dict: :func:`accuracy_summary` (percent) + ``num_samples`` and
        ``classes``.
    """
    from tqdm import tqdm
    classes = list(dataset.metainfo['classes'])
    model.set_class_names(classes, list(templates))
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=False,
        num_workers=num_workers, collate_fn=pseudo_collate)
    scores, labels = [], []
    for data in tqdm(loader, desc=desc, unit='batch', disable=not progress,
                     leave=False):
        for sample in model.test_step(data):
            scores.append(sample.pred_score.float().cpu())
            labels.append(int(sample.gt_label.view(-1)[0]))
    if not scores:
        raise ValueError(f'{desc}: the dataset is empty')
    summary = accuracy_summary(torch.stack(scores).numpy(),
                               np.asarray(labels, dtype=np.int64),
                               len(classes))
    summary.update(num_samples=len(labels), classes=classes)
    return summary


def run_zeroshot_benchmarks(config: Union[str, Config],
                            checkpoint: Union[str, dict],
                            data_root: Optional[str] = None,
                            template_sets: Optional[Sequence[str]] = None,
                            num_points: Optional[int] = None,
                            benchmarks: Sequence[Benchmark] = BENCHMARKS,
                            batch_size: int = 32, num_workers: int = 0,
                            device: str = 'cpu', progress: bool = True,
                            out_file: Optional[str] = None,
                            model: Optional[torch.nn.Module] = None) -> dict:
    """Every available benchmark for the model of ``config``, in one go.

    Args:
        config: Config file (or Config) of the checkpoint's model.
        checkpoint: Checkpoint file (loaded weights-only).
        data_root (str, optional): Folder holding
            ``modelnet40_normal_resampled/`` and ``ScanObjectNN/``; see
            :func:`resolve_data_root`.
        template_sets (list[str], optional): Names in :data:`TEMPLATE_SETS`;
            defaults to the model's ``test_cfg.templates``.
        num_points (int, optional): Points per cloud; defaults to the
            config's (:func:`config_num_points`).
        benchmarks: Benchmarks to run.
        model (nn.Module, optional): An already built model (``config`` is
            then only read for the point count and data root).
        out_file (str, optional): Write the report as JSON.

    Returns:
        dict: ``results`` (one row per benchmark x template set, with
        per-class accuracy and confusion matrix), ``skipped`` (benchmarks
        whose files are absent, with the reason) and the run's settings.
    """
    cfg = _as_config(config)
    num_points = int(num_points or config_num_points(cfg))
    root = resolve_data_root(cfg, data_root)
    if model is None:
        model = build_zeroshot_model(cfg, checkpoint, device)
    model.eval()
    sets = resolve_templates(template_sets, model.templates)

    results, skipped = [], []
    for bench in benchmarks:
        dataset, reason = build_benchmark_dataset(bench, root, num_points)
        if dataset is None:
            skipped.append(dict(key=bench.key, dataset=bench.name,
                                variant=bench.variant, reason=reason))
            print_log(f'zero-shot: skipping {bench.name} {bench.variant} '
                      f'({reason})', logger='current')
            continue
        for set_name, templates in sets:
            summary = evaluate_zeroshot(
                model, dataset, templates, batch_size, num_workers,
                progress, desc=f'{bench.name} {bench.variant}'.strip())
            results.append(dict(
                key=bench.key, dataset=bench.name, variant=bench.variant,
                split='test', points=num_points, templates=set_name,
                num_templates=len(templates), top1=summary['top1'],
                top5=summary.get('top5'), class_mean=summary['class_mean'],
                n=summary['num_samples'], classes=summary['classes'],
                per_class=summary['per_class'],
                confusion=summary['confusion'],
                source=_source_of(dataset)))
    report = dict(
        config=str(cfg.filename), checkpoint=str(checkpoint) if isinstance(
            checkpoint, (str, os.PathLike)) else None,
        data_root=root, num_points=num_points, results=results,
        skipped=skipped)
    if out_file:
        _write_json(report, out_file)
    return report


def _source_of(dataset) -> str:
    for attr in ('dat_file', 'h5_file'):
        if getattr(dataset, attr, None):
            return osp.join(dataset.data_root, getattr(dataset, attr))
    return dataset.data_root


def _write_json(report: dict, path: str) -> None:
    atomic_write_json(path, report)
    print_log(f'zero-shot results written to {path}', logger='current')


def format_markdown_table(report: dict) -> str:
    """One markdown table of the results; skipped benchmarks listed below."""

    def pct(value):
        return '-' if value is None else f'{value:.2f}'

    lines = [
        '| dataset | variant | points | template set | top-1 | top-5 | '
        'class-mean | n |', '|---|---|---|---|---|---|---|---|'
    ]
    for r in report['results']:
        lines.append(
            f"| {r['dataset']} | {r['variant'] or '-'} | {r['points']} | "
            f"{r['templates']} | {pct(r['top1'])} | {pct(r['top5'])} | "
            f"{pct(r['class_mean'])} | {r['n']} |")
    if report['skipped']:
        lines += ['', 'Skipped (files absent):']
        for s in report['skipped']:
            name = f"{s['dataset']} {s['variant']}".strip()
            lines.append(f"- {name}: {s['reason']}")
    return '\n'.join(lines)
