"""Data loading: tar shards vs the folder layout, and the index memory.

1. Samples/s of the training DataLoader, per worker, reading the same
   synthetic ShapeNet55 training samples through the same pipeline
   (``configs/cg3d/_base_/datasets/synthetic_triplets_rgb.py``'s) from the
   folder layout (``ShapeNetTriplets``, random sampler), from its shards
   (``ShardedTriplets``, shuffle buffer) and from the same shards gzipped
   (``gz``: streamed through ``'r|gz'``), for each ``--workers`` count;
   each figure is the best of ``--epochs`` full epochs (worker start-up
   included, as a training epoch pays it with non-persistent workers).
2. The memory of a 1M-sample index built synthetically (names only, no
   data): the shard index ``ShardedTriplets`` keeps (per-shard counts; the
   shard files are empty placeholders), and, for comparison, a per-sample
   key list and the folder layout's ``data_list`` as ShapeNetTriplets
   builds it (dicts of paths), as Python objects and as mmengine serializes
   it (``serialize_data=True``: one pickled byte buffer), measured at
   ``--folder-samples`` (they grow linearly).

The CPU's capabilities and the load average are printed next to the
timings; timings taken while other jobs run are not comparable across
machines (say so when quoting them)::

    python tools/analysis_tools/benchmark_data_loading.py --workers 0 1 2
"""
import argparse
import gc
import json
import os
import os.path as osp
import pickle
import tempfile
import time
import tracemalloc
from typing import Callable, Dict, List

import numpy as np
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

import cg3d_mm  # noqa: F401  registers datasets, transforms, assets
from cg3d_mm.benchmark.machine import machine_facts, trim_heap
from cg3d_mm.datagen.synthetic import ensure_synthetic_data
from cg3d_mm.datagen.synthetic_shards import ensure_synthetic_shards
from cg3d_mm.datasets import ShapeNetTriplets, ShardedTriplets
from cg3d_mm.datasets.sharded_triplets import INDEX_FILE, INDEX_FORMAT

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PIPELINE_CFG = osp.join(REPO, 'configs', 'cg3d', '_base_', 'datasets',
                        'synthetic_triplets_rgb.py')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--epochs', type=int, default=2,
                        help='epochs per measurement (the best is kept)')
    parser.add_argument('--samples-per-shard', type=int, default=32)
    parser.add_argument('--shuffle-buffer', type=int, default=128)
    parser.add_argument('--index-samples', type=int, default=1_000_000)
    parser.add_argument('--index-shard-size', type=int, default=1000)
    parser.add_argument('--folder-samples', type=int, default=100_000,
                        help='size of the per-sample structures compared '
                        'with the shard index (they grow linearly)')
    parser.add_argument('--skip-loading', action='store_true')
    parser.add_argument('--skip-index', action='store_true')
    parser.add_argument('--out', help='also write the results as JSON')
    return parser.parse_args(argv)


def _epoch_rate(make_loader: Callable[[], DataLoader], epochs: int,
                before_epoch: Callable[[int], None]) -> Dict[str, float]:
    best = None
    for epoch in range(epochs):
        before_epoch(epoch)
        loader = make_loader()
        start = time.perf_counter()
        n = sum(len(b['data_samples']) for b in loader)
        seconds = time.perf_counter() - start
        if best is None or n / seconds > best['samples_per_s']:
            best = dict(samples=n, seconds=seconds,
                        samples_per_s=n / seconds)
    return best


def loading_rates(args) -> List[dict]:
    pipeline = Config.fromfile(PIPELINE_CFG).train_pipeline
    root = osp.join(str(ensure_synthetic_data(seed=0)), 'ShapeNet55')
    folder = ShapeNetTriplets(data_root=root, pc_dir='shapenet_pc_rgb',
                              pipeline=pipeline)
    shard_dir = ensure_synthetic_shards(
        dict(seed=0), split='train', pc_dir='shapenet_pc_rgb',
        samples_per_shard=args.samples_per_shard)
    gz_dir = ensure_synthetic_shards(
        dict(seed=0), split='train', pc_dir='shapenet_pc_rgb',
        samples_per_shard=args.samples_per_shard, compression='gz')
    shards, gz_shards = (
        ShardedTriplets(data_root=d, pipeline=pipeline,
                        shuffle_buffer=args.shuffle_buffer,
                        batch_size=args.batch_size)
        for d in (shard_dir, gz_dir))
    rows = []
    for workers in args.workers:
        common = dict(batch_size=args.batch_size, num_workers=workers,
                      collate_fn=pseudo_collate, drop_last=True)
        for name, make, before in (
                ('folder', lambda: DataLoader(folder, shuffle=True,
                                              **common), lambda e: None),
                ('shards', lambda: DataLoader(shards, **common),
                 shards.set_epoch),
                ('gz', lambda: DataLoader(gz_shards, **common),
                 gz_shards.set_epoch)):
            rate = _epoch_rate(make, args.epochs, before)
            rate.update(layout=name, workers=workers,
                        per_worker=rate['samples_per_s'] / max(1, workers))
            rows.append(rate)
            print(f'{name:7s} workers={workers}: '
                  f'{rate["samples_per_s"]:7.1f} samples/s, '
                  f'{rate["per_worker"]:7.1f} per worker '
                  f'({rate["samples"]} samples in {rate["seconds"]:.2f} s)',
                  flush=True)
    return rows


