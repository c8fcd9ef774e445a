"""Point encoders old vs new, side by side in one process: the library's
PointMLP / PointTransformer against
:class:`~cg3d_mm.benchmark.legacy_pointmlp.LegacyPointMLP` /
:class:`~cg3d_mm.benchmark.legacy_point_transformer.LegacyPointTransformer`
(the implementations before their speed work) on the same weights and
clouds, interleaved, median of rounds, with FLOPs and the outputs
compared."""
import copy
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch
from torch import nn

from cg3d_mm.models.backbones.point_transformer import PointTransformer
from cg3d_mm.models.backbones.pointmlp import PointMLP

from .jobs import autocast_context, count_flops
from .legacy_point_transformer import LegacyPointTransformer
from .legacy_pointmlp import LegacyPointMLP

# backbone type -> (library class, the code before issue 19)
PAIRS = dict(PointMLP=(PointMLP, LegacyPointMLP),
             PointTransformer=(PointTransformer, LegacyPointTransformer))

# The two implementations in float64 must agree to this (relative to the
# largest magnitude): the same function, computed in another order.
FP64_RTOL = 1e-9
# In float32 the new code's error against float64 (relative to the largest
# gradient / feature) must be below this, or no worse than twice the old's.
FP32_RTOL = 1e-3


def _sync(device: str) -> None:
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


def build_pair(backbone_cfg: Optional[dict], device: str,
               seed: int) -> Dict[str, nn.Module]:
    """``new`` (the library's class) and ``old`` (the legacy copy) holding
    the same (seeded, perturbed) weights. ``backbone_cfg['type']`` picks the
    pair (:data:`PAIRS`, default PointMLP); PointTransformer's stochastic
    depth is off unless set, so that train-mode outputs compare."""
    cfg = dict(backbone_cfg or {})
    new_cls, old_cls = PAIRS[cfg.pop('type', 'PointMLP').split('.')[-1]]
    if new_cls is PointTransformer:
        cfg.setdefault('drop_path_rate', 0.)
    torch.manual_seed(seed)
    new = new_cls(**cfg)
    with torch.no_grad():  # non-trivial alpha / beta / norm affine
        for p in new.parameters():
            p.add_(0.05 * torch.randn_like(p))
    old = old_cls(**cfg)
    old.load_state_dict(new.state_dict())
    return dict(new=new.to(device), old=old.to(device))


