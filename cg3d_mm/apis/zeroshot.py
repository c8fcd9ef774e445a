"""Zero-shot 3D classification benchmarks of one CG3D checkpoint.

One model, built once, is evaluated on every benchmark whose files are
present (ModelNet10, ModelNet40, ScanObjectNN PB_T50_RS / OBJ_BG /
OBJ_ONLY), always on the TEST split and with prompts fixed in advance: no
checkpoint, prompt or hyper-parameter is ever selected here. Used by
``tools/zeroshot_benchmark.py``.
"""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log

from cg3d_mm.datasets.benchmarks import (BENCHMARKS, Benchmark,
                                         build_benchmark_dataset,
                                         config_uses_color, resolve_data_root)
from cg3d_mm.evaluation.metrics.zeroshot_accuracy import accuracy_summary
from cg3d_mm.models.utils import load_model_checkpoint, read_checkpoint
from cg3d_mm.models.utils.checkpoint_loader import prefix_summary
from cg3d_mm.registry import MODELS
from cg3d_mm.utils.config import config_num_points, load_config
from cg3d_mm.utils.device import DeviceLike, resolve_device
from cg3d_mm.utils.io import atomic_write_json
from cg3d_mm.utils.templates import TEMPLATE_SETS
from cg3d_mm.utils.templates import resolve_templates as _template_set


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


def load_point_encoder(model: torch.nn.Module,
                       checkpoint: Union[str, dict]) -> dict:
    """Load a CG3D checkpoint (weights only) into ``model``.

    The frozen CLIP towers come from the model config (CG3D does not save
    them); the checkpoint must hold the rest: the point encoder
    (``backbone.`` [+ ``neck.``] + ``head.``) and the trained prompts.
    Loaded strictly by :func:`cg3d_mm.models.utils.load_model_checkpoint`,
    like :func:`cg3d_mm.apis.init_model`.

    Returns:
        dict: ``missing`` and ``unexpected`` key lists (empty: strict).

    Raises:
        ValueError: No ``backbone.`` weights; weights missing, unexpected
            or of the wrong shape (checkpoint and config do not match).
    """
    name = 'checkpoint dict' if isinstance(checkpoint, dict) else \
        str(checkpoint)
    state, meta = read_checkpoint(checkpoint, source=name)
    if not any(k.startswith('backbone.') for k in state):
        raise ValueError(
            f'{name}: no point-encoder weights (no "backbone." keys; it holds '
            f'{len(state)} tensors under {prefix_summary(state)}). Expected '
            'a CG3D checkpoint written by tools/train.py (or '
            'tools/publish_checkpoint.py).')
    report = load_model_checkpoint(model, dict(state_dict=state, meta=meta),
                                   source=name,
                                   target='the model of the config')
    return dict(missing=report.missing, unexpected=report.unexpected)


def build_zeroshot_model(config: Union[str, Config],
                         checkpoint: Union[str, dict],
                         device: DeviceLike = 'cpu') -> torch.nn.Module:
    """Build the config's model once and load the checkpoint's weights."""
    from mmengine.registry import init_default_scope
    cfg = load_config(config)
    init_default_scope(cfg.get('default_scope', 'cg3d_mm'))
    model = MODELS.build(cfg.model)
    load_point_encoder(model, checkpoint)
    return model.to(resolve_device(device)).eval()


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
                            device: DeviceLike = 'cpu', progress: bool = True,
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
    cfg = load_config(config)
    num_points = int(num_points or config_num_points(cfg))
    root = resolve_data_root(cfg, data_root)
    # a colour model (its test pipeline loads xyz + rgb) reads colours
    use_color = config_uses_color(cfg)
    if model is None:
        model = build_zeroshot_model(cfg, checkpoint, device)
    model.eval()
    sets = resolve_templates(template_sets, model.templates)

    results, skipped = [], []
    for bench in benchmarks:
        dataset, reason = build_benchmark_dataset(bench, root, num_points,
                                                  use_color)
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
        data_root=root, num_points=num_points, use_color=use_color,
        results=results,
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
