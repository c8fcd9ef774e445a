"""Throughput and memory of CG3D pretraining, zero-shot and point ops.

One run, one machine, one report (``tools/benchmark.py``):

1. Pretraining: whole 2-step cycles (one ``point_encoder`` step + one
   ``visual_prompt`` step) of the plugin's default schedule
   (``train_cfg.mode='alternate'``: cached text, image targets without a
   graph, no point encoder on prompt steps) and of ``mode='reference'``
   (the original per-iteration work: text tower every step, all three
   encoders with autograd through their weights, frozen CLIP included),
   on the same batches with the same weights. The first point step's
   losses of both modes are compared. ``reference_frozen`` is the same
   work with the frozen CLIP weights kept out of autograd, reported too:
   it is the stricter baseline if the original set ``requires_grad=False``.
2. Zero-shot evaluation: ``encode_points`` + class prototypes, shapes/s.
3. Point ops: :func:`cg3d_mm.benchmark.naive_ops.benchmark_point_ops`.

Each model measurement (a "job") runs by default in a fresh, spawned
process, so that its peak memory is its own: on CPU the peak resident set
size (``VmHWM``, reset through ``/proc/self/clear_refs`` when the kernel
allows, else ``getrusage`` ``ru_maxrss``), on GPU
``torch.cuda.max_memory_allocated``. Every job seeds the RNG before building
its model, so all jobs hold the same weights (checked by a fingerprint).
"""
import copy
import ctypes
import gc
import hashlib
import logging
import multiprocessing
import os
import platform
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

from cg3d_mm.datagen.synthetic.categories import MODELNET40_CLASSES

MODES = ('alternate', 'reference')
# Timed as well: the reference without autograd through frozen weights.
TIMED_MODES = MODES + ('reference_frozen', )
# The first point step's losses of both modes must agree to this.
LOSS_ATOL = 1e-4
# Real-size point-op configs (B, N, M, k) and small ones for --small.
POINT_OP_CONFIGS = ((16, 1024, 512, 32), (8, 8192, 1024, 32))
SMALL_POINT_OP_CONFIGS = ((2, 1024, 256, 16), (1, 8192, 512, 16))
CAPTION_CLASSES = ('chair', 'table', 'airplane', 'lamp', 'sofa', 'car',
                   'guitar', 'bench')


def small_model_cfg() -> dict:
    """A tiny CG3D (tiny PointMLP + ``cg3d-tiny-vit``) for quick checks."""
    clip = dict(model_name='cg3d-tiny-vit')
    return dict(
        type='CG3D',
        backbone=dict(type='PointMLP', embed_channels=8,
                      num_anchors=(64, 32, 16, 8), num_neighbors=8,
                      pre_blocks=(1, 1, 1, 1), pos_blocks=(1, 1, 1, 1)),
        img_backbone=dict(type='PromptedCLIPViT', clip=clip),
        text_encoder=dict(type='CLIPTextEncoder', clip=clip),
        head=dict(type='CG3DHead', in_channels=128, embed_dim=256))


def random_clip_weights(model_cfg: dict) -> dict:
    """``model_cfg`` with every CLIP config stripped of its weights source.

    The architectures stay (e.g. ViT-B-16), the weights are random: nothing
    is downloaded and the timings are those of the real sizes.
    """
    cfg = copy.deepcopy(model_cfg)
    for key in ('img_backbone', 'text_encoder'):
        clip = cfg.get(key, {}).get('clip')
        if isinstance(clip, dict):
            for source in ('pretrained', 'checkpoint'):
                clip.pop(source, None)
    return cfg


