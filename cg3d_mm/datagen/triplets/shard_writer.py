"""Write triplets into webdataset-style tar shards plus their index.

Every shard is written under a temporary name in the output folder and
renamed into place when it is complete; the index (``shards.json``, the
per-shard sample counts and the class list read by
:class:`~cg3d_mm.datasets.ShardedTriplets`) is written last, atomically.
A folder with shards but no index is therefore an interrupted run, which
the dataset refuses to read. Members get fixed metadata (mtime 0, mode
0644, no owner), so the same samples give the same bytes; gzipped shards
(``compression='gz'``: ``.tar.gz``, one gzip stream each, as webdataset's)
get a gzip header without file name or time, for the same reason. The
index records the compression (``"compression": "gz"`` or null).
"""
import gzip
import io
import os
import os.path as osp
import re
import tarfile
import tempfile
from typing import Dict, List, Optional, Sequence

from cg3d_mm.datasets.sharded_triplets import (INDEX_FILE, INDEX_FORMAT,
                                               INDEX_VERSION)
from cg3d_mm.utils.io import atomic_write_json

_KEY_RE = re.compile(r'^[A-Za-z0-9_\-/]+$')
_EXT_RE = re.compile(r'^[a-z0-9]+(\.[a-z0-9]+)*$')
# compression -> shard file suffix
COMPRESSIONS = {None: '.tar', 'gz': '.tar.gz'}


def shard_key(name: str) -> str:
    """A sample name as a shard key: no dots (the key ends at the first
    dot), no leading slash, nothing outside ``[A-Za-z0-9_-/]``."""
    key = re.sub(r'[^A-Za-z0-9_\-/]', '_', str(name)).strip('/')
    if not key:
        raise ValueError(f'sample name {name!r} gives an empty shard key')
    return key


