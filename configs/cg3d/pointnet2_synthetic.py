# CPU demo of CG3D pretraining with mmdet3d's PointNet2SASSG: the synthetic
# world, tiny CLIP and schedule of pointmlp_synthetic.py, with the point
# encoder of pointnet2_shapenet.py (full VoteNet widths, so that the VoteNet
# of configs/cg3d/detection/ loads its checkpoint, epoch_40.pth).
#   python tools/train.py configs/cg3d/pointnet2_synthetic.py
_base_ = ['./pointmlp_synthetic.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='PointNet2SASSG',
        in_channels=3,
        num_points=(512, 256, 128, 64),
        radius=(0.2, 0.4, 0.8, 1.2),
        num_samples=(64, 32, 16, 16),
        sa_channels=((64, 64, 128), (128, 128, 256), (128, 128, 256),
                     (128, 128, 256)),
        fp_channels=((256, 256), (256, 256)),
        norm_cfg=dict(type='BN2d'),
        sa_cfg=dict(type='PointSAModule', pool_mod='max', use_xyz=True,
                    normalize_xyz=True)),
    neck=dict(type='GlobalPoolNeck', pool='max',
              feature_keys=('fp_features', ), in_channels=256),
    head=dict(in_channels=256))
