# Generated from configs/cg3d/_base_/models/cg3d_pointtransformer.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from mmengine.config import read_base

with read_base():
    from .cg3d_pointmlp import *

from cg3d_mm.models.backbones import PointTransformer

model.merge(
    dict(
        backbone=dict(_delete_=True, type=PointTransformer),
        head=dict(in_channels=768)))
