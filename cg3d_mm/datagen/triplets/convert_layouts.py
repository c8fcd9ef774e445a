"""Write CG3D-layout triplets in the peers' released layouts.

The input is a ShapeNet55 folder in CG3D's layout (the synthetic world's,
or :func:`~cg3d_mm.datagen.triplets.prepare_triplets` output)::

    shapenet_pc/<synset>-<id>.npy            N x 3
    shapenet_pc_rgb/<synset>-<id>.npy        N x 6, rgb in [0, 1] (optional)
    shapenet_render/img/<synset>/<id>/000.png ..
    train_img.txt / val_img.txt / test_img.txt, taxonomy.json

and the output one of (see the datasets that read them):

- ``ulip_shapenet`` (:class:`~cg3d_mm.datasets.ULIPShapeNetTriplets`):
  ``shapenet_pc/``, ``rendered_images/<synset>-<id>/<synset>-<id>_r_<deg>
  .png`` (view k of n at azimuth ``round(360 k / n)``), ``train.txt`` /
  ``test.txt`` / ``val.txt``, ``taxonomy.json`` as ShapeNetCore's list;
- ``ulip2_objaverse`` (:class:`~cg3d_mm.datasets.ULIP2ObjaverseTriplets`):
  ``objaverse_pc_parallel/<uid>/<uid>_8192.npz`` (``arr_0``: xyz + rgb),
  ``rendered_images/<uid>/<k>.png``, ``captions.json`` (uid -> {view ->
  captions}) and ``<split>.txt`` uid lists; the uid is ``<synset>-<id>``;
- ``openshape`` (:class:`~cg3d_mm.datasets.OpenShapeTriplets`):
  ``ShapeNet/<synset>/<uid>.npy`` pickled dicts (``xyz``, ``rgb``,
  ``text`` = the taxonomy names, ``blip_caption`` / ``msft_caption`` = two
  template captions, ``retrieval_text`` = []; no CLIP features, no views)
  and ``meta_data/split/train_all.json`` (``<split>.json`` for the others).

The synthetic world has no captioner: its "captions" are the class name
(as ``ShapeNetTriplets`` names it, from ``shape_names.txt``) in
:data:`~cg3d_mm.utils.templates.PRETRAIN_TEMPLATES`, drawn with a seed, and
OpenShape's ``text`` is that class name: the captions ``SampleCaption``
makes for the CG3D layout, so that a run on a converted layout differs from
one on the CG3D layout by the layout and the losses only. (The ULIP
ShapeNet55 layout keeps every taxonomy name: ULIP draws among them.)
Point files and views are hard-linked when possible (copied otherwise).
The output folder is written under a temporary name and renamed when
complete; an existing folder with the same manifest is reused, another one
is an error.
"""
import hashlib
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from filelock import FileLock
from mmengine.logging import print_log

from cg3d_mm.datasets.shapenet_triplets import read_lines, read_taxonomy
from cg3d_mm.utils.cache import cache_dir
from cg3d_mm.utils.class_names import readable_class_name, taxonomy_class
from cg3d_mm.utils.templates import PRETRAIN_TEMPLATES

TARGET_LAYOUTS = ('ulip_shapenet', 'ulip2_objaverse', 'openshape')
SPLITS = ('train', 'val', 'test')
HALVES = ('a', 'b')
LAYOUT_MANIFEST = 'layout_manifest.json'
# Bump whenever the written bytes change for the same arguments.
CONVERTER_VERSION = 2
# OpenShape's split file name for the training split.
OPENSHAPE_TRAIN_SPLIT = 'train_all.json'


def parse_part(part: str) -> Tuple[Tuple[str, ...], Optional[str]]:
    """``'all'`` -> all splits; ``'train'`` -> that split; ``'train_a'`` /
    ``'train_b'`` -> one of two disjoint halves of it (per class)."""
    if part == 'all':
        return SPLITS, None
    split, _, half = part.partition('_')
    if split not in SPLITS or (half and half not in HALVES):
        raise ValueError(f"part must be 'all', a split of {SPLITS} or "
                         f"'<split>_a' / '<split>_b', got {part!r}")
    return (split, ), half or None


