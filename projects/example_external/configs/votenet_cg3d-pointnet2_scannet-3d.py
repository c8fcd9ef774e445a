# mmdet3d's own VoteNet config, its PointNet2SASSG backbone initialised from
# the CG3D pretraining of cg3d_pointnet2_synthetic_bs16.py (same backbone
# on xyz; VoteNet's first layer also reads height: zero_pad_in_channels
# copies the 3 pretrained input channels and starts height at zero).
# mmdet3d's configs are old-style, so this one is too (one config cannot
# mix both styles); cg3d_mm's initialiser is named with its scope and
# custom_imports registers it.
_base_ = ['mmdet3d::votenet/votenet_8xb8_scannet-3d.py']

custom_imports = dict(imports=['cg3d_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='cg3d_mm.CG3DPretrained',
            checkpoint='work_dirs/cg3d_pointnet2_synthetic_bs16/epoch_40.pth',
            prefix='backbone.',
            strict=True,
            zero_pad_in_channels=['SA_modules.0.mlps.0.layer0.conv.weight'
                                  ])))
