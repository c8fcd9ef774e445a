# The synthetic world's ShapeNet55 training split streamed from tar shards
# (webdataset layout, see cg3d_mm/datasets/sharded_triplets.py), with
# coloured points: the shards are made once from shapenet_pc_rgb/ and the
# renders into the cache directory (the `synthetic_shards` asset). The
# pipeline is synthetic_triplets_rgb.py's, unchanged (its LoadTripletImage
# decodes the in-memory views); validation and test read the folder layout.
# Each epoch the shard order is reshuffled, every rank and DataLoader worker
# streams its own contiguous range of samples (whole batches) through a
# shuffle buffer; StreamPositionHook (custom_hooks of the model config)
# seeds each epoch and saves the position in checkpoints.
_base_ = ['./synthetic_triplets_rgb.py']

batch_size = 32
synthetic_shards = dict(synthetic=_base_.synthetic, split='train',
                        pc_dir=_base_.pc_dir, samples_per_shard=32)

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=2,
    persistent_workers=True,
    sampler=None,  # an IterableDataset splits and shuffles its stream itself
    dataset=dict(
        _delete_=True,
        type='ShardedTriplets',
        synthetic=synthetic_shards,
        shuffle_buffer=128,  # samples held per worker
        batch_size=batch_size,  # worker ranges of whole batches
        pipeline=_base_.train_pipeline))
