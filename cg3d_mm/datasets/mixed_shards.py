"""Several shard sources streamed as one training set, in set ratios.

The folder layouts mix through mmengine's ``ConcatDataset`` and
:class:`~cg3d_mm.datasets.MixtureSampler`; an ``IterableDataset`` takes no
sampler, so :class:`MixedShardedTriplets` draws the mixture itself, with
the sampler's definitions:

* **epoch length** ``num_samples`` (default: the sources' total size) and
  **per-source counts** ``c_s = split_by_ratio(num_samples, ratios)``
  (largest remainders), exactly as ``MixtureSampler``;
* **which samples**: source ``s`` contributes the first ``c_s`` positions
  of its epoch stream, its shards in an order shuffled with ``(seed,
  epoch, s)``. When ``c_s`` exceeds the source's size ``n_s``, the stream
  cycles through further passes, each a new shard order: a sample repeats
  only in another pass, as the sampler cycles through fresh permutations;
  when ``c_s < n_s`` the source is subsampled, the samples dropped being
  the end of the epoch's shard order (whole shards and at most one partial
  one: a different subset every epoch);
* **ranks and workers**: the epoch's ``num_samples`` slots get a source
  each, the sources evenly interleaved (:func:`slot_prefix_counts`); each
  rank takes a contiguous run of ``num_samples // world_size`` slots (the
  remainder, the last slots, is left out, as ``ShardedTriplets`` does;
  ``MixtureSampler`` pads instead) and each DataLoader worker a contiguous
  run of its rank's slots, in whole batches (``batch_size``). A worker's
  slots of source ``s`` are a contiguous range of that source's epoch
  stream, consecutive workers taking consecutive ranges, so no sample is
  read by two workers (within a pass), every prefix of the slots holds
  each source's share within one (so a rank's or a worker's per-source
  count is within two of its share), and every rank yields the same
  number of batches;
* **order**: each worker streams each source's range through its own
  shuffle buffer (``shuffle_buffer`` samples per source) and interleaves
  the sources in a random order of its slots, seeded with ``(seed, epoch,
  rank, worker)``: the sampler shuffles the chosen indices together, this
  does so within each worker's slots;
* **resume**: everything above is a function of ``(seed, epoch, rank,
  worker)``, so the first ``consumed`` emissions of a worker (saved by
  ``StreamPositionHook``) say how many of each source were consumed; a
  resumed epoch drops exactly those, unread, as ``ShardedTriplets`` does;
* **bad samples**: as ``ShardedTriplets``, an unreadable sample is logged,
  replaced by the previous readable sample of the same source and worker
  (so per-source counts hold) and counted through its ``skipped_samples``
  metainfo.

Each emitted sample also carries ``stream_source`` (the source index).
"""
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from cg3d_mm.registry import DATASETS

from .samplers import check_ratios, split_by_ratio
from .sharded_triplets import (ShardedTriplets, StreamedEpochs, buffer_order,
                               range_plan)

# per-source settings that are the mixture's (one value for all sources)
_MIXTURE_KEYS = ('seed', 'batch_size')


