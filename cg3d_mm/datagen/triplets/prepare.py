"""Make CG3D (points, views, caption) triplets from a mesh collection.

The run: find the meshes, assign splits, write every sample that is not
already complete (in parallel, resumable), then the split lists, class
names and taxonomy, and a summary. ``<out>/prepare_triplets.json`` records
the settings the samples were made with; a later run into the same folder
must use the same ones (a mix of, say, 5- and 10-view or render and depth
samples would be silently inconsistent).
"""
import json
import multiprocessing
import os
import os.path as osp
import shutil
import signal
import sys
import time
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from mmengine.logging import print_log
from tqdm import tqdm

from .discovery import FORMATS, MeshRecord, discover_meshes
from .index_writer import write_index, write_text_if_changed
from .sample_writer import (IMG_DIR, PC_DIR, PC_RGB_DIR, TMP_DIR, SampleResult,
                            SampleSettings, write_sample)
from .splits import SPLITS, assign_splits, read_split_lists
from .summary import SUMMARY_FILE, PrepareSummary
from .to_shards import shapenet_split_to_shards

MANIFEST = 'prepare_triplets.json'
LOCK_FILE = '.prepare_triplets.lock'
# 2: textured renders and coloured points (version 1 renders ignored
# textures, so its samples must not be mixed with new ones).
MANIFEST_VERSION = 2
# The up axis of each input format (raw ModelNet .off files are z-up).
DEFAULT_UP_AXIS = dict(shapenetcore='y', modelnet='z', folder='y')


def _manifest(settings: SampleSettings) -> dict:
    return dict(tool='cg3d_mm.datagen.triplets', version=MANIFEST_VERSION,
                settings=settings.to_dict())


def _check_out(out: str, manifest: dict) -> None:
    """Refuse folders holding other data or samples made differently."""
    if osp.exists(out) and not osp.isdir(out):
        raise FileExistsError(f'output {out} exists and is not a directory')
    path = osp.join(out, MANIFEST)
    if not osp.isfile(path):
        if osp.isdir(out) and set(os.listdir(out)) - {LOCK_FILE, TMP_DIR}:
            raise FileExistsError(
                f'{out} is not empty and has no {MANIFEST}: refusing to '
                'write triplets (and split lists) into a folder made by '
                'something else; choose a new output folder')
        return
    try:
        with open(path) as f:
            found = json.load(f)
        old = found['settings']
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f'{path}: unreadable manifest ({err}); expected the '
                         'settings of an earlier prepare_triplets run')
    new = manifest['settings']
    diff = {k: (old.get(k), new[k]) for k in new if old.get(k) != new[k]}
    if diff or found.get('version') != MANIFEST_VERSION:
        raise ValueError(
            f'{out} holds samples made with other settings (existing, '
            f'requested): {diff or found.get("version")}; use the same '
            'settings to resume, or another output folder')


@contextmanager
def _locked(out: str) -> Iterator[None]:
    """One run per output folder at a time (released if the run dies)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with open(osp.join(out, LOCK_FILE), 'a') as f:  # 'a': mtime kept
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise RuntimeError(f'another prepare_triplets run is writing to '
                               f'{out}; wait for it to finish') from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _init_worker() -> None:
    """One thread per worker process, so ``workers`` processes use
    ``workers`` cores (and forked children never reuse the parent's
    thread pools). Ctrl-C is the parent's to handle: it stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except ImportError:
        pass
    if 'torch' in sys.modules:
        sys.modules['torch'].set_num_threads(1)


def _work(job: Tuple[str, MeshRecord, SampleSettings]) -> SampleResult:
    return write_sample(*job)


