# Generated from configs/cg3d/pointnet2_synthetic.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from mmengine.config import read_base

with read_base():
    from .pointmlp_synthetic import *
    from ._base_.models.pointnet2_votenet_encoder import *

from cg3d_mm.models.necks import GlobalPoolNeck
from mmdet3d.models import PointNet2SASSG
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
