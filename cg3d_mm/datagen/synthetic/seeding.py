"""Per-object random streams and stable ids.

Every object draws from its own generator keyed by (seed, layout, category,
index), so an object does not change when other classes are added or
removed, and objects can be made in any order or process.
"""
import hashlib
import zlib
from typing import Dict, Sequence

import numpy as np

_STREAMS = {
    'shapenet': 1,
    'modelnet': 2,
    'scanobjectnn': 3,
    'scenes': 4,
    'split': 5,
    'render': 6,
}


def object_rng(seed: int,
               stream: str,
               key: str,
               index: int = 0) -> np.random.Generator:
    """Generator for one object (or one split / one room).

    Args:
        seed (int): Dataset seed.
        stream (str): 'shapenet', 'modelnet', 'scanobjectnn', 'scenes',
            'split' or 'render'.
        key (str): Category or room name.
        index (int): Object index within the key.
    """
    return np.random.default_rng(
        [int(seed), _STREAMS[stream],
         zlib.crc32(key.encode()),
         int(index)])


def model_id(seed: int, category: str, index: int) -> str:
    """A ShapeNet-like 32-hex-digit model id, stable per object."""
    return hashlib.md5(
        f'cg3d-synthetic/{seed}/{category}/{index}'.encode()).hexdigest()


def split_indices(num: int, fractions: Dict[str, float], seed: int,
                  key: str) -> Dict[str, np.ndarray]:
    """Seeded split of ``range(num)`` with at least one item per part.

    Args:
        num (int): Number of items (>= number of parts).
        fractions (dict[str, float]): Part name -> fraction; the first part
            takes the remainder.
        seed (int): Dataset seed.
        key (str): Name of what is split (e.g. the category).

    Returns:
        dict[str, np.ndarray]: part name -> sorted indices.
    """
    names: Sequence[str] = list(fractions)
    if num < len(names):
        raise ValueError(f'need at least {len(names)} items to split into '
                         f'{names}, got {num}')
    counts = {n: max(1, int(round(fractions[n] * num))) for n in names[1:]}
    counts[names[0]] = num - sum(counts.values())
    while counts[names[0]] < 1:  # tiny num: take from the largest other part
        big = max(names[1:], key=lambda n: counts[n])
        counts[big] -= 1
        counts[names[0]] += 1
    perm = object_rng(seed, 'split', key).permutation(num)
    out, start = {}, 0
    for n in names:
        out[n] = np.sort(perm[start:start + counts[n]])
        start += counts[n]
    return out
