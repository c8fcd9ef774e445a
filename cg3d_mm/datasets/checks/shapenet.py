"""Check a split of CG3D's ShapeNet triplet layout (ShapeNetTriplets)."""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from cg3d_mm.utils.class_names import taxonomy_class

from ..shapenet_triplets import read_lines, read_taxonomy
from .core import FileCheckCache, FileJob, Problem, SplitReport, Timer, \
    run_file_checks
from .headers import check_image, check_npy


def _stem(entry: str) -> str:
    return entry[:-4] if entry.endswith('.npy') else entry


def _class_of(synset: str, taxonomy: dict, label_of: dict,
              memo: dict) -> Optional[str]:
    if synset not in memo:
        memo[synset] = taxonomy_class(taxonomy[synset], label_of)
    return memo[synset]


def _class_list(path: str, given: Optional[tuple],
                problems: List[Problem]) -> Optional[List[str]]:
    try:
        classes = read_lines(path, 'class list')
    except FileNotFoundError as err:
        problems.append(Problem(path, 'classes', str(err)))
        return None
    if len(set(classes)) != len(classes):
        dup = sorted({c for c in classes if classes.count(c) > 1})
        problems.append(Problem(path, 'classes',
                                f'{path}: class names repeated: {dup}'))
    if given and tuple(given) != tuple(classes):
        problems.append(Problem(
            path, 'classes', f'{path}: classes {tuple(classes)} differ from '
            f'the config\'s metainfo classes {tuple(given)}'))
    return classes


def read_taxonomy_and_list(tax_path: str, list_path: str,
                           problems: List[Problem]
                           ) -> Tuple[Optional[dict], List[str]]:
    """A ShapeNet-style taxonomy and split list; what cannot be read is a
    ``classes`` / ``list`` problem (then None / no entries)."""
    try:
        taxonomy = read_taxonomy(tax_path)
    except (FileNotFoundError, ValueError) as err:
        problems.append(Problem(tax_path, 'classes', str(err)))
        taxonomy = None
    try:
        entries = read_lines(list_path, 'split list')
    except FileNotFoundError as err:
        problems.append(Problem(list_path, 'list', str(err)))
        entries = []
    return taxonomy, entries


def check_shapenet_split(data_root: str,
                         ann_file: str = 'train_img.txt',
                         pc_dir: str = 'shapenet_pc',
                         img_dir: str = 'shapenet_render/img',
                         class_file: str = 'shape_names.txt',
                         taxonomy_file: str = 'taxonomy.json',
                         num_views: int = 5,
                         role: str = 'train',
                         read_views: bool = True,
                         min_points: int = 1,
                         classes: Optional[tuple] = None,
                         drop_shared_with: Sequence[str] = (),
                         name: Optional[str] = None,
                         cache: Optional[FileCheckCache] = None,
                         workers: Optional[int] = None,
                         deep: bool = False) -> SplitReport:
    """Check one split list of the layout ``ShapeNetTriplets`` reads.

    Checks the class list and taxonomy, that every list entry is
    ``<synset>-<id>.npy`` with a synset whose name is a listed class, each
    point file's ``.npy`` header (shape (N, >=3), N >= ``min_points``, the
    bytes the header promises) and, with ``read_views``, each of the
    ``num_views`` renders (PNG/JPEG header and structure).

    A sample is bad when its entry or point file is bad, or when none of
    its views is readable (one bad view of several is a problem of the
    split but the sample still loads another view). Entries also listed
    in ``drop_shared_with`` are left out, as the dataset leaves them out.
    """
    list_path = ann_file if osp.isabs(ann_file) else osp.join(data_root,
                                                              ann_file)
    report = SplitReport(name=name or osp.basename(ann_file),
                         layout='shapenet', role=role, source=list_path,
                         skips_unreadable=True)
    cache = cache or FileCheckCache(data_root)
    problems = report.problems
    with Timer() as timer:
        label_names = _class_list(osp.join(data_root, class_file), classes,
                                  problems)
        taxonomy, entries = read_taxonomy_and_list(
            osp.join(data_root, taxonomy_file), list_path, problems)
        for other in drop_shared_with:
            other_path = osp.join(data_root, other)
            if osp.isfile(other_path) and osp.abspath(other_path) != \
                    osp.abspath(list_path):
                shared = {_stem(e) for e in read_lines(other_path,
                                                       'split list')}
                entries = [e for e in entries if _stem(e) not in shared]
        report.num_samples = len(entries)
        label_of = {c: i for i, c in enumerate(label_names or [])}
        jobs, owners, seen, memo = [], [], set(), {}
        npy_kw, img_kw = dict(min_rows=min_points), dict(deep=deep)
        for line in entries:
            sample = _stem(line)
            synset, _, model_id = sample.partition('-')
            if not model_id:
                problems.append(Problem(
                    list_path, 'list', f'{list_path}: bad entry {line!r} '
                    '(expected <synset>-<id>.npy)', sample))
                continue
            if sample in seen:
                problems.append(Problem(
                    list_path, 'duplicate', f'{list_path}: {line!r} is '
                    'listed twice'))
            seen.add(sample)
            if taxonomy is not None and synset not in taxonomy:
                problems.append(Problem(
                    list_path, 'classes', f'{list_path}: synset {synset} of '
                    f'{line!r} is not in {taxonomy_file}', sample))
            elif taxonomy is not None and label_names is not None and \
                    _class_of(synset, taxonomy, label_of, memo) is None:
                problems.append(Problem(
                    list_path, 'classes', f'{list_path}: no name of synset '
                    f'{synset} ({", ".join(taxonomy[synset])}) is in '
                    f'{class_file}', sample))
            jobs.append(FileJob(check_npy, osp.join(data_root, pc_dir,
                                                    f'{sample}.npy'), npy_kw))
            owners.append((sample, None))
            view_dir = osp.join(data_root, img_dir, synset, model_id)
            if read_views and not osp.isdir(view_dir):
                problems.append(Problem(
                    view_dir, 'missing', f'{view_dir}: render folder does not '
                    f'exist (expected 000.png .. {num_views - 1:03d}.png)',
                    sample))
            elif read_views:
                for v in range(num_views):
                    jobs.append(FileJob(check_image,
                                        osp.join(view_dir, f'{v:03d}.png'),
                                        img_kw))
                    owners.append((sample, v))
        report.num_files = len(jobs)
        issues, report.cached_files = run_file_checks(jobs, cache, workers)
        bad_views = {}
        for job, (sample, view), issue in zip(jobs, owners, issues):
            if issue is None:
                continue
            kind, message = issue
            if view is None:
                problems.append(Problem(job.path, kind, message, sample))
            else:
                bad_views.setdefault(sample, []).append(
                    Problem(job.path, kind, message))
        for sample, bad in bad_views.items():
            if len(bad) == num_views:  # no view left to fall back to
                for p in bad:
                    p.sample = sample
            problems.extend(bad)
        cache.save()
    report.seconds = timer.seconds
    return report