def _run(model: nn.Module, points: torch.Tensor):
    model.train()
    model.zero_grad(set_to_none=True)
    feat = model(points)['global_feat']
    feat.square().mean().backward()
    grads = {n: p.grad.detach().double()
             for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return feat.detach().double(), grads


def _rel(a, b) -> float:
    """max |a - b| / max |b| over a tensor or a dict of tensors."""
    if isinstance(b, dict):
        return max(float((a[k] - b[k]).abs().max()) for k in b) / \
            max(float(v.abs().max()) for v in b.values())
    return float((a - b).abs().max() / b.abs().max())


def compare_outputs(models: Dict[str, nn.Module],
                    points: torch.Tensor) -> dict:
    """Global features and every parameter gradient (train mode) of both.

    Float32 gradients of a deep batch-normalised network are ill-conditioned
    (they differ from float64 by percents for either implementation), so
    the check is: both in float64 agree to :data:`FP64_RTOL`, and the new
    float32 is within :data:`FP32_RTOL` of that float64 reference or no
    further from it than twice the old float32.
    """
    f32 = {k: _run(m, points) for k, m in models.items()}
    f64 = {k: _run(copy.deepcopy(m).double(), points.double())
           for k, m in models.items()}
    (fn, gn), (fo, go) = f32['new'], f32['old']
    ref_f, ref_g = f64['old']
    res = dict(
        fp64_out_rel_diff=_rel(f64['new'][0], ref_f),
        fp64_grad_rel_diff=_rel(f64['new'][1], ref_g),
        new_out_err=_rel(fn, ref_f), old_out_err=_rel(fo, ref_f),
        new_grad_err=_rel(gn, ref_g), old_grad_err=_rel(go, ref_g),
        same_params=set(gn) == set(go))
    res['equal'] = bool(
        res['same_params'] and res['fp64_out_rel_diff'] <= FP64_RTOL
        and res['fp64_grad_rel_diff'] <= FP64_RTOL
        and res['new_out_err'] <= max(2 * res['old_out_err'], FP32_RTOL)
        and res['new_grad_err'] <= max(2 * res['old_grad_err'], FP32_RTOL))
    return res


def compare_point_encoders(backbone_cfg: Optional[dict] = None,
                           batch_size: int = 4,
                           num_points: int = 1024,
                           rounds: int = 3,
                           precisions: Sequence[str] = ('fp32', ),
                           device: str = 'cpu',
                           seed: int = 0,
                           log: Callable[[str], None] = print) -> dict:
    """Time a point encoder new vs old: forward without graph (zero-shot) and
    forward + backward (pretraining), interleaved (new, old, old, new, ...),
    the median of ``rounds`` per cell.

    Args:
        backbone_cfg (dict, optional): PointMLP (default) or
            PointTransformer config; None for PointMLP's original
            configuration.
        batch_size (int): Clouds per call.
        num_points (int): Points per cloud.
        rounds (int): Timed calls per implementation and cell.
        precisions (Sequence[str]): ``'fp32'`` and / or ``'bf16'`` /
            ``'fp16'`` (autocast).
        device (str): Where both run.
        seed (int): Weights and clouds seed.
        log (Callable): Progress printer.

    Returns:
        dict: ``check`` (:func:`compare_outputs`), ``rows`` (per
        precision and pass: seconds, FLOPs and GFLOP/s of each, speed-up).
    """
    models = build_pair(backbone_cfg, device, seed)
    g = torch.Generator().manual_seed(seed)
    points = (torch.rand(batch_size, num_points, 3, generator=g) * 2 -
              1).to(device)
    check = compare_outputs(models, points)
    log(f'[benchmark] point encoder new vs old: equal={check["equal"]}')

    def forward(model):
        model.eval()
        with torch.no_grad():
            model(points)

    def forward_backward(model):
        model.train()
        model(points)['global_feat'].sum().backward()
        model.zero_grad(set_to_none=True)

    rows: List[dict] = []
    for precision in precisions:
        for pass_name, fn in (('forward, no graph', forward),
                              ('forward + backward', forward_backward)):
            times, cpu = dict(new=[], old=[]), dict(new=[], old=[])
            flops = {}
            with autocast_context(device, precision):
                for name, model in models.items():
                    flops[name] = count_flops(lambda: fn(model))  # warm-up
                for i in range(rounds):
                    order = ('new', 'old') if i % 2 == 0 else ('old', 'new')
                    for name in order:
                        _sync(device)
                        t0, c0 = time.perf_counter(), time.process_time()
                        fn(models[name])
                        _sync(device)
                        times[name].append(time.perf_counter() - t0)
                        cpu[name].append(time.process_time() - c0)
            sec = {k: statistics.median(v) for k, v in times.items()}
            rows.append(dict(
                precision=precision, pass_=pass_name, batch=batch_size,
                num_points=num_points, seconds=sec, times=times,
                cpu_seconds={k: statistics.median(v)
                             for k, v in cpu.items()},
                gflop={k: v / 1e9 for k, v in flops.items()},
                gflops={k: flops[k] / sec[k] / 1e9 for k in sec},
                speedup=sec['old'] / sec['new']))
            log(f'[benchmark]   {precision} {pass_name}: old '
                f"{sec['old']:.2f} s, new {sec['new']:.2f} s "
                f"({sec['old'] / sec['new']:.2f}x)")
    return dict(check=check, rounds=rounds, rows=rows)


def encoders_markdown(result: dict, peaks: Optional[dict] = None) -> str:
    """The side-by-side table (and the equality check) as markdown."""
    dtype = dict(fp32='float32', bf16='bfloat16', fp16='float16')
    peaks = peaks or {}
    c = result['check']
    lines = [
        f"Same weights, same clouds: {'EQUAL' if c['equal'] else 'NOT EQUAL'}"
        f" (float64: global features {c['fp64_out_rel_diff']:.0e}, "
        f"gradients {c['fp64_grad_rel_diff']:.0e}; float32 vs that "
        f"reference, new / old: features {c['new_out_err']:.0e} / "
        f"{c['old_out_err']:.0e}, gradients {c['new_grad_err']:.0e} / "
        f"{c['old_grad_err']:.0e}, relative to the largest); median of "
        f"{result['rounds']} interleaved rounds.",
        '', '| precision | pass | batch x points | old s | new s | speed-up '
        '| speed-up, CPU time | old GFLOP | new GFLOP | new GFLOP/s | '
        'of peak |', '|---|---|---|---|---|---|---|---|---|---|---|']
    for r in result['rows']:
        peak = peaks.get(dtype[r['precision']])
        frac = f"{100 * r['gflops']['new'] / peak:.0f} %" if peak else '-'
        lines.append(
            f"| {r['precision']} | {r['pass_']} | {r['batch']} x "
            f"{r['num_points']} | {r['seconds']['old']:.2f} | "
            f"{r['seconds']['new']:.2f} | {r['speedup']:.2f}x | "
            f"{r['cpu_seconds']['old'] / r['cpu_seconds']['new']:.2f}x | "
            f"{r['gflop']['old']:.0f} | {r['gflop']['new']:.0f} | "
            f"{r['gflops']['new']:.1f} | {frac} |")
    return '\n'.join(lines)
