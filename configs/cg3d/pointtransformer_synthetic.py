# The CPU demo with the PointTransformer encoder (see pointmlp_synthetic.py):
# same data, demo CLIP and schedule; a shallower, narrower PointTransformer
# of the same architecture (32 groups x 16 points, 4 blocks, width 128).
_base_ = ['./pointmlp_synthetic.py']

model = dict(
    backbone=dict(
        _delete_=True, type='PointTransformer', num_groups=32,
        group_size=16, encoder_channels=128,
        encoder_hidden_channels=(64, 128, 256), embed_dims=128, depth=4,
        num_heads=4, pos_hidden_channels=64, drop_path_rate=0.1),
    head=dict(in_channels=256))
optim_wrapper = dict(
    point_encoder=dict(
        optimizer=dict(lr=5e-4, weight_decay=0.05),
        # as the original: the CLS token is not decayed, its position is
        paramwise_cfg=dict(custom_keys=dict(
            cls_token=dict(decay_mult=0.), cls_pos=dict(decay_mult=1.)))))
