"""The benchmark's measurements ("jobs"), each a function of a picklable
spec, run here or in a fresh spawned process so that its peak memory is its
own."""
import contextlib
import logging
import multiprocessing
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Dict, List

import torch
from mmengine.logging import MMLogger
from torch.utils.flop_counter import FlopCounterMode

from cg3d_mm.datagen.synthetic.categories import MODELNET40_CLASSES

from .builders import (build_model, build_optim, make_pretrain_batch,
                       weights_fingerprint)
from .machine import PeakMemory, trim_heap
from .reference import encode_uncached


def _sync(device: str) -> None:
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


def _image_size(model) -> int:
    return int(model.img_backbone.image_size[0])


def _floats(log_vars: dict) -> Dict[str, float]:
    return {k: float(v.detach().float()) for k, v in log_vars.items()}


def autocast_context(device: str, precision: str = 'fp32'):
    """Autocast for ``'bf16'`` / ``'fp16'``, nothing for ``'fp32'``."""
    dtype = dict(bf16=torch.bfloat16, fp16=torch.float16).get(precision)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type,
                          dtype=dtype)


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of one call of ``fn`` (forward and, if it runs one, backward)
    as ``torch.utils.flop_counter`` counts them: matmuls, convolutions and
    attention, the work a matmul peak is the yardstick of."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def pretrain_job(spec: dict) -> dict:
    """Time ``spec['mode']`` over whole point + prompt cycles.

    The first step of the warm-up is a point step on the point batch; its
    losses are returned as ``first_point_step``.
    """
    _set_threads(spec)
    device, bsz = spec['device'], spec['batch_size']
    load_start = os.getloadavg()
    model = build_model(spec['model_cfg'], spec['mode'], device,
                        spec['seed'])
    model.train()
    optim = build_optim(model, spec['optim_cfg'])
    fingerprint = weights_fingerprint(model)
    size = _image_size(model)
    batches = dict(
        point_encoder=make_pretrain_batch(bsz, spec['num_points'], size,
                                          spec['seed'] + 1),
        visual_prompt=make_pretrain_batch(bsz, spec['num_points'], size,
                                          spec['seed'] + 2))

    def cycle() -> List[dict]:
        logs = []
        for phase in ('point_encoder', 'visual_prompt'):
            model.train_phase = phase
            logs.append(_floats(model.train_step(batches[phase], optim)))
        _sync(device)
        return logs

    memory = PeakMemory(device)
    memory.start()
    first = None  # the very first (point) step's losses
    for _ in range(spec['warmup']):
        logs = cycle()
        first = first or logs[0]
    wall, cpu = [], []
    for _ in range(spec['cycles']):
        t0, c0 = time.perf_counter(), time.process_time()
        logs = cycle()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        first = first or logs[0]
    mem = memory.stop()
    median = statistics.median(wall)
    return dict(
        mode=spec['mode'], label=spec.get('label', spec['mode']),
        precision=spec.get('precision', 'fp32'),
        batch_size=bsz, samples_per_cycle=2 * bsz,
        cycles=spec['cycles'], warmup=spec['warmup'], cycle_s=wall,
        cycle_cpu_s=cpu, median_cycle_s=median,
        samples_per_s=2 * bsz / median, memory=mem,
        first_point_step=first, weights=fingerprint,
        text_encoded=int(model.text_encoder.num_encoded),
        load_start=load_start, load_end=os.getloadavg())


def breakdown_job(spec: dict) -> dict:
    """Time each encoder's forward / backward on one batch, separately,
    and count its FLOPs (in the warm-up call).

    Components are combined into each mode's expected cycle time, to say
    where the time of a cycle goes (see :func:`cycle_model`). With
    ``spec['precision']`` ``'bf16'`` / ``'fp16'`` every call runs under
    autocast.
    """
    _set_threads(spec)
    device, bsz = spec['device'], spec['batch_size']
    model = build_model(spec['model_cfg'], 'alternate', device, spec['seed'])
    model.train()
    data = model.data_preprocessor(
        make_pretrain_batch(bsz, spec['num_points'], _image_size(model),
                            spec['seed'] + 1), True)
    points, imgs = data['inputs']['points'], data['inputs']['imgs']
    captions = [s.caption for s in data['data_samples']]
    model.encode_texts(captions)  # fill the cache

    def backward(x):
        x.sum().backward()

    def no_grad(fn):
        def run():
            with torch.no_grad():
                fn()
        return run

    components = dict(
        text_tower=lambda: encode_uncached(model.text_encoder, captions),
        text_cached=lambda: model.encode_texts(captions),
        image_fwd_nograd=no_grad(lambda: model.encode_images(imgs)),
        image_fwd_graph=lambda: model.encode_images(imgs),
        image_fwd_bwd=lambda: backward(model.encode_images(imgs)),
        point_fwd_graph=lambda: model.encode_points(points),
        point_fwd_bwd=lambda: backward(model.encode_points(points)))
    out, flops = {}, {}
    precision = spec.get('precision', 'fp32')
    for name, fn in components.items():
        with autocast_context(device, precision):
            flops[name] = count_flops(fn)  # also the warm-up
            _sync(device)
            times = []
            for _ in range(spec['repeats']):
                t0 = time.perf_counter()
                fn()
                _sync(device)
                times.append(time.perf_counter() - t0)
        model.zero_grad(set_to_none=True)
        out[name] = statistics.median(times)
    return dict(batch_size=bsz, repeats=spec['repeats'], seconds=out,
                flops=flops, precision=precision,
                cycle_model=cycle_model(out))


