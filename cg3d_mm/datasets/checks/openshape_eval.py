"""Check OpenShape's zero-shot test files: Objaverse-LVIS
(``ObjaverseLVIS``), ModelNet40 (``OpenShapeModelNet40``) and ScanObjectNN
(``OpenShapeScanObjectNN``).

They are evaluation sets: any problem stops a run. Their ``.npy`` files
are pickles, unpickled only by a ``deep`` check of a config with
``trust_pickle=True`` (the datasets refuse to start without it).
"""
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np

from cg3d_mm.utils.class_names import readable_class_name

from ..openshape_eval import (LVIS_SPLIT, MODELNET40_CLASSES,
                              MODELNET40_POINTS, MODELNET40_SPLIT,
                              OPENSHAPE_MOUNT, SCANOBJECTNN_POINTS,
                              load_pickled_npy, openshape_points, pickled_dict,
                              read_json_list, reroot_lvis_path)
from ..scanobjectnn import SCANOBJECTNN_CLASSES
from .core import (FileCheckCache, FileJob, Problem, SplitReport, Timer,
                   run_file_checks)
from .headers import Issue, check_pickled_npy
from .peers import untrusted_note

_OWNER = 'data check'


def _read_clouds(path: str, shape: Optional[tuple], deep: bool,
                 trust_pickle: bool):
    """(issue, content): the header / framing issue, or the unpickled
    content when a trusted deep check may read it (else None)."""
    issue = check_pickled_npy(path, shape=shape, scan=deep)
    if issue or not (deep and trust_pickle):
        return issue, None
    try:
        return None, load_pickled_npy(path, True, _OWNER)
    except (FileNotFoundError, ValueError) as err:
        return ('undecodable', str(err)), None


def _cloud_issue(xyz, rgb, source: str, rgb_scale: float,
                 min_points: int) -> Issue:
    try:
        pts = openshape_points(xyz, rgb, source, rgb_scale=rgb_scale)
    except ValueError as err:
        return 'bad_shape', str(err)
    if len(pts) < min_points:
        return 'too_few_points', (f'{source}: {len(pts)} points, fewer than '
                                  f'the {min_points} the pipeline samples')
    return None


def check_lvis_shape(path: str, min_points: int = 1, deep: bool = False,
                     trust_pickle: bool = False) -> Issue:
    """One Objaverse-LVIS shape file: framing; trusted deep: a dict with
    xyz and rgb that ``ObjaverseLVIS`` turns into points."""
    issue, content = _read_clouds(path, (), deep, trust_pickle)
    if issue or content is None:
        return issue
    try:
        data = pickled_dict(content, path, ('xyz', 'rgb'))
    except ValueError as err:
        return 'bad_format', str(err)
    return _cloud_issue(data['xyz'], data['rgb'], path, 1., min_points)


def check_openshape_modelnet40_points(path: str, count: int = 0,
                                      rgb_scale: float = 255.,
                                      min_points: int = 1,
                                      deep: bool = False,
                                      trust_pickle: bool = False) -> Issue:
    """``test_pc.npy``: an object array of ``count`` clouds (from its
    header); trusted deep: each a dict with xyz (and rgb in [0,
    ``rgb_scale``])."""
    issue, clouds = _read_clouds(path, (count, ), deep, trust_pickle)
    if issue or clouds is None:
        return issue
    for i in range(len(clouds)):
        source = f'{path}[{i}]'
        try:
            cloud = pickled_dict(clouds[i], source, ('xyz', ))
        except ValueError as err:
            return 'bad_format', str(err)
        issue = _cloud_issue(cloud['xyz'], cloud.get('rgb'), source,
                             rgb_scale, min_points)
        if issue:
            return issue
    return None


