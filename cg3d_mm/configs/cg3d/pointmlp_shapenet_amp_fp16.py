# Generated from configs/cg3d/pointmlp_shapenet_amp-fp16.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from mmengine.config import read_base

with read_base():
    from .pointmlp_shapenet import *

from mmengine.optim import AmpOptimWrapper

model.merge(dict(img_backbone=dict(with_cp=True)))
optim_wrapper.merge(
    dict(
        point_encoder=dict(type=AmpOptimWrapper, loss_scale='dynamic'),
        visual_prompt=dict(type=AmpOptimWrapper, loss_scale='dynamic')))
