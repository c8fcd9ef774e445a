"""Shard sources mixed in set ratios (cg3d_mm.datasets.MixedShardedTriplets):
MixtureSampler's counts, disjoint worker and rank ranges, seeded order,
exact resume, skips replaced within their source, the demo config."""
import json
import os
import os.path as osp
from collections import Counter

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from conftest import REPO
from data_writers import write_tiny_shapenet
from mmengine.dataset import BaseDataset, ConcatDataset
from test_sharded_triplets import assert_resume_is_exact
from torch.utils.data import DataLoader

from cg3d_mm.datagen.triplets.to_shards import (shapenet_split_to_shards,
                                                write_triplet_shards)
from cg3d_mm.datasets import MixedShardedTriplets, MixtureSampler
from cg3d_mm.datasets import sharded_triplets as st
from cg3d_mm.datasets.mixed_shards import slot_prefix_counts
from cg3d_mm.datasets.samplers import split_by_ratio

NUM_A, NUM_B = 16, 10


def _list_collate(batch):
    return batch


def write_sources(tmp_path):
    """Source A: 16 samples with two views in 6 gzipped shards of 3;
    source B: 10 view-less samples (keys ``b-...``) in plain shards of 4,
    4 and 2, without classes (as OpenShape's)."""
    root = write_tiny_shapenet(tmp_path / 'ShapeNet55', per_class=6)
    a = str(tmp_path / 'a')
    shapenet_split_to_shards(root, a, num_views=2, samples_per_shard=3,
                             compression='gz')
    with open(osp.join(root, 'train_img.txt')) as f:
        names = [line.strip()[:-4] for line in f if line.strip()][:NUM_B]
    items = [dict(pts_path=osp.join(root, 'shapenet_pc', n + '.npy'),
                  sample_id=f'b-{n}', captions=[f'shape {n}'])
             for n in names]
    b = str(tmp_path / 'b')
    write_triplet_shards(items, b, classes=[], samples_per_shard=4,
                         require_images=False)
    return a, b


@pytest.fixture
def sources(tmp_path):
    return write_sources(tmp_path)


def mixed(sources, ratios=(1, 3), **kwargs):
    a, b = sources
    kwargs.setdefault('shuffle_buffer', 3)
    return MixedShardedTriplets(
        [dict(data_root=a), dict(data_root=b, require_images=False)],
        ratios=ratios, ignore_keys=['classes'], **kwargs)


def _emitted(dataset, epoch=0, consumed=None):
    dataset.set_epoch(epoch, consumed)
    return [(s['stream_source'], s['sample_id']) for s in dataset]


class _Sized(BaseDataset):
    def __init__(self, size):
        self.size = size
        super().__init__(serialize_data=False)

    def load_data_list(self):
        return [dict(i=i) for i in range(self.size)]


def _sampler_counts(sizes, ratios, num_samples=None):
    """MixtureSampler's per-source counts for sources of these sizes."""
    sampler = MixtureSampler(ConcatDataset([_Sized(n) for n in sizes]),
                             ratios=ratios, num_samples=num_samples, seed=0)
    return sampler.counts, len(sampler)


def test_slot_prefix_counts_interleave_sources_evenly():
    for counts in [(3, 13), (5, 5), (1, 0, 7), (4, 6, 9), (10, 1), (0, 3)]:
        # brute force: entry k of source s at (2k + 1) / (2 c_s), ties to
        # the lower source
        entries = sorted(((2 * k + 1) / (2 * c), s)
                         for s, c in enumerate(counts) for k in range(c))
        labels = [s for _, s in entries]
        total = sum(counts)
        prev = [0] * len(counts)
        for i in range(total + 1):
            got = slot_prefix_counts(counts, i)
            assert got == [labels[:i].count(s) for s in range(len(counts))]
            assert sum(got) == i and all(g >= p for g, p in zip(got, prev))
            # every prefix holds each source's share, within one
            assert all(abs(g - i * c / total) < 1
                       for g, c in zip(got, counts))
            prev = got


@pytest.mark.parametrize('ratios,num_samples', [((1, 3), None),
                                                ((1, 1), 20), ((0, 1), 7),
                                                ((2, 1), None)])
