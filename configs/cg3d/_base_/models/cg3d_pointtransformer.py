# CG3D with a Point-BERT style PointTransformer (64 groups x 32 points,
# 12 blocks, width 384; global feature [CLS, max] = 768 -> 512).
_base_ = ['./cg3d_pointmlp.py']

model = dict(
    backbone=dict(_delete_=True, type='PointTransformer'),
    head=dict(in_channels=768))
