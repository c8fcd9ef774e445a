"""Check the peers' released training layouts: ULIP's ShapeNet55
(``ULIPShapeNetTriplets``), ULIP-2's Objaverse (``ULIP2ObjaverseTriplets``)
and OpenShape's per-shape files (``OpenShapeTriplets``).

All three skip an unreadable training sample (``SkippingDataset``), so a
bad point file, a sample without a readable view or without a caption is a
bad sample; a list, taxonomy or caption file they cannot start with is a
problem of the split (kinds ``list``, ``classes``, ``captions``).
"""
import fnmatch
import json
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..openshape_triplets import remap_openshape_path
from ..shapenet_triplets import read_lines
from ..transforms.loading import (OPENSHAPE_TEXT_SOURCES,
                                  UnreadableSampleError,
                                  openshape_caption_groups,
                                  read_openshape_shape)
from ..ulip_triplets import ULIP_VIEW_DEGREES, read_caption_file
from .core import (FileCheckCache, FileJob, Problem, SplitReport, Timer,
                   run_file_checks)
from .headers import Issue, check_image, check_pickled_npy, check_points_file
from .shapenet import read_taxonomy_and_list

# Why a deep check of pickled files stops at their opcodes.
UNTRUSTED_NOTE = ('deep check limited: pickled files checked without '
                  'unpickling (headers and opcodes only), as trust_pickle '
                  'is not set')


def untrusted_note(report: SplitReport, trust_pickle: Optional[bool],
                   deep: bool, source: str, dataset: str) -> None:
    """Record what a missing ``trust_pickle`` means for a split.

    ``False`` (a config without it): the dataset refuses to start, a
    ``config`` problem. ``None`` (a data root, no config to judge): nothing
    to report but the limit. A deep check unpickles nothing either way,
    which the note says.
    """
    if trust_pickle is True:
        return
    if trust_pickle is not None:
        report.problems.append(Problem(
            source, 'config', f'{dataset} refuses to read its pickled files '
            'without trust_pickle=True in the dataset config (set it only '
            'for data you trust)'))
    if deep:
        report.note = UNTRUSTED_NOTE


def _list_path(data_root: str, ann_file: str) -> str:
    return ann_file if osp.isabs(ann_file) else osp.join(data_root,
                                                         ann_file)


def _collect(report: SplitReport, jobs: List[FileJob],
             owners: List[Tuple[str, Optional[int]]],
             cache: FileCheckCache, workers: Optional[int],
             views_of: Dict[str, int]) -> None:
    """Run the file jobs and turn their issues into problems.

    ``owners[i]`` is (sample, None) for a file the sample needs, or
    (sample, view) for one of its views: a sample is bad only when every
    one of its ``views_of[sample]`` views is (the loader falls back)."""
    report.num_files = len(jobs)
    issues, report.cached_files = run_file_checks(jobs, cache, workers)
    bad_views: Dict[str, List[Problem]] = {}
    for job, (sample, view), issue in zip(jobs, owners, issues):
        if issue is None:
            continue
        kind, message = issue
        if view is None:
            report.problems.append(Problem(job.path, kind, message, sample))
        else:
            bad_views.setdefault(sample, []).append(
                Problem(job.path, kind, message))
    for sample, bad in bad_views.items():
        if len(bad) == views_of[sample]:  # no view left to fall back to
            for p in bad:
                p.sample = sample
        report.problems.extend(bad)