def half_of(entries: Sequence[str], half: str, seed: int) -> List[str]:
    """One of two disjoint halves of split entries, class by class.

    Within each synset the sorted entries are shuffled (seeded) and dealt
    alternately, so both halves hold every class (given two shapes).
    """
    by_synset: Dict[str, List[str]] = {}
    for e in sorted(entries):
        by_synset.setdefault(e.partition('-')[0], []).append(e)
    keep = []
    for synset, items in sorted(by_synset.items()):
        digest = hashlib.sha256(f'{seed}:{synset}'.encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], 'little'))
        order = rng.permutation(len(items))
        first = 0 if half == 'a' else 1
        keep += [items[i] for i in sorted(order[first::2])]
    return keep


def _link_or_copy(src: str, dst: str) -> None:
    os.makedirs(osp.dirname(dst), exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _require(path: str, what: str) -> str:
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: {what} does not exist')
    return path


class _Source:
    """The CG3D-layout ShapeNet55 folder being converted."""

    def __init__(self, root: str) -> None:
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'{root} does not exist (expected a ShapeNet55 folder in '
                "CG3D's layout: shapenet_pc/, shapenet_render/img/, "
                'train_img.txt, taxonomy.json)')
        self.root = root
        self.taxonomy = read_taxonomy(osp.join(root, 'taxonomy.json'))
        names_file = osp.join(root, 'shape_names.txt')
        self.classes = (set(read_lines(names_file, 'class list'))
                        if osp.isfile(names_file) else set())

    def entries(self, split: str) -> List[str]:
        lines = read_lines(osp.join(self.root, f'{split}_img.txt'),
                           f'{split} split list')
        return [line[:-4] if line.endswith('.npy') else line
                for line in lines]

    def xyz(self, name: str) -> str:
        return _require(osp.join(self.root, 'shapenet_pc', f'{name}.npy'),
                        'point file')

    def xyz_rgb(self, name: str) -> np.ndarray:
        path = _require(
            osp.join(self.root, 'shapenet_pc_rgb', f'{name}.npy'),
            'coloured point file (N x 6; the ULIP-2 and OpenShape layouts '
            'ship colour)')
        pts = np.load(path, allow_pickle=False)
        if pts.ndim != 2 or pts.shape[1] != 6:
            raise ValueError(f'{path}: expected (N, 6) xyz + rgb, got '
                             f'{tuple(pts.shape)}')
        return pts.astype(np.float32, copy=False)

    def views(self, name: str) -> List[str]:
        synset, _, model_id = name.partition('-')
        folder = osp.join(self.root, 'shapenet_render', 'img', synset,
                          model_id)
        try:
            files = sorted(f for f in os.listdir(folder)
                           if f.endswith('.png'))
        except OSError:
            files = []
        if not files:
            raise FileNotFoundError(f'{folder}: no rendered views (expected '
                                    '000.png ..)')
        return [osp.join(folder, f) for f in files]

    def names(self, name: str) -> List[str]:
        synset = name.partition('-')[0]
        if synset not in self.taxonomy:
            raise ValueError(f'{self.root}/taxonomy.json has no synset '
                             f'{synset} (of {name})')
        return self.taxonomy[synset]

    def class_name(self, name: str) -> str:
        """The class ``ShapeNetTriplets`` gives the shape (its first
        taxonomy name without a ``shape_names.txt``)."""
        names = self.names(name)
        return (taxonomy_class(names, self.classes) if self.classes
                else None) or names[0]


def _captions(class_name: str, count: int,
              rng: np.random.Generator) -> List[str]:
    """``count`` template captions of a class (templates drawn)."""
    return [PRETRAIN_TEMPLATES[rng.integers(len(PRETRAIN_TEMPLATES))].format(
        readable_class_name(class_name)) for _ in range(count)]


