"""Find the files a mesh refers to (MTL libraries, textures) the way real
files name them.

Meshes exported by other tools name their assets loosely: Windows paths
(``.\\texture.jpg``, ``C:\\work\\tex.png``), names whose case differs from
the file on disk (``Texture.JPG``), names with spaces, MTL map options
before the name (``map_Kd -s 1 1 1 -bm 0.5 wood.jpg``), quotes, URL
escapes, and ShapeNetCore's ``../images/texture0.jpg`` outside the mesh's
folder (which trimesh's own resolver refuses). :class:`AssetResolver`
tries these readings in order and records what it could not find, so the
loader can warn once per mesh and fall back to the material colour.
"""
import io
import os
import os.path as osp
import re
from typing import Iterator, List, Optional
from urllib.parse import unquote

from trimesh.resolvers import FilePathResolver

# MTL texture map options and their number of arguments (MTL spec).
_MAP_OPTIONS = {
    '-blendu': 1, '-blendv': 1, '-bm': 1, '-boost': 1, '-cc': 1,
    '-clamp': 1, '-imfchan': 1, '-mm': 2, '-o': 3, '-s': 3, '-t': 3,
    '-texres': 1, '-type': 1
}
# Assets that are not images (material libraries, glTF buffers).
_TEXT_ASSETS = ('.mtl', '.bin', '.gltf')
# Base-name search below the mesh's folder: depth and entries looked at.
_SEARCH_DEPTH, _SEARCH_LIMIT = 2, 5000
_NUMBER = re.compile(r'^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$')
_DRIVE = re.compile(r'^[A-Za-z]:/')


def strip_map_options(name: str) -> str:
    """The file name of an MTL map statement's arguments, without the
    options before it (``-s 1 1 1 my tex.png`` -> ``my tex.png``)."""
    tokens = name.strip().split(' ')
    i = 0
    while i < len(tokens) and tokens[i].lower() in _MAP_OPTIONS:
        n = _MAP_OPTIONS[tokens[i].lower()]
        i += 1
        # -o / -s / -t take 1 to 3 numbers; the others a fixed count
        taken = 0
        while i < len(tokens) and taken < n and (
                _NUMBER.match(tokens[i]) or tokens[i].lower() in (
                    'on', 'off', 'r', 'g', 'b', 'm', 'l', 'z', 'sphere',
                    'cube_top', 'cube_bottom', 'cube_front', 'cube_back',
                    'cube_left', 'cube_right')):
            i += 1
            taken += 1
    return ' '.join(tokens[i:]).strip().strip('"\'')


def _find_case_insensitive(root: str, rel: str) -> Optional[str]:
    """``root/rel`` matching every path component without case, or None."""
    path = root
    for part in rel.split('/'):
        if part in ('', '.'):
            continue
        if part == '..':
            path = osp.dirname(path)
            continue
        exact = osp.join(path, part)
        if osp.exists(exact):
            path = exact
            continue
        try:
            names = os.listdir(path)
        except OSError:
            return None
        match = [n for n in names if n.lower() == part.lower()]
        if not match:
            return None
        path = osp.join(path, sorted(match)[0])
    return path if osp.isfile(path) else None


def _find_below(root: str, name: str) -> Optional[str]:
    """A file called ``name`` (any case) at most ``_SEARCH_DEPTH`` folders
    below ``root``, nearest first; the walk is bounded."""
    want, seen = name.lower(), 0
    level = [root]
    for _ in range(_SEARCH_DEPTH + 1):
        below = []
        for folder in sorted(level):
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            seen += len(entries)
            for entry in entries:
                if entry.is_file() and entry.name.lower() == want:
                    return entry.path
                if entry.is_dir():
                    below.append(entry.path)
            if seen > _SEARCH_LIMIT:
                return None
        level = below
    return None


class AssetResolver(FilePathResolver):
    """A trimesh resolver that reads loosely named assets next to a mesh.

    A name is looked up as written (relative to the mesh's folder, ``..``
    allowed), then with backslashes as separators, then matching case-
    insensitively, then by its base name in the mesh's folder and the
    folders below it (two levels, bounded). Names that
    cannot be found are kept in :attr:`missing` (and raise
    ``FileNotFoundError`` to trimesh, which then leaves the texture out),
    images that cannot be decoded in :attr:`unreadable`.

    Args:
        mesh_path (str): The mesh file.
    """

    def __init__(self, mesh_path: str) -> None:
        super().__init__(mesh_path, allow_anywhere=True)
        self.missing: List[str] = []
        self.unreadable: List[str] = []

    def _candidates(self, name: str) -> Iterator[str]:
        raw = name.strip()
        seen = set()
        for text in (raw, strip_map_options(raw)):
            for variant in (text, unquote(text)):
                rel = variant.strip().strip('"\'').replace('\\', '/')
                if _DRIVE.match(rel) or rel.startswith('/'):
                    # absolute path of the machine that wrote the file
                    rel = rel.rsplit('/', 1)[-1]
                for cand in (rel, rel.rsplit('/', 1)[-1]):
                    if cand and cand not in seen:
                        seen.add(cand)
                        yield cand

    def resolve(self, name: str) -> Optional[str]:
        """The file ``name`` refers to, or None."""
        if osp.isabs(name.strip()) and osp.isfile(name.strip()):
            return name.strip()
        candidates = list(self._candidates(name))
        for cand in candidates:
            path = osp.normpath(osp.join(self.parent, cand))
            if osp.isfile(path):
                return path
        for cand in candidates:
            path = _find_case_insensitive(self.parent, cand)
            if path is not None:
                return path
        base = candidates[-1].rsplit('/', 1)[-1] if candidates else ''
        return _find_below(self.parent, base) if base else None

    def get(self, name: str) -> bytes:
        path = self.resolve(name)
        shown = strip_map_options(name) or name.strip()
        if path is None:
            if shown not in self.missing:
                self.missing.append(shown)
            raise FileNotFoundError(name)
        with open(path, 'rb') as f:
            data = f.read()
        if not path.lower().endswith(_TEXT_ASSETS):
            # an image: trimesh drops undecodable ones without a word
            from PIL import Image
            try:
                Image.open(io.BytesIO(data))
            except Exception:  # noqa: B902 - any decoder error
                if shown not in self.unreadable:
                    self.unreadable.append(shown)
                raise
        return data

    def namespaced(self, namespace: str) -> 'AssetResolver':
        folder = osp.join(self.parent, namespace)
        if not osp.isdir(folder):
            return self
        sub = AssetResolver(osp.join(folder, '_'))
        # one record for the whole mesh
        sub.missing, sub.unreadable = self.missing, self.unreadable
        return sub