def check_openshape_scanobjectnn_points(path: str, rgb_scale: float = 1.,
                                        min_points: int = 1,
                                        deep: bool = False,
                                        trust_pickle: bool = False
                                        ) -> Issue:
    """``xyz_label.npy``: a pickled dict (header); trusted deep: xyz,
    label (one per cloud, in the 15 classes) and optional rgb."""
    issue, content = _read_clouds(path, (), deep, trust_pickle)
    if issue or content is None:
        return issue
    try:
        data = pickled_dict(content, path, ('xyz', 'label'))
    except ValueError as err:
        return 'bad_format', str(err)
    xyz, rgb = data['xyz'], data.get('rgb')
    labels = np.asarray(data['label']).reshape(-1)
    if len(xyz) != len(labels) or (rgb is not None
                                   and len(rgb) != len(labels)):
        return 'bad_shape', (f'{path}: {len(xyz)} xyz clouds, {len(labels)} '
                             'labels: expected one label per cloud')
    num = len(SCANOBJECTNN_CLASSES)
    if not len(labels) or labels.dtype.kind not in 'iuf' or \
            not np.array_equal(labels, np.round(labels)) or \
            labels.min() < 0 or labels.max() >= num:
        return 'bad_label', (f'{path}: expected integer labels in [0, {num})'
                             f', got {labels.dtype} {labels[:5].tolist()}')
    for i in range(len(labels)):
        issue = _cloud_issue(xyz[i], None if rgb is None else rgb[i],
                             f'{path}[{i}]', rgb_scale, min_points)
        if issue:
            return issue
    return None


def _start(name: str, layout: str, role: str, source: str,
           trust_pickle: Optional[bool], deep: bool,
           dataset: str) -> SplitReport:
    report = SplitReport(name=name, layout=layout, role=role, source=source)
    untrusted_note(report, trust_pickle, deep, source, dataset)
    return report


def _split_entries(path: str, keys: Sequence[str],
                   problems: List[Problem], owner: str) -> list:
    try:
        return read_json_list(path, keys, owner)
    except (FileNotFoundError, ValueError) as err:
        problems.append(Problem(path, 'list', str(err)))
        return []


def _file_problems(report: SplitReport, jobs: List[FileJob],
                   cache: FileCheckCache, workers: Optional[int],
                   samples: List[str]) -> None:
    report.num_files = len(jobs)
    issues, report.cached_files = run_file_checks(jobs, cache, workers)
    for job, sample, issue in zip(jobs, samples, issues):
        if issue:
            report.problems.append(Problem(job.path, *issue, sample=sample))


def check_objaverse_lvis_split(data_root: str,
                               split_file: str = LVIS_SPLIT,
                               shape_root: Optional[str] = None,
                               path_prefix: Optional[str] = OPENSHAPE_MOUNT,
                               trust_pickle: Optional[bool] = False,
                               role: str = 'eval',
                               min_points: int = 1,
                               name: Optional[str] = None,
                               cache: Optional[FileCheckCache] = None,
                               workers: Optional[int] = None,
                               deep: bool = False) -> SplitReport:
    """Check ``lvis.json`` (``uid`` / ``category`` / ``data_path`` strings
    each) and every shape file it lists (``data_path`` re-rooted as the
    dataset does): pickle framing; a trusted deep check reads each."""
    path = osp.join(data_root, split_file)
    report = _start(name or 'objaverse_lvis', 'objaverse_lvis', role, path,
                    trust_pickle, deep, 'ObjaverseLVIS')
    cache = cache or FileCheckCache(data_root)
    with Timer() as timer:
        entries = _split_entries(path, ('uid', 'category', 'data_path'),
                                 report.problems, 'ObjaverseLVIS')
        report.num_samples = len(entries)
        kw = dict(min_points=min_points, deep=deep,
                  trust_pickle=trust_pickle is True)
        # the dataset's own re-rooting of /mnt/data paths
        jobs = [FileJob(check_lvis_shape, reroot_lvis_path(
            e['data_path'], data_root, shape_root, path_prefix), kw)
            for e in entries]
        _file_problems(report, jobs, cache, workers,
                       [e['uid'] for e in entries])
        cache.save()
    report.seconds = timer.seconds
    return report


