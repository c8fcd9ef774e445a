"""(points, views, caption) triplets streamed from tar shards.

The shards follow the webdataset layout open_clip trains from at scale: one
sample is the run of consecutive tar members sharing a key (the member name
up to the first dot of its file name), in a plain ``.tar`` or a gzipped
``.tar.gz`` / ``.tgz`` (read as a stream, ``tarfile`` mode ``'r|gz'``)::

    <key>.npy          points, float32 (N, 3) or (N, 6) xyz + rgb in [0, 1]
    <key>.000.png ..   rendered views (zero or more; ``.jpg`` also read)
    <key>.json         {"class_name", "label", "captions", "source"} (and
                       the peers' "view_captions", "caption_groups",
                       "caption_names" when the source had them)
    <key>.txt          optional caption(s), one per line

and a small index beside the shards (``shards.json``, written by
:mod:`cg3d_mm.datagen.triplets.shard_writer`) gives each shard's sample
count, so the dataset has a length (mmengine's ``EpochBasedTrainLoop``
needs ``len(dataloader)``) without opening a tar.

How an epoch is streamed (:class:`ShardedTriplets`):

* the shard order is shuffled with ``(seed, epoch)``, identically on every
  rank; the epoch's samples, in that shard order, are cut into one
  contiguous range per rank (``num_samples // world_size`` each, the
  remainder - at the end of a shuffled order, so different samples each
  epoch - is left out) and each rank's range into one contiguous range per
  DataLoader worker, whole batches each when ``batch_size`` is given. No
  sample is read by two workers, and every rank yields the same number of
  batches (DDP would hang otherwise). With many shards a worker's range is
  a run of whole shards plus at most a partial shard at each end; with
  fewer shards than ranks x workers, workers share shards (never samples),
  each reading only its members. A gzipped shard cannot be entered in
  the middle: a worker whose range starts inside one decompresses the
  members before it (headers only are parsed, payloads are neither kept
  nor decoded);
* each worker reads its range in order and emits it through a shuffle
  buffer of ``shuffle_buffer`` samples, seeded with ``(seed, epoch, rank,
  worker)``. The buffer's draws depend only on positions, so the emission
  order of a worker is a permutation computed before reading
  (:func:`buffer_order`); samples are kept in memory only between being
  read and emitted (at most ``shuffle_buffer`` + 1);
* a resumed epoch (``set_epoch(epoch, consumed)``, restored from the
  checkpoint by ``StreamPositionHook``) drops each worker's first
  ``consumed[worker]`` emissions without decoding them (shards all of whose
  samples were consumed are not opened): nothing is repeated or skipped;
* an unreadable sample (truncated or corrupt tar or gzip stream, a shard
  without its end-of-archive marker, missing points, a points
  array of another shape, no view when ``require_images``, an
  ``UnreadableSampleError`` of the pipeline) is logged with its shard and
  key and replaced by the worker's previous readable sample, as
  ``ShapeNetTriplets`` draws another index: counts per rank stay equal. The
  skip rides on the replacement's ``skipped_samples`` metainfo, so
  ``SampleAccountingHook`` counts it.

The raw sample handed to the pipeline holds ``points`` (float32 (N, C)),
``imgs_bytes`` (encoded views, view order) and ``img_names``,
``class_name``, ``gt_label`` (when the index lists classes: sources
without classes, e.g. ULIP-2's Objaverse, have none), ``captions``,
``view_captions`` / ``caption_groups`` / ``caption_names`` when the
source had them, ``sample_id`` (the key),
``shard`` and ``pts_path`` (``<shard>/<key>.npy``, a name for messages).
``LoadPointCloud`` uses the in-memory points as they are; a
``LoadTripletImage`` of the pipeline is replaced by ``DecodeTripletImage``
(same view choice and fallbacks, from the in-memory views), so the folder
layouts' pipelines run unchanged.
"""
import io
import json
import logging
import os.path as osp
import re
import tarfile
import zlib
from glob import glob
from typing import (Callable, Dict, Iterator, List, Optional, Sequence, Tuple,
                    Union)

import numpy as np
import torch
from mmengine.dataset import Compose
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from torch.utils.data import IterableDataset, get_worker_info

from cg3d_mm.registry import DATASETS
from cg3d_mm.utils.assets import resolve_asset

from .transforms.decoding import DecodeTripletImage
from .transforms.loading import LoadTripletImage, UnreadableSampleError
from .utils import build_transforms

