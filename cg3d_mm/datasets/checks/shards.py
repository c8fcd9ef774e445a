"""Check triplet tar shards and their ``shards.json`` index
(``ShardedTriplets``).

Shallow: the shard patterns, the index of every matched shard (it must
list it), the classes, and each tar's size (whole 512-byte blocks, the
size the index recorded, the end-of-archive marker); only for a tar that
fails these are its headers walked, to count the samples the dataset
would still read. Deep: every tar is read to its end and every sample's
points, views, metadata and captions are decoded, as the dataset does.
"""
import io
import json
import os
import os.path as osp
from fnmatch import fnmatch
from glob import glob, has_magic
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..sharded_triplets import (CAPTION_EXT, DEFAULT_SHARDS, GZIP_SUFFIXES,
                                INDEX_FILE, META_EXT, POINTS_EXT, VIEW_RE,
                                expand_braces, read_shard, read_shard_index)
from .core import (FileCheckCache, FileJob, Problem, SplitReport, Timer,
                   run_file_checks)

_BLOCK = 512
# A per-sample finding: [sample, kind, message, whether the sample is lost]
Finding = List[Union[str, bool]]


def _shard_size_issue(path: str, num_samples: int,
                      expected_bytes: Optional[int]
                      ) -> Optional[Tuple[str, str]]:
    size = os.path.getsize(path)
    # a complete tar: whole blocks, ending in two zero blocks; each sample
    # takes at least a header and a data block (its points)
    least = _BLOCK * (2 * num_samples + 2)
    if expected_bytes is not None and size != expected_bytes:
        kind = 'truncated' if size < expected_bytes else 'size_mismatch'
        return kind, (f'{path}: {size} bytes, its index recorded '
                      f'{expected_bytes} (rewritten or cut short?)')
    if path.lower().endswith(GZIP_SUFFIXES):
        # read as a stream by the dataset: no block structure to measure
        # without decompressing
        with open(path, 'rb') as f:
            magic = f.read(2)
        # header (10) + trailer (8) at least; the rest needs --deep
        if magic != b'\x1f\x8b' or size < 18 + num_samples:
            return 'truncated', (f'{path}: {size} bytes, not a complete '
                                 f'gzip stream of {num_samples} samples')
        return None
    if size % _BLOCK:
        return 'truncated', (f'{path}: {size} bytes is not a whole number of '
                             f'{_BLOCK}-byte tar blocks (truncated)')
    if size < least:
        return 'truncated', (f'{path}: {size} bytes, too small for the '
                             f'{num_samples} samples its index lists (at '
                             f'least {least} bytes)')
    with open(path, 'rb') as f:
        f.seek(size - 2 * _BLOCK)
        if f.read().strip(b'\0'):
            return 'truncated', (f'{path}: no end-of-archive marker (two '
                                 'zero blocks) at its end: truncated')
    return None


def _lost_samples(path: str, num_samples: int, deep: bool,
                  check_sample) -> List[Finding]:
    """Read the shard as the dataset does (``read_shard``): findings for
    samples it cannot deliver and, with ``deep``, for those it decodes
    but would skip."""
    out: List[Finding] = []
    for k, item in read_shard(path, 0, num_samples, lambda _: deep,
                              num_samples):
        if item is not None and not isinstance(item, tuple):  # unreadable
            out.append([f'{osp.basename(path)}#{k}', 'truncated',
                        item.reason, True])
        elif item is not None:
            out += check_sample(*item)
    return out


def _view_issue(data: bytes) -> Optional[str]:
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.convert('RGB').load()
    except Exception as err:
        return f'{type(err).__name__}: {err}'
    return None


