"""The built-in synthetic world's ShapeNet55 splits as tar shards.

The ``synthetic_shards`` asset: configs name
``ShardedTriplets(synthetic=dict(synthetic=dict(seed=0), split='train'))``
and get the shard folder, converted once (per world, split and settings)
into ``<cache>/synthetic_shards/`` from the synthetic ShapeNet55 layout.
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
from .triplets.to_shards import shapenet_split_to_shards


def ensure_synthetic_shards(synthetic: Optional[dict] = None,
                            split: str = 'train',
                            pc_dir: str = 'shapenet_pc',
                            samples_per_shard: int = 64,
                            shuffle_seed: int = 0) -> str:
    """Folder of the shards of one synthetic ShapeNet55 split (made on
    first use; concurrent callers wait for the first).

    Args:
        synthetic (dict, optional): Settings of the synthetic world
            (``ensure_synthetic_data`` arguments, e.g. ``dict(seed=0)``).
        split (str): 'train', 'val' or 'test'.
        pc_dir (str): 'shapenet_pc' (xyz) or 'shapenet_pc_rgb' (xyz + rgb).
        samples_per_shard (int): Samples per shard.
        shuffle_seed (int): Seed of the order samples are written in.

    Returns:
        str: The folder holding the ``.tar`` shards and ``shards.json``.
    """
    root = osp.join(str(ensure_synthetic_data(**dict(synthetic or {}))),
                    'ShapeNet55')
    settings = dict(root=root, split=split, pc_dir=pc_dir,
                    samples_per_shard=samples_per_shard,
                    shuffle_seed=shuffle_seed, version=INDEX_VERSION)
    key = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()
                       ).hexdigest()[:10]
    out = cache_dir('synthetic_shards', f'{split}-{pc_dir}-{key}')
    os.makedirs(osp.dirname(out), exist_ok=True)
    with FileLock(out + '.lock'):
        if not osp.isfile(osp.join(out, INDEX_FILE)):
            shapenet_split_to_shards(
                root, out, split=split, pc_dir=pc_dir,
                samples_per_shard=samples_per_shard,
                shuffle_seed=shuffle_seed, overwrite=True)
    return out