def check_ulip_shapenet_split(data_root: str,
                              ann_file: str = 'train.txt',
                              pc_dir: str = 'shapenet_pc',
                              img_dir: str = 'rendered_images',
                              taxonomy_file: str = 'taxonomy.json',
                              view_degrees: Sequence[int] = ULIP_VIEW_DEGREES,
                              image_types: Sequence[str] = ('', ),
                              role: str = 'train',
                              read_views: bool = True,
                              min_points: int = 1,
                              min_cols: int = 3,
                              name: Optional[str] = None,
                              cache: Optional[FileCheckCache] = None,
                              workers: Optional[int] = None,
                              deep: bool = False) -> SplitReport:
    """Check a split of ULIP's ``shapenet-55`` layout.

    The taxonomy (every listed synset must be in it), each list entry
    (``<synset>-<id>.npy``, listed once), each point file's ``.npy`` header
    ((N >= ``min_points``, >= ``min_cols``), the bytes it promises), the
    view folder of each sample and, with ``read_views``, each of its
    ``<name>_r_<deg><type>.png`` views. ``deep`` reads every point array
    (finite values) and decodes every view.
    """
    list_path = _list_path(data_root, ann_file)
    report = SplitReport(name=name or osp.basename(ann_file),
                         layout='ulip_shapenet', role=role, source=list_path,
                         skips_unreadable=True)
    cache = cache or FileCheckCache(data_root)
    problems = report.problems
    with Timer() as timer:
        taxonomy, entries = read_taxonomy_and_list(
            osp.join(data_root, taxonomy_file), list_path, problems)
        report.num_samples = len(entries)
        views = [f'{int(d):03d}{t}' for d in view_degrees
                 for t in image_types]
        jobs, owners, seen, views_of = [], [], set(), {}
        pts_kw = dict(min_rows=min_points, min_cols=min_cols, deep=deep)
        img_kw = dict(deep=deep)
        for line in entries:
            sample = line[:-4] if line.endswith('.npy') else line
            synset, _, model_id = sample.partition('-')
            if not model_id:
                problems.append(Problem(
                    list_path, 'list', f'{list_path}: bad entry {line!r} '
                    '(expected <synset>-<id>.npy)', sample))
                continue
            if sample in seen:
                problems.append(Problem(
                    list_path, 'duplicate',
                    f'{list_path}: {line!r} is listed twice'))
            seen.add(sample)
            if taxonomy is not None and synset not in taxonomy:
                problems.append(Problem(
                    list_path, 'classes', f'{list_path}: synset {synset} of '
                    f'{line!r} is not in {taxonomy_file}', sample))
            jobs.append(FileJob(check_points_file,
                                osp.join(data_root, pc_dir,
                                         f'{sample}.npy'), pts_kw))
            owners.append((sample, None))
            view_dir = osp.join(data_root, img_dir, sample)
            # the dataset drops an entry without its view folder
            if not osp.isdir(view_dir):
                problems.append(Problem(
                    view_dir, 'missing', f'{view_dir}: view folder does not '
                    f'exist (expected {sample}_r_{views[0]}.png ..)',
                    sample))
            elif read_views:
                views_of[sample] = len(views)
                for v, view in enumerate(views):
                    jobs.append(FileJob(
                        check_image,
                        osp.join(view_dir, f'{sample}_r_{view}.png'),
                        img_kw))
                    owners.append((sample, v))
        _collect(report, jobs, owners, cache, workers, views_of)
        cache.save()
    report.seconds = timer.seconds
    return report