# ----------------------------------------------------------------------
# data
def make_pretrain_batch(batch_size: int, num_points: int, image_size: int,
                        seed: int) -> dict:
    """A raw (un-preprocessed) triplet batch: points, uint8 views,
    captions, as the dataloader hands it to ``train_step``."""
    from cg3d_mm.structures import PointDataSample
    g = torch.Generator().manual_seed(seed)
    samples = []
    for i in range(batch_size):
        name = CAPTION_CLASSES[(seed + i) % len(CAPTION_CLASSES)]
        samples.append(PointDataSample(
            metainfo=dict(caption=f'a photo of a {name}.')).set_gt_label(
                (seed + i) % len(CAPTION_CLASSES)))
    return dict(
        inputs=dict(
            points=[torch.rand(num_points, 3, generator=g) * 2 - 1
                    for _ in range(batch_size)],
            imgs=[torch.randint(0, 256, (3, image_size, image_size),
                                generator=g, dtype=torch.uint8)
                  for _ in range(batch_size)]),
        data_samples=samples)


# ----------------------------------------------------------------------
# memory
def _proc_status_kb(field: str) -> Optional[int]:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _trim_heap() -> None:
    """Return freed heap pages to the OS (glibc), so RSS is a fair base."""
    gc.collect()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakMemory:
    """Peak memory of a code region above the memory at its start.

    CPU: resident set size. The kernel's high-water mark is reset at
    :meth:`start` (``echo 5 > /proc/self/clear_refs``); where that is not
    possible, ``ru_maxrss`` (the peak over the whole process) is used and
    the method says so. GPU: ``torch.cuda`` allocator statistics.

    Args:
        device (str): ``'cpu'`` or a CUDA device.
    """

    def __init__(self, device: str) -> None:
        self.cuda = str(device).startswith('cuda')
        self.method = ''
        self.base_mb = 0.

    def start(self) -> None:
        _trim_heap()
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base_mb = torch.cuda.memory_allocated() / 2**20
            self.method = 'torch.cuda.max_memory_allocated'
            return
        try:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')
            self.method = 'VmHWM (reset at start)'
        except OSError:
            self.method = 'ru_maxrss (process lifetime)'
        rss = _proc_status_kb('VmRSS')
        self.base_mb = (rss if rss is not None else resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss) / 1024

    def stop(self) -> Dict[str, float]:
        """Returns base, peak and peak - base (MB) and the method."""
        if self.cuda:
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() / 2**20
        else:
            hwm = _proc_status_kb('VmHWM') if self.method.startswith(
                'VmHWM') else None
            peak = (hwm if hwm is not None else resource.getrusage(
                resource.RUSAGE_SELF).ru_maxrss) / 1024
        return dict(base_mb=self.base_mb, peak_mb=peak,
                    delta_mb=peak - self.base_mb, method=self.method)


# ----------------------------------------------------------------------
# model
def _sync(device: str) -> None:
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


def build_model(model_cfg: dict, mode: Optional[str], device: str,
                seed: int) -> torch.nn.Module:
    """Build CG3D with a fixed seed (same weights in every job)."""
    from cg3d_mm.models.clip import clear_clip_cache
    from cg3d_mm.registry import MODELS
    cfg = copy.deepcopy(model_cfg)
    if mode == 'reference_frozen':
        cfg['train_cfg'] = dict(cfg.get('train_cfg') or {}, mode='reference',
                                frozen_clip_grads=False)
    elif mode is not None:
        cfg['train_cfg'] = dict(cfg.get('train_cfg') or {}, mode=mode)
    clear_clip_cache()  # a shared cached CLIP would skip RNG draws
    torch.manual_seed(seed)
    return MODELS.build(cfg).to(device)


def build_optim(model: torch.nn.Module, optim_cfg: dict):
    """The ``OptimWrapperDict`` of ``CG3DOptimWrapperConstructor``."""
    from cg3d_mm.registry import OPTIM_WRAPPER_CONSTRUCTORS
    cfg = copy.deepcopy(optim_cfg)
    cfg.pop('constructor', None)
    ctor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type='CG3DOptimWrapperConstructor', optim_wrapper_cfg=cfg))
    return ctor(model)


