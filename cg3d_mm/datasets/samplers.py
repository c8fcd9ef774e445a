"""Sampling a mixture of sources (an mmengine ``ConcatDataset``) by ratio."""
import math
from typing import Iterator, List, Optional, Sequence

import torch
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from cg3d_mm.registry import DATA_SAMPLERS


def split_by_ratio(total: int, ratios: Sequence[float]) -> List[int]:
    """``total`` split into integer counts proportional to ``ratios``
    (largest remainders; the counts sum to ``total``)."""
    weight = float(sum(ratios))
    exact = [total * r / weight for r in ratios]
    counts = [int(math.floor(x)) for x in exact]
    by_remainder = sorted(range(len(ratios)),
                          key=lambda i: (exact[i] - counts[i], -i),
                          reverse=True)
    for i in by_remainder[:total - sum(counts)]:
        counts[i] += 1
    return counts


def check_ratios(ratios: Sequence[float], num_sources: int,
                 owner: str) -> List[float]:
    """Per-source mixing ratios as floats: one per source, finite,
    >= 0 and not all 0 (else a ValueError naming ``owner``)."""
    ratios = [float(r) for r in ratios]
    if len(ratios) != num_sources:
        raise ValueError(f'{owner}: {len(ratios)} ratios for {num_sources} '
                         'sources')
    if any(r < 0 or not math.isfinite(r) for r in ratios) or \
            not sum(ratios) > 0:
        raise ValueError(f'{owner}: ratios must be finite, >= 0 and not all '
                         f'0, got {ratios}')
    return ratios


@DATA_SAMPLERS.register_module()
class MixtureSampler(Sampler):
    """Draw an epoch from the sources of a ``ConcatDataset`` in set ratios.

    Each epoch holds ``num_samples`` indices (default: the mixture's total
    size), of which a share ``ratios[s] / sum(ratios)`` comes from source
    ``s``: its samples in a fresh random order, without repetition while
    the share fits in the source, cycling through new random orders when
    it is larger (a small source is repeated, a large one subsampled).
    The chosen indices are shuffled together. Order and choice depend only
    on ``seed`` and the epoch (:meth:`set_epoch`, called by mmengine's
    loop), so every rank draws the same epoch and takes every
    ``world_size``-th index from its rank on, like mmengine's
    ``DefaultSampler``; with ``round_up`` the epoch is padded (from its
    start) to a multiple of the world size.

    Args:
        dataset (ConcatDataset): The mixture (``datasets`` and
            ``cumulative_sizes`` attributes, as mmengine's and torch's).
        ratios (Sequence[float]): One non-negative weight per source.
        num_samples (int, optional): Samples per epoch over all ranks.
            Defaults to ``len(dataset)``.
        seed (int, optional): Shared seed; None syncs a random one across
            ranks.
        round_up (bool): Pad to a multiple of the world size. Defaults to
            True.
    """

    def __init__(self,
                 dataset,
                 ratios: Sequence[float],
                 num_samples: Optional[int] = None,
                 seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        sources = getattr(dataset, 'datasets', None)
        if sources is None or not hasattr(dataset, 'cumulative_sizes'):
            raise TypeError('MixtureSampler samples a ConcatDataset of '
                            f'sources, got {type(dataset).__name__}')
        sizes = [len(d) for d in sources]
        ratios = check_ratios(ratios, len(sizes), 'MixtureSampler')
        empty = [i for i, (r, n) in enumerate(zip(ratios, sizes))
                 if r > 0 and n == 0]
        if empty:
            raise ValueError(f'MixtureSampler: source(s) {empty} have a '
                             'ratio > 0 but no sample')
        total = len(dataset) if num_samples is None else int(num_samples)
        if total < 1:
            raise ValueError(f'MixtureSampler: num_samples must be >= 1, got '
                             f'{num_samples!r}')
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.sizes = sizes
        self.offsets = [0] + list(dataset.cumulative_sizes[:-1])
        self.ratios = ratios
        self.counts = split_by_ratio(total, ratios)
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.epoch = 0
        self.round_up = round_up
        if round_up:
            self.num_samples = math.ceil(total / self.world_size)
            self.total_size = self.num_samples * self.world_size
        else:
            self.num_samples = math.ceil(
                (total - self.rank) / self.world_size)
            self.total_size = total

    def epoch_indices(self) -> List[int]:
        """This epoch's indices over all ranks (before padding)."""
        g = torch.Generator()
        g.manual_seed(self.seed + self.epoch)
        chosen = []
        for size, offset, count in zip(self.sizes, self.offsets,
                                       self.counts):
            if count == 0:
                continue
            rounds = math.ceil(count / size)
            order = torch.cat([torch.randperm(size, generator=g)
                               for _ in range(rounds)])[:count]
            chosen.append(order + offset)
        indices = torch.cat(chosen)
        return indices[torch.randperm(len(indices), generator=g)].tolist()

    def __iter__(self) -> Iterator[int]:
        indices = self.epoch_indices()
        if self.round_up and len(indices) < self.total_size:
            reps = math.ceil(self.total_size / len(indices))
            indices = (indices * reps)[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.world_size])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Draw epoch ``epoch`` (called by mmengine's train loop)."""
        self.epoch = epoch

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(ratios={self.ratios}, '
                f'counts={self.counts}, sizes={self.sizes})')