def _run(out: str, records: Sequence[MeshRecord], settings: SampleSettings,
         workers: int, progress: bool) -> List[SampleResult]:
    jobs = [(out, r, settings) for r in records]
    counts = dict(written=0, skipped=0, failed=0)
    results = []
    bar = tqdm(total=len(jobs), desc='triplets', unit='mesh',
               disable=not progress, dynamic_ncols=True)
    try:
        if workers == 1 or len(jobs) < 2:
            it = map(_work, jobs)
            pool = None
        else:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context(
                'fork' if 'fork' in methods else 'spawn')
            pool = ctx.Pool(workers, initializer=_init_worker)
            # unordered + chunks of one: meshes differ a lot in cost
            it = pool.imap_unordered(_work, jobs, chunksize=1)
        try:
            for res in it:
                results.append(res)
                counts[res.status] += 1
                bar.set_postfix(counts, refresh=False)
                bar.update()
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()
    finally:
        bar.close()
    return sorted(results, key=lambda r: r.name)


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'{name} must be a positive integer, got {value!r}')
    return value


def _write_shards(out: str, shards: str, split_sizes: Dict[str, int],
                  settings: SampleSettings, samples_per_shard: int,
                  progress: bool, compression: Optional[str]) -> None:
    """Each non-empty split of the finished layout as shards."""
    pc_dir = PC_RGB_DIR if settings.color_points else PC_DIR
    for split, size in split_sizes.items():
        if not size:
            continue
        result = shapenet_split_to_shards(
            out, osp.join(shards, split), split=split, pc_dir=pc_dir,
            num_views=settings.num_views,
            samples_per_shard=samples_per_shard,
            shuffle_seed=settings.seed, overwrite=True, progress=progress,
            compression=compression)
        print_log(f'{split}: {result["num_samples"]} samples in '
                  f'{result["num_shards"]} shard(s) in {result["out_dir"]}',
                  logger='current')