def test_epoch_counts_are_the_mixture_samplers(sources, ratios,
                                               num_samples):
    ds = mixed(sources, ratios, num_samples=num_samples)
    counts, length = _sampler_counts((NUM_A, NUM_B), ratios, num_samples)
    assert ds.counts == counts and len(ds) == length
    out = _emitted(ds)
    per_source = Counter(s for s, _ in out)
    assert [per_source[s] for s in range(2)] == counts
    for s, (size, count) in enumerate(zip((NUM_A, NUM_B), counts)):
        seen = Counter(k for src, k in out if src == s)
        if count <= size:  # subsampled: no sample twice
            assert max(seen.values(), default=1) == 1
        else:  # oversampled: every sample once before any twice
            assert len(seen) == size
            assert set(seen.values()) <= {count // size,
                                          -(-count // size)}
    assert all(k.startswith('b-') == (s == 1) for s, k in out)


def test_seeded_per_epoch(sources):
    epoch0 = _emitted(mixed(sources))
    assert _emitted(mixed(sources)) == epoch0
    epoch1 = _emitted(mixed(sources), epoch=1)
    assert epoch1 != epoch0
    assert Counter(s for s, _ in epoch1) == Counter(s for s, _ in epoch0)
    assert _emitted(mixed(sources, seed=1)) != epoch0
    # the subsampled source draws another subset another epoch
    a0 = {k for s, k in epoch0 if s == 0}
    assert any({k for s, k in _emitted(mixed(sources), epoch=e)
                if s == 0} != a0 for e in (1, 2, 3))


@pytest.mark.parametrize('ratios,num_samples', [((1, 1), 20),
                                                ((1, 3), None)])
def test_workers_read_disjoint_samples_with_their_counts(
        sources, ratios, num_samples):
    ds = mixed(sources, ratios, num_samples=num_samples, batch_size=2)
    loader = DataLoader(ds, batch_size=2, num_workers=3,
                        collate_fn=_list_collate)
    ds.set_epoch(2)
    batches = list(loader)
    assert len(batches) == len(loader) == len(ds) // 2
    by_worker = {}
    for batch in batches:
        workers = {s['stream_worker'] for s in batch}
        assert len(workers) == 1  # a batch is one worker's
        by_worker.setdefault(workers.pop(), []).extend(
            (s['stream_source'], s['sample_id']) for s in batch)
    assert sorted(by_worker) == [0, 1, 2]
    for w, got in by_worker.items():
        counts = Counter(s for s, _ in got)
        assert [counts[s] for s in range(2)] == \
            ds.source_counts(1, 3, 0, w), w
        # each source's count near its share of the worker's samples
        share = len(got) * np.asarray(ds.counts) / sum(ds.counts)
        assert np.all(np.abs([counts[0], counts[1]] - share) < 2)
    for s, size in enumerate((NUM_A, NUM_B)):
        keys = [Counter(k for src, k in got if src == s)
                for got in by_worker.values()]
        if ds.counts[s] <= size:  # disjoint between workers
            union = Counter()
            for k in keys:
                union.update(k)
            assert max(union.values()) == 1
            assert sum(union.values()) == ds.counts[s]


def test_resume_drops_exactly_what_was_consumed(sources):
    def loader():
        ds = mixed(sources, shuffle_buffer=4, batch_size=2)
        return ds, DataLoader(ds, batch_size=2, num_workers=2,
                              collate_fn=_list_collate)

    assert_resume_is_exact(loader, kill_after=5, consumed=[6, 4])


def test_skips_are_replaced_within_their_source(sources, monkeypatch):
    a, b = sources
    path = osp.join(b, 'shard-000001.tar')
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    logged = []
    monkeypatch.setattr(st, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    ds = mixed(sources, ratios=(1, 1), num_samples=20)
    ds.set_epoch(0)
    out = list(ds)
    assert Counter(s['stream_source'] for s in out) == {0: 10, 1: 10}
    skipped = [(s['stream_source'], k) for s in out
               for k in s.get('skipped_samples', ())]
    assert skipped and len(logged) == len(skipped)
    # named, counted on a replacement from the same source
    assert all(src == 1 and k['path'] == path and 'truncated' in k['error']
               for src, k in skipped)


def test_bad_arguments_are_named(sources):
    a, b = sources
    with pytest.raises(ValueError, match='3 ratios for 2 sources'):
        mixed(sources, ratios=(1, 1, 1))
    with pytest.raises(ValueError, match='not all 0'):
        mixed(sources, ratios=(0, 0))
    with pytest.raises(ValueError, match=r"source 1 sets \['seed'\]"):
        MixedShardedTriplets([dict(data_root=a), dict(data_root=b, seed=3)],
                             ratios=(1, 1), ignore_keys=['classes'])
    with pytest.raises(ValueError, match="classes.*ignore_keys"):
        MixedShardedTriplets([dict(data_root=a), dict(data_root=b)],
                             ratios=(1, 1))
    with pytest.raises(FileNotFoundError,
                       match='source 1: ShardedTriplets: no shard matches'):
        MixedShardedTriplets([dict(data_root=a),
                              dict(data_root=osp.dirname(a))], ratios=(1, 1))


# ------------------------------------------------------------ two ranks
EPOCHS = 2


def _rank(rank, world, init_file, a, b, out_dir):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    from cg3d_mm.datasets import MixedShardedTriplets
    ds = MixedShardedTriplets(
        [dict(data_root=a), dict(data_root=b, require_images=False)],
        ratios=(1, 1), shuffle_buffer=3, batch_size=2,
        ignore_keys=['classes'])
    loader = DataLoader(ds, batch_size=2, num_workers=2,
                        persistent_workers=True, collate_fn=_list_collate)
    seen = []
    for epoch in range(EPOCHS):
        ds.set_epoch(epoch)
        batches = [[(s['sample_id'], s['stream_worker'], s['stream_source'])
                    for s in b] for b in loader]
        seen.append(dict(len=len(loader), batches=batches,
                         expected=[ds.source_counts(world, 2, rank, w)
                                   for w in range(2)]))
    with open(os.path.join(out_dir, f'rank{rank}.json'), 'w') as f:
        json.dump(seen, f)
    dist.destroy_process_group()


@pytest.mark.slow  # two spawned interpreters import torch and cg3d_mm
@pytest.mark.timeout(300)
def test_two_ranks_two_workers_read_disjoint_mixtures(tmp_path):
    a, b = write_sources(tmp_path)
    mp.spawn(_rank, args=(2, str(tmp_path / 'init'), a, b, str(tmp_path)),
             nprocs=2, join=True)
    ranks = [json.loads((tmp_path / f'rank{r}.json').read_text())
             for r in range(2)]
    # 26 slots, 13 per source: A subsampled (13 of 16), B cycled (10 + 3)
    orders = []
    for epoch in range(EPOCHS):
        by_stream = {}
        for r, run in enumerate(ranks):
            run = run[epoch]
            # 13 samples per rank: 6 full batches (and one of 1) each
            assert len(run['batches']) == run['len'] == 7
            for batch in run['batches']:
                for key, worker, source in batch:
                    by_stream.setdefault((r, worker), []).append(
                        (source, key))
            for w in range(2):
                counts = Counter(s for s, _ in by_stream[(r, w)])
                assert [counts[0], counts[1]] == run['expected'][w]
        assert len(by_stream) == 4
        a_keys = Counter(k for got in by_stream.values() for s, k in got
                         if s == 0)
        b_keys = Counter(k for got in by_stream.values() for s, k in got
                         if s == 1)
        # the subsampled source: disjoint over ranks x workers
        assert sum(a_keys.values()) == 13 and max(a_keys.values()) == 1
        # the cycled one: each sample once, 3 of them a second time
        assert len(b_keys) == NUM_B and sum(b_keys.values()) == 13
        assert sorted(b_keys.values()) == [1] * 7 + [2] * 3
        orders.append([k for got in by_stream.values() for k in got])
    assert orders[0] != orders[1]  # reshuffled per epoch


# ------------------------------------------------------------ the config
def _layout_shards(tmp_path):
    """The tiny world's two halves in the ULIP-2 and OpenShape layouts,
    written as shards by the synthetic_shards asset's code path."""
    from test_ulip_triplets import _cg3d_source

    from cg3d_mm.datagen.triplets.convert_layouts import convert_triplets
    from cg3d_mm.utils import assets
    src = _cg3d_source(tmp_path)
    halves = dict(
        ulip2_objaverse=convert_triplets(src, str(tmp_path / 'ulip2'),
                                         'ulip2_objaverse', part='train_a'),
        openshape=convert_triplets(src, str(tmp_path / 'openshape'),
                                   'openshape', part='train_b'))
    return src, halves, assets


def test_mixture_shards_config_draws_a_batch(tmp_path, monkeypatch):
    """The demo config's dataloader over shards written (by the
    synthetic_shards asset) from the two layouts of a tiny world: one
    batch, the view-less source's samples without images."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from cg3d_mm.datagen.synthetic_shards import ensure_synthetic_shards
    src, halves, assets = _layout_shards(tmp_path)
    # the layouts of the tiny world instead of the synthetic one's
    monkeypatch.setitem(assets._RESOLVERS, 'synthetic_layout',
                        lambda layout, **kw: halves[layout])
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/cg3d/pointmlp_synthetic-mixture-shards_rgb.py'))
    ref = Config.fromfile(osp.join(
        REPO, 'configs/cg3d/pointmlp_synthetic-mixture_rgb.py'))
    for key in set(cfg) | set(ref):
        if key not in ('train_dataloader', 'custom_hooks', 'batch_size',
                       'shard_settings', 'openshape_shard_pipeline'):
            assert cfg.get(key) == ref.get(key), key
    assert cfg.custom_hooks[:-1] == ref.custom_hooks
    assert cfg.custom_hooks[-1]['type'] == 'StreamPositionHook'
    loader_cfg = cfg.train_dataloader
    assert loader_cfg.sampler is None
    assert loader_cfg.dataset.ratios == ref.train_dataloader.sampler.ratios
    ulip2, openshape = loader_cfg.dataset.sources
    assert ulip2.pipeline == ref.train_dataloader.dataset.datasets[0].pipeline
    assert openshape.pipeline == \
        ref.train_dataloader.dataset.datasets[1].pipeline[1:]
    # the shards as the asset writes them on first use (into the test's
    # cache), then reused
    folders = [ensure_synthetic_shards(**s.synthetic) for s in
               (ulip2, openshape)]
    assert folders == [ensure_synthetic_shards(**s.synthetic) for s in
                       (ulip2, openshape)]
    for part, folder in zip((ulip2, openshape), folders):
        part.update(data_root=folder, synthetic=None)
        for step in part.pipeline:  # 128 points (the tiny clouds have 256)
            step.update({k: 128 for k in ('num_points', 'min_points')
                         if k in step})
    openshape.pipeline[-1]['blank_img_size'] = 32  # the tiny renders
    loader_cfg.update(batch_size=4, num_workers=0, persistent_workers=False)
    loader_cfg.dataset.batch_size = 4
    with DefaultScope.overwrite_default_scope('cg3d_mm'):
        loader = Runner.build_dataloader(loader_cfg, seed=0)
    ds = loader.dataset
    assert isinstance(ds, MixedShardedTriplets)
    # 16 samples an epoch in the config's ratios (2:1: 11 with views)
    assert ds.sizes == [8, 8] and len(loader) == 4
    assert ds.counts == split_by_ratio(16, ref.train_dataloader.sampler.ratios)
    assert ds.counts == [11, 5]
    ds.set_epoch(0)
    batch = next(iter(loader))
    samples = batch['data_samples']
    assert len(samples) == 4
    assert batch['inputs']['points'][0].shape == (128, 6)
    for sample, img in zip(samples, batch['inputs']['imgs']):
        # ULIP-2's samples carry a view, OpenShape's a blank one
        assert sample.has_img == (sample.stream_source == 0)
        assert sample.caption
        if not sample.has_img:
            assert not img.any()
