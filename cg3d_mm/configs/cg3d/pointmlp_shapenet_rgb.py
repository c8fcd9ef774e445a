# Generated from configs/cg3d/pointmlp_shapenet_rgb.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from mmengine.config import read_base

with read_base():
    from ._base_.models.cg3d_pointmlp import *
    from ._base_.datasets.shapenet_triplets_rgb import *
    from ._base_.schedules.cg3d_alternating_100e import *
    from ._base_.default_runtime import *

from mmengine.hooks import CheckpointHook

model.merge(dict(backbone=dict(in_channels=6)))
train_dataloader.merge(dict(batch_size=32))
default_hooks.merge(
    dict(
        checkpoint=dict(
            type=CheckpointHook,
            interval=1,
            max_keep_ckpts=3,
            save_best='zeroshot/top1',
            rule='greater')))