def prepare_triplets(mesh_root: str,
                     out: str,
                     fmt: str = 'folder',
                     num_views: int = 5,
                     num_points: int = 8192,
                     image_size: int = 224,
                     mode: str = 'render',
                     workers: Optional[int] = None,
                     fps: bool = False,
                     split_lists: Optional[str] = None,
                     val_ratio: float = 0.1,
                     test_ratio: float = 0.2,
                     seed: int = 0,
                     classes: Optional[Sequence[str]] = None,
                     up_axis: Optional[str] = None,
                     color_points: bool = True,
                     progress: bool = True,
                     shards: Optional[str] = None,
                     samples_per_shard: int = 1000,
                     shard_compression: Optional[str] = None
                     ) -> PrepareSummary:
    """Write CG3D's ShapeNet layout (``ShapeNetTriplets``) for a mesh
    collection.

    Output (``out`` is the ``data_root`` of ``ShapeNetTriplets``)::

        shapenet_pc/<synset>-<id>.npy              (num_points, 3) float32
        shapenet_pc_rgb/<synset>-<id>.npy          (num_points, 6) xyz+rgb
        shapenet_render/img/<synset>/<id>/000.png  num_views views
        train_img.txt, val_img.txt, test_img.txt   lines <synset>-<id>.npy
        shape_names.txt, taxonomy.json             classes, synset names
        sources.json                               sample -> mesh file
        prepare_triplets.json                      sample settings
        prepare_triplets_summary.json              last run's summary

    Args:
        mesh_root (str): Mesh collection (see :mod:`.discovery`).
        out (str): Output folder (new, or one made by an earlier run with
            the same sample settings: complete samples are skipped).
        fmt (str): 'shapenetcore', 'modelnet' or 'folder'.
        num_views (int): Views per mesh.
        num_points (int): Points per mesh.
        image_size (int): View side in pixels.
        mode (str): 'render' (shaded RGB with the mesh's textures and
            colours) or 'depth' (grey depth maps, CG3D-depth).
        workers (int, optional): Processes; defaults to min(2, CPUs). The
            output does not depend on it.
        fps (bool): Farthest point subsampling of a denser surface sample.
        split_lists (str, optional): Folder with official
            ``train_img.txt`` / ``test_img.txt`` (/ ``val_img.txt``).
        val_ratio (float): Val fraction per class.
        test_ratio (float): Test fraction per class (own split only).
        seed (int): Seed of the point sampling and of the splits.
        classes (Sequence[str], optional): Only these classes (names, or
            ShapeNetCore synsets).
        up_axis (str, optional): Up axis of the meshes; defaults to 'z'
            for ModelNet, 'y' otherwise. Outputs are always +y up.
        color_points (bool): Also write ``shapenet_pc_rgb`` (points with
            their texture / material colour, RGB in [0, 1]).
        progress (bool): Show a progress bar.
        shards (str, optional): Also write each split as tar shards for
            ``ShardedTriplets``: ``<shards>/<split>/shard-000000.tar`` ..
            and ``shards.json`` (coloured points when ``color_points``;
            samples in an order shuffled with ``seed``), rewritten whole
            (atomically) on every run.
        samples_per_shard (int): Samples per shard. Defaults to 1000.
        shard_compression (str, optional): None (``.tar``) or 'gz'
            (``.tar.gz`` shards).

    Returns:
        PrepareSummary: counts, failures with reasons, split sizes.
    """
    start = time.perf_counter()
    if fmt not in FORMATS:
        raise ValueError(f'format must be one of {FORMATS}, got {fmt!r}')
    workers = min(2, os.cpu_count() or 1) if workers is None else \
        _positive_int('workers', workers)
    if shards is not None:
        _positive_int('samples_per_shard', samples_per_shard)
    settings = SampleSettings(
        num_points=num_points, num_views=num_views, image_size=image_size,
        mode=mode, fps=bool(fps), up_axis=up_axis or DEFAULT_UP_AXIS[fmt],
        seed=seed, color_points=bool(color_points))
    records, taxonomy = discover_meshes(mesh_root, fmt, classes)
    official = read_split_lists(split_lists) if split_lists else None
    split_of, unlisted = assign_splits(records, val_ratio, test_ratio, seed,
                                       official)
    todo = [r for r in records if r.name in split_of]
    summary = PrepareSummary(out=out, discovered=len(records),
                             unlisted=len(unlisted), workers=workers)
    if official is not None:
        found = {r.name for r in records}
        summary.missing = sorted(
            n for n in official
            if n not in found and n.split('-', 1)[0] in taxonomy)

    manifest = _manifest(settings)
    _check_out(out, manifest)
    os.makedirs(out, exist_ok=True)
    with _locked(out):
        # the manifest first: a folder with samples always has one
        write_text_if_changed(
            osp.join(out, MANIFEST),
            json.dumps(manifest, indent=2, sort_keys=True) + '\n')
        for sub in (PC_DIR, IMG_DIR) + ((PC_RGB_DIR, )
                                        if color_points else ()):
            os.makedirs(osp.join(out, sub), exist_ok=True)
        tmp_root = osp.join(out, TMP_DIR)
        shutil.rmtree(tmp_root, ignore_errors=True)  # a dead run's leftovers
        os.makedirs(tmp_root)
        results = _run(out, todo, settings, workers, progress)
        shutil.rmtree(tmp_root, ignore_errors=True)
        done = {r.name for r in results if r.status != 'failed'}
        samples = [r for r in todo if r.name in done]
        if samples:
            summary.index_files = write_index(out, samples, split_of,
                                              taxonomy, mesh_root)
        summary.written = sum(r.status == 'written' for r in results)
        summary.skipped = sum(r.status == 'skipped' for r in results)
        summary.failed = [
            dict(sample=r.name, source=r.source, reason=r.reason)
            for r in results if r.status == 'failed'
        ]
        summary.warnings = [
            dict(sample=r.name, source=r.source, warning=r.warning)
            for r in results if r.warning
        ]
        split_sizes: Dict[str, int] = {s: 0 for s in SPLITS}
        for r in samples:
            split_sizes[split_of[r.name]] += 1
        summary.splits = split_sizes
        summary.classes = len({r.synset for r in samples})
        if shards is not None and samples:
            _write_shards(out, shards, split_sizes, settings,
                          samples_per_shard, progress, shard_compression)
        summary.seconds = time.perf_counter() - start
        summary.save(osp.join(out, SUMMARY_FILE))
    print_log(summary.format(), logger='current')
    return summary