def check_openshape_modelnet40_split(
        data_root: str,
        split_file: str = MODELNET40_SPLIT,
        points_file: str = MODELNET40_POINTS,
        classes: Optional[Sequence[str]] = None,
        rgb_scale: float = 255.,
        trust_pickle: Optional[bool] = False,
        role: str = 'eval',
        min_points: int = 1,
        name: Optional[str] = None,
        cache: Optional[FileCheckCache] = None,
        workers: Optional[int] = None,
        deep: bool = False) -> SplitReport:
    """Check ``test_split.json`` (every category one of ``classes`` or the
    ModelNet40 names, spaces and underscores alike) and ``test_pc.npy`` (an
    object array with one cloud per split entry, from its header; a trusted
    deep check reads every cloud)."""
    split_path = osp.join(data_root, split_file)
    path = osp.join(data_root, points_file)
    report = _start(name or 'openshape_modelnet40', 'openshape_modelnet40',
                    role, split_path, trust_pickle, deep,
                    'OpenShapeModelNet40')
    cache = cache or FileCheckCache(data_root)
    with Timer() as timer:
        entries = _split_entries(split_path, ('name', 'category'),
                                 report.problems, 'OpenShapeModelNet40')
        report.num_samples = len(entries)
        names = tuple(classes) if classes else MODELNET40_CLASSES
        known = {readable_class_name(c).lower() for c in names}
        for i, e in enumerate(entries):
            if readable_class_name(e['category']).lower() not in known:
                report.problems.append(Problem(
                    split_path, 'classes', f'{split_path}: entry {i} '
                    f'({e["name"]}) has category {e["category"]!r}, not one '
                    f'of the {len(names)} classes (e.g. {names[0]!r})',
                    e['name']))
        jobs = [FileJob(check_openshape_modelnet40_points, path, dict(
            count=len(entries), rgb_scale=float(rgb_scale),
            min_points=min_points, deep=deep,
            trust_pickle=trust_pickle is True))] if entries else []
        _file_problems(report, jobs, cache, workers, [path])
        cache.save()
    report.seconds = timer.seconds
    return report


def check_openshape_scanobjectnn_split(
        data_root: str,
        data_file: str = SCANOBJECTNN_POINTS,
        rgb_scale: float = 1.,
        classes: Optional[Sequence[str]] = None,
        trust_pickle: Optional[bool] = False,
        role: str = 'eval',
        min_points: int = 1,
        name: Optional[str] = None,
        cache: Optional[FileCheckCache] = None,
        workers: Optional[int] = None,
        deep: bool = False) -> SplitReport:
    """Check ``xyz_label.npy`` (a pickled dict, from its header; a trusted
    deep check reads xyz, labels and colours) and that the config's
    classes, if given, are the 15 ScanObjectNN classes its labels index.
    The number of clouds is only known after unpickling."""
    path = osp.join(data_root, data_file)
    report = _start(name or 'openshape_scanobjectnn',
                    'openshape_scanobjectnn', role, path, trust_pickle, deep,
                    'OpenShapeScanObjectNN')
    cache = cache or FileCheckCache(data_root)
    with Timer() as timer:
        if classes and tuple(classes) != SCANOBJECTNN_CLASSES:
            report.problems.append(Problem(
                path, 'classes', f'metainfo classes {tuple(classes)} differ '
                'from the 15 ScanObjectNN classes its labels index'))
        jobs = [FileJob(check_openshape_scanobjectnn_points, path, dict(
            rgb_scale=float(rgb_scale), min_points=min_points, deep=deep,
            trust_pickle=trust_pickle is True))]
        _file_problems(report, jobs, cache, workers, [path])
        # the count is inside the pickle: not re-read for a cached verdict
        report.note = '; '.join(n for n in (
            report.note, 'samples: counted only when the dataset is built')
            if n)
        cache.save()
    report.seconds = timer.seconds
    return report
