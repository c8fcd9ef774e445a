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
2. Zero-shot evaluation: ``encode_points`` + class prototypes, shapes/s.
3. Point ops: :func:`cg3d_mm.benchmark.naive_ops.benchmark_point_ops`.

Each model measurement (a "job", :mod:`cg3d_mm.benchmark.jobs`) runs by
default in a fresh, spawned process, so that its peak memory is its own: on
CPU the peak resident set size (``VmHWM``, reset through
``/proc/self/clear_refs`` when the kernel allows, else ``getrusage``
``ru_maxrss``), on GPU ``torch.cuda.max_memory_allocated``. Every job seeds
the RNG before building its model, so all jobs hold the same weights
(checked by a fingerprint).
"""
import os
import statistics
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

from cg3d_mm.utils.device import resolve_device

from .builders import MODES, TIMED_MODES
from .jobs import run_job
from .machine import machine_facts
from .naive_ops import benchmark_point_ops
from .report import table_rows

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
        log (Callable): Progress printer.

    Returns:
        dict: ``machine``, ``settings``, ``pretrain`` (per mode, ``ratio``,
        ``loss_check``), ``breakdown``, ``zeroshot``, ``point_ops``.
    """
    device = str(resolve_device(device))  # a str: specs and JSON carry it
    if threads:
        torch.set_num_threads(threads)
    threads = threads or torch.get_num_threads()
    common = dict(model_cfg=model_cfg, device=device, seed=seed,
                  threads=threads, num_points=num_points)
    report = dict(
        machine=machine_facts(device), load_start=os.getloadavg(),
        settings=dict(batch_size=batch_size, cycles=cycles, warmup=warmup,
                      rounds=rounds,
                      num_points=num_points, zs_batch_size=zs_batch_size,
                      zs_batches=zs_batches, isolate=isolate, seed=seed,
                      threads=threads, device=device,
                      model=_describe_model(model_cfg)))
    runs = {mode: [] for mode in TIMED_MODES}
    for i in range(rounds):
        # a, b, c, c, b, a, ...: a drift of the load hits every mode
        for mode in (TIMED_MODES if i % 2 == 0 else TIMED_MODES[::-1]):
            log(f'[benchmark] pretraining, mode={mode} (round {i + 1}/'
                f'{rounds}): {warmup} warm-up + {cycles} timed cycles, '
                f'batch {batch_size}')
            runs[mode].append(run_job('pretrain', dict(
                common, mode=mode, optim_cfg=optim_cfg,
                batch_size=batch_size, cycles=cycles, warmup=warmup),
                isolate))
    pretrain = {mode: merge_runs(runs[mode]) for mode in TIMED_MODES}
    pretrain['ratio'] = (pretrain['alternate']['samples_per_s'] /
                         pretrain['reference']['samples_per_s'])
    pretrain['ratio_frozen'] = (
        pretrain['alternate']['samples_per_s'] /
        pretrain['reference_frozen']['samples_per_s'])
    pretrain['cpu_ratio'] = (
        statistics.median(pretrain['reference']['cycle_cpu_s']) /
        statistics.median(pretrain['alternate']['cycle_cpu_s']))
    pretrain['loss_check'] = compare_first_losses(pretrain)
    report['pretrain'] = pretrain
    if breakdown:
        log('[benchmark] per-encoder breakdown')
        report['breakdown'] = run_job('breakdown', dict(
            common, batch_size=batch_size, repeats=breakdown_repeats),
            isolate)
    log(f'[benchmark] zero-shot, batch {zs_batch_size}')
    report['zeroshot'] = run_job('zeroshot', dict(
        common, batch_size=zs_batch_size, batches=zs_batches, warmup=1),
        isolate)
    report['point_ops'] = []
    if point_op_configs:
        log('[benchmark] point ops')
        report['point_ops'] = benchmark_point_ops(
            configs=point_op_configs, repeats=point_op_repeats,
            include_naive=point_op_naive)
    report['load_end'] = os.getloadavg()
    report['rows'] = table_rows(report)
    return report


def _describe_model(model_cfg: dict) -> dict:
    clip = model_cfg.get('img_backbone', {}).get('clip', {})
    return dict(backbone=model_cfg.get('backbone', {}).get('type'),
                clip=clip.get('model_name'),
                clip_weights=clip.get('pretrained') or clip.get('checkpoint')
                or 'random')
