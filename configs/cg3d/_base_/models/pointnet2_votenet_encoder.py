# mmdet3d's own PointNet2SASSG (VoteNet's backbone) as a CG3D point encoder,
# with the pooling neck that turns its output into one global feature. Used
# as `model.backbone = dict(_base_.pointnet2_backbone, _delete_=True)` and
# `model.neck = _base_.pointnet2_neck` (see pointnet2_shapenet.py).
pointnet2_backbone = dict(
    type='PointNet2SASSG',
    # xyz only. VoteNet reads xyz + height (in_channels=4): its config
    # zero-pads the first SA layer's input channels on load. Coloured points
    # (xyz + RGB, e.g. _base_/datasets/synthetic_triplets_rgb.py): 6, the
    # RGB being the per-point features of the first SA layer.
    in_channels=3,
    # VoteNet's radii and group sizes (normalize_xyz divides offsets by the
    # radius) with fewer centres for 1024-point objects in the unit sphere
    # (VoteNet: 2048, 1024, 512, 256 of 20k-40k scene points); none of these
    # set a weight shape
    num_points=(512, 256, 128, 64),
    radius=(0.2, 0.4, 0.8, 1.2),
    num_samples=(64, 32, 16, 16),
    # VoteNet's widths: every backbone weight maps onto VoteNet's
    sa_channels=((64, 64, 128), (128, 128, 256), (128, 128, 256),
                 (128, 128, 256)),
    fp_channels=((256, 256), (256, 256)),
    norm_cfg=dict(type='BN2d'),
    sa_cfg=dict(type='PointSAModule', pool_mod='max', use_xyz=True,
                normalize_xyz=True))
# Max over the last FP stage (VoteNet's seed features): the FP modules are
# pretrained too, and no backbone weight is left unused.
pointnet2_neck = dict(type='GlobalPoolNeck', pool='max',
                      feature_keys=('fp_features', ), in_channels=256)
