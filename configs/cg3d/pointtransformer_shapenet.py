# CG3D pretraining, PointTransformer, ShapeNet55 triplets: the paper's recipe.
_base_ = [
    './_base_/models/cg3d_pointtransformer.py',
    './_base_/datasets/shapenet_triplets.py',
    './_base_/schedules/cg3d_alternating_100e.py',
    './_base_/default_runtime.py',
]

# PointTransformer: batch 64, AdamW 5e-5 / wd 0.05, prompts SGD 0.002.
train_dataloader = dict(batch_size=64)
optim_wrapper = dict(
    point_encoder=dict(
        optimizer=dict(lr=5e-5, weight_decay=0.05),
        # as the original: the CLS token is not decayed, its position is
        paramwise_cfg=dict(custom_keys=dict(
            cls_token=dict(decay_mult=0.), cls_pos=dict(decay_mult=1.)))),
    visual_prompt=dict(optimizer=dict(lr=0.002)))
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                    save_best='zeroshot/top1', rule='greater'))