def cycle_model(sec: Dict[str, float]) -> Dict[str, Dict[str, float]]:
    """Each mode's cycle as a sum of encoder components (seconds).

    alternate: point step = cached text + image forward without graph +
    point forward/backward; prompt step = cached text + image
    forward/backward. reference: both steps run the text tower and both
    encoders with graphs; the point step's loss reaches the prompts through
    the (not detached) image features, so it backpropagates through the
    ViT as well; the prompt step's point forward is wasted.
    """
    alt = dict(text=2 * sec['text_cached'],
               image=sec['image_fwd_nograd'] + sec['image_fwd_bwd'],
               points=sec['point_fwd_bwd'])
    ref = dict(text=2 * sec['text_tower'], image=2 * sec['image_fwd_bwd'],
               points=sec['point_fwd_bwd'] + sec['point_fwd_graph'])
    alt['total'] = sum(alt.values())
    ref['total'] = sum(ref.values())
    return dict(alternate=alt, reference=ref,
                ratio=dict(total=ref['total'] / alt['total']))


def zeroshot_job(spec: dict) -> dict:
    """Zero-shot classification throughput: point embeddings + logits
    against the class prototypes (computed once, timed separately)."""
    _set_threads(spec)
    device, bsz = spec['device'], spec['batch_size']
    model = build_model(spec['model_cfg'], None, device, spec['seed'])
    model.eval()
    classes = list(spec.get('classes') or MODELNET40_CLASSES)
    g = torch.Generator().manual_seed(spec['seed'])
    points = (torch.rand(bsz, spec['num_points'], 3, generator=g) * 2 -
              1).to(device)
    precision = spec.get('precision', 'fp32')
    memory = PeakMemory(device)
    memory.start()
    t0 = time.perf_counter()
    model.set_class_names(classes)
    _sync(device)
    proto_s = time.perf_counter() - t0
    times = []
    with torch.no_grad(), autocast_context(device, precision):
        flops = count_flops(lambda: model.predict(dict(points=points)))
        for i in range(spec['warmup'] + spec['batches']):
            t0 = time.perf_counter()
            out = model.predict(dict(points=points))
            _sync(device)
            if i >= spec['warmup']:
                times.append(time.perf_counter() - t0)
    mem = memory.stop()
    median = statistics.median(times)
    return dict(batch_size=bsz, num_classes=len(classes), precision=precision,
                flops_per_batch=flops,
                num_templates=len(model.templates), batches=spec['batches'],
                prototypes_s=proto_s, batch_s=times, median_batch_s=median,
                samples_per_s=bsz / median, memory=mem,
                pred_labels=[int(s.pred_label) for s in out])


def encoders_job(spec: dict) -> dict:
    """PointMLP new vs legacy, side by side
    (:func:`cg3d_mm.benchmark.encoders.compare_point_encoders`)."""
    _set_threads(spec)
    from .encoders import compare_point_encoders  # it imports this module
    return compare_point_encoders(
        spec['backbone_cfg'], spec['batch_size'], spec['num_points'],
        spec['rounds'], spec['precisions'], spec['device'], spec['seed'])


JOBS: Dict[str, Callable[[dict], dict]] = dict(
    pretrain=pretrain_job, breakdown=breakdown_job, zeroshot=zeroshot_job,
    encoders=encoders_job)


def _set_threads(spec: dict) -> None:
    if spec.get('threads'):
        torch.set_num_threads(spec['threads'])


def _run_job(name: str, spec: dict, quiet: bool = False) -> dict:
    if quiet:  # a spawned job: no per-parameter optimizer INFO lines
        MMLogger.get_current_instance().setLevel(logging.WARNING)
    return JOBS[name](spec)


def run_job(name: str, spec: dict, isolate: bool = True) -> dict:
    """Run a job here, or in a fresh spawned process (own peak memory)."""
    if not isolate:
        try:
            return _run_job(name, spec)
        finally:
            trim_heap()
    ctx = multiprocessing.get_context('spawn')
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(_run_job, name, spec, True).result()
