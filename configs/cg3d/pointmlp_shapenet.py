# CG3D pretraining, PointMLP, ShapeNet55 triplets: the paper's recipe.
_base_ = [
    './_base_/models/cg3d_pointmlp.py',
    './_base_/datasets/shapenet_triplets.py',
    './_base_/schedules/cg3d_alternating_100e.py',
    './_base_/default_runtime.py',
]

# PointMLP: batch 32, AdamW 1e-4 / wd 0.1, prompts SGD 0.01.
train_dataloader = dict(batch_size=32)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                    save_best='zeroshot/top1', rule='greater'))
