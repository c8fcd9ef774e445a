# Generated from configs/cg3d/pointtransformer_synthetic.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from mmengine.config import read_base

with read_base():
    from .pointmlp_synthetic import *

from cg3d_mm.models.backbones import PointTransformer

model.merge(
    dict(
        backbone=dict(
            _delete_=True,
            type=PointTransformer,
            num_groups=32,
            group_size=16,
            encoder_channels=128,
            encoder_hidden_channels=(64, 128, 256),
            embed_dims=128,
            depth=4,
            num_heads=4,
            pos_hidden_channels=64,
            drop_path_rate=0.1),
        head=dict(in_channels=256)))
optim_wrapper.merge(
    dict(
        point_encoder=dict(
            optimizer=dict(lr=0.0005, weight_decay=0.05),
            paramwise_cfg=dict(
                custom_keys=dict(
                    cls_token=dict(decay_mult=0.0),
                    cls_pos=dict(decay_mult=1.0))))))
