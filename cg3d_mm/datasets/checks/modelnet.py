"""Check a ModelNet split: ``modelnet40_normal_resampled`` text files or a
Point-BERT ``.dat`` pickle (what ``ModelNet`` reads)."""
import os.path as osp
from typing import List, Optional

import numpy as np

from ..modelnet import ROW_FORMAT, load_numpy_pickle
from .core import FileCheckCache, FileJob, Problem, SplitReport, Timer, \
    run_file_checks
from .headers import check_txt_points
from .shapenet import _class_list


def check_modelnet_dat(path: str, num_classes: int = 40,
                       min_rows: int = 1):
    """A ``.dat`` pickle: [list of (N, 6) arrays, list of labels] in range.

    The pickle has no header to read: it is loaded (numpy arrays only, as
    ``ModelNet`` does); the verdict is cached like any file's.
    """
    try:
        content = load_numpy_pickle(path)
    except FileNotFoundError:
        return 'missing', f'{path} does not exist'
    except Exception as err:
        return 'undecodable', str(err)
    if not (isinstance(content, (list, tuple)) and len(content) == 2):
        return 'bad_format', (f'{path}: expected [list of point arrays, list '
                              f'of labels], got {type(content).__name__}')
    points, labels = content
    if len(points) != len(labels):
        return 'bad_format', (f'{path}: {len(points)} point arrays but '
                              f'{len(labels)} labels')
    for i, (pts, label) in enumerate(zip(points, labels)):
        shape = np.shape(pts)
        if len(shape) != 2 or shape[1] < 3 or shape[0] < min_rows:
            return 'bad_shape', (f'{path}: sample {i} has shape {shape}, '
                                 f'expected (N>={min_rows}, 6) points')
        label = np.asarray(label).reshape(-1)
        if label.size != 1 or not 0 <= int(label[0]) < num_classes:
            return 'bad_label', (f'{path}: sample {i} has label '
                                 f'{label.tolist()}, expected one index in '
                                 f'[0, {num_classes})')
    return None


def check_modelnet_split(data_root: str,
                         num_classes: int = 40,
                         split: str = 'test',
                         dat_file: Optional[str] = None,
                         role: str = 'eval',
                         min_points: int = 1,
                         classes: Optional[tuple] = None,
                         name: Optional[str] = None,
                         cache: Optional[FileCheckCache] = None,
                         workers: Optional[int] = None) -> SplitReport:
    """Check the class list, the split list (ids ``<class>_XXXX`` of listed
    classes) and every listed point file's first and last rows and size;
    or the ``.dat`` file when ``dat_file`` is given."""
    prefix = f'modelnet{num_classes}'
    list_path = osp.join(data_root, dat_file or f'{prefix}_{split}.txt')
    report = SplitReport(name=name or osp.basename(list_path),
                         layout='modelnet', role=role, source=list_path)
    cache = cache or FileCheckCache(data_root)
    problems: List[Problem] = report.problems
    with Timer() as timer:
        names = _class_list(osp.join(data_root, f'{prefix}_shape_names.txt'),
                            classes, problems)
        if dat_file is not None:
            jobs = [FileJob(check_modelnet_dat, list_path,
                            dict(num_classes=len(names or ()) or num_classes,
                                 min_rows=min_points))]
            issues, report.cached_files = run_file_checks(jobs, cache,
                                                          workers)
            report.num_files = 1
            if issues[0]:
                problems.append(Problem(list_path, *issues[0],
                                        sample=list_path))
        else:
            _check_txt_split(report, data_root, list_path, names, min_points,
                             cache, workers)
        cache.save()
    report.seconds = timer.seconds
    return report


def _check_txt_split(report: SplitReport, data_root: str, list_path: str,
                     names: Optional[List[str]], min_points: int,
                     cache: FileCheckCache, workers: Optional[int]) -> None:
    problems = report.problems
    if not osp.isfile(list_path):
        problems.append(Problem(list_path, 'list',
                                f'split list {list_path} does not exist'))
        return
    with open(list_path) as f:
        ids = [line.strip() for line in f if line.strip()]
    report.num_samples = len(ids)
    known = set(names or ())
    jobs, txt_kw = [], dict(columns=6, min_rows=min_points)
    for shape_id in ids:
        class_name, _, number = shape_id.rpartition('_')
        if not class_name or not number.isdigit():
            problems.append(Problem(
                list_path, 'list', f'{list_path}: bad id {shape_id!r} '
                '(expected <class>_XXXX, e.g. airplane_0001)', shape_id))
            continue
        if names is not None and class_name not in known:
            problems.append(Problem(
                list_path, 'classes', f'{list_path}: class {class_name!r} of '
                f'{shape_id!r} is not in the shape-names list', shape_id))
        jobs.append(FileJob(check_txt_points,
                            osp.join(data_root, class_name,
                                     f'{shape_id}.txt'), txt_kw))
    report.num_files = len(jobs)
    issues, report.cached_files = run_file_checks(jobs, cache, workers)
    for job, issue in zip(jobs, issues):
        if issue is not None:
            kind, message = issue
            if kind == 'missing':
                message += f' (listed in {osp.basename(list_path)}; ' \
                    f'expected {ROW_FORMAT})'
            sample = osp.splitext(osp.basename(job.path))[0]
            problems.append(Problem(job.path, kind, message, sample))
