"""Throughput and memory of CG3D pretraining, zero-shot and point ops.

One run, one machine, one report (``tools/benchmark.py``):

1. Pretraining: whole 2-step cycles (one ``point_encoder`` step + one
   ``visual_prompt`` step) of the plugin's schedule (``CG3D``: cached text,
   image targets without a graph, no point encoder on prompt steps) and of
   :class:`~cg3d_mm.benchmark.reference.ReferenceCG3D` (the original
   per-iteration work: text tower every step, all three encoders with
   autograd through their weights, frozen CLIP included), on the same
   batches with the same weights. The first point step's losses of both
   modes are compared. ``reference_frozen`` is the same work with the frozen
   CLIP weights kept out of autograd, reported too: it is the stricter
   baseline if the original set ``requires_grad=False``.
   (a') is the plugin's schedule again at the precision ``--amp auto``
   picks on this machine (:func:`cg3d_mm.utils.precision.choose_precision`;
   the same job as (a) when that is fp32).
2. Zero-shot evaluation: ``encode_points`` + class prototypes, shapes/s.
3. Point ops: :func:`cg3d_mm.benchmark.naive_ops.benchmark_point_ops`.
4. The machine's own matmul peak per dtype
   (:func:`~cg3d_mm.benchmark.machine.matmul_peak`) and, per component, its
   FLOPs (``torch.utils.flop_counter``), achieved GFLOP/s and fraction of
   that peak (:func:`~cg3d_mm.benchmark.report.component_rows`).

Each model measurement (a "job", :mod:`cg3d_mm.benchmark.jobs`) runs by
default in a fresh, spawned process, so that its peak memory is its own: on
CPU the peak resident set size (``VmHWM``, reset through
``/proc/self/clear_refs`` when the kernel allows, else ``getrusage``
``ru_maxrss``), on GPU ``torch.cuda.max_memory_allocated``. Every job seeds
the RNG before building its model, so all jobs hold the same weights
(checked by a fingerprint).
"""
import copy
import os
import statistics
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config

from cg3d_mm.engine.cli import enable_amp
from cg3d_mm.utils.device import resolve_device
from cg3d_mm.utils.precision import AUTOCAST_DTYPES

from .builders import MODES, TIMED_MODES
from .encoders import PAIRS
from .jobs import run_job
from .machine import machine_facts, matmul_peak
from .naive_ops import benchmark_point_ops
from .report import component_rows, table_rows

# (a') the plugin's schedule at the automatic precision
AUTO = 'alternate_auto'

# The first point step's losses of both modes must agree to this.
LOSS_ATOL = 1e-4
# Real-size point-op configs (B, N, M, k) and small ones for --small.
POINT_OP_CONFIGS = ((16, 1024, 512, 32), (8, 8192, 1024, 32))
SMALL_POINT_OP_CONFIGS = ((2, 1024, 256, 16), (1, 8192, 512, 16))


def merge_runs(runs: List[dict]) -> dict:
    """Pool the timed cycles of several jobs of one mode.

    Memory is the run with the highest peak; the first point step and the
    weights must be the same in every run (they are seeded).
    """
    out = dict(runs[0])
    for key in ('cycle_s', 'cycle_cpu_s'):
        out[key] = [t for r in runs for t in r[key]]
    out['cycles'] = len(out['cycle_s'])
    out['median_cycle_s'] = statistics.median(out['cycle_s'])
    out['samples_per_s'] = out['samples_per_cycle'] / out['median_cycle_s']
    out['memory'] = max((r['memory'] for r in runs),
                        key=lambda m: m['peak_mb'])
    out['weights'] = ','.join(sorted({r['weights'] for r in runs}))
    out['first_point_step_per_run'] = [r['first_point_step'] for r in runs]
    out['load_per_run'] = [(r['load_start'], r['load_end']) for r in runs]
    return out


def compare_first_losses(results: Dict[str, dict],
                         atol: float = LOSS_ATOL) -> dict:
    """First point-step losses of both modes, their max |diff|, verdict."""
    a, b = (results[m]['first_point_step'] for m in MODES)
    keys = sorted(set(a) & set(b))
    every = [(x, y) for m in MODES
             for x in results[m].get('first_point_step_per_run', [a])
             for y in (a, b)]  # all runs of both modes against both firsts
    diff = max((abs(x[k] - y[k]) for x, y in every for k in keys),
               default=float('nan'))
    same_weights = len({results[m]['weights'] for m in MODES}) == 1
    return dict(keys=keys, alternate=a, reference=b, max_abs_diff=diff,
                atol=atol, same_weights=same_weights,
                equal=bool(keys) and same_weights and diff <= atol)


