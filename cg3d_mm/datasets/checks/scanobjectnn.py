"""Check a ScanObjectNN h5 file (what ``ScanObjectNN`` reads)."""
import os.path as osp
from typing import Optional

import numpy as np

from ..scanobjectnn import SCANOBJECTNN_CLASSES, variant_file
from .core import FileCheckCache, FileJob, Problem, SplitReport, Timer, \
    run_file_checks


def check_scanobjectnn_h5(path: str, num_classes: int = 15,
                          min_points: int = 1):
    """``data`` [N, P, >=3] and ``label`` [N] (or [N, 1]) in range: the
    dataset shapes from the h5 metadata; only the labels are read."""
    import h5py
    if not osp.isfile(path):
        return 'missing', f'{path} does not exist'
    try:
        f = h5py.File(path, 'r')
    except OSError as err:
        return 'undecodable', f'{path}: not a readable h5 file ({err})'
    with f:
        missing = [k for k in ('data', 'label') if k not in f]
        if missing:
            return 'bad_format', (
                f'{path}: no {" / ".join(missing)} in the h5 file (keys '
                f'found: {sorted(f.keys())}); expected data [N, 2048, 3] and '
                'label [N]')
        data, label = f['data'], f['label']
        if data.ndim != 3 or data.shape[2] < 3 or data.shape[1] < min_points:
            return 'bad_shape', (f'{path}: data has shape {data.shape}, '
                                 f'expected [N, >={min_points}, 3]')
        shape = label.shape
        if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)) or \
                shape[0] != data.shape[0]:
            return 'bad_shape', (f'{path}: label has shape {shape}, expected '
                                 f'[{data.shape[0]}] (one per cloud in data)')
        try:
            values = np.asarray(label[()]).reshape(-1)
        except OSError as err:  # truncated file: metadata fine, data not
            return 'truncated', f'{path}: cannot read the labels ({err})'
    bad = (values < 0) | (values >= num_classes) | (values != np.round(
        values))
    if bad.any():
        return 'bad_label', (f'{path}: {int(bad.sum())} labels outside the '
                             f'{num_classes} classes, e.g. {values[bad][0]}')
    return None


def check_scanobjectnn_split(data_root: str,
                             variant: str = 'PB_T50_RS',
                             split: str = 'test',
                             h5_file: Optional[str] = None,
                             role: str = 'eval',
                             min_points: int = 1,
                             name: Optional[str] = None,
                             cache: Optional[FileCheckCache] = None,
                             workers: Optional[int] = None) -> SplitReport:
    path = osp.join(data_root, h5_file or variant_file(variant, split))
    report = SplitReport(name=name or f'{variant} {split}',
                         layout='scanobjectnn', role=role, source=path,
                         num_files=1)
    cache = cache or FileCheckCache(data_root)
    with Timer() as timer:
        jobs = [FileJob(check_scanobjectnn_h5, path,
                        dict(num_classes=len(SCANOBJECTNN_CLASSES),
                             min_points=min_points))]
        issues, report.cached_files = run_file_checks(jobs, cache, workers)
        if issues[0]:
            report.problems.append(Problem(path, *issues[0], sample=path))
        else:
            import h5py
            with h5py.File(path, 'r') as f:
                report.num_samples = int(f['data'].shape[0])
        cache.save()
    report.seconds = timer.seconds
    return report
