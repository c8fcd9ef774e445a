"""Find the meshes of a mesh collection and name them the ShapeNet way.

Every mesh becomes a :class:`MeshRecord` with a ``<synset>-<model_id>``
sample name, the name used by CG3D's ShapeNet55 layout. Supported inputs::

    shapenetcore  <root>/<synset>/<id>/models/model_normalized.obj (+ .mtl,
                  ../images/ textures); class names from <root>/taxonomy.json
                  (ShapeNetCore's list or a CG3D dict; the first name, with
                  CG3D's renames display -> monitor, vessel -> ship,
                  ashcan -> trashcan), else the synset ids
    modelnet      <root>/<class>/{train,test}/<class>_XXXX.off
    folder        <root>/<class>/**/<mesh>.{obj,off,ply,glb,gltf,stl}

ShapeNetCore keeps its synsets and model ids. The other formats get a
stable synset-like id per class, :func:`class_synset`: 8 decimal digits
from the SHA-1 of the class name, so the id depends on the name only (not
on the other classes or on the order of discovery).
"""
import hashlib
import json
import os
import os.path as osp
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from cg3d_mm.utils.class_names import CG3D_CLASS_RENAMES

FORMATS = ('shapenetcore', 'modelnet', 'folder')
MESH_EXTENSIONS = ('.obj', '.off', '.ply', '.glb', '.gltf', '.stl')
SHAPENETCORE_MESH = osp.join('models', 'model_normalized.obj')
MODELNET_SPLITS = ('train', 'test')
_SYNSET_RE = re.compile(r'^\d{8}$')
# Characters kept in generated model ids (they become file names).
_UNSAFE_RE = re.compile(r'[^A-Za-z0-9_.]+')


@dataclass(frozen=True)
class MeshRecord:
    """One mesh to turn into a triplet sample.

    Attributes:
        path (str): Mesh file (for ShapeNetCore possibly missing: then the
            sample fails with that reason).
        class_name (str): Class name (first taxonomy name, CG3D's rename
            for display / vessel / ashcan).
        synset (str): Synset id of the class (no '-').
        model_id (str): Model id, unique within the synset.
        split (str, optional): Split given by the dataset itself
            (ModelNet's train/test folders), else None.
    """
    path: str
    class_name: str
    synset: str
    model_id: str
    split: Optional[str] = None

    @property
    def name(self) -> str:
        """Sample name ``<synset>-<model_id>`` (split-list entry minus
        ``.npy``)."""
        return f'{self.synset}-{self.model_id}'


# (records, taxonomy {synset: 'name1,name2'}) found under a root
Found = Tuple[List[MeshRecord], Dict[str, str]]


def class_synset(class_name: str) -> str:
    """Stable 8-digit synset-like id of a class name (see module doc)."""
    digest = hashlib.sha1(class_name.encode('utf-8')).hexdigest()
    return f'{int(digest, 16) % 10**8:08d}'


def read_taxonomy_names(path: str) -> Dict[str, str]:
    """Map synset -> all names ``'name1,name2,...'`` from a taxonomy file.

    Accepts ShapeNetCore's list of ``{"synsetId", "name", ...}`` and CG3D's
    dict ``{synset: "name1,name2"}``.
    """
    try:
        with open(path) as f:
            raw = json.load(f)
    except (OSError, ValueError) as err:
        raise ValueError(f'{path}: cannot read the taxonomy ({err}); '
                         'expected ShapeNetCore taxonomy.json') from None
    if isinstance(raw, list):
        raw = {d['synsetId']: d['name'] for d in raw
               if isinstance(d, dict) and 'synsetId' in d and 'name' in d}
    if not isinstance(raw, dict) or not raw or not all(
            isinstance(v, str) and v.strip() for v in raw.values()):
        raise ValueError(f'{path}: expected ShapeNetCore\'s list of '
                         '{"synsetId", "name"} or a dict synset -> '
                         '"name1,name2"')
    return {str(k): ','.join(n.strip() for n in v.split(',') if n.strip())
            for k, v in raw.items()}


def _listdir(path: str) -> List[str]:
    return sorted(e for e in os.listdir(path) if not e.startswith('.'))


def _discover_shapenetcore(root: str) -> Found:
    tax_path = osp.join(root, 'taxonomy.json')
    names = read_taxonomy_names(tax_path) if osp.isfile(tax_path) else {}
    records, taxonomy = [], {}
    for synset in _listdir(root):
        if not (_SYNSET_RE.match(synset)
                and osp.isdir(osp.join(root, synset))):
            continue  # taxonomy.json, README, zips, ...
        full = names.get(synset, synset)
        first = full.split(',')[0]
        class_name = CG3D_CLASS_RENAMES.get(first, first)
        taxonomy[synset] = full
        for model_id in _listdir(osp.join(root, synset)):
            if osp.isdir(osp.join(root, synset, model_id)):
                records.append(MeshRecord(
                    osp.join(root, synset, model_id, SHAPENETCORE_MESH),
                    class_name, synset, model_id))
    if not taxonomy:
        raise ValueError(f'{root}: no ShapeNetCore synset folder (8 digits, '
                         'e.g. 03001627/<id>/models/model_normalized.obj)')
    return records, taxonomy