def _sample_findings(shard: str, key: str, files: Dict[str, bytes],
                     require_images: bool, point_channels: Sequence[int],
                     min_points: int, classes: Sequence[str]
                     ) -> List[Finding]:
    """What keeps one decoded sample from training (the dataset's rules:
    points, a view when required, metadata and class, a caption)."""
    name = f'{osp.basename(shard)}/{key}'

    def lost(kind: str, message: str) -> List[Finding]:
        return [[name, kind, f'{shard}: {message}', True]]

    if POINTS_EXT not in files:
        return lost('missing', f'{key} has no .{POINTS_EXT} points')
    try:
        pts = np.load(io.BytesIO(files[POINTS_EXT]), allow_pickle=False)
    except Exception as err:
        return lost('undecodable', f'{key}.{POINTS_EXT}: cannot read points '
                    f'({type(err).__name__}: {err})')
    if pts.ndim != 2 or pts.shape[1] not in point_channels or \
            not np.issubdtype(pts.dtype, np.floating):
        return lost('bad_shape', f'{key}.{POINTS_EXT}: {pts.dtype} '
                    f'{tuple(pts.shape)}, expected float (N, C) points with '
                    f'C in {tuple(point_channels)}')
    if len(pts) < max(min_points, 1):
        return lost('too_few_points', f'{key}.{POINTS_EXT}: {len(pts)} '
                    f'points, fewer than the {min_points} the pipeline '
                    'samples')
    if not np.isfinite(pts).all():
        return lost('not_finite', f'{key}.{POINTS_EXT}: NaN or inf points')
    views = sorted(ext for ext in files if VIEW_RE.match(ext))
    if require_images and not views:
        return lost('missing', f'{key} has no rendered view (.png / .jpg); '
                    'the dataset requires one (require_images)')
    meta = {}
    if META_EXT in files:
        try:
            meta = json.loads(files[META_EXT].decode('utf-8'))
        except (UnicodeDecodeError, ValueError) as err:
            return lost('bad_format', f'{key}.{META_EXT}: {err}')
    class_name = meta.get('class_name')
    if classes and class_name not in classes:
        return lost('unknown_class', f'{key}: class {class_name!r} is not '
                    f'one of the {len(classes)} index classes')
    has_text = any(meta.get(k) for k in ('captions', 'caption_groups',
                                         'caption_names', 'view_captions'))
    if not (has_text or class_name or files.get(CAPTION_EXT, b'').strip()):
        return lost('no_caption', f'{key}: no caption, caption structure or '
                    'class_name (in .json or .txt)')
    out: List[Finding] = []
    for ext in views:
        reason = _view_issue(files[ext])
        if reason:
            out.append([name, 'undecodable',
                        f'{shard}: {key}.{ext}: cannot decode ({reason})',
                        False])
    if views and len(out) == len(views):  # no view left to fall back to
        for finding in out:
            finding[3] = True
    return out


def check_tar_shard(path: str, num_samples: int = 0,
                    expected_bytes: Optional[int] = None,
                    deep: bool = False, require_images: bool = True,
                    point_channels: Sequence[int] = (3, 6),
                    min_points: int = 1,
                    classes: Sequence[str] = ()):
    """One shard: ``None`` when good, else ``(kind, message, findings)``,
    ``findings`` naming each affected sample (``[sample, kind, message,
    lost]``; ``lost``: the dataset cannot train on it).

    Shallow: size and end marker (:func:`_shard_size_issue`; gzipped
    shards: the recorded size and the gzip magic); the headers are walked
    only when those fail. Deep: every member is read and every
    sample checked as ``ShardedTriplets`` would use it.
    """
    if not osp.isfile(path):
        return 'missing', f'{path}: shard does not exist', [
            [f'{osp.basename(path)}#{k}', 'missing',
             f'{path}: sample {k}: shard does not exist', True]
            for k in range(num_samples)]
    issue = _shard_size_issue(path, num_samples, expected_bytes)
    if issue is None and not deep:
        return None
    findings = _lost_samples(
        path, num_samples, deep,
        lambda key, files: _sample_findings(
            path, key, files, require_images, tuple(point_channels),
            min_points, tuple(classes)))
    if issue is None and not findings:
        return None
    kind, message = issue or (findings[0][1], findings[0][2])
    lost = sum(bool(f[3]) for f in findings)
    if lost:
        message += f' ({lost} of its {num_samples} samples unreadable)'
    return kind, message, findings


def _expand(patterns: Union[str, Sequence[str]], data_root: Optional[str],
            problems: List[Problem]) -> Tuple[List[str], List[str]]:
    """The shards the patterns name (as ``find_shards``), each missing
    explicitly named one as a ``list`` problem; and the glob patterns."""
    if isinstance(patterns, str):
        patterns = [patterns]
    found, globs = [], []
    for pattern in patterns:
        for path in expand_braces(str(pattern)):
            if data_root is not None and not osp.isabs(path):
                path = osp.join(data_root, path)
            if has_magic(path):
                globs.append(osp.abspath(path))
                found += sorted(glob(path))
            elif osp.isfile(path):
                found.append(path)
            else:
                problems.append(Problem(
                    path, 'list', f'{path}: shard named by the pattern '
                    f'{pattern!r} does not exist (the dataset refuses to '
                    'start)'))
    if not found and not problems:
        problems.append(Problem(
            data_root or str(patterns[0]), 'list', f'no shard matches '
            f'{list(patterns)}' + (f' under {data_root}' if data_root else '')
            + ' (expected .tar shards and their shards.json)'))
    seen = set()
    return [osp.abspath(p) for p in found
            if not (p in seen or seen.add(p))], globs