def run_benchmark(model_cfg: dict,
                  optim_cfg: dict,
                  device: str = 'auto',
                  batch_size: int = 4,
                  cycles: int = 3,
                  warmup: int = 1,
                  rounds: int = 1,
                  num_points: int = 1024,
                  zs_batch_size: int = 16,
                  zs_batches: int = 3,
                  breakdown: bool = True,
                  breakdown_repeats: int = 2,
                  point_op_configs: Optional[Sequence[Tuple]] = None,
                  point_op_repeats: int = 2,
                  point_op_naive: bool = True,
                  threads: Optional[int] = None,
                  isolate: bool = True,
                  seed: int = 0,
                  precision: Optional[str] = None,
                  encoder_rounds: int = 5,
                  log: Callable[[str], None] = print) -> dict:
    """Run every measurement of the benchmark and return the report.

    Args:
        model_cfg (dict): CG3D model config (each reference job builds a
            ``ReferenceCG3D`` of it). Use :func:`random_clip_weights` to
            avoid downloads.
        optim_cfg (dict): ``CG3DOptimWrapperConstructor`` wrapper configs.
        device (str): ``'auto'``, ``'cpu'`` or ``'cuda[:i]'``.
        batch_size (int): Pretraining batch (per step).
        cycles (int): Timed point + prompt cycles per mode.
        warmup (int): Untimed cycles first (>= 1 for the loss check).
        rounds (int): Repeats of the pair of pretraining jobs, in the order
            a, b, b, a, ...; the cycles of all rounds are pooled.
        num_points (int): Points per cloud.
        zs_batch_size (int): Zero-shot batch N.
        zs_batches (int): Timed zero-shot batches.
        breakdown (bool): Also time the encoders one by one.
        point_op_configs (Sequence[tuple], optional): ``(B, N, M, k)``;
            None skips the point ops.
        threads (int, optional): ``torch.set_num_threads`` in every job.
        isolate (bool): One spawned process per job (per-job peak memory).
        seed (int): Weights and data seed, the same in every job.
        precision (str, optional): Precision of (a'); None for what
            ``--amp auto`` picks on this machine (``machine.precision_auto``).
        encoder_rounds (int): Interleaved rounds of the PointMLP new vs
            legacy comparison (0 skips it; only for a PointMLP backbone).
        log (Callable): Progress printer.

    Returns:
        dict: ``machine`` (with ``matmul_gflops`` per dtype), ``settings``,
        ``pretrain`` (per mode and ``alternate_auto``, ``ratio``,
        ``ratio_auto``, ``loss_check``), ``breakdown`` and ``zeroshot``
        (fp32) with their ``*_auto`` twins when (a') is not fp32,
        ``components``, ``point_encoders``, ``point_ops``, ``rows``.
    """
    device = str(resolve_device(device))  # a str: specs and JSON carry it
    if threads:
        torch.set_num_threads(threads)
    threads = threads or torch.get_num_threads()
    common = dict(model_cfg=model_cfg, device=device, seed=seed,
                  threads=threads, num_points=num_points)
    machine = machine_facts(device)
    auto = precision or machine['precision_auto']
    dtypes = ['float32'] + [AUTOCAST_DTYPES[p] for p in ('bf16', 'fp16')
                            if p == auto or (p == 'fp16' and 'cuda' in device)]
    log(f'[benchmark] matmul peak of this machine ({", ".join(dtypes)}); '
        f"automatic precision: {auto} ({machine['precision_reason']})")
    machine['matmul_gflops'] = matmul_peak(device, dtypes)
    report = dict(
        machine=machine, load_start=os.getloadavg(),
        settings=dict(batch_size=batch_size, cycles=cycles, warmup=warmup,
                      rounds=rounds,
                      num_points=num_points, zs_batch_size=zs_batch_size,
                      zs_batches=zs_batches, isolate=isolate, seed=seed,
                      threads=threads, device=device, precision_auto=auto,
                      model=_describe_model(model_cfg)))
    labels = TIMED_MODES + ((AUTO, ) if auto != 'fp32' else ())
    runs = {label: [] for label in labels}
    for i in range(rounds):
        # a, b, c, a', a', c, b, a, ...: a drift of the load hits every mode
        for label in (labels if i % 2 == 0 else labels[::-1]):
            log(f'[benchmark] pretraining, mode={label} (round {i + 1}/'
                f'{rounds}): {warmup} warm-up + {cycles} timed cycles, '
                f'batch {batch_size}')
            job = dict(common, mode=label, label=label, optim_cfg=optim_cfg,
                       batch_size=batch_size, cycles=cycles, warmup=warmup)
            if label == AUTO:
                job.update(mode='alternate', precision=auto,
                           optim_cfg=autocast_optim_cfg(optim_cfg, auto))
            runs[label].append(run_job('pretrain', job, isolate))
    pretrain = {label: merge_runs(runs[label]) for label in labels}
    if auto == 'fp32':  # (a') is (a): nothing to switch on this machine
        pretrain[AUTO] = dict(pretrain['alternate'], label=AUTO)
    pretrain['ratio'] = (pretrain['alternate']['samples_per_s'] /
                         pretrain['reference']['samples_per_s'])
    pretrain['ratio_frozen'] = (
        pretrain['alternate']['samples_per_s'] /
        pretrain['reference_frozen']['samples_per_s'])
    pretrain['cpu_ratio'] = (
        statistics.median(pretrain['reference']['cycle_cpu_s']) /
        statistics.median(pretrain['alternate']['cycle_cpu_s']))
    pretrain['ratio_auto'] = (pretrain[AUTO]['samples_per_s'] /
                              pretrain['reference']['samples_per_s'])
    pretrain['loss_check'] = compare_first_losses(pretrain)
    report['pretrain'] = pretrain
    precisions = ('fp32', ) + ((auto, ) if auto != 'fp32' else ())
    for prec in precisions:
        suffix = '' if prec == 'fp32' else '_auto'
        if breakdown:
            log(f'[benchmark] per-encoder breakdown, {prec}')
            report['breakdown' + suffix] = run_job('breakdown', dict(
                common, batch_size=batch_size, repeats=breakdown_repeats,
                precision=prec), isolate)
        log(f'[benchmark] zero-shot, batch {zs_batch_size}, {prec}')
        report['zeroshot' + suffix] = run_job('zeroshot', dict(
            common, batch_size=zs_batch_size, batches=zs_batches, warmup=1,
            precision=prec), isolate)
    report['components'] = component_rows(report)
    backbone = dict(model_cfg.get('backbone') or {})
    name = str(backbone.get('type', '')).split('.')[-1]
    if encoder_rounds and name in PAIRS:
        log(f'[benchmark] {name} new vs legacy, batch {batch_size} x '
            f'{num_points} points, {encoder_rounds} interleaved rounds')
        report['point_encoders'] = run_job('encoders', dict(
            common, backbone_cfg=backbone, batch_size=batch_size,
            rounds=encoder_rounds, precisions=precisions), isolate)
    report['point_ops'] = []
    if point_op_configs:
        log('[benchmark] point ops')
        report['point_ops'] = benchmark_point_ops(
            configs=point_op_configs, repeats=point_op_repeats,
            include_naive=point_op_naive)
    report['load_end'] = os.getloadavg()
    report['rows'] = table_rows(report)
    return report


def autocast_optim_cfg(optim_cfg: dict, precision: str) -> dict:
    """``optim_cfg`` with every wrapper switched to ``precision`` autocast,
    as ``--amp`` does (:func:`cg3d_mm.engine.cli.enable_amp`)."""
    cfg = Config(dict(optim_wrapper=copy.deepcopy(optim_cfg)))
    enable_amp(cfg, AUTOCAST_DTYPES[precision])
    return cfg.optim_wrapper.to_dict()


def _describe_model(model_cfg: dict) -> dict:
    clip = model_cfg.get('img_backbone', {}).get('clip', {})
    return dict(backbone=model_cfg.get('backbone', {}).get('type'),
                clip=clip.get('model_name'),
                clip_weights=clip.get('pretrained') or clip.get('checkpoint')
                or 'random')
