# The CPU demo: CG3D pretraining on the built-in synthetic world.
#   python tools/train.py configs/cg3d/pointmlp_synthetic.py
# Same pipeline as pointmlp_shapenet.py with three changes that make it fit
# 2 CPU cores in minutes: the synthetic data, a small open_clip architecture
# (cg3d-tiny-vit) trained once on the synthetic renders as the "pretrained"
# CLIP (see cg3d_mm/datagen/demo_clip.py; real runs use ViT-B-16 weights), and a
# narrower PointMLP of the same architecture on 512 points.
_base_ = [
    './_base_/models/cg3d_pointmlp.py',
    './_base_/datasets/synthetic_triplets.py',
    './_base_/schedules/cg3d_alternating_100e.py',
    './_base_/default_runtime.py',
]

clip = dict(_delete_=True, model_name='cg3d-tiny-vit',
            demo=dict(synthetic={{_base_.synthetic}}))
model = dict(
    backbone=dict(embed_channels=32, num_anchors=(128, 64, 32, 16),
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
# After training, report zero-shot accuracy on the held-out test split.
test_after_train = True