class ShardWriter:
    """Write samples into ``<out_dir>/<prefix>-000000.tar``, ... (or
    ``.tar.gz``).

    Use as a context manager; the index is written when it closes without
    an error (an exception removes the shard being written and writes no
    index).

    Args:
        out_dir (str): Output folder (made if missing). It must not hold a
            shard index or shards of this prefix already.
        classes (Sequence[str]): Class names in label order (the index's
            ``classes``).
        prefix (str): Shard file prefix. Defaults to 'shard'.
        max_samples (int): Samples per shard. Defaults to 1000.
        info (dict, optional): Extra entries for the index (e.g. the
            source, point channels, views per sample).
        compression (str, optional): None (plain ``.tar``) or 'gz'
            (``.tar.gz``: smaller files, read as a stream). Defaults to
            None.
        compresslevel (int): gzip level 1 (fast) .. 9 (small). Defaults
            to 6 (gzip's own default).
    """

    def __init__(self, out_dir: str, classes: Sequence[str],
                 prefix: str = 'shard', max_samples: int = 1000,
                 info: Optional[dict] = None,
                 compression: Optional[str] = None,
                 compresslevel: int = 6) -> None:
        if isinstance(max_samples, bool) or not isinstance(
                max_samples, int) or max_samples < 1:
            raise ValueError('max_samples must be a positive integer, got '
                             f'{max_samples!r}')
        if not re.fullmatch(r'[A-Za-z0-9_\-]+', prefix):
            raise ValueError(f'shard prefix {prefix!r}: use letters, digits, '
                             "'_' and '-'")
        if compression not in COMPRESSIONS:
            raise ValueError(f'shard compression must be one of '
                             f'{sorted(COMPRESSIONS, key=str)}, got '
                             f'{compression!r}')
        if isinstance(compresslevel, bool) or compresslevel not in range(
                1, 10):
            raise ValueError('compresslevel must be an integer in 1..9, got '
                             f'{compresslevel!r}')
        os.makedirs(out_dir, exist_ok=True)
        clash = [n for n in os.listdir(out_dir) if n == INDEX_FILE or (
            n.startswith(f'{prefix}-') and n.endswith(
                tuple(COMPRESSIONS.values()) + ('.tgz', )))]
        if clash:
            raise FileExistsError(
                f'{out_dir} already holds {", ".join(sorted(clash)[:3])}: '
                'refusing to mix shards of two runs; choose an empty folder')
        self.out_dir = out_dir
        self.classes = list(classes)
        self.prefix = prefix
        self.max_samples = max_samples
        self.info = dict(info or {})
        self.compression = compression
        self.compresslevel = compresslevel
        self.shards: List[dict] = []
        self._tar: Optional[tarfile.TarFile] = None
        # the file objects under a gzipped tar (closed after it)
        self._files: List[io.IOBase] = []
        self._tmp: Optional[str] = None
        self._count = 0
        self._keys: set = set()

    @property
    def num_samples(self) -> int:
        return sum(s['num_samples'] for s in self.shards) + self._count

    def _name(self) -> str:
        return (f'{self.prefix}-{len(self.shards):06d}'
                f'{COMPRESSIONS[self.compression]}')

    def _open(self) -> None:
        fd, self._tmp = tempfile.mkstemp(
            prefix=f'.{self._name()}.', suffix='.tmp', dir=self.out_dir)
        os.close(fd)
        if self.compression == 'gz':
            raw = open(self._tmp, 'wb')
            # no file name (the temporary one) and mtime 0 in the header:
            # the same samples give the same bytes
            gz = gzip.GzipFile(filename='', mode='wb', fileobj=raw,
                               compresslevel=self.compresslevel, mtime=0)
            self._files = [gz, raw]
            self._tar = tarfile.open(fileobj=gz, mode='w',
                                     format=tarfile.PAX_FORMAT)
        else:
            self._tar = tarfile.open(self._tmp, 'w',
                                     format=tarfile.PAX_FORMAT)
        self._count = 0

    def _close_files(self) -> None:
        """Close the tar, then the gzip stream and file under it."""
        try:
            self._tar.close()
        finally:
            files, self._files = self._files, []
            for f in files:  # gzip first: it writes its trailer
                f.close()

    def _finish(self) -> None:
        """Close the current shard and rename it into place."""
        if self._tar is None:
            return
        self._close_files()
        name = self._name()
        os.chmod(self._tmp, 0o644)
        os.replace(self._tmp, osp.join(self.out_dir, name))
        self.shards.append(dict(file=name, num_samples=self._count,
                                bytes=osp.getsize(osp.join(self.out_dir,
                                                           name))))
        self._tar, self._tmp, self._count = None, None, 0

    def write(self, key: str, files: Dict[str, bytes]) -> None:
        """Add one sample: ``files`` maps extension (``'npy'``,
        ``'000.png'``, ``'json'``) to bytes, written in sorted order."""
        if not _KEY_RE.match(key) or key in self._keys:
            raise ValueError(f'shard key {key!r} is '
                             + ('used twice' if key in self._keys else
                                'not of [A-Za-z0-9_-/] (see shard_key)'))
        for ext in files:
            if not _EXT_RE.match(ext):
                raise ValueError(f'{key}: bad member extension {ext!r}')
        if self._tar is None:
            self._open()
        for ext in sorted(files):
            data = files[ext]
            info = tarfile.TarInfo(f'{key}.{ext}')
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            self._tar.addfile(info, io.BytesIO(data))
        self._keys.add(key)
        self._count += 1
        if self._count >= self.max_samples:
            self._finish()

    def close(self) -> str:
        """Finish the last shard and write the index; returns its path."""
        self._finish()
        path = osp.join(self.out_dir, INDEX_FILE)
        atomic_write_json(path, dict(
            self.info, format=INDEX_FORMAT, version=INDEX_VERSION,
            compression=self.compression, classes=self.classes,
            num_samples=self.num_samples, shards=self.shards))
        return path

    def abort(self) -> None:
        """Drop the shard being written (finished shards stay, no index)."""
        if self._tar is not None:
            try:
                self._close_files()
            finally:
                if self._tmp and osp.exists(self._tmp):
                    os.remove(self._tmp)
        self._tar, self._tmp = None, None

    def __enter__(self) -> 'ShardWriter':
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
