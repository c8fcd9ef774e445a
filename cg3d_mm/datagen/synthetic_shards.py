"""The built-in synthetic world's triplets as tar shards.

The ``synthetic_shards`` asset: configs name
``ShardedTriplets(synthetic=dict(synthetic=dict(seed=0), split='train'))``
and get the shard folder, converted once (per world, split and settings)
into ``<cache>/synthetic_shards/`` from the synthetic ShapeNet55 layout;
with ``layout='ulip2_objaverse'`` / ``'openshape'`` / ``'ulip_shapenet'``
and a ``part`` (e.g. ``'train_a'``) from that part of the world written in
the peer's released layout (the ``synthetic_layout`` asset), as
``configs/cg3d/pointmlp_synthetic-mixture-shards_rgb.py`` mixes them.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Optional

from filelock import FileLock

from cg3d_mm.datasets.sharded_triplets import INDEX_FILE, INDEX_VERSION
from cg3d_mm.utils.cache import cache_dir

from .synthetic import ensure_synthetic_data
from .triplets.to_shards import dataset_to_shards, shapenet_split_to_shards

# layout -> the dataset reading it (OpenShape's pickled files are this
# repository's own, written by the synthetic_layout asset)
LAYOUT_DATASETS = {
    'ulip2_objaverse': dict(type='ULIP2ObjaverseTriplets'),
    'ulip_shapenet': dict(type='ULIPShapeNetTriplets'),
    'openshape': dict(type='OpenShapeTriplets', trust_pickle=True),
}


def _layout_dataset(layout: str, part: str, synthetic: dict):
    """The synthetic world's ``part`` read in ``layout`` (no pipeline)."""
    if layout not in LAYOUT_DATASETS:
        raise ValueError(f'synthetic shards: layout must be one of '
                         f'{sorted(LAYOUT_DATASETS)} (or None for the CG3D '
                         f'ShapeNet55 layout), got {layout!r}')
    import cg3d_mm.datasets  # noqa: F401  registers the datasets
    from cg3d_mm.registry import DATASETS
    return DATASETS.build(dict(
        LAYOUT_DATASETS[layout], pipeline=[],
        synthetic=dict(synthetic, layout=layout, part=part)))


def ensure_synthetic_shards(synthetic: Optional[dict] = None,
                            split: str = 'train',
                            pc_dir: str = 'shapenet_pc',
                            samples_per_shard: int = 64,
                            shuffle_seed: int = 0,
                            compression: Optional[str] = None,
                            layout: Optional[str] = None,
                            part: str = 'train') -> str:
    """Folder of the shards of one synthetic split (made on first use;
    concurrent callers wait for the first).

    Args:
        synthetic (dict, optional): Settings of the synthetic world
            (``ensure_synthetic_data`` arguments, e.g. ``dict(seed=0)``).
        split (str): 'train', 'val' or 'test' (CG3D layout only).
        pc_dir (str): 'shapenet_pc' (xyz) or 'shapenet_pc_rgb' (xyz + rgb)
            (CG3D layout only; the peers' layouts have coloured points).
        samples_per_shard (int): Samples per shard.
        shuffle_seed (int): Seed of the order samples are written in.
        compression (str, optional): None (``.tar``) or 'gz'
            (``.tar.gz``).
        layout (str, optional): None: CG3D's ShapeNet55 layout;
            'ulip2_objaverse', 'openshape' or 'ulip_shapenet': that layout
            of the world (views, captions and texts as it ships them;
            OpenShape's samples have no view).
        part (str): With ``layout``: the part of the world converted
            (``'train'``, ``'train_a'``, ``'train_b'``, ...).

    Returns:
        str: The folder holding the shards and ``shards.json``.
    """
    synthetic = dict(synthetic or {})
    if layout is None:
        root = osp.join(str(ensure_synthetic_data(**synthetic)),
                        'ShapeNet55')
        settings = dict(root=root, split=split, pc_dir=pc_dir)
        name = f'{split}-{pc_dir}'
    else:
        dataset = _layout_dataset(layout, part, synthetic)
        settings = dict(root=dataset.data_root, layout=layout, part=part)
        name = f'{layout}-{part}'
    settings.update(samples_per_shard=samples_per_shard,
                    shuffle_seed=shuffle_seed, version=INDEX_VERSION)
    if compression is not None:  # plain shards keep their cache folder
        settings['compression'] = compression
    key = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()
                       ).hexdigest()[:10]
    out = cache_dir('synthetic_shards', f'{name}-{key}')
    os.makedirs(osp.dirname(out), exist_ok=True)
    with FileLock(out + '.lock'):
        if osp.isfile(osp.join(out, INDEX_FILE)):
            return out
        common = dict(samples_per_shard=samples_per_shard,
                      shuffle_seed=shuffle_seed, overwrite=True,
                      compression=compression)
        if layout is None:
            shapenet_split_to_shards(root, out, split=split, pc_dir=pc_dir,
                                     **common)
        else:
            # OpenShape ships no views: keep its view-less samples
            dataset_to_shards(dataset, out, require_images=False,
                              info=dict(source=dataset.data_root,
                                        layout=layout, part=part),
                              **common)
    return out