INDEX_FILE = 'shards.json'
INDEX_FORMAT = 'cg3d_mm.triplet_shards'
INDEX_VERSION = 1
POINTS_EXT = 'npy'
META_EXT = 'json'
CAPTION_EXT = 'txt'
VIEW_RE = re.compile(r'^(?:(\d+)\.)?(png|jpg|jpeg)$')
# DataLoader workers whose resume positions fit the shared state
MAX_WORKERS = 256
_CONSUMED = 5  # first per-worker slot of the shared state
# read size of gzip streams (tarfile's default, 10 KiB, costs more calls)
_STREAM_BUFSIZE = 1 << 16
_GLOB_CHARS = re.compile(r'[*?\[]')
# shard file names: plain tar, or gzip read as a stream (no random access)
GZIP_SUFFIXES = ('.tar.gz', '.tgz')
DEFAULT_SHARDS = ('*.tar', '*.tar.gz', '*.tgz')
# other compressions tarfile could read but that are not supported here
_OTHER_COMPRESSION = ('.bz2', '.tbz', '.tbz2', '.xz', '.txz', '.zst',
                      '.zstd', '.lz4')
_BRACE = re.compile(r'\{([^{}]*)\}')


# ----------------------------------------------------------------- patterns
def expand_braces(pattern: str) -> List[str]:
    """Expand ``{a,b}`` lists and ``{000..099}`` ranges (zero padding kept,
    as webdataset / bash), left to right, nested braces from the inside.

    >>> expand_braces('s-{0..2}.tar')
    ['s-0.tar', 's-1.tar', 's-2.tar']
    """
    match = _BRACE.search(pattern)
    if match is None:
        return [pattern]
    body = match.group(1)
    rng = re.fullmatch(r'(-?\d+)\.\.(-?\d+)', body)
    if rng:
        lo, hi = rng.group(1), rng.group(2)
        width = len(lo) if lo.lstrip('-').startswith('0') else 0
        step = 1 if int(hi) >= int(lo) else -1
        items = [str(i).zfill(width)
                 for i in range(int(lo), int(hi) + step, step)]
    else:
        items = body.split(',')
    head, tail = pattern[:match.start()], pattern[match.end():]
    return [out for item in items
            for out in expand_braces(head + item + tail)]


def find_shards(patterns: Union[str, Sequence[str]],
                data_root: Optional[str] = None) -> List[str]:
    """The shard files named by ``patterns`` (brace lists / ranges, globs;
    relative ones under ``data_root``), in the order given, globs sorted.

    Raises:
        FileNotFoundError: Nothing matches, or a brace-listed file (no
            glob) does not exist.
    """
    if isinstance(patterns, str):
        patterns = [patterns]
    if not patterns:
        raise ValueError('ShardedTriplets: no shard pattern given')
    found, missing = [], []
    for pattern in patterns:
        for path in expand_braces(str(pattern)):
            if data_root is not None and not osp.isabs(path):
                path = osp.join(data_root, path)
            if _GLOB_CHARS.search(path):
                found += sorted(glob(path))
            elif osp.isfile(path):
                found.append(path)
            else:
                missing.append(path)
    if missing:
        more = f' and {len(missing) - 3} more' if len(missing) > 3 else ''
        raise FileNotFoundError(
            f'ShardedTriplets: {len(missing)} listed shard(s) do not exist: '
            f'{", ".join(missing[:3])}{more}')
    if not found:
        raise FileNotFoundError(
            f'ShardedTriplets: no shard matches {list(patterns)}'
            + (f' under {data_root}' if data_root else '') +
            ' (expected .tar / .tar.gz / .tgz shards written by '
            'tools/prepare_triplets.py --shards or '
            'tools/dataset_converters/triplets_to_shards.py)')
    seen = set()
    unique = [p for p in found if not (p in seen or seen.add(p))]
    for path in unique:
        shard_mode(path)  # refuses compressions other than gzip, by name
    return [osp.abspath(p) for p in unique]


