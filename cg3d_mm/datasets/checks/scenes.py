"""Check mmdet3d's converted S3DIS / ScanNet scenes: info files, point
``.bin`` files and their semantic / instance masks."""
import glob
import os
import os.path as osp
import pickle
from typing import List, Optional

from .core import FileCheckCache, FileJob, Problem, SplitReport, Timer, \
    run_file_checks
from .headers import check_bin, check_npy

# mmdet3d's default data_prefix of its indoor datasets
_PREFIX = dict(pts='points', pts_semantic_mask='semantic_mask',
               pts_instance_mask='instance_mask')


def check_scene_files(path: str, semantic: str = '', instance: str = '',
                      dims: int = 6):
    """A scene's points (whole float32 rows) and masks (one int64 label
    per point)."""
    if path.endswith('.npy'):
        issue = check_npy(path)
        if issue:
            return issue
        import numpy as np
        rows = np.load(path, mmap_mode='r').shape[0]
    else:
        issue = check_bin(path, dims)
        if issue:
            return issue
        rows = os.path.getsize(path) // (4 * dims)
    for mask, what in ((semantic, 'semantic mask'),
                       (instance, 'instance mask')):
        if not mask:
            continue
        if not osp.isfile(mask):
            return 'missing', f'{mask}: {what} of {path} does not exist'
        labels, rest = divmod(os.path.getsize(mask), 8)
        if rest or labels != rows:
            return 'bad_shape', (f'{mask}: {what} holds {labels} int64 labels'
                                 f'{" and a partial one" if rest else ""}, '
                                 f'but {path} has {rows} points')
    return None


def _resolve(root: str, rel: str, folder: str) -> Optional[str]:
    for cand in (rel, osp.join(root, rel), osp.join(root, folder, rel),
                 osp.join(root, folder, osp.basename(rel))):
        if osp.isfile(cand):
            return cand
    return None


def check_scenes_split(info_file: str,
                       data_root: Optional[str] = None,
                       data_prefix: Optional[dict] = None,
                       role: str = 'eval',
                       name: Optional[str] = None,
                       cache: Optional[FileCheckCache] = None,
                       workers: Optional[int] = None) -> SplitReport:
    """Check every scene an mmdet3d info ``.pkl`` lists."""
    root = data_root or osp.dirname(osp.abspath(info_file))
    prefix = dict(_PREFIX, **(data_prefix or {}))
    report = SplitReport(name=name or osp.basename(info_file),
                         layout='scenes', role=role, source=info_file)
    cache = cache or FileCheckCache(root)
    problems: List[Problem] = report.problems
    with Timer() as timer:
        data_list = _read_infos(info_file, problems)
        report.num_samples = len(data_list)
        jobs = []
        for i, entry in enumerate(data_list):
            try:
                rel = entry['lidar_points']['lidar_path']
            except (KeyError, TypeError):
                problems.append(Problem(info_file, 'list',
                                        f'{info_file}: entry {i} has no '
                                        'lidar_points.lidar_path', str(i)))
                continue
            pts = _resolve(root, rel, prefix['pts'])
            if pts is None:
                problems.append(Problem(
                    osp.join(root, prefix['pts'], rel), 'missing',
                    f'{info_file}: entry {i} points to {rel}, not found in '
                    f'{root} or {osp.join(root, prefix["pts"])}', rel))
                continue
            masks = {}
            for key in ('pts_semantic_mask', 'pts_instance_mask'):
                mask_rel = entry.get(f'{key}_path')
                if mask_rel:
                    masks[key] = _resolve(root, mask_rel, prefix[key]) or \
                        osp.join(root, prefix[key], mask_rel)
            sem, ins = masks.get('pts_semantic_mask', ''), masks.get(
                'pts_instance_mask', '')
            jobs.append(FileJob(check_scene_files, pts,
                                dict(semantic=sem, instance=ins),
                                deps=tuple(m for m in (sem, ins) if m)))
        report.num_files = len(jobs)
        issues, report.cached_files = run_file_checks(jobs, cache, workers)
        for job, issue in zip(jobs, issues):
            if issue:
                problems.append(Problem(job.path, *issue,
                                        sample=osp.basename(job.path)))
        cache.save()
    report.seconds = timer.seconds
    return report


def _read_infos(info_file: str, problems: List[Problem]) -> list:
    try:
        with open(info_file, 'rb') as f:
            infos = pickle.load(f)
    except FileNotFoundError:
        problems.append(Problem(info_file, 'list',
                                f'info file {info_file} does not exist'))
        return []
    except Exception as err:
        problems.append(Problem(info_file, 'list',
                                f'{info_file}: not a readable info pickle '
                                f'({type(err).__name__}: {err})'))
        return []
    data_list = infos.get('data_list') if isinstance(infos, dict) else None
    if not isinstance(data_list, list):
        problems.append(Problem(info_file, 'list',
                                f'{info_file}: expected an mmdet3d info file '
                                '(a dict with data_list)'))
        return []
    return data_list


def find_info_files(data_root: str) -> List[str]:
    return sorted(glob.glob(osp.join(data_root, '*_infos*.pkl')))