def weights_fingerprint(model: torch.nn.Module) -> str:
    """sha256 (first 16 hex) of every parameter and buffer."""
    h = hashlib.sha256()
    tensors = dict(model.named_parameters())
    tensors.update(model.named_buffers())
    for name in sorted(tensors):
        t = tensors[name].detach().to('cpu', copy=True).contiguous()
        h.update(name.encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def _image_size(model) -> int:
    return int(model.img_backbone.image_size[0])


def _floats(log_vars: dict) -> Dict[str, float]:
    return {k: float(v.detach().float()) for k, v in log_vars.items()}


# ----------------------------------------------------------------------
# jobs (each runs in its own process by default)
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
        mode=spec['mode'], batch_size=bsz, samples_per_cycle=2 * bsz,
        cycles=spec['cycles'], warmup=spec['warmup'], cycle_s=wall,
        cycle_cpu_s=cpu, median_cycle_s=median,
        samples_per_s=2 * bsz / median, memory=mem,
        first_point_step=first, weights=fingerprint,
        text_encoded=int(model.text_encoder.num_encoded),
        load_start=load_start, load_end=os.getloadavg())


def breakdown_job(spec: dict) -> dict:
    """Time each encoder's forward / backward on one batch, separately.

    Components are combined into each mode's expected cycle time, to say
    where the time of a cycle goes (see :func:`cycle_model`).
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
        text_tower=lambda: model.text_encoder.encode_uncached(captions),
        text_cached=lambda: model.encode_texts(captions),
        image_fwd_nograd=no_grad(lambda: model.encode_images(imgs)),
        image_fwd_graph=lambda: model.encode_images(imgs),
        image_fwd_bwd=lambda: backward(model.encode_images(imgs)),
        point_fwd_graph=lambda: model.encode_points(points),
        point_fwd_bwd=lambda: backward(model.encode_points(points)))
    out = {}
    for name, fn in components.items():
        fn()  # warm-up
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
    memory = PeakMemory(device)
    memory.start()
    t0 = time.perf_counter()
    model.set_class_names(classes)
    _sync(device)
    proto_s = time.perf_counter() - t0
    times = []
    with torch.no_grad():
        for i in range(spec['warmup'] + spec['batches']):
            t0 = time.perf_counter()
            out = model.predict(dict(points=points))
            _sync(device)
            if i >= spec['warmup']:
                times.append(time.perf_counter() - t0)
    mem = memory.stop()
    median = statistics.median(times)
    return dict(batch_size=bsz, num_classes=len(classes),
                num_templates=len(model.templates), batches=spec['batches'],
                prototypes_s=proto_s, batch_s=times, median_batch_s=median,
                samples_per_s=bsz / median, memory=mem,
                pred_labels=[int(s.pred_label) for s in out])


JOBS: Dict[str, Callable[[dict], dict]] = dict(
    pretrain=pretrain_job, breakdown=breakdown_job, zeroshot=zeroshot_job)


def _set_threads(spec: dict) -> None:
    if spec.get('threads'):
        torch.set_num_threads(spec['threads'])


def _run_job(name: str, spec: dict, quiet: bool = False) -> dict:
    if quiet:  # a spawned job: no per-parameter optimizer INFO lines
        from mmengine.logging import MMLogger
        MMLogger.get_current_instance().setLevel(logging.WARNING)
    return JOBS[name](spec)


def run_job(name: str, spec: dict, isolate: bool = True) -> dict:
    """Run a job here, or in a fresh spawned process (own peak memory)."""
    if not isolate:
        try:
            return _run_job(name, spec)
        finally:
            _trim_heap()
    ctx = multiprocessing.get_context('spawn')
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(_run_job, name, spec, True).result()


# ----------------------------------------------------------------------
# machine
def machine_facts(device: str) -> dict:
    """CPU model and flags, threads, library versions, GPU name."""
    import mmengine
    import open_clip
    cpu, flags = platform.processor() or '?', set()
    try:
        with open('/proc/cpuinfo') as f:
            info = f.read().splitlines()
    except OSError:
        info = []
    for key in ('model name', 'flags'):
        line = next((x for x in info if x.startswith(key)), None)
        if line and key == 'model name':
            cpu = line.split(':', 1)[1].strip()
        elif line:
            flags = set(line.split(':', 1)[1].split())
    facts = dict(
        cpu=cpu,
        cpu_flags=sorted(flags & {'avx2', 'avx512f', 'avx512_bf16',
                                  'amx_bf16', 'amx_tile', 'fma'}),
        logical_cpus=os.cpu_count(),
        usable_cpus=(len(os.sched_getaffinity(0)) if hasattr(
            os, 'sched_getaffinity') else os.cpu_count()),
        torch_threads=torch.get_num_threads(),
        torch=torch.__version__, mmengine=mmengine.__version__,
        open_clip=open_clip.__version__, python=platform.python_version(),
        device=str(device))
    if str(device).startswith('cuda'):
        facts['gpu'] = torch.cuda.get_device_name(torch.device(device))
    return facts


def resolve_device(device: str = 'auto') -> str:
    if device == 'auto':
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise RuntimeError('--device cuda: no CUDA device available')
    return device


# ----------------------------------------------------------------------
# the whole benchmark
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
        model_cfg (dict): CG3D model config (``train_cfg.mode`` is set per
            job). Use :func:`random_clip_weights` to avoid downloads.
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
    device = resolve_device(device)
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
        from cg3d_mm.benchmark.naive_ops import benchmark_point_ops
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


# ----------------------------------------------------------------------
# report
def _mem(mem: dict) -> str:
    return f"+{mem['delta_mb']:.0f} MB (peak {mem['peak_mb']:.0f} MB)"


def table_rows(report: dict) -> List[dict]:
    """The summary table: item, mode, batch, samples/s, memory, ratio."""
    rows = []
    pre = report['pretrain']
    labels = ('(a) plugin: alternate, cached text',
              '(b) reference: original work',
              "(b') reference, frozen CLIP out of autograd")
    ratios = (pre['ratio'], 1.0, pre['ratio'] / pre['ratio_frozen'])
    for mode, label, ratio in zip(TIMED_MODES, labels, ratios):
        r = pre[mode]
        rows.append(dict(
            item='pretrain cycle (point + prompt step)', mode=label,
            batch=r['batch_size'], samples_per_s=r['samples_per_s'],
            memory=_mem(r['memory']), ratio=ratio,
            note=f"median cycle {r['median_cycle_s']:.2f} s, CPU "
                 f"{statistics.median(r['cycle_cpu_s']):.2f} s"))
    z = report['zeroshot']
    rows.append(dict(
        item='zero-shot eval (encode_points + prototypes)',
        mode=f"{z['num_classes']} classes x {z['num_templates']} template(s)",
        batch=z['batch_size'], samples_per_s=z['samples_per_s'],
        memory=_mem(z['memory']), ratio=None,
        note=f"prototypes once: {z['prototypes_s']:.2f} s"))
    naive = {(r['op'], r['batch'], r['num_points'], r['num_samples'],
              r['k']): r['ms'] for r in report['point_ops']
             if r['impl'] == 'naive'}
    for r in report['point_ops']:
        key = (r['op'], r['batch'], r['num_points'], r['num_samples'],
               r['k'])
        rows.append(dict(
            item=f"{r['op']} N={r['num_points']} M={r['num_samples']} "
                 f"k={r['k']}",
            mode=r['impl'], batch=r['batch'],
            samples_per_s=r['batch'] / (r['ms'] / 1000), memory='-',
            ratio=naive[key] / r['ms'] if key in naive else None,
            note=f"{r['ms']:.1f} ms"
                 + ('' if r['same_as_reference'] else ', DIFFERS from ref')))
    return rows


def format_markdown(report: dict) -> str:
    """The report as markdown: machine, summary table, loss check,
    breakdown and the point-op table."""
    from cg3d_mm.benchmark.naive_ops import rows_to_markdown
    m, s = report['machine'], report['settings']
    load = ' / '.join(f'{x:.2f}' for x in report['load_start'])
    load_end = ' / '.join(f'{x:.2f}' for x in report['load_end'])
    lines = [
        '# CG3D benchmark', '',
        f"- machine: {m['cpu']} ({', '.join(m['cpu_flags']) or '-'}), "
        f"{m['usable_cpus']} usable CPUs, {s['threads']} torch threads"
        + (f", GPU {m['gpu']}" if 'gpu' in m else ''),
        f"- software: torch {m['torch']}, mmengine {m['mmengine']}, "
        f"open_clip {m['open_clip']}, python {m['python']}",
        f"- device {s['device']}; model {s['model']['backbone']} + "
        f"{s['model']['clip']} ({s['model']['clip_weights']} weights), "
        f"{s['num_points']} points",
        f'- load average (1/5/15 min): start {load}, end {load_end}',
        f"- pretraining: {s['rounds']} x ({s['warmup']} warm-up + "
        f"{s['cycles']} timed cycles) per mode; samples/s = 2 x batch / "
        'median cycle time; memory = peak above the built model '
        f"({report['pretrain']['alternate']['memory']['method']})"
        + ('' if s['isolate'] else ', jobs NOT isolated (memory of one job '
           'can hide in the next one\'s base)'),
        '', '| item | mode | batch | samples/s | peak memory | ratio | '
        'notes |', '|---|---|---|---|---|---|---|'
    ]
    for r in report['rows']:
        ratio = '-' if r['ratio'] is None else f"{r['ratio']:.2f}"
        lines.append(f"| {r['item']} | {r['mode']} | {r['batch']} | "
                     f"{r['samples_per_s']:.2f} | {r['memory']} | {ratio} | "
                     f"{r['note']} |")
    pre = report['pretrain']
    lc = pre['loss_check']
    lines += [
        '', 'ratio: pretraining throughput relative to (b) (CPU-time ratio '
        f"(a)/(b) {pre['cpu_ratio']:.2f}; (a)/(b') "
        f"{pre['ratio_frozen']:.2f}); point ops: naive ms / impl ms.", '',
        '## First point step, both modes (same weights, same batch)', '',
        '| loss | alternate | reference | abs diff |', '|---|---|---|---|'
    ]
    for k in lc['keys']:
        a, b = lc['alternate'][k], lc['reference'][k]
        lines.append(f'| {k} | {a:.6f} | {b:.6f} | {abs(a - b):.2e} |')
    verdict = 'EQUAL' if lc['equal'] else 'NOT EQUAL'
    lines += ['', f"{verdict} to {lc['atol']:g} (max abs diff "
              f"{lc['max_abs_diff']:.2e}; same weights: "
              f"{lc['same_weights']})"]
    if report.get('breakdown'):
        bd = report['breakdown']
        lines += ['', '## Where a cycle goes (encoders timed one by one, '
                  f"batch {bd['batch_size']})", '',
                  '| component | s |', '|---|---|']
        lines += [f'| {k} | {v:.3f} |' for k, v in bd['seconds'].items()]
        cm = bd['cycle_model']
        lines += ['', '| mode | text s | image s | points s | sum s | '
                  'measured s |', '|---|---|---|---|---|---|']
        for mode in MODES:
            c = cm[mode]
            lines.append(f"| {mode} | {c['text']:.2f} | {c['image']:.2f} | "
                         f"{c['points']:.2f} | {c['total']:.2f} | "
                         f"{pre[mode]['median_cycle_s']:.2f} |")
        lines += ['', f"component-sum ratio: {cm['ratio']['total']:.2f}"]
    if report['point_ops']:
        lines += ['', '## Point ops', '', rows_to_markdown(
            report['point_ops'])]
    return '\n'.join(lines) + '\n'


def write_report(report: dict, out_dir: str) -> Tuple[str, str]:
    """Write ``benchmark.json`` and ``benchmark.md`` into ``out_dir``."""
    import json
    os.makedirs(out_dir, exist_ok=True)
    json_path = os.path.join(out_dir, 'benchmark.json')
    md_path = os.path.join(out_dir, 'benchmark.md')
    with open(json_path, 'w') as f:
        json.dump(report, f, indent=1)
    with open(md_path, 'w') as f:
        f.write(format_markdown(report))
    return json_path, md_path
