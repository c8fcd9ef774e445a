# CG3D pretraining with mmdet3d's own PointNet2SASSG (VoteNet's backbone)
# as the point encoder, on ShapeNet55 triplets. Its backbone initialises
# VoteNet: configs/cg3d/detection/votenet_cg3d-pointnet2_8xb8_scannet-3d.py
_base_ = [
    './_base_/models/cg3d_pointmlp.py',
    './_base_/datasets/shapenet_triplets.py',
    './_base_/schedules/cg3d_alternating_100e.py',
    './_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        type='PointNet2SASSG',
        # xyz only. VoteNet reads xyz + height (in_channels=4): its config
        # zero-pads the first SA layer's input channels on load.
        in_channels=3,
        # VoteNet's radii and group sizes (normalize_xyz divides offsets by
        # the radius) with fewer centres for 1024-point objects in the unit
        # sphere (VoteNet: 2048, 1024, 512, 256 of 20k-40k scene points);
        # none of these set a weight shape
        num_points=(512, 256, 128, 64),
        radius=(0.2, 0.4, 0.8, 1.2),
        num_samples=(64, 32, 16, 16),
        # VoteNet's widths: every backbone weight maps onto VoteNet's
        sa_channels=((64, 64, 128), (128, 128, 256), (128, 128, 256),
                     (128, 128, 256)),
        fp_channels=((256, 256), (256, 256)),
        norm_cfg=dict(type='BN2d'),
        sa_cfg=dict(type='PointSAModule', pool_mod='max', use_xyz=True,
                    normalize_xyz=True)),
    # Max over the last FP stage (VoteNet's seed features): the FP modules
    # are pretrained too, and no backbone weight is left unused.
    neck=dict(type='GlobalPoolNeck', pool='max',
              feature_keys=('fp_features', ), in_channels=256),
    head=dict(in_channels=256))

# Batch 32, AdamW 1e-4 / wd 0.1, prompts SGD 0.01 (the PointMLP recipe; the
# paper has no PointNet++ run, these are not tuned).
train_dataloader = dict(batch_size=32)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                    save_best='zeroshot/top1', rule='greater'))
