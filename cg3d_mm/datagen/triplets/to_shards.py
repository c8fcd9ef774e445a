"""Convert triplet datasets (folder layouts) into tar shards.

Any dataset whose items carry ``pts_path``, ``img_paths`` and
``class_name`` (``ShapeNetTriplets`` and the other triplet layouts) is
converted by :func:`write_triplet_shards` (:func:`dataset_to_shards` for a
built dataset); OpenShape's items (pickled per-shape files, read only with
their ``trust_pickle`` opt-in) give their coloured points and their
caption candidates (``caption_groups``). :func:`shapenet_split_to_shards`
does one split of CG3D's ShapeNet55 layout with captions made from the
taxonomy names. ``compression='gz'`` writes ``.tar.gz`` shards. The
shards are written into a temporary folder beside ``out_dir`` and renamed
into place when complete (``overwrite`` swaps an existing folder out only
then), so ``out_dir`` always holds a complete set or nothing.
"""
import io
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import print_log
from tqdm import tqdm

from cg3d_mm.datasets.shapenet_triplets import ShapeNetTriplets, read_taxonomy
from cg3d_mm.datasets.transforms.loading import (UnreadableSampleError,
                                                 openshape_caption_groups,
                                                 read_openshape_shape,
                                                 read_points)
from cg3d_mm.utils.class_names import readable_class_name

from .shard_writer import ShardWriter, shard_key

VIEW_EXTS = ('.png', '.jpg', '.jpeg')
# caption structures of the peers' datasets, carried into the .json
CAPTION_KEYS = ('caption_groups', 'caption_names')


def dataset_items(dataset) -> List[dict]:
    """The items of an mmengine ``BaseDataset`` (``pts_path`` required;
    ``img_paths``, ``class_name``, ``captions`` and the peers' caption
    structures are carried over when present)."""
    if hasattr(dataset, 'full_init'):
        dataset.full_init()
    items = [dataset.get_data_info(i) for i in range(len(dataset))]
    for item in items[:1]:
        if 'pts_path' not in item:
            raise ValueError(
                f'{type(dataset).__name__}: its items have no pts_path; '
                'expected pts_path, img_paths and class_name (or captions)')
    return items


def _sample_files(item: dict, classes: Sequence[str],
                  captions: List[str], require_images: bool) -> Dict[str,
                                                                     bytes]:
    groups = None
    if item.get('trust_pickle') is True:
        # an OpenShape item (OpenShapeTriplets sets the opt-in): points
        # and caption candidates from its pickled file, as
        # LoadOpenShapeShape reads them
        shape = read_openshape_shape(item['pts_path'], True)
        pts = shape['points']
        groups = openshape_caption_groups(shape, item.get('dataset', ''))
    else:
        pts = read_points(item['pts_path'])  # names the file if unreadable
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(pts, dtype=np.float32))
    files = {'npy': buf.getvalue()}
    view_exts = []
    for k, path in enumerate(item.get('img_paths') or ()):
        ext = osp.splitext(path)[1].lower()
        if ext not in VIEW_EXTS:
            raise UnreadableSampleError(f'{path}: not a .png / .jpg view')
        try:
            with open(path, 'rb') as f:
                files[f'{k:03d}{ext}'] = f.read()
            view_exts.append(f'{k:03d}{ext}')
        except OSError as err:
            raise UnreadableSampleError(f'{path}: cannot read view ({err})')
    if require_images and not view_exts:
        raise UnreadableSampleError(f'{item["pts_path"]}: no rendered view')
    name = item.get('class_name')
    meta = dict(class_name=name, captions=captions,
                label=list(classes).index(name) if name in classes else -1,
                source=item.get('source') or item['pts_path'])
    for key in CAPTION_KEYS:  # the peers' caption structures, as shipped
        if item.get(key):
            meta[key] = item[key]
    if groups:
        meta['caption_groups'] = groups
    if item.get('view_captions'):  # keyed by the view's member extension
        by_file = {osp.basename(p): e for e, p in zip(view_exts,
                                                      item['img_paths'])}
        meta['view_captions'] = {by_file[f]: caps for f, caps in
                                 item['view_captions'].items()
                                 if f in by_file}
    files['json'] = json.dumps(meta, sort_keys=True).encode('utf-8')
    return files


