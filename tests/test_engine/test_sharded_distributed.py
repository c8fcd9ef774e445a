"""Two gloo ranks x two DataLoader workers stream every sample of an epoch
exactly once (ShardedTriplets)."""
import json
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from data_writers import write_tiny_shapenet

EPOCHS = 2


def _collate(batch):
    return batch


def _rank(rank, world, init_file, shard_dir, out_dir):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    from torch.utils.data import DataLoader

    from cg3d_mm.datasets import ShardedTriplets
    ds = ShardedTriplets(data_root=shard_dir, shuffle_buffer=3, batch_size=2)
    loader = DataLoader(ds, batch_size=2, num_workers=2,
                        persistent_workers=True, collate_fn=_collate)
    seen = []
    for epoch in range(EPOCHS):
        ds.set_epoch(epoch)
        batches = [[(s['sample_id'], s['stream_worker']) for s in b]
                   for b in loader]
        seen.append(dict(len=len(loader), batches=batches))
    with open(os.path.join(out_dir, f'rank{rank}.json'), 'w') as f:
        json.dump(seen, f)
    dist.destroy_process_group()


@pytest.mark.slow  # two spawned interpreters import torch and cg3d_mm
@pytest.mark.timeout(300)
def test_two_ranks_two_workers_see_each_sample_once(tmp_path):
    from cg3d_mm.datagen.triplets.to_shards import shapenet_split_to_shards
    root = write_tiny_shapenet(tmp_path / 'ShapeNet55', per_class=7)
    shard_dir = str(tmp_path / 'shards')
    # 20 samples in 7 shards of 3: the 4 worker ranges cut through shards
    shapenet_split_to_shards(root, shard_dir, num_views=1,
                             samples_per_shard=3)
    mp.spawn(_rank, args=(2, str(tmp_path / 'init'), shard_dir,
                          str(tmp_path)), nprocs=2, join=True)
    ranks = [json.loads((tmp_path / f'rank{r}.json').read_text())
             for r in range(2)]
    orders = []
    for epoch in range(EPOCHS):
        keys = []
        for r in ranks:
            run = r[epoch]
            # equal batches on both ranks, as len(dataloader) says
            assert len(run['batches']) == run['len'] == 5
            assert {w for b in run['batches'] for _, w in b} == {0, 1}
            keys += [k for b in run['batches'] for k, _ in b]
        assert len(keys) == 20 and len(set(keys)) == 20, epoch
        orders.append(keys)
    assert orders[0] != orders[1]  # reshuffled per epoch
