# CG3D pretraining with mmdet3d's own PointNet2SASSG (VoteNet's backbone)
# as the point encoder, on ShapeNet55 triplets. Its backbone initialises
# VoteNet: configs/cg3d/detection/votenet_cg3d-pointnet2_8xb8_scannet-3d.py
_base_ = [
    './_base_/models/cg3d_pointmlp.py',
    './_base_/datasets/shapenet_triplets.py',
    './_base_/schedules/cg3d_alternating_100e.py',
    './_base_/default_runtime.py',
    './_base_/models/pointnet2_votenet_encoder.py',
]

model = dict(
    backbone=dict(_base_.pointnet2_backbone, _delete_=True),
    neck=_base_.pointnet2_neck,
    head=dict(in_channels=256))

# Batch 32, AdamW 1e-4 / wd 0.1, prompts SGD 0.01 (the PointMLP recipe; the
# paper has no PointNet++ run, these are not tuned).
train_dataloader = dict(batch_size=32)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                    save_best='zeroshot/top1', rule='greater'))