def _replace_dir(tmp: str, out_dir: str) -> None:
    old = None
    if osp.exists(out_dir):
        old = tempfile.mkdtemp(prefix=f'.{osp.basename(out_dir)}.old.',
                               dir=osp.dirname(out_dir))
        os.rename(out_dir, osp.join(old, 'd'))
    os.rename(tmp, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_triplet_shards(items: Sequence[dict],
                         out_dir: str,
                         classes: Sequence[str],
                         samples_per_shard: int = 1000,
                         prefix: str = 'shard',
                         shuffle_seed: Optional[int] = 0,
                         captions_of: Optional[Callable[[dict],
                                                        List[str]]] = None,
                         require_images: bool = True,
                         overwrite: bool = False,
                         info: Optional[dict] = None,
                         progress: bool = False,
                         compression: Optional[str] = None) -> dict:
    """Write ``items`` as shards (see :mod:`.shard_writer`) in ``out_dir``.

    Args:
        items (Sequence[dict]): ``pts_path``, ``img_paths`` (views, in
            order), ``class_name``, optional ``sample_id`` (the key;
            default: the point file's name), ``captions``, ``source``.
        out_dir (str): Output folder (must not exist unless ``overwrite``).
        classes (Sequence[str]): Class names in label order.
        samples_per_shard (int): Samples per shard.
        prefix (str): Shard name prefix.
        shuffle_seed (int, optional): Samples are written in an order
            shuffled with this seed (a shuffle buffer then mixes classes
            even when the list is sorted by class); None keeps the order.
        captions_of (Callable, optional): item -> captions; default: the
            item's ``captions``, else its readable class name.
        require_images (bool): Leave out samples without a view.
        overwrite (bool): Replace an existing ``out_dir`` (once the new
            shards are complete).
        info (dict, optional): Extra index entries.
        progress (bool): Progress bar.
        compression (str, optional): None (``.tar``) or 'gz'
            (``.tar.gz``); see :class:`.ShardWriter`.

    Returns:
        dict: ``out_dir``, ``num_samples``, ``num_shards`` and ``skipped``
        (sample, error) for items left out (unreadable files, named).
    """
    out_dir = osp.abspath(out_dir)
    if osp.exists(out_dir) and not overwrite:
        raise FileExistsError(f'{out_dir} exists: choose a new folder, or '
                              'overwrite it')
    parent = osp.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    order = list(range(len(items)))
    if shuffle_seed is not None:
        np.random.default_rng(shuffle_seed).shuffle(order)
    skipped = []
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(out_dir)}.', dir=parent)
    try:
        with ShardWriter(tmp, classes, prefix, samples_per_shard,
                         dict(info or {}, shuffle_seed=shuffle_seed),
                         compression=compression) as w:
            for i in tqdm(order, desc='shards', unit='sample',
                          disable=not progress):
                item = items[i]
                name = item.get('sample_id') or osp.splitext(
                    osp.basename(item['pts_path']))[0]
                captions = captions_of(item) if captions_of else list(
                    item.get('captions') or ())
                if not captions and item.get('class_name'):
                    captions = [readable_class_name(item['class_name'])]
                try:
                    files = _sample_files(item, classes, captions,
                                          require_images)
                except UnreadableSampleError as err:
                    skipped.append(dict(sample=name, error=str(err)))
                    continue
                w.write(shard_key(name), files)
        num_samples, num_shards = w.num_samples, len(w.shards)
        _replace_dir(tmp, out_dir)
    finally:
        if osp.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    if skipped:
        print_log(f'{out_dir}: left out {len(skipped)} unreadable sample(s): '
                  + '; '.join(s['error'] for s in skipped[:5]),
                  logger='current', level=30)
    return dict(out_dir=out_dir, num_samples=num_samples,
                num_shards=num_shards, skipped=skipped)


def dataset_to_shards(dataset, out_dir: str, **kwargs) -> dict:
    """Write a built triplet dataset's items as shards (its pipeline is not
    run).

    The class list is the dataset's ``metainfo['classes']``; sources
    without one (ULIP-2's Objaverse, OpenShape) get their items' class
    names, if any. ``kwargs`` go to :func:`write_triplet_shards`.
    """
    items = dataset_items(dataset)
    classes = list(dataset.metainfo.get('classes') or sorted(
        {i['class_name'] for i in items if i.get('class_name')}))
    info = dict(kwargs.pop('info', None) or {},
                dataset=type(dataset).__name__)
    return write_triplet_shards(items, out_dir, classes, info=info, **kwargs)


def shapenet_split_to_shards(data_root: str, out_dir: str,
                             split: str = 'train',
                             pc_dir: str = 'shapenet_pc',
                             num_views: int = 5, **kwargs) -> dict:
    """One split of CG3D's ShapeNet55 layout as shards: points of
    ``pc_dir`` (``shapenet_pc_rgb`` for colour), all views, the class, and
    captions made from the synset's taxonomy names.

    ``kwargs`` go to :func:`write_triplet_shards`.
    """
    dataset = ShapeNetTriplets(data_root=data_root,
                               ann_file=f'{split}_img.txt', pc_dir=pc_dir,
                               num_views=num_views, max_missing_ratio=0.)
    taxonomy = read_taxonomy(osp.join(data_root, dataset.taxonomy_file))

    def captions_of(item: dict) -> List[str]:
        synset = item['sample_id'].partition('-')[0]
        names = [readable_class_name(n) for n in taxonomy.get(synset, ())]
        return list(dict.fromkeys(names)) or [
            readable_class_name(item['class_name'])]

    items = dataset_items(dataset)
    for item in items:
        item['source'] = osp.relpath(item['pts_path'], data_root)
    info = dict(kwargs.pop('info', None) or {}, source=osp.abspath(
        data_root), split=split, pc_dir=pc_dir, num_views=num_views)
    return write_triplet_shards(items, out_dir, dataset.metainfo['classes'],
                                captions_of=captions_of, info=info,
                                **kwargs)