def _measure(build: Callable[[], object]) -> dict:
    """tracemalloc (Python allocations) and RSS growth of ``build()``."""
    trim_heap()
    rss0 = _rss_mb()
    tracemalloc.start()
    obj = build()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out = dict(traced_mb=current / 2**20, traced_peak_mb=peak / 2**20,
               rss_growth_mb=_rss_mb() - rss0)
    del obj
    gc.collect()
    return out


def _rss_mb() -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def index_memory(args) -> Dict[str, dict]:
    n, per = args.index_samples, args.index_shard_size
    m = min(n, args.folder_samples)
    num_shards = -(-n // per)
    rng = np.random.default_rng(0)
    synsets = [f'{s:08d}' for s in rng.integers(2e6, 5e6, 55)]
    classes = [f'class{i}' for i in range(55)]

    def names(count):
        ids = rng.integers(0, 2**63, count)
        return [f'{synsets[i % 55]}-{ids[i]:032x}' for i in range(count)]

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        shards = []
        for s in range(num_shards):
            name = f'shard-{s:06d}.tar'
            open(osp.join(tmp, name), 'wb').close()  # names only
            shards.append(dict(file=name, num_samples=min(per,
                                                          n - s * per)))
        with open(osp.join(tmp, INDEX_FILE), 'w') as f:
            json.dump(dict(format=INDEX_FORMAT, version=1, classes=classes,
                           num_samples=n, shards=shards), f)
        results[f'shard index, {n} samples in {num_shards} shards'] = \
            _measure(lambda: ShardedTriplets(data_root=tmp))

    def data_list():  # ShapeNetTriplets' items
        return [dict(pts_path=f'data/ShapeNet55/shapenet_pc/{k}.npy',
                     img_paths=[f'data/ShapeNet55/shapenet_render/img/'
                                f'{k[:8]}/{k[9:]}/{v:03d}.png'
                                for v in range(5)],
                     class_name=classes[i % 55], gt_label=i % 55,
                     sample_id=k) for i, k in enumerate(names(m))]

    results[f'per-sample key list, {m} samples'] = _measure(
        lambda: names(m))
    results[f'folder data_list (Python dicts), {m} samples'] = _measure(
        data_list)
    items = data_list()

    def serialized():  # mmengine BaseDataset(serialize_data=True)
        blobs = [np.frombuffer(pickle.dumps(d, protocol=4), dtype=np.uint8)
                 for d in items]
        return np.concatenate(blobs), np.cumsum([len(b) for b in blobs])

    results[f'folder data_list (mmengine serialized), {m} samples'] = \
        _measure(serialized)
    for name, r in results.items():
        print(f'{name:58s} {r["traced_mb"]:9.2f} MB traced '
              f'(peak {r["traced_peak_mb"]:.2f}), RSS +'
              f'{r["rss_growth_mb"]:.1f} MB', flush=True)
    if m < n:
        print(f'(per-sample structures measured at {m} samples: they grow '
              f'linearly, x{n / m:g} for {n})')
    return results


def main(argv=None) -> None:
    args = parse_args(argv)
    facts = machine_facts('cpu')
    load = os.getloadavg()
    print('machine: ' + ', '.join(f'{k}={facts[k]}' for k in (
        'cpu', 'cpu_flags', 'cpu_capability', 'logical_cpus', 'usable_cpus',
        'torch_threads', 'torch')))
    print(f'load average (1/5/15 min): {load[0]:.2f} {load[1]:.2f} '
          f'{load[2]:.2f}  (> 0 while nothing else runs means contention)')
    out = dict(machine=facts, load_average=load)
    if not args.skip_loading:
        out['loading'] = loading_rates(args)
    if not args.skip_index:
        print(f'index of {args.index_samples} samples (names only):')
        out['index_memory'] = index_memory(args)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(out, f, indent=1, default=str)


if __name__ == '__main__':
    main()