def _write_ulip_shapenet(src: _Source, out: str,
                         splits: Dict[str, List[str]], **_) -> dict:
    num_views = None
    for split, names in splits.items():
        for name in names:
            _link_or_copy(src.xyz(name),
                          osp.join(out, 'shapenet_pc', f'{name}.npy'))
            views = src.views(name)
            num_views = num_views or len(views)
            if len(views) != num_views:
                raise ValueError(f'{name}: {len(views)} views, others have '
                                 f'{num_views} (one azimuth grid per layout)')
            for k, view in enumerate(views):
                deg = round(360 * k / num_views)
                _link_or_copy(view, osp.join(
                    out, 'rendered_images', name,
                    f'{name}_r_{deg:03d}.png'))
        with open(osp.join(out, f'{split}.txt'), 'w') as f:
            f.write(''.join(f'{n}.npy\n' for n in names))
    used = sorted({n.partition('-')[0] for ns in splits.values() for n in ns})
    with open(osp.join(out, 'taxonomy.json'), 'w') as f:
        json.dump([dict(synsetId=s, name=','.join(src.taxonomy[s]),
                        children=[],
                        numInstances=sum(n.startswith(s + '-')
                                         for ns in splits.values()
                                         for n in ns))
                   for s in used], f, indent=1)
    return dict(view_degrees=[round(360 * k / (num_views or 1))
                              for k in range(num_views or 0)])


def _write_ulip2_objaverse(src: _Source, out: str,
                           splits: Dict[str, List[str]], seed: int,
                           captions_per_view: int, **_) -> dict:
    rng = np.random.default_rng(seed)
    captions = {}
    for split, names in splits.items():
        for uid in names:
            pc_dir = osp.join(out, 'objaverse_pc_parallel', uid)
            os.makedirs(pc_dir, exist_ok=True)
            np.savez(osp.join(pc_dir, f'{uid}_8192.npz'), src.xyz_rgb(uid))
            per_view = {}
            for k, view in enumerate(src.views(uid)):
                file = f'{k:03d}.png'
                _link_or_copy(view, osp.join(out, 'rendered_images', uid,
                                             file))
                per_view[file] = _captions(src.class_name(uid),
                                           captions_per_view, rng)
            captions[uid] = per_view
        with open(osp.join(out, f'{split}.txt'), 'w') as f:
            f.write(''.join(f'{n}\n' for n in names))
    with open(osp.join(out, 'captions.json'), 'w') as f:
        json.dump(captions, f, indent=1)
    return {}


def _write_openshape(src: _Source, out: str, splits: Dict[str, List[str]],
                     seed: int, **_) -> dict:
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(out, 'meta_data', 'split'), exist_ok=True)
    for split, names in splits.items():
        entries = []
        for uid in names:
            synset = uid.partition('-')[0]
            rel = osp.join('ShapeNet', synset, f'{uid}.npy')
            pts = src.xyz_rgb(uid)
            blip, msft = _captions(src.class_name(uid), 2, rng)
            shape = dict(xyz=pts[:, :3].copy(), rgb=pts[:, 3:].copy(),
                         text=[src.class_name(uid)], blip_caption=blip,
                         msft_caption=msft, retrieval_text=[])
            os.makedirs(osp.join(out, 'ShapeNet', synset), exist_ok=True)
            np.save(osp.join(out, rel), np.array(shape, dtype=object),
                    allow_pickle=True)
            entries.append(dict(id=uid, data_path=rel, dataset='ShapeNet',
                                group=synset))
        file = OPENSHAPE_TRAIN_SPLIT if split == 'train' else f'{split}.json'
        with open(osp.join(out, 'meta_data', 'split', file), 'w') as f:
            json.dump(entries, f, indent=1)
    return {}


_WRITERS = dict(ulip_shapenet=_write_ulip_shapenet,
                ulip2_objaverse=_write_ulip2_objaverse,
                openshape=_write_openshape)


