"""The dataset-level files: split lists, class names, taxonomy, sources.

Files are rewritten only when their content changes (so a run with nothing
new leaves every file untouched), each through a temporary file and a
rename (never half-written).
"""
import json
import os.path as osp
from typing import Dict, List, Mapping, Sequence

from cg3d_mm.utils.io import atomic_write

from .discovery import MeshRecord
from .splits import SPLITS, list_file

SHAPE_NAMES = 'shape_names.txt'
TAXONOMY = 'taxonomy.json'
SOURCES = 'sources.json'


def write_text_if_changed(path: str, text: str) -> bool:
    """Atomically write ``text`` to ``path`` unless it already holds it.

    Returns:
        bool: True if the file was (re)written.
    """
    try:
        with open(path, encoding='utf-8') as f:
            if f.read() == text:
                return False
    except (OSError, UnicodeDecodeError):
        pass
    atomic_write(path, lambda f: f.write(text.encode('utf-8')))
    return True


def _json(obj) -> str:
    return json.dumps(obj, indent=2, sort_keys=True) + '\n'


def write_index(out: str, samples: Sequence[MeshRecord],
                split_of: Mapping[str, str], taxonomy: Mapping[str, str],
                mesh_root: str) -> List[str]:
    """Write the split lists, ``shape_names.txt``, ``taxonomy.json`` and
    ``sources.json`` (sample -> mesh file relative to ``mesh_root``).

    Only classes with at least one sample are listed; ``shape_names.txt``
    is in synset order (its line number is the label).

    Args:
        out (str): Output root.
        samples (Sequence[MeshRecord]): The finished samples.
        split_of (Mapping[str, str]): Sample name -> split.
        taxonomy (Mapping[str, str]): Synset -> 'name1,name2,...'.
        mesh_root (str): Root the mesh paths are made relative to.

    Returns:
        list[str]: The files that were (re)written.
    """
    lines: Dict[str, List[str]] = {s: [] for s in SPLITS}
    for r in samples:
        lines[split_of[r.name]].append(f'{r.name}.npy')
    synsets = sorted({r.synset for r in samples})
    texts = {list_file(s): ''.join(f'{x}\n' for x in sorted(v))
             for s, v in lines.items()}
    class_of = {r.synset: r.class_name for r in samples}
    texts[SHAPE_NAMES] = ''.join(f'{class_of[s]}\n' for s in synsets)
    texts[TAXONOMY] = _json({s: taxonomy[s] for s in synsets})
    texts[SOURCES] = _json({r.name: osp.relpath(r.path, mesh_root)
                            for r in samples})
    return [name for name, text in texts.items()
            if write_text_if_changed(osp.join(out, name), text)]