def shard_mode(path: str) -> str:
    """The ``tarfile`` mode a shard is read with: ``'r|gz'`` (a stream:
    gzip has no random access) for ``.tar.gz`` / ``.tgz``, ``'r:'`` for
    any other name (plain tar).

    Raises:
        ValueError: The name says another compression (``.tar.xz``, ...).
    """
    name = path.lower()
    if name.endswith(GZIP_SUFFIXES):
        return 'r|gz'
    if name.endswith(_OTHER_COMPRESSION):
        raise ValueError(
            f'{path}: unsupported shard compression; expected a plain .tar '
            'or a gzipped .tar.gz / .tgz (recompress, e.g. with '
            'tools/dataset_converters/triplets_to_shards.py --gzip)')
    return 'r:'


# -------------------------------------------------------------------- index
def read_shard_index(path: str) -> dict:
    """Read and check a ``shards.json``.

    Returns:
        dict: ``shards`` (file name -> sample count), ``classes`` and the
        rest of the index as written.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path}: no shard index (expected the {INDEX_FILE} that '
            'cg3d_mm.datagen.triplets.shard_writer writes beside the shards,'
            ' with per-shard sample counts)')
    try:
        with open(path) as f:
            index = json.load(f)
        if index.get('format') != INDEX_FORMAT:
            raise ValueError(f'format {index.get("format")!r}')
        counts = {s['file']: int(s['num_samples']) for s in index['shards']}
        classes = list(index['classes'])
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(
            f'{path}: not a shard index ({type(err).__name__}: {err}); '
            f'expected {{"format": "{INDEX_FORMAT}", "classes": [...], '
            '"shards": [{"file", "num_samples"}, ...]}') from None
    if index.get('version', 0) > INDEX_VERSION:
        raise ValueError(f'{path}: index version {index["version"]} is newer '
                         f'than this reader ({INDEX_VERSION})')
    return dict(index, shards=counts, classes=classes)


def shard_counts(shards: Sequence[str], index_file: Optional[str] = None
                 ) -> Tuple[np.ndarray, List[str]]:
    """Sample counts of ``shards`` and the class list, from the index of
    each shard's folder (or one ``index_file`` for all).

    Raises:
        ValueError: A shard is not in its index, or indexes list other
            classes.
    """
    indexes: Dict[str, dict] = {}
    counts, classes = [], None
    for shard in shards:
        path = index_file or osp.join(osp.dirname(shard), INDEX_FILE)
        if path not in indexes:
            indexes[path] = read_shard_index(path)
            if classes is None:
                classes = indexes[path]['classes']
            elif indexes[path]['classes'] != classes:
                raise ValueError(
                    f'{path}: its classes differ from those of '
                    f'{next(iter(indexes))}; shards of one dataset must share '
                    'the class list')
        entry = indexes[path]['shards']
        name = osp.basename(shard)
        if name not in entry:
            raise ValueError(f'{shard} is not listed in its index {path} '
                             '(rewrite the index, or the shards)')
        counts.append(entry[name])
    return np.asarray(counts, dtype=np.int64), list(classes or [])


# ------------------------------------------------------------------ streams
def worker_sizes(num_samples: int, num_workers: int,
                 batch_size: Optional[int] = None) -> List[int]:
    """Samples of each worker's range: whole batches each (the partial
    last batch to the worker whose turn it is), so the DataLoader yields
    exactly ``len(dataloader)`` batches."""
    b = batch_size or 1
    full, rem = divmod(num_samples, b)
    sizes = [(full // num_workers + (w < full % num_workers)) * b
             for w in range(num_workers)]
    sizes[full % num_workers] += rem
    return sizes


def range_plan(order: Sequence[int], counts: Sequence[int], start: int,
               stop: int) -> List[Tuple[int, int, int]]:
    """Samples ``start..stop-1`` of the shards read in ``order`` as
    ``(shard index, first, stop)`` ordinals within each shard, in reading
    order: whole shards, plus a partial one at each end.

    Args:
        order (Sequence[int]): (S, ) shard indices in reading order.
        counts (Sequence[int]): (S, ) samples per shard (by index).
        start (int): First position in the concatenated order.
        stop (int): End position (exclusive).
    """
    plan, offset = [], 0
    for s in (int(i) for i in order):
        if offset >= stop:
            break
        n = int(counts[s])
        lo, hi = max(start - offset, 0), min(stop - offset, n)
        if lo < hi:
            plan.append((s, lo, hi))
        offset += n
    return plan


def buffer_order(num: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Emission order of a shuffle buffer of ``size`` over ``num`` items
    read in order: fill the buffer, then each read item replaces a random
    buffered one, which is emitted; the rest leaves in random order.

    Returns:
        np.ndarray: (num, ) int64 read positions in emission order.
    """
    if size <= 1 or num <= 1:
        return np.arange(num, dtype=np.int64)
    size = min(size, num)
    buf = np.arange(size, dtype=np.int64)
    draws = rng.integers(0, size, num - size)
    out = np.empty(num, dtype=np.int64)
    for k, (j, item) in enumerate(zip(draws.tolist(), range(size, num))):
        out[k] = buf[j]
        buf[j] = item
    rng.shuffle(buf)
    out[num - size:] = buf
    return out