def _view_files(folder: str, view_glob: str,
                exclude: Optional[str]) -> List[str]:
    """A uid's views as ``ULIP2ObjaverseTriplets`` lists them."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    pattern = re.compile(exclude) if exclude else None
    return [osp.join(folder, n) for n in sorted(names)
            if fnmatch.fnmatch(n, view_glob)
            and not (pattern and pattern.search(n))]


def _has_caption(caps) -> bool:
    if isinstance(caps, dict):
        return any(caps.values())
    return bool(caps)


def check_ulip2_objaverse_split(data_root: str,
                                ann_file: Optional[str] = None,
                                pc_dir: str = 'objaverse_pc_parallel',
                                pc_pattern: str = '{uid}/{uid}_8192.npz',
                                img_dir: str = 'rendered_images',
                                view_glob: str = '*.png',
                                view_exclude: Optional[str] = 'depth',
                                caption_file: str = 'captions.json',
                                role: str = 'train',
                                read_views: bool = True,
                                min_points: int = 1,
                                min_cols: int = 3,
                                name: Optional[str] = None,
                                cache: Optional[FileCheckCache] = None,
                                workers: Optional[int] = None,
                                deep: bool = False) -> SplitReport:
    """Check ULIP-2's Objaverse triplets.

    The caption file (one of the forms ``read_caption_file`` reads), the
    uid list (``ann_file``, or every uid of the caption file), and per uid:
    the point file's header (``.npz`` ``arr_0`` or ``.npy``, (N >=
    ``min_points``, >= ``min_cols``)), at least one view in its folder (the
    dataset requires one), each view's structure with ``read_views``, and a
    non-empty caption. ``deep`` reads every point array and decodes every
    view.
    """
    cap_path = osp.join(data_root, caption_file)
    list_path = _list_path(data_root, ann_file) if ann_file else cap_path
    report = SplitReport(name=name or osp.basename(list_path),
                         layout='ulip2_objaverse', role=role,
                         source=list_path, skips_unreadable=True)
    cache = cache or FileCheckCache(data_root)
    problems = report.problems
    with Timer() as timer:
        try:
            captions = read_caption_file(cap_path)
        except (FileNotFoundError, ValueError) as err:
            problems.append(Problem(cap_path, 'captions', str(err)))
            captions = None
        uids: List[str] = []
        if ann_file:
            try:
                uids = read_lines(list_path, 'uid list')
            except FileNotFoundError as err:
                problems.append(Problem(list_path, 'list', str(err)))
        elif captions is not None:
            uids = sorted(captions)
        report.num_samples = len(uids)
        jobs, owners, views_of = [], [], {}
        pts_kw = dict(min_rows=min_points, min_cols=min_cols, deep=deep)
        img_kw = dict(deep=deep)
        for uid in uids:
            jobs.append(FileJob(check_points_file,
                                osp.join(data_root, pc_dir,
                                         pc_pattern.format(uid=uid)),
                                pts_kw))
            owners.append((uid, None))
            folder = osp.join(data_root, img_dir, uid)
            views = _view_files(folder, view_glob, view_exclude)
            if not views:
                problems.append(Problem(
                    folder, 'missing', f'{folder}: no view matching '
                    f'{view_glob!r} (the dataset needs at least one)', uid))
            elif read_views:
                views_of[uid] = len(views)
                for v, view in enumerate(views):
                    jobs.append(FileJob(check_image, view, img_kw))
                    owners.append((uid, v))
            if captions is not None and not _has_caption(captions.get(uid)):
                problems.append(Problem(
                    cap_path, 'no_caption', f'{cap_path}: no caption of uid '
                    f'{uid!r} (expected uid -> captions or uid -> '
                    '{view: captions})', uid))
        _collect(report, jobs, owners, cache, workers, views_of)
        cache.save()
    report.seconds = timer.seconds
    return report


def check_openshape_shape(path: str, dataset: str = '',
                          text_sources: Sequence[str] = OPENSHAPE_TEXT_SOURCES,
                          min_points: int = 1, deep: bool = False,
                          trust_pickle: bool = False) -> Issue:
    """One OpenShape per-shape file.

    Shallow (and deep without ``trust_pickle``): the header and pickle
    framing (:func:`check_pickled_npy`; deep walks the opcodes, nothing is
    run). Deep with ``trust_pickle``: read as ``LoadOpenShapeShape`` reads
    it: xyz and rgb (N >= ``min_points``, 3), finite, and a caption from
    ``text_sources`` (the dataset skips a shape without one).
    """
    issue = check_pickled_npy(path, shape=(), scan=deep)
    if issue or not (deep and trust_pickle):
        return issue
    try:
        shape = read_openshape_shape(path, trust_pickle=True)
    except UnreadableSampleError as err:
        return 'bad_format', str(err)
    pts = shape['points']
    if len(pts) < min_points:
        return 'too_few_points', (f'{path}: {len(pts)} points, fewer than '
                                  f'the {min_points} the pipeline samples')
    if not np.isfinite(pts).all():
        return 'not_finite', f'{path}: xyz or rgb holds NaN or inf'
    if not openshape_caption_groups(shape, dataset, text_sources):
        return 'no_caption', (f'{path}: no text in {tuple(text_sources)} '
                              '(the dataset skips a shape without one)')
    return None


def text_sources_of(pipeline: Sequence) -> Sequence[str]:
    for t in pipeline or ():
        if isinstance(t, dict) and t.get('type') == 'LoadOpenShapeShape':
            return tuple(t.get('text_sources', OPENSHAPE_TEXT_SOURCES))
    return OPENSHAPE_TEXT_SOURCES


def check_openshape_split(data_root: str,
                          ann_file: str = 'meta_data/split/train_all.json',
                          trust_pickle: Optional[bool] = False,
                          datasets: Optional[Sequence[str]] = None,
                          path_map: Optional[Dict[str, str]] = None,
                          text_sources: Sequence[str] = (
                              OPENSHAPE_TEXT_SOURCES),
                          role: str = 'train',
                          min_points: int = 1,
                          name: Optional[str] = None,
                          cache: Optional[FileCheckCache] = None,
                          workers: Optional[int] = None,
                          deep: bool = False) -> SplitReport:
    """Check OpenShape's split JSON and the per-shape files it lists.

    The split must be a JSON list of ``{"id", "data_path", ...}``; each
    listed file (``data_path`` resolved as the dataset does, ``path_map``
    applied) must be a pickled object ``.npy`` that ends where its pickle
    does. The files are only unpickled by a ``deep`` check of a config
    with ``trust_pickle=True``; otherwise the report's note says the check
    was limited. ``trust_pickle=False`` (the dataset refuses to start) is a
    ``config`` problem of the split; None (checking a data root, no
    config) is not.
    """
    list_path = _list_path(data_root, ann_file)
    report = SplitReport(name=name or osp.basename(ann_file),
                         layout='openshape', role=role, source=list_path,
                         skips_unreadable=True)
    cache = cache or FileCheckCache(data_root)
    problems = report.problems
    with Timer() as timer:
        untrusted_note(report, trust_pickle, deep, list_path,
                       'OpenShapeTriplets')
        entries = _read_split_json(list_path, problems)
        jobs, owners = [], []
        kw_of: Dict[str, dict] = {}
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not {'id', 'data_path'} <= set(
                    entry):
                problems.append(Problem(
                    list_path, 'list', f'{list_path}: entry {i} '
                    f'({str(entry)[:80]}) needs "id" and "data_path" (and '
                    '"dataset", "group")', str(i)))
                continue
            dataset = str(entry.get('dataset', ''))
            if datasets and dataset not in datasets:
                continue
            kw = kw_of.setdefault(dataset, dict(
                dataset=dataset, text_sources=list(text_sources),
                min_points=min_points, deep=deep,
                trust_pickle=trust_pickle is True))
            # the dataset's own path rules (path_map, data_root)
            path = remap_openshape_path(str(entry['data_path']), data_root,
                                        dict(path_map or {}))
            jobs.append(FileJob(check_openshape_shape, path, kw))
            owners.append((str(entry['id']), None))
        report.num_samples = len(jobs)
        if datasets and entries and not jobs:
            problems.append(Problem(
                list_path, 'list',
                f'{list_path}: no entry of the datasets {tuple(datasets)}'))
        _collect(report, jobs, owners, cache, workers, {})
        cache.save()
    report.seconds = timer.seconds
    return report


def _read_split_json(path: str, problems: List[Problem]) -> list:
    """OpenShape's split list, or [] with the problem recorded."""
    try:
        with open(path) as f:
            entries = json.load(f)
    except FileNotFoundError:
        problems.append(Problem(path, 'list',
                                f'split file {path} does not exist'))
        return []
    except ValueError as err:
        problems.append(Problem(path, 'list',
                                f'{path}: not valid JSON ({err})'))
        return []
    if not isinstance(entries, list):
        problems.append(Problem(path, 'list', f'{path}: expected a list of '
                                '{"id", "data_path", "dataset", "group"} '
                                'entries'))
        return []
    return entries