def convert_triplets(src_root: str, out_dir: str, layout: str,
                     part: str = 'all', seed: int = 0,
                     captions_per_view: int = 2) -> str:
    """Write the ShapeNet55 folder ``src_root`` in ``layout`` to
    ``out_dir``.

    Args:
        src_root (str): ShapeNet55 folder in CG3D's layout.
        out_dir (str): Output folder (created; reused if it holds the same
            conversion, refused if it holds anything else).
        layout (str): One of :data:`TARGET_LAYOUTS`.
        part (str): ``'all'``, a split (``'train'``) or half of one
            (``'train_a'`` / ``'train_b'``, disjoint, every class in both).
        seed (int): Seed of the halves and of the template captions.
        captions_per_view (int): Captions per view (``ulip2_objaverse``).

    Returns:
        str: ``out_dir``.
    """
    if layout not in TARGET_LAYOUTS:
        raise ValueError(f'layout must be one of {TARGET_LAYOUTS}, got '
                         f'{layout!r}')
    if int(captions_per_view) < 1:
        raise ValueError('captions_per_view must be >= 1, got '
                         f'{captions_per_view!r}')
    split_names, half = parse_part(part)
    src = _Source(src_root)
    splits = {}
    for split in split_names:
        entries = src.entries(split)
        splits[split] = half_of(entries, half, seed) if half else sorted(
            entries)
    manifest = dict(converter='cg3d_mm.datagen.triplets.convert_layouts',
                    version=CONVERTER_VERSION, layout=layout, part=part,
                    seed=int(seed), captions_per_view=int(captions_per_view),
                    source=osp.abspath(src_root),
                    counts={s: len(n) for s, n in splits.items()})
    out_dir = osp.abspath(out_dir)
    if _existing(out_dir, manifest):
        return out_dir
    parent = osp.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(out_dir)}.tmp-',
                           dir=parent)
    try:
        manifest.update(_WRITERS[layout](
            src, tmp, splits, seed=int(seed),
            captions_per_view=int(captions_per_view)))
        with open(osp.join(tmp, LAYOUT_MANIFEST), 'w') as f:
            json.dump(manifest, f, indent=1, sort_keys=True)
        os.rename(tmp, out_dir)
    finally:
        if osp.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    print_log(f'converted {src_root} ({part}: '
              f'{sum(len(n) for n in splits.values())} shapes) to the '
              f'{layout} layout in {out_dir}', logger='current')
    return out_dir


def _existing(out_dir: str, manifest: dict) -> bool:
    if not osp.exists(out_dir):
        return False
    path = osp.join(out_dir, LAYOUT_MANIFEST)
    if not osp.isfile(path):
        if osp.isdir(out_dir) and not os.listdir(out_dir):
            os.rmdir(out_dir)
            return False
        raise FileExistsError(f'{out_dir} exists and holds no '
                              f'{LAYOUT_MANIFEST}: refusing to write into '
                              'it; choose another output folder')
    with open(path) as f:
        found = json.load(f)
    same = {k: v for k, v in found.items() if k in manifest}
    if same == manifest:
        return True
    differs = {k: (found.get(k), v) for k, v in manifest.items()
               if found.get(k) != v}
    raise FileExistsError(
        f'{out_dir} holds another conversion (found, requested: {differs}); '
        'choose another output folder or delete it')


def ensure_synthetic_layout(layout: str, part: str = 'train', seed: int = 0,
                            captions_per_view: int = 2,
                            **synthetic) -> str:
    """The synthetic world's ShapeNet55 converted to ``layout`` (asset
    ``synthetic_layout``), generated on first use in the cache.

    Args:
        layout (str): One of :data:`TARGET_LAYOUTS`.
        part (str): See :func:`convert_triplets` (e.g. ``'train_a'``).
        seed (int): The synthetic world's seed (also the halves').
        captions_per_view (int): See :func:`convert_triplets`.
        **synthetic: Other settings of the synthetic world
            (``ensure_synthetic_data``'s).
    """
    from cg3d_mm.datagen.synthetic import ensure_synthetic_data
    root = str(ensure_synthetic_data(seed=seed, **synthetic))
    key = hashlib.sha256(json.dumps(
        dict(root=root, version=CONVERTER_VERSION,
             captions_per_view=captions_per_view),
        sort_keys=True).encode()).hexdigest()[:10]
    out = cache_dir('synthetic_layouts', f'{layout}-{part}-seed{seed}-{key}')
    os.makedirs(osp.dirname(out), exist_ok=True)
    with FileLock(out + '.lock'):
        return convert_triplets(osp.join(root, 'ShapeNet55'), out, layout,
                                part=part, seed=seed,
                                captions_per_view=captions_per_view)
