# The CPU demo with colour: pointmlp_synthetic.py on coloured points
# (xyz + RGB of the synthetic world's shapenet_pc_rgb/, OpenShape's random
# colour drop) with a PointMLP reading 6 input channels.
#   python tools/train.py configs/cg3d/pointmlp_synthetic_rgb.py
# mmengine forbids two bases defining the same keys, so this file cannot
# inherit both pointmlp_synthetic.py and the coloured dataset: it repeats
# pointmlp_synthetic.py's own settings below, and
# tests/test_datasets/test_colors.py checks that the two configs differ only
# in the data pipeline and the backbone's in_channels.
_base_ = [
    './_base_/models/cg3d_pointmlp.py',
    './_base_/datasets/synthetic_triplets_rgb.py',
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
