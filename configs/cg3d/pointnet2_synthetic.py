# CPU demo of CG3D pretraining with mmdet3d's PointNet2SASSG: the synthetic
# world, tiny CLIP and schedule of pointmlp_synthetic.py, with the point
# encoder of pointnet2_shapenet.py (full VoteNet widths, so that the VoteNet
# of configs/cg3d/detection/ loads its checkpoint, epoch_40.pth).
#   python tools/train.py configs/cg3d/pointnet2_synthetic.py
_base_ = [
    './pointmlp_synthetic.py',
    './_base_/models/pointnet2_votenet_encoder.py',
]

model = dict(
    backbone=dict(_base_.pointnet2_backbone, _delete_=True),
    neck=_base_.pointnet2_neck,
    head=dict(in_channels=256))