def _entries_before(j: int, s: int, counts: Sequence[int]) -> int:
    """Slots before entry ``j`` of source ``s`` in the interleave: entry
    ``k`` of source ``t`` sits at ``(2k + 1) / (2 c_t)``, ties going to the
    lower source index (exact integer arithmetic)."""
    c_s = counts[s]
    before = j
    for t, c_t in enumerate(counts):
        if t == s or not c_t:
            continue
        # entries k of t with (2k + 1) c_s <= (2j + 1) c_t (< for t > s)
        bound = (2 * j + 1) * c_t - (0 if t < s else 1)
        before += min(c_t, max(0, (bound - c_s) // (2 * c_s) + 1))
    return before


def slot_prefix_counts(counts: Sequence[int], i: int) -> List[int]:
    """Per-source counts among the first ``i`` slots of an epoch whose
    ``sum(counts)`` slots interleave the sources evenly.

    Entry ``k`` of source ``s`` sits at ``(2k + 1) / (2 counts[s])`` of the
    epoch; slots take the entries in that order (ties to the lower source
    index). Computed without building the slots (an epoch may hold
    millions), by a binary search per source.

    Args:
        counts (Sequence[int]): (S, ) samples of each source in the epoch.
        i (int): Slots, 0 <= i <= sum(counts).

    Returns:
        list[int]: (S, ) counts; they sum to ``i`` and never decrease as
        ``i`` grows.
    """
    counts = [int(c) for c in counts]
    out = []
    for s, c_s in enumerate(counts):
        lo, hi = 0, c_s  # entries j < lo are before slot i; j >= hi not
        while lo < hi:
            mid = (lo + hi) // 2
            if _entries_before(mid, s, counts) < i:
                lo = mid + 1
            else:
                hi = mid
        out.append(lo)
    return out


@DATASETS.register_module()
class MixedShardedTriplets(StreamedEpochs):
    """Shard sources mixed in set ratios, each with its own pipeline.

    See the module docstring for the epoch's length, the per-source counts
    (``MixtureSampler``'s), the split over ranks and workers, the order and
    the resume. Add ``StreamPositionHook`` to ``custom_hooks`` (it seeds
    the epochs and saves the position) and set the dataloader's ``sampler``
    to None.

    Args:
        sources (Sequence[dict]): One ``ShardedTriplets`` argument dict per
            source (``shards``, ``data_root`` / ``synthetic``,
            ``index_file``, ``pipeline``, ``require_images``,
            ``point_channels``, ``metainfo``, and optionally its own
            ``shuffle_buffer`` / ``shuffle_shards``); ``seed`` and
            ``batch_size`` are the mixture's.
        ratios (Sequence[float]): One non-negative weight per source (not
            all 0), as ``MixtureSampler``'s.
        num_samples (int, optional): Samples per epoch over all ranks.
            Defaults to the sources' total size.
        shuffle_buffer (int): Shuffle buffer per source and worker (samples
            held in memory: up to this many per source). Defaults to 256.
        shuffle_shards (bool): Shuffle each source's shard order every
            epoch. Defaults to True.
        seed (int): Seed of the shard orders, the buffers and the
            interleave (with the epoch, rank and worker). Defaults to 0.
        batch_size (int, optional): The DataLoader's batch size: worker
            ranges are whole batches (see ``ShardedTriplets``).
        metainfo (dict, optional): Merged over the first source's.
        ignore_keys (Sequence[str]): Metainfo keys (e.g. ``'classes'``)
            allowed to differ between sources, as mmengine's
            ``ConcatDataset``'s; the mixture's are the first source's.
    """

    def __init__(self,
                 sources: Sequence[dict],
                 ratios: Sequence[float],
                 num_samples: Optional[int] = None,
                 shuffle_buffer: int = 256,
                 shuffle_shards: bool = True,
                 seed: int = 0,
                 batch_size: Optional[int] = None,
                 metainfo: Optional[dict] = None,
                 ignore_keys: Sequence[str] = ()) -> None:
        if not sources or not all(isinstance(s, dict) for s in sources):
            raise ValueError('MixedShardedTriplets: sources must be a '
                             'non-empty list of ShardedTriplets argument '
                             f'dicts, got {sources!r}')
        ratios = check_ratios(ratios, len(sources), 'MixedShardedTriplets')
        self.sources: List[ShardedTriplets] = []
        for k, cfg in enumerate(sources):
            cfg = dict(cfg)
            kind = cfg.pop('type', 'ShardedTriplets')
            if kind not in ('ShardedTriplets', ShardedTriplets):
                raise ValueError(f'MixedShardedTriplets: source {k} has '
                                 f'type {kind!r}; sources are '
                                 'ShardedTriplets argument dicts')
            clash = [key for key in _MIXTURE_KEYS if key in cfg]
            if clash:
                raise ValueError(f'MixedShardedTriplets: source {k} sets '
                                 f'{clash}: they are set once, on the '
                                 'mixture')
            cfg.setdefault('shuffle_buffer', shuffle_buffer)
            cfg.setdefault('shuffle_shards', shuffle_shards)
            try:
                self.sources.append(ShardedTriplets(seed=seed, **cfg))
            except (ValueError, FileNotFoundError) as err:
                # which source: the message names its files
                raise type(err)(f'MixedShardedTriplets source {k}: {err}'
                                ) from None
        self.sizes = [src.num_samples for src in self.sources]
        self.num_samples = sum(self.sizes) if num_samples is None else \
            int(num_samples)
        if self.num_samples < 1:
            raise ValueError('MixedShardedTriplets: num_samples must be >= '
                             f'1, got {num_samples!r}')
        self.ratios = ratios
        self.counts = split_by_ratio(self.num_samples, ratios)
        self.seed = seed
        self.batch_size = batch_size
        self.ignore_keys = tuple(ignore_keys)
        self._metainfo = self._merge_metainfo(metainfo)
        self._init_stream_state()

    def _merge_metainfo(self, metainfo: Optional[dict]) -> dict:
        first = self.sources[0].metainfo
        for k, src in enumerate(self.sources[1:], 1):
            for key in set(first) | set(src.metainfo):
                if key not in self.ignore_keys and \
                        first.get(key) != src.metainfo.get(key):
                    raise ValueError(
                        f'MixedShardedTriplets: source {k} ({src.shards[0]} '
                        f'...) has metainfo {key}={src.metainfo.get(key)!r}'
                        f', source 0 ({self.sources[0].shards[0]} ...) '
                        f'{first.get(key)!r}; add {key!r} to ignore_keys '
                        'to mix them')
        return dict(first, **(metainfo or {}))

    # ------------------------------------------------------------ mmengine
    @property
    def metainfo(self) -> dict:
        return dict(self._metainfo)

    def full_init(self) -> None:
        """Nothing to do: the indexes were read when it was built."""

    # -------------------------------------------------------------- layout
    def source_ranges(self, world_size: int, num_workers: int, rank: int,
                      worker: int) -> List[Tuple[int, int]]:
        """Per source, the worker's range ``[first, stop)`` of the source's
        epoch stream (positions past its size are later passes); the same
        every epoch."""
        start, stop = self.worker_slots(world_size, num_workers, rank,
                                        worker)
        a = slot_prefix_counts(self.counts, start)
        b = slot_prefix_counts(self.counts, stop)
        return list(zip(a, b))

    def source_counts(self, world_size: int, num_workers: int, rank: int,
                      worker: int) -> List[int]:
        """Per source, the samples the worker streams each epoch."""
        return [hi - lo for lo, hi in self.source_ranges(
            world_size, num_workers, rank, worker)]

    def pass_order(self, source: int, epoch: int, rep: int) -> np.ndarray:
        """Shard indices of ``source`` in the order pass ``rep`` of
        ``epoch`` reads them (all ranks)."""
        src = self.sources[source]
        order = np.arange(len(src.shards))
        if src.shuffle_shards:
            np.random.default_rng([self.seed, epoch, source,
                                   rep]).shuffle(order)
        return order

    def source_plan(self, source: int, epoch: int, first: int,
                    stop: int) -> List[Tuple[int, int, int]]:
        """Positions ``first..stop-1`` of the source's epoch stream as
        ``(shard index, first, stop)`` reads (a shard may come again in a
        later pass)."""
        size, src = self.sizes[source], self.sources[source]
        plan = []
        for rep in range(first // size, -(-stop // size)):
            base = rep * size
            plan += range_plan(self.pass_order(source, epoch, rep),
                               src.counts, max(first, base) - base,
                               min(stop, base + size) - base)
        return plan

    def worker_plan(self, epoch: int, rank: int, world_size: int,
                    num_workers: int, worker: int
                    ) -> List[List[Tuple[int, int, int]]]:
        """Per source, the worker's reads as ``(shard index, first, stop)``
        sample ordinals within each shard, in reading order."""
        return [self.source_plan(s, epoch, lo, hi) for s, (lo, hi) in
                enumerate(self.source_ranges(world_size, num_workers, rank,
                                             worker))]

    def interleave(self, epoch: int, rank: int, num_workers: int,
                   worker: int, counts: Sequence[int]) -> np.ndarray:
        """(sum(counts), ) source of each of the worker's emissions."""
        labels = np.repeat(np.arange(len(counts)), counts)
        rng = np.random.default_rng(
            [self.seed, epoch, rank * num_workers + worker, 3])
        return labels[rng.permutation(len(labels))]

    # ----------------------------------------------------------- iteration
    def __iter__(self) -> Iterator:
        epoch, rank, world, num_workers, worker, skip = \
            self._stream_position()
        ranges = self.source_ranges(world, num_workers, rank, worker)
        counts = [hi - lo for lo, hi in ranges]
        labels = self.interleave(epoch, rank, num_workers, worker, counts)
        skip = min(skip, len(labels))
        done = np.bincount(labels[:skip], minlength=len(counts))
        streams = {}
        for s, ((lo, hi), n) in enumerate(zip(ranges, counts)):
            if not n:
                continue
            src = self.sources[s]
            rng = np.random.default_rng(
                [self.seed, epoch, rank * num_workers + worker, 2, s])
            order = buffer_order(n, src.shuffle_buffer, rng)
            consumed = np.zeros(n, dtype=bool)
            consumed[order[:done[s]]] = True
            # generators: a source's shards open when it is first drawn
            streams[s] = src._stream(self.source_plan(s, epoch, lo, hi),
                                     order[done[s]:], consumed, worker)
        return self._mix(streams, labels[skip:].tolist())

    @staticmethod
    def _mix(streams: Dict[int, Iterator], labels: List[int]) -> Iterator:
        for s in labels:
            data = next(streams[s])
            if isinstance(data, dict) and hasattr(data.get('data_samples'),
                                                  'set_metainfo'):
                data['data_samples'].set_metainfo(dict(stream_source=s))
            elif isinstance(data, dict):
                data['stream_source'] = s
            yield data

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(ratios={self.ratios}, counts='
                f'{self.counts}, sizes={self.sizes}, shards='
                f'{[len(s.shards) for s in self.sources]})')
