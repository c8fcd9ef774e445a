# VoteNet on ScanNet, mmdet3d's own config unchanged, except that its
# PointNet2SASSG backbone starts from CG3D pretraining
# (configs/cg3d/pointnet2_shapenet.py: the same backbone, pretrained on
# ShapeNet objects against CLIP). The from-scratch twin is mmdet3d's
# votenet/votenet_8xb8_scannet-3d.py itself.
#   python tools/train.py \
#       configs/cg3d/detection/votenet_cg3d-pointnet2_8xb8_scannet-3d.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=CG3D.pth
# (the demo checkpoint of configs/cg3d/pointnet2_synthetic.py is
# work_dirs/pointnet2_synthetic/epoch_40.pth).
#
# Input channels: VoteNet's points are xyz + height above the floor
# (in_channels=4), CG3D pretrains on xyz alone (in_channels=3). Only the
# first conv of the first SA module depends on it: its input is [grouped
# xyz offsets (3), grouped features (in_channels - 3)], so its weight is
# (64, 3, 1, 1) in the checkpoint and (64, 4, 1, 1) here.
# zero_pad_in_channels copies the 3 pretrained input channels and sets the
# height channel's weights to zero: at initialisation the backbone computes
# exactly the pretrained xyz function and ignores height, which fine-tuning
# then learns to use. Every other backbone tensor (including the FP
# modules, pretrained through CG3D's neck) is copied as is; strict=True
# makes any other mismatch an error.
_base_ = ['mmdet3d::votenet/votenet_8xb8_scannet-3d.py']

custom_imports = dict(imports=['cg3d_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='cg3d_mm.CG3DPretrained',
            checkpoint='work_dirs/pointnet2_shapenet/epoch_100.pth',
            prefix='backbone.',
            strict=True,
            zero_pad_in_channels=['SA_modules.0.mlps.0.layer0.conv.weight'
                                  ])))
