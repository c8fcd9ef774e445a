"""Writes that never leave a half-written file behind."""
import json
import os
import os.path as osp
import tempfile
from typing import Any, BinaryIO, Callable


def atomic_write(path: str, write: Callable[[BinaryIO], Any]) -> None:
    """Write through ``write(binary_file)`` into a temporary file beside
    ``path``, then rename it onto ``path`` (readers see the old file or the
    complete new one, never a partial one)."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
        # mkstemp makes 0600 files: give the usual umask-based mode
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def atomic_write_json(path: str, obj: Any) -> None:
    """``obj`` as indented JSON, written atomically."""
    atomic_write(path, lambda f: f.write(json.dumps(obj, indent=1).encode()))
