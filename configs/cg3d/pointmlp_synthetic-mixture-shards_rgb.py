# The colour CPU demo on a MIXTURE of two shard sources: the two halves of
# pointmlp_synthetic-mixture_rgb.py (ULIP-2's Objaverse layout with views,
# all three losses; OpenShape's layout without views, the point-text loss
# only), each written as tar shards (cached on first use from the two
# layouts) and streamed by MixedShardedTriplets with the same ratios and
# per-source pipelines. Epoch length and per-source counts are
# MixtureSampler's; each rank and DataLoader worker streams disjoint
# samples, and StreamPositionHook makes mid-epoch resumes exact.
#   python tools/train.py configs/cg3d/pointmlp_synthetic-mixture-shards_rgb.py
# (tools/dataset_converters/triplets_to_shards.py writes the shards of any
# config's split: --allow-no-images for OpenShape, --gzip for .tar.gz.)
_base_ = ['./pointmlp_synthetic-mixture_rgb.py']

batch_size = 32
shard_settings = dict(synthetic=dict(seed=_base_.seed), samples_per_shard=32)
# in shards the points are in memory: OpenShape's file loader is dropped
# and LoadPointCloud takes them; the ULIP-2 pipeline runs unchanged (its
# LoadTripletImage decodes the in-memory views)
openshape_shard_pipeline = [
    t for t in _base_.openshape_pipeline if t['type'] != 'LoadOpenShapeShape'
]

train_dataloader = dict(
    _delete_=True,
    batch_size=batch_size,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,
    sampler=None,  # the dataset draws, splits and shuffles the mixture
    dataset=dict(
        type='MixedShardedTriplets',
        # one epoch = as many samples as both halves, in the folder
        # mixture's ratios
        ratios=_base_.train_dataloader.sampler.ratios,
        seed=_base_.seed,
        shuffle_buffer=64,  # samples held per source and worker
        batch_size=batch_size,  # worker ranges of whole batches
        sources=[
            dict(synthetic=dict(shard_settings, layout='ulip2_objaverse',
                                part='train_a'),
                 pipeline=_base_.ulip2_pipeline),
            dict(synthetic=dict(shard_settings, layout='openshape',
                                part='train_b'),
                 require_images=False,  # no views: has_img=False
                 pipeline=openshape_shard_pipeline),
        ]))
# StreamPositionHook: seeds each epoch's shard orders, buffers and
# interleave, saves the stream position in checkpoints and restores it.
custom_hooks = [*_base_.custom_hooks, dict(type='StreamPositionHook')]
