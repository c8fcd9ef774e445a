"""Reports, the (path, size, mtime) cache and the parallel file runner."""
import hashlib
import json
import multiprocessing
import os
import os.path as osp
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

from cg3d_mm.utils.cache import cache_dir
from cg3d_mm.utils.io import atomic_write

# Bump when a check changes what it accepts: cached verdicts are dropped.
CHECK_VERSION = 1
# Below this many uncached files a process pool costs more than it saves.
_PROCESS_THRESHOLD = 2000
# Problem kinds a dataset refuses to start with (see split_problems).
SPLIT_KINDS = ('list', 'classes', 'captions', 'index', 'config')


@dataclass
class Problem:
    """One bad file or inconsistency.

    Attributes:
        path (str): The file (or list) at fault.
        kind (str): Short tag: 'missing', 'truncated', 'not_an_array',
            'bad_shape', 'undecodable', 'list', 'classes', ...
        message (str): What is wrong and what was expected.
        sample (str, optional): The sample it makes unreadable; None for a
            problem of the split as a whole (its list, its class names) or
            one the sample survives (a bad view with another view left).
    """
    path: str
    kind: str
    message: str
    sample: Optional[str] = None


@dataclass
class SplitReport:
    """The check of one split (one dataset a run reads)."""
    name: str
    layout: str
    role: str  # 'train' (skips allowed under a threshold) or 'eval'
    source: str
    num_samples: int = 0
    num_files: int = 0
    cached_files: int = 0
    seconds: float = 0.
    problems: List[Problem] = field(default_factory=list)
    checked: bool = True
    # why the split was not checked, or how a check was limited
    note: str = ''
    # whether the dataset skips an unreadable sample in training (and draws
    # another) instead of failing; only ShapeNetTriplets does
    skips_unreadable: bool = False

    @property
    def bad_samples(self) -> Set[str]:
        return {p.sample for p in self.problems if p.sample is not None}

    @property
    def split_problems(self) -> List[Problem]:
        """Problems the dataset refuses to start with: unparsable list
        entries, classes that do not resolve, an unreadable caption file or
        shard index, a setting it requires (no skipping past those)."""
        return [p for p in self.problems if p.kind in SPLIT_KINDS]

    @property
    def bad_ratio(self) -> float:
        return len(self.bad_samples) / max(self.num_samples, 1)

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(bad_samples=sorted(self.bad_samples),
                   bad_ratio=self.bad_ratio)
        return out


class FileCheckCache:
    """Verdicts of file checks keyed by (path, size, mtime) and settings.

    Stored as one JSON file per dataset root under
    ``<cache_dir>/data_checks/``; a changed or replaced file (new size or
    mtime) is checked again.
    """

    def __init__(self, root: str, enabled: bool = True) -> None:
        real = osp.realpath(root)
        digest = hashlib.sha1(real.encode()).hexdigest()[:16]
        self.path = cache_dir('data_checks', f'{digest}.json')
        self.enabled = enabled
        self.entries: Dict[str, list] = {}
        self.dirty = False
        if enabled and osp.isfile(self.path):
            try:
                with open(self.path) as f:
                    saved = json.load(f)
                if saved.get('version') == CHECK_VERSION:
                    self.entries = saved['entries']
            except (OSError, ValueError, KeyError):
                self.entries = {}  # a damaged cache is only a slower run

    def get(self, key: str, stamp: list):
        hit = self.entries.get(key)
        if hit is not None and hit[:-1] == stamp:
            return True, (tuple(hit[-1]) if hit[-1] else None)
        return False, None

    def put(self, key: str, stamp: list, issue) -> None:
        self.entries[key] = stamp + [list(issue) if issue else None]
        self.dirty = True

    def save(self) -> None:
        if self.enabled and self.dirty:
            # compact: the file grows with the dataset (~100 bytes a file)
            text = json.dumps(dict(version=CHECK_VERSION,
                                   entries=self.entries),
                              separators=(',', ':'))
            atomic_write(self.path, lambda f: f.write(text.encode()))
            self.dirty = False


def _stamp(paths: Sequence[str]) -> Optional[list]:
    out = []
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            return None
        out += [st.st_size, st.st_mtime_ns]
    return out


def _run_one(job: Tuple[Callable, str, dict]):
    fn, path, kwargs = job
    return fn(path, **kwargs)


def _run_chunk(jobs: List[Tuple[Callable, str, dict]]):
    return [_run_one(job) for job in jobs]


@dataclass
class FileJob:
    """Check ``fn(path, **kwargs)``; ``deps`` are further files whose
    change invalidates the cached verdict."""
    fn: Callable
    path: str
    kwargs: dict = field(default_factory=dict)
    deps: Tuple[str, ...] = ()

    def key(self, settings: Dict[int, str]) -> str:
        # ``settings`` memoises the settings text of jobs sharing a dict
        text = settings.get(id(self.kwargs))
        if text is None:
            text = settings[id(self.kwargs)] = json.dumps(self.kwargs,
                                                          sort_keys=True)
        return f'{self.fn.__name__}|{text}|{self.path}'


def run_file_checks(jobs: Sequence[FileJob], cache: FileCheckCache,
                    workers: Optional[int] = None) -> Tuple[list, int]:
    """Run ``jobs`` (cached ones from the cache), return their issues in
    order and how many came from the cache.

    Uncached checks run in a process pool when there are many of them
    (header parsing is Python code: threads contend for one interpreter
    and were slower than one thread), in this process otherwise.
    """
    workers = workers or min(8, os.cpu_count() or 1)
    issues: list = [None] * len(jobs)
    todo, stamps, keys, settings = [], {}, {}, {}
    hits = 0
    for i, job in enumerate(jobs):
        stamp = _stamp((job.path, ) + tuple(job.deps))
        if stamp is None:  # missing: the check itself names it, uncached
            todo.append(i)
            continue
        keys[i] = job.key(settings)
        found, issue = cache.get(keys[i], stamp)
        if found:
            issues[i], hits = issue, hits + 1
        else:
            stamps[i] = stamp
            todo.append(i)
    work = [(jobs[i].fn, jobs[i].path, jobs[i].kwargs) for i in todo]
    if len(work) >= _PROCESS_THRESHOLD and workers > 1 and _fork():
        size = max(64, len(work) // (workers * 8))
        chunks = [work[i:i + size] for i in range(0, len(work), size)]
        # fork (like DataLoader workers): the checks are module functions
        with ProcessPoolExecutor(workers, mp_context=_fork()) as pool:
            results = [r for chunk in pool.map(_run_chunk, chunks)
                       for r in chunk]
    else:
        results = [_run_one(w) for w in work]
    for i, issue in zip(todo, results):
        issues[i] = issue
        if i in stamps:
            cache.put(keys[i], stamps[i], issue)
    return issues, hits


def _fork():
    try:
        return multiprocessing.get_context('fork')
    except ValueError:  # no fork (Windows): run in this process
        return None


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
