"""Train / val / test assignment of the samples.

In order of precedence:

1. official lists (``--split-lists DIR`` with CG3D's ``train_img.txt`` and
   ``test_img.txt``, optionally ``val_img.txt``; lines
   ``<synset>-<id>.npy``): meshes not listed are left out; a val list that
   shares samples with train or test (CG3D's does) is ignored, loudly;
2. the dataset's own split (ModelNet's ``train/`` and ``test/`` folders);
3. a seeded split per class (``val_ratio``, ``test_ratio``, the rest
   train).

With 1. or 2. and no official val list, ``val_ratio`` of each class's train
samples become the val split (seeded), so that checkpoints can be picked
without touching the official test split.
"""
import logging
import os.path as osp
from typing import Dict, List, Optional, Sequence, Set, Tuple

from mmengine.logging import print_log

from ..synthetic.seeding import split_indices
from .discovery import MeshRecord

SPLITS = ('train', 'val', 'test')
REQUIRED_LISTS = ('train', 'test')


def list_file(split: str) -> str:
    """CG3D's list file name of a split, e.g. ``'train_img.txt'``."""
    return f'{split}_img.txt'


def _read_list(path: str) -> List[str]:
    """Sample names ``<synset>-<id>`` of one list file, in file order."""
    names = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            entry = line.strip()
            if not entry:
                continue
            name = entry[:-4] if entry.endswith('.npy') else entry
            if '-' not in name.strip('-'):
                raise ValueError(f'{path}:{lineno}: bad entry {entry!r} '
                                 '(expected <synset>-<id>.npy)')
            names.append(name)
    return names


def _examples(names: Set[str]) -> str:
    shown = sorted(names)[:3]
    return ', '.join(shown) + (' ...' if len(names) > 3 else '')


def read_split_lists(directory: str) -> Dict[str, str]:
    """Read official split lists.

    ``train_img.txt`` and ``test_img.txt`` must not share a sample. A
    ``val_img.txt`` that shares samples with either is not a validation
    split (CG3D's own holds the train and the test shapes): it is ignored
    with a warning naming the counts, so that :func:`assign_splits` carves
    the validation split out of train instead.

    Args:
        directory (str): Folder with ``train_img.txt``, ``test_img.txt``
            and optionally ``val_img.txt``.

    Returns:
        dict[str, str]: sample name ``<synset>-<id>`` -> split.
    """
    if not osp.isdir(directory):
        raise FileNotFoundError(f'--split-lists {directory} is not a '
                                'directory')
    lists: Dict[str, List[str]] = {}
    for split in SPLITS:
        path = osp.join(directory, list_file(split))
        if osp.isfile(path):
            lists[split] = _read_list(path)
        elif split in REQUIRED_LISTS:
            raise FileNotFoundError(
                f'{path} does not exist; --split-lists needs '
                f'{" and ".join(map(list_file, REQUIRED_LISTS))} '
                f'(and optionally {list_file("val")})')
    train, test = set(lists['train']), set(lists['test'])
    shared = train & test
    if shared:
        raise ValueError(
            f'{osp.join(directory, list_file("train"))} and '
            f'{list_file("test")} share {len(shared)} samples (e.g. '
            f'{_examples(shared)}); a sample cannot be both trained and '
            'tested on')
    out = {name: 'train' for name in lists['train']}
    out.update((name, 'test') for name in lists['test'])
    val = set(lists.get('val', ()))
    in_train, in_test = val & train, val & test
    if in_train or in_test:
        print_log(
            f'{osp.join(directory, list_file("val"))}: {len(in_train)} of '
            f'its {len(val)} samples are also in {list_file("train")} and '
            f'{len(in_test)} in {list_file("test")}, so it is not a '
            'validation split; IGNORING it: the validation split is carved '
            'out of train instead (--val-ratio of each class, seeded; '
            'with 0, no validation split)',
            logger='current', level=logging.WARNING)
    else:
        out.update((name, 'val') for name in val)
    return out


def _parts(names: Sequence[str], fractions: Dict[str, float], seed: int,
           key: str) -> Dict[str, str]:
    """Seeded split of one class's sorted sample names. Parts with ratio 0
    are dropped, and so are the last parts when the class is too small to
    give each one a sample (val first, then test)."""
    parts = {k: v for k, v in fractions.items() if v > 0 or k == 'train'}
    while len(parts) > len(names) and len(parts) > 1:
        parts.pop('val' if 'val' in parts else 'test')
    if len(parts) == 1:
        return {n: 'train' for n in names}
    idx = split_indices(len(names), parts, seed, key)
    return {names[i]: split for split, ii in idx.items() for i in ii}


def _by_class(records: Sequence[MeshRecord]) -> Dict[str, List[str]]:
    groups: Dict[str, List[str]] = {}
    for r in records:
        groups.setdefault(r.synset, []).append(r.name)
    return {k: sorted(v) for k, v in sorted(groups.items())}


def _carve_val(split_of: Dict[str, str], records: Sequence[MeshRecord],
               val_ratio: float, seed: int) -> None:
    train = [r for r in records if split_of.get(r.name) == 'train']
    for synset, names in _by_class(train).items():
        split_of.update(_parts(names, {'train': 1. - val_ratio,
                                       'val': val_ratio}, seed,
                               f'triplets-val/{synset}'))


def assign_splits(records: Sequence[MeshRecord],
                  val_ratio: float = 0.1,
                  test_ratio: float = 0.2,
                  seed: int = 0,
                  official: Optional[Dict[str, str]] = None
                  ) -> Tuple[Dict[str, str], List[MeshRecord]]:
    """Assign every mesh to a split (see the module doc).

    Args:
        records (Sequence[MeshRecord]): All discovered meshes.
        val_ratio (float): Val fraction per class (of the train part when
            the split is given).
        test_ratio (float): Test fraction per class (own split only).
        seed (int): Seed of the split.
        official (dict, optional): Output of :func:`read_split_lists`.

    Returns:
        tuple: ``{sample name: split}`` and the records left out because
        the official lists do not name them. The assignment depends only on
        the meshes and the seed, not on which of them fail.
    """
    for name, value in (('val_ratio', val_ratio), ('test_ratio', test_ratio)):
        if not 0. <= value < 1.:
            raise ValueError(f'{name} must be in [0, 1), got {value}')
    if val_ratio + test_ratio >= 1.:
        raise ValueError(f'val_ratio + test_ratio must be < 1, got '
                         f'{val_ratio} + {test_ratio}')
    if official is not None:
        split_of = {r.name: official[r.name] for r in records
                    if r.name in official}
        unlisted = [r for r in records if r.name not in official]
        if val_ratio > 0 and 'val' not in official.values():
            _carve_val(split_of, records, val_ratio, seed)
        return split_of, unlisted
    if any(r.split is not None for r in records):
        split_of = {r.name: r.split or 'train' for r in records}
        if val_ratio > 0:
            _carve_val(split_of, records, val_ratio, seed)
        return split_of, []
    split_of = {}
    fractions = {'train': 1. - val_ratio - test_ratio, 'test': test_ratio,
                 'val': val_ratio}
    for synset, names in _by_class(records).items():
        split_of.update(_parts(names, fractions, seed, f'triplets/{synset}'))
    return split_of, []