def check_shards_split(shards: Union[str, Sequence[str]] = DEFAULT_SHARDS,
                       data_root: Optional[str] = None,
                       index_file: Optional[str] = None,
                       require_images: bool = True,
                       point_channels: Sequence[int] = (3, 6),
                       classes: Optional[Sequence[str]] = None,
                       role: str = 'train',
                       min_points: int = 1,
                       name: Optional[str] = None,
                       cache: Optional[FileCheckCache] = None,
                       workers: Optional[int] = None,
                       deep: bool = False) -> SplitReport:
    """Check the shards ``ShardedTriplets`` would stream.

    Split problems (the dataset refuses to start): a named shard that does
    not exist, no shard matched, a missing or foreign index, a matched
    shard its index does not list, classes differing between indexes or
    from the config's. Bad samples: those of a shard the index lists and
    the patterns would match but that is missing, and those a damaged tar
    loses (:func:`check_tar_shard`).
    """
    report = SplitReport(name=name or 'shards', layout='shards', role=role,
                         source=data_root or str(shards),
                         skips_unreadable=True)
    problems = report.problems
    cache = cache or FileCheckCache(data_root or '.')
    with Timer() as timer:
        found, globs = _expand(shards, data_root, problems)
        named = {osp.abspath(p.path) for p in problems}
        indexes: Dict[str, Optional[dict]] = {}
        index_classes: Optional[list] = None
        jobs, owners = [], []
        for shard in found:
            path = index_file or osp.join(osp.dirname(shard), INDEX_FILE)
            if path not in indexes:
                indexes[path] = _read_index(path, problems)
                got = (indexes[path] or {}).get('classes')
                if got is not None and index_classes is None:
                    index_classes = got
                elif got is not None and got != index_classes:
                    problems.append(Problem(
                        path, 'classes', f'{path}: its classes differ from '
                        'those of the other shards\' index; shards of one '
                        'dataset must share the class list'))
            index = indexes[path]
            if index is None:
                continue
            base = osp.basename(shard)
            if base not in index['counts']:
                problems.append(Problem(
                    shard, 'index', f'{shard} is not listed in its index '
                    f'{path} (the dataset refuses to start; rewrite the '
                    'index or the shards)'))
                continue
            count = index['counts'][base]
            report.num_samples += count
            kw = dict(num_samples=count,
                      expected_bytes=index['bytes'].get(base), deep=deep,
                      require_images=bool(require_images),
                      point_channels=[int(c) for c in point_channels],
                      min_points=min_points)
            if deep:
                kw['classes'] = list(index_classes or ())
            jobs.append(FileJob(check_tar_shard, shard, kw, deps=(path, )))
            owners.append(shard)
        # listed shards the patterns would match but that are gone: the
        # dataset streams without them, so their samples are lost
        for path, index in indexes.items():
            for base, count in (index or {}).get('counts', {}).items():
                shard = osp.abspath(osp.join(osp.dirname(path), base))
                if osp.exists(shard) or shard in named or not any(
                        fnmatch(shard, g) for g in globs):
                    continue
                report.num_samples += count
                problems.append(Problem(
                    shard, 'missing', f'{shard}: listed in {path} with '
                    f'{count} samples but does not exist'))
                problems += [Problem(shard, 'missing',
                                     f'{shard}: sample {k}: shard missing',
                                     f'{base}#{k}') for k in range(count)]
        if classes and index_classes is not None and \
                tuple(classes) != tuple(index_classes):
            problems.append(Problem(
                report.source, 'classes', f'metainfo classes '
                f'{tuple(classes)} differ from the shard index classes '
                f'{tuple(index_classes)}'))
        report.num_files = len(jobs)
        issues, report.cached_files = run_file_checks(jobs, cache, workers)
        for shard, issue in zip(owners, issues):
            if issue is None:
                continue
            kind, message, findings = issue
            problems.append(Problem(shard, kind, message))
            problems += [Problem(shard, f_kind, f_message,
                                 sample if lost else None)
                         for sample, f_kind, f_message, lost in findings]
        cache.save()
    report.seconds = timer.seconds
    return report


def _read_index(path: str, problems: List[Problem]) -> Optional[dict]:
    """``counts`` / ``bytes`` per shard file and ``classes`` of an index,
    or None with the problem recorded."""
    try:
        index = read_shard_index(path)
        with open(path) as f:  # the recorded sizes (not in the parsed form)
            raw = json.load(f)
    except (FileNotFoundError, ValueError) as err:
        problems.append(Problem(path, 'index', str(err)))
        return None
    sizes = {s['file']: int(s['bytes']) for s in raw['shards']
             if isinstance(s.get('bytes'), int)}
    return dict(counts=index['shards'], bytes=sizes,
                classes=list(index['classes']))