def _discover_modelnet(root: str) -> Found:
    records, taxonomy = [], {}
    for class_name in _listdir(root):
        class_dir = osp.join(root, class_name)
        if not osp.isdir(class_dir):
            continue
        synset = class_synset(class_name)
        found = 0
        for split in MODELNET_SPLITS:
            split_dir = osp.join(class_dir, split)
            if not osp.isdir(split_dir):
                continue
            for fname in _listdir(split_dir):
                stem, ext = osp.splitext(fname)
                if ext.lower() == '.off':
                    records.append(MeshRecord(
                        osp.join(split_dir, fname), class_name, synset,
                        _UNSAFE_RE.sub('_', stem), split))
                    found += 1
        if found:
            _add_class(taxonomy, class_name, root)
    if not taxonomy:
        raise ValueError(f'{root}: no ModelNet class folder with '
                         '<class>/train/*.off or <class>/test/*.off')
    _check_unique(records, root)
    return records, taxonomy


def _unique_ids(relpaths: Sequence[str]) -> Dict[str, str]:
    """Readable, unique model ids for the files of one class folder:
    the path without extension ('/' -> '__'); the extension is appended
    where two files differ only by it, a hash where sanitising collides."""
    def plain(rel):
        return _UNSAFE_RE.sub('_', osp.splitext(rel)[0].replace(os.sep,
                                                                '__'))

    def with_ext(rel):
        return _UNSAFE_RE.sub('_', rel.replace(os.sep, '__'))

    ids = {}
    groups = defaultdict(list)
    for rel in relpaths:
        groups[plain(rel)].append(rel)
    for key, rels in groups.items():
        for rel in rels:
            ids[rel] = key if len(rels) == 1 else with_ext(rel)
    counts = defaultdict(int)
    for v in ids.values():
        counts[v] += 1
    for rel, v in ids.items():
        if counts[v] > 1:
            ids[rel] = f'{v}_{hashlib.sha1(rel.encode()).hexdigest()[:8]}'
    return ids


def _discover_folder(root: str) -> Found:
    records, taxonomy = [], {}
    for class_name in _listdir(root):
        class_dir = osp.join(root, class_name)
        if not osp.isdir(class_dir):
            continue
        rels = []
        for dirpath, dirnames, filenames in os.walk(class_dir):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
            rels += [osp.relpath(osp.join(dirpath, f), class_dir)
                     for f in filenames
                     if osp.splitext(f)[1].lower() in MESH_EXTENSIONS]
        if not rels:
            continue
        synset = _add_class(taxonomy, class_name, root)
        ids = _unique_ids(sorted(rels))
        records += [MeshRecord(osp.join(class_dir, rel), class_name, synset,
                               ids[rel]) for rel in sorted(rels)]
    if not taxonomy:
        raise ValueError(f'{root}: no class folder with mesh files '
                         f'({", ".join(MESH_EXTENSIONS)}) below it')
    return records, taxonomy


def _add_class(taxonomy: Dict[str, str], class_name: str, root: str) -> str:
    synset = class_synset(class_name)
    if taxonomy.get(synset, class_name) != class_name:
        raise ValueError(f'{root}: classes {taxonomy[synset]!r} and '
                         f'{class_name!r} hash to the same synset id '
                         f'{synset}; rename one of the folders')
    taxonomy[synset] = class_name
    return synset


def _check_unique(records: Sequence[MeshRecord], root: str) -> None:
    seen: Dict[str, str] = {}
    for r in records:
        if r.name in seen:
            raise ValueError(f'{root}: {r.path} and {seen[r.name]} map to the '
                             f'same sample {r.name}; rename one of them')
        seen[r.name] = r.path


def discover_meshes(root: str,
                    fmt: str,
                    classes: Optional[Sequence[str]] = None) -> Found:
    """All meshes of a collection, sorted by sample name.

    Args:
        root (str): Collection root (see the module doc for the layouts).
        fmt (str): One of :data:`FORMATS`.
        classes (Sequence[str], optional): Keep only these classes (class
            names; for ShapeNetCore also synset ids). All when None.

    Returns:
        tuple: the records and the taxonomy ``{synset: 'name1,name2'}`` of
        the classes found.
    """
    if fmt not in FORMATS:
        raise ValueError(f'format must be one of {FORMATS}, got {fmt!r}')
    if not osp.isdir(root):
        raise FileNotFoundError(f'mesh root {root} is not a directory')
    finder = dict(shapenetcore=_discover_shapenetcore,
                  modelnet=_discover_modelnet, folder=_discover_folder)[fmt]
    records, taxonomy = finder(root)
    synset_of: Dict[str, str] = {}
    for synset, names in taxonomy.items():
        first = names.split(',')[0]
        if first in synset_of:
            raise ValueError(
                f'{root}: synsets {synset_of[first]} and {synset} share the '
                f'class name {first!r}; class names must be unique')
        synset_of[first] = synset
    if classes is not None:
        classes = list(classes)
        unknown = [c for c in classes
                   if c not in synset_of and c not in taxonomy]
        if unknown:
            raise ValueError(f'classes {unknown} not found in {root} '
                             f'(found: {", ".join(sorted(synset_of))})')
        keep = {synset_of.get(c, c) for c in classes}
        taxonomy = {k: v for k, v in taxonomy.items() if k in keep}
        records = [r for r in records if r.synset in keep]
    _check_unique(records, root)
    return sorted(records, key=lambda r: r.name), taxonomy