class _Bad:
    """A sample that cannot be used, with the reason (shard and key)."""
    __slots__ = ('name', 'reason')

    def __init__(self, name: str, reason: str) -> None:
        self.name, self.reason = name, reason


def _split_member(name: str) -> Tuple[str, str]:
    folder, _, base = name.rpartition('/')
    key, _, ext = base.partition('.')
    return (f'{folder}/{key}' if folder else key), ext.lower()


class _WatchedInfo(tarfile.TarInfo):
    """``TarInfo`` that records, on its archive, the header error that ends
    iteration: ``tarfile`` stops silently on a zero block, a truncated or
    an invalid header alike, and a stream (``'r|gz'``) cannot seek back to
    look at that block afterwards."""

    @classmethod
    def fromtarfile(cls, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        try:
            return super().fromtarfile(tarfile_)
        except tarfile.HeaderError as err:
            tarfile_.cg3d_end_error = err
            raise


def _end_problem(tar: tarfile.TarFile) -> Optional[str]:
    """None when the archive ends with its end-of-archive marker (two zero
    blocks), as every complete tar does; else what ended it instead.

    Called once iteration has stopped: the header that stopped it must be
    a whole zero block, and the next block (read forward, so that gzip
    streams work too) must be one as well.
    """
    end = getattr(tar, 'cg3d_end_error', None)
    if isinstance(end, tarfile.InvalidHeaderError):
        return f'corrupt ({end})'
    if not isinstance(end, tarfile.EOFHeaderError):
        return 'truncated'
    tail = tar.fileobj.read(tarfile.BLOCKSIZE)
    if len(tail) < tarfile.BLOCKSIZE:
        return 'truncated'
    return None if not tail.strip(b'\0') else 'corrupt (no end-of-archive)'


def read_shard(path: str, lo: int, hi: int, wanted: Callable[[int], bool],
               count: Optional[int] = None) -> Iterator[Tuple[int, object]]:
    """Samples ``lo..hi-1`` of a shard, in order, as ``(ordinal, item)``.

    ``item`` is ``(key, {ext: bytes})``, ``None`` when ``wanted(ordinal)``
    is false (its data is not read: the tar's headers are skipped over) or
    a :class:`_Bad` for each sample a truncated or corrupt tar lacks (the
    sample a truncated tar ends in included). Always yields ``hi - lo``
    items.

    Gzipped shards are read as a stream (:func:`shard_mode`): members
    before ``lo`` and unwanted ones are decompressed to skip them, but
    their payloads are not kept.
    """
    shard = osp.basename(path)
    count = hi if count is None else count
    ordinal, key, files, want = -1, None, {}, False
    done, problem = lo, None
    kind = 'gzipped tar' if shard_mode(path) == 'r|gz' else 'tar'
    try:
        with tarfile.open(path, shard_mode(path), tarinfo=_WatchedInfo,
                          bufsize=_STREAM_BUFSIZE) as tar:
            for member in tar:
                if not member.isfile():
                    continue
                mkey, ext = _split_member(member.name)
                if mkey != key:
                    if key is not None and lo <= ordinal:
                        yield ordinal, ((key, files) if want else None)
                        done = ordinal + 1
                    ordinal += 1
                    key, files = mkey, {}
                    if ordinal >= hi:
                        break
                    want = lo <= ordinal and wanted(ordinal)
                if want:
                    files[ext] = tar.extractfile(member).read()
            else:
                # a truncated tar ends inside its last sample
                problem = _end_problem(tar)
                if key is not None and lo <= ordinal < hi and not problem:
                    yield ordinal, ((key, files) if want else None)
                    done = ordinal + 1
        error = (f'{problem} {kind}: it ends inside sample {ordinal} of '
                 f'the {count} its index lists') if problem else (
                     f'it has {ordinal + 1} of the {count} samples its '
                     'index lists')
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        error = (f'truncated or corrupt {kind} ({type(err).__name__}: '
                 f'{err})')
    for k in range(done, hi):
        yield k, _Bad(f'{shard}#{k}', f'{path}: sample {k}: {error}')


def _load_points(data: bytes, name: str,
                 channels: Sequence[int]) -> np.ndarray:
    try:
        pts = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as err:  # corrupt bytes: name them
        raise UnreadableSampleError(
            f'{name}: cannot read points ({type(err).__name__}: {err})')
    if pts.ndim != 2 or pts.shape[1] not in channels or not len(pts) or \
            not np.issubdtype(pts.dtype, np.floating):
        raise UnreadableSampleError(
            f'{name}: expected float (N, C) points with C in '
            f'{tuple(channels)}, got {pts.dtype} {tuple(pts.shape)}')
    return pts.astype(np.float32, copy=False)


def _in_memory_views(transform):
    """``LoadTripletImage`` -> ``DecodeTripletImage`` with its settings."""
    if type(transform) is not LoadTripletImage:
        return transform
    twin = DecodeTripletImage.__new__(DecodeTripletImage)
    twin.__dict__.update(vars(transform))
    return twin


class StreamedEpochs(IterableDataset):
    """The epoch and resume state of a dataset that streams its epochs.

    Holds, in shared memory (persistent DataLoader workers must see
    :meth:`set_epoch`), the epoch, the rank and world size taken in the
    main process, and each worker stream's count of samples already
    consumed in a resumed epoch. Subclasses set ``num_samples`` (samples
    per epoch over all ranks) and ``batch_size``, call
    :meth:`_init_stream_state` and start ``__iter__`` with
    :meth:`_stream_position`.
    """

    num_samples: int
    batch_size: Optional[int]

    def _init_stream_state(self) -> None:
        # [epoch, set_epoch called (1) / with a resume (2), rank, world,
        # rotation, consumed per stream...]
        self._state = torch.zeros(_CONSUMED + MAX_WORKERS,
                                  dtype=torch.int64)
        self._state.share_memory_()
        self._capture_dist()

    def _capture_dist(self) -> Tuple[int, int]:
        """Rank and world size, taken in the main process (DataLoader
        workers have no process group)."""
        if get_worker_info() is None:
            rank, world = get_dist_info()
            self._state[2], self._state[3] = rank, world
        return int(self._state[2]), int(self._state[3])

    def __len__(self) -> int:
        """Samples of this rank per epoch."""
        return self.num_samples // self._capture_dist()[1]

    def samples_per_rank(self, world_size: int) -> int:
        """Samples each of ``world_size`` ranks streams per epoch (the
        remainder is left out, at the end of the epoch's order)."""
        n = self.num_samples // world_size
        if n < 1:
            raise ValueError(
                f'{type(self).__name__}: {self.num_samples} samples cannot '
                f'feed {world_size} ranks')
        return n

    def worker_slots(self, world_size: int, num_workers: int, rank: int,
                     worker: int) -> Tuple[int, int]:
        """The worker's positions ``[start, stop)`` of the epoch: a
        contiguous range per rank, cut into one per worker (whole batches
        when ``batch_size`` is known)."""
        per_rank = self.samples_per_rank(world_size)
        sizes = worker_sizes(per_rank, num_workers, self.batch_size)
        start = rank * per_rank + sum(sizes[:worker])
        return start, start + sizes[worker]

    def set_epoch(self, epoch: int,
                  consumed: Optional[Sequence[int]] = None) -> None:
        """Stream ``epoch`` next.

        Args:
            epoch (int): Seeds the shard order and the buffers.
            consumed (Sequence[int], optional): Per worker stream (the
                ``stream_worker`` of the samples), emissions already
                trained on: a resumed epoch drops them unread. With
                ``batch_size`` known, DataLoader worker ``w`` then streams
                ``(w + b) % num_workers``, ``b`` the batches consumed, so
                that the batches also come in the interrupted run's order.
        """
        self._capture_dist()
        self._state[0] = int(epoch)
        self._state[1] = 2 if consumed is not None else 1
        self._state[4:] = 0
        if consumed is not None:
            if len(consumed) > MAX_WORKERS:
                raise ValueError(f'at most {MAX_WORKERS} workers can resume')
            self._state[_CONSUMED:_CONSUMED + len(consumed)] = \
                torch.as_tensor([int(c) for c in consumed])
            if self.batch_size:
                b = self.batch_size
                self._state[4] = sum(-(-int(c) // b) for c in consumed)

    @property
    def epoch(self) -> int:
        return int(self._state[0])

    def _stream_position(self) -> Tuple[int, int, int, int, int, int]:
        """``(epoch, rank, world_size, num_workers, worker, consumed)`` of
        the calling DataLoader worker (or the main process): ``worker`` is
        the stream it reads, rotated on a resume so that batches come in
        the interrupted run's order, ``consumed`` its emissions to drop."""
        info = get_worker_info()
        if info is None:
            rank, world = self._capture_dist()
            num_workers, worker = 1, 0
        else:
            rank, world = int(self._state[2]), int(self._state[3])
            num_workers, worker = info.num_workers, info.id
        resumed = int(self._state[1]) == 2
        if resumed:  # keep the interrupted run's batch order
            worker = (worker + int(self._state[4])) % num_workers
        skip = int(self._state[_CONSUMED + worker]) if resumed else 0
        if not int(self._state[1]) and worker == 0:
            print_log(f'{type(self).__name__}: set_epoch() was never called,'
                      " so every epoch streams epoch 0's order; training "
                      'configs add StreamPositionHook to custom_hooks',
                      logger='current', level=logging.WARNING)
        return int(self._state[0]), rank, world, num_workers, worker, skip


@DATASETS.register_module()
class ShardedTriplets(StreamedEpochs):
    """CG3D pretraining triplets streamed from webdataset-style tar shards.

    See the module docstring for the layout and how an epoch is split,
    shuffled, resumed and how unreadable samples are handled.

    Args:
        shards (str | Sequence[str]): Shard files: brace lists / ranges
            (``'train-{000000..000099}.tar'``) and globs, relative to
            ``data_root``; ``.tar.gz`` / ``.tgz`` ones are read as gzip
            streams. Defaults to :data:`DEFAULT_SHARDS` (every ``.tar``,
            ``.tar.gz`` and ``.tgz``; each must be in its index).
        data_root (str, optional): Folder of relative shard patterns.
        synthetic (dict, optional): With no ``data_root``: settings of the
            built-in synthetic world's shards (``synthetic_shards`` asset,
            e.g. ``dict(synthetic=dict(seed=0), split='train')``).
        index_file (str, optional): One index for all shards; defaults to
            ``shards.json`` in each shard's folder.
        pipeline (Sequence[dict | Callable]): Transforms of a raw sample.
        shuffle_buffer (int): Shuffle buffer per worker (samples held in
            memory); 0 or 1 keeps each worker's range in order. Defaults
            to 256.
        shuffle_shards (bool): Shuffle the shard order every epoch.
            Defaults to True.
        seed (int): Seed of the shard order and the buffers (with the
            epoch, rank and worker). Defaults to 0.
        batch_size (int, optional): The DataLoader's batch size: worker
            ranges are then whole batches, so the DataLoader yields exactly
            ``len(dataloader)`` batches (without it, up to ``num_workers``
            more or fewer). ``StreamPositionHook`` checks it matches.
        require_images (bool): A sample without a view is unreadable.
            Defaults to True.
        point_channels (Sequence[int]): Accepted point columns. Defaults to
            (3, 6).
        metainfo (dict, optional): ``classes`` must equal the index's.
    """

    def __init__(self,
                 shards: Union[str, Sequence[str]] = DEFAULT_SHARDS,
                 data_root: Optional[str] = None,
                 synthetic: Optional[dict] = None,
                 index_file: Optional[str] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 shuffle_buffer: int = 256,
                 shuffle_shards: bool = True,
                 seed: int = 0,
                 batch_size: Optional[int] = None,
                 require_images: bool = True,
                 point_channels: Sequence[int] = (3, 6),
                 metainfo: Optional[dict] = None) -> None:
        if data_root is None and synthetic is not None:
            data_root = resolve_asset('synthetic_shards', **synthetic)
        if data_root is not None and not osp.isdir(data_root):
            raise FileNotFoundError(f'ShardedTriplets: data_root {data_root} '
                                    'does not exist')
        for name, value in (('shuffle_buffer', shuffle_buffer),
                            ('seed', seed)):
            if isinstance(value, bool) or not isinstance(value, int) or \
                    value < 0:
                raise ValueError(f'ShardedTriplets: {name} must be a '
                                 f'non-negative integer, got {value!r}')
        if batch_size is not None and (not isinstance(batch_size, int)
                                       or batch_size < 1):
            raise ValueError('ShardedTriplets: batch_size must be a positive '
                             f'integer or None, got {batch_size!r}')
        self.data_root = data_root
        self.shards = find_shards(shards, data_root)
        self.counts, classes = shard_counts(self.shards, index_file)
        self.num_samples = int(self.counts.sum())
        if not self.num_samples:
            raise ValueError(f'ShardedTriplets: the {len(self.shards)} '
                             'shard(s) hold no sample (per their index)')
        given = (metainfo or {}).get('classes')
        if given and tuple(given) != tuple(classes):
            raise ValueError(f'metainfo classes {tuple(given)} differ from '
                             f'the shard index classes {tuple(classes)}')
        self._metainfo = dict(metainfo or {}, classes=tuple(classes))
        self._label_of = {c: i for i, c in enumerate(classes)}
        self.shuffle_buffer = shuffle_buffer
        self.shuffle_shards = bool(shuffle_shards)
        self.seed = seed
        self.batch_size = batch_size
        self.require_images = bool(require_images)
        self.point_channels = tuple(int(c) for c in point_channels)
        # the folder layouts' pipelines run unchanged: their view loader
        # becomes its in-memory twin (same view choice and fallbacks)
        self.pipeline = Compose(
            [_in_memory_views(t) for t in build_transforms(pipeline)])
        self._init_stream_state()

    # ------------------------------------------------------------ mmengine
    @property
    def metainfo(self) -> dict:
        return dict(self._metainfo)

    def full_init(self) -> None:
        """Nothing to do: the index was read when the dataset was built."""

    # -------------------------------------------------------------- layout
    def shard_order(self, epoch: int) -> np.ndarray:
        """Shard indices in the order the epoch reads them (all ranks)."""
        order = np.arange(len(self.shards))
        if self.shuffle_shards:
            np.random.default_rng([self.seed, epoch]).shuffle(order)
        return order

    def worker_plan(self, epoch: int, rank: int, world_size: int,
                    num_workers: int, worker: int
                    ) -> List[Tuple[int, int, int]]:
        """The worker's range as ``(shard index, first, stop)`` sample
        ordinals within each shard, in reading order."""
        start, stop = self.worker_slots(world_size, num_workers, rank,
                                        worker)
        return range_plan(self.shard_order(epoch), self.counts, start, stop)

    def emission_order(self, epoch: int, rank: int, num_workers: int,
                       worker: int, size: int) -> np.ndarray:
        rng = np.random.default_rng(
            [self.seed, epoch, rank * num_workers + worker, 1])
        return buffer_order(size, self.shuffle_buffer, rng)

    # ------------------------------------------------------------ samples
    def _raw_sample(self, item: Tuple[str, Dict[str, bytes]],
                    shard: str) -> dict:
        key, files = item
        name = f'{osp.basename(shard)}/{key}'
        if POINTS_EXT not in files:
            raise UnreadableSampleError(f'{name}: no .{POINTS_EXT} points')
        views = sorted(
            ((int(m.group(1) or -1), ext) for ext in files
             for m in [VIEW_RE.match(ext)] if m))
        if self.require_images and not views:
            raise UnreadableSampleError(f'{name}: no rendered view '
                                        '(.png / .jpg); images are required')
        meta = {}
        if META_EXT in files:
            try:
                meta = json.loads(files[META_EXT].decode('utf-8'))
            except (UnicodeDecodeError, ValueError) as err:
                raise UnreadableSampleError(f'{name}.json: {err}')
        class_name = meta.get('class_name')
        if self._label_of and class_name not in self._label_of:
            raise UnreadableSampleError(
                f'{name}: class {class_name!r} is not one of the index '
                'classes' if class_name else f'{name}: no class_name in its '
                '.json')
        captions = list(meta.get('captions') or [])
        if CAPTION_EXT in files:
            captions += [line.strip() for line in files[CAPTION_EXT].decode(
                'utf-8', 'replace').splitlines() if line.strip()]
        sample = dict(
            points=_load_points(files[POINTS_EXT], f'{name}.{POINTS_EXT}',
                                self.point_channels),
            pts_path=f'{name}.{POINTS_EXT}',
            imgs_bytes=[files[ext] for _, ext in views],
            img_names=[f'{name}.{ext}' for _, ext in views],
            class_name=class_name,
            captions=captions,
            source=meta.get('source'),
            sample_id=key,
            shard=shard)
        if class_name in self._label_of:
            sample['gt_label'] = self._label_of[class_name]
        # the peers' caption structures (SampleSourceCaption), view
        # captions keyed by the view's member name
        for k in ('caption_groups', 'caption_names'):
            if meta.get(k):
                sample[k] = meta[k]
        if meta.get('view_captions'):
            base = key.rpartition('/')[2]
            sample['view_captions'] = {f'{base}.{ext}': caps for ext, caps
                                       in meta['view_captions'].items()}
        return sample

    def _prepare(self, item, shard: str):
        data = self.pipeline(self._raw_sample(item, shard))
        if data is None:
            raise UnreadableSampleError(
                f'{osp.basename(shard)}/{item[0]}: the pipeline dropped it')
        return data

    @staticmethod
    def _annotate(data, worker: int, skipped: List[dict]):
        meta = dict(stream_worker=worker)
        if skipped:
            meta['skipped_samples'] = skipped
        if isinstance(data, dict) and hasattr(data.get('data_samples'),
                                              'set_metainfo'):
            data['data_samples'].set_metainfo(meta)
        elif isinstance(data, dict):
            data.update(meta)
        return data

    # ----------------------------------------------------------- iteration
    def __iter__(self) -> Iterator:
        epoch, rank, world, num_workers, worker, skip = \
            self._stream_position()
        plan = self.worker_plan(epoch, rank, world, num_workers, worker)
        size = sum(hi - lo for _, lo, hi in plan)
        order = self.emission_order(epoch, rank, num_workers, worker, size)
        skip = min(skip, size)
        consumed = np.zeros(size, dtype=bool)
        consumed[order[:skip]] = True
        return self._stream(plan, order[skip:], consumed, worker)

    def _read(self, plan, consumed: np.ndarray) -> Iterator[Tuple[int,
                                                                  object]]:
        """(worker position, item or None) for every position in order."""
        base = 0
        for s, lo, hi in plan:
            n = hi - lo
            if consumed[base:base + n].all():
                for k in range(n):
                    yield base + k, None
            else:
                start = base - lo
                for ordinal, item in read_shard(
                        self.shards[s], lo, hi,
                        lambda o, start=start: not consumed[start + o],
                        int(self.counts[s])):
                    keep = item is not None and not consumed[start + ordinal]
                    yield start + ordinal, (s, item) if keep else None
            base += n

    def _stream(self, plan, emit: np.ndarray, consumed: np.ndarray,
                worker: int) -> Iterator:
        reader = self._read(plan, consumed)
        cache: Dict[int, Tuple[int, object]] = {}
        last_good = None  # (item, shard) of the previous readable sample
        skipped: List[dict] = []
        owed = 0  # replacements owed before any sample was readable
        for pos in emit.tolist():
            while pos not in cache:
                p, entry = next(reader)
                if entry is not None:
                    cache[p] = entry
            s, item = cache.pop(pos)
            shard = self.shards[s]
            try:
                if isinstance(item, _Bad):
                    raise UnreadableSampleError(item.reason)
                data = self._prepare(item, shard)
            except UnreadableSampleError as err:
                name = item.name if isinstance(item, _Bad) else \
                    f'{osp.basename(shard)}/{item[0]}'
                skipped.append(dict(sample=name, path=shard, error=str(err)))
                print_log(f'skipping unreadable sample {name} ({err}); the '
                          "worker's previous readable sample replaces it",
                          logger='current', level=logging.WARNING)
                try:
                    data = self._prepare(*last_good) if last_good else None
                except UnreadableSampleError:
                    data = None
                if data is None:
                    owed += 1
                    continue
            else:
                last_good = (item, shard)
            yield self._annotate(data, worker, skipped)
            skipped = []
            for _ in range(owed):
                yield self._annotate(self._prepare(*last_good), worker, [])
            owed = 0
        if owed:
            raise RuntimeError(
                f'ShardedTriplets: none of the {len(emit)} samples of worker '
                f'{worker} is readable: ' +
                '; '.join(s['error'] for s in skipped[:3]))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({len(self.shards)} shards, '
                f'{self.num_samples} samples, shuffle_buffer='
                f'{self.shuffle_buffer})')
