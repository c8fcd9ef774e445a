# The CPU demo with colour, trained from tar shards: pointmlp_synthetic_rgb.py
# with its training split streamed from shards of the synthetic world
# (_base_/datasets/synthetic_shards.py) instead of the folder layout.
#   python tools/train.py configs/cg3d/pointmlp_synthetic-shards_rgb.py
# Like pointmlp_synthetic_rgb.py it repeats pointmlp_synthetic.py's own
# settings (mmengine forbids two bases defining the same keys);
# tests/test_datasets/test_sharded_triplets.py checks that it differs from
# pointmlp_synthetic_rgb.py only in the training data and its hook.
_base_ = [
    './_base_/models/cg3d_pointmlp.py',
    './_base_/datasets/synthetic_shards.py',
    './_base_/schedules/cg3d_alternating_100e.py',
    './_base_/default_runtime.py',
]

clip = dict(_delete_=True, model_name='cg3d-tiny-vit',
            demo=dict(synthetic={{_base_.synthetic}}))
model = dict(
    # colour: xyz + RGB per point
    backbone=dict(in_channels=6,
                  embed_channels=32, num_anchors=(128, 64, 32, 16),
                  num_neighbors=16, pre_blocks=(1, 1, 1, 1),
                  pos_blocks=(1, 1, 1, 1)),
    img_backbone=dict(clip=clip),
    text_encoder=dict(clip=clip),
    head=dict(in_channels=512, embed_dim=256))

max_epochs = 40
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
optim_wrapper = dict(point_encoder=dict(optimizer=dict(lr=1e-3)))
param_scheduler = dict(
    point_encoder=[
        dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5,
             by_epoch=True, convert_to_iter_based=True)
    ],
    visual_prompt=[
        dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.,
             by_epoch=True, convert_to_iter_based=True)
    ])
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2,
                    save_best='zeroshot/top1', rule='greater'))
test_after_train = True
# StreamPositionHook: seeds each epoch's shard order and shuffle buffers,
# saves the stream position in checkpoints and restores it on --resume.
custom_hooks = [
    dict(type='AlternatingOptimizerHook',
         schedule=('point_encoder', 'visual_prompt')),
    dict(type='ZeroShotClassesHook'),
    dict(type='StreamPositionHook'),
]
