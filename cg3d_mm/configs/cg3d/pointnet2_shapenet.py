# Generated from configs/cg3d/pointnet2_shapenet.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from mmengine.config import read_base

with read_base():
    from ._base_.models.cg3d_pointmlp import *
    from ._base_.datasets.shapenet_triplets import *
    from ._base_.schedules.cg3d_alternating_100e import *
    from ._base_.default_runtime import *
    from ._base_.models.pointnet2_votenet_encoder import *

from cg3d_mm.models.necks import GlobalPoolNeck
from mmdet3d.models import PointNet2SASSG
from mmengine.hooks import CheckpointHook
from torch.nn import BatchNorm2d

model.merge(
    dict(
        backbone=dict(
            type=PointNet2SASSG,
            in_channels=3,
            num_points=(512, 256, 128, 64),
            radius=(0.2, 0.4, 0.8, 1.2),
            num_samples=(64, 32, 16, 16),
            sa_channels=((64, 64, 128), (128, 128, 256), (128, 128, 256),
                         (128, 128, 256)),
            fp_channels=((256, 256), (256, 256)),
            norm_cfg=dict(type=BatchNorm2d),
            sa_cfg=dict(
                type='PointSAModule',
                pool_mod='max',
                use_xyz=True,
                normalize_xyz=True),
            _delete_=True),
        neck=dict(
            type=GlobalPoolNeck,
            pool='max',
            feature_keys=('fp_features', ),
            in_channels=256),
        head=dict(in_channels=256)))
train_dataloader.merge(dict(batch_size=32))
default_hooks.merge(
    dict(
        checkpoint=dict(
            type=CheckpointHook,
            interval=1,
            max_keep_ckpts=3,
            save_best='zeroshot/top1',
            rule='greater')))
