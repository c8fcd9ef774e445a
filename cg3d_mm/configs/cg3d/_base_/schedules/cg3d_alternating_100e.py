# Generated from configs/cg3d/_base_/schedules/cg3d_alternating_100e.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from cg3d_mm.engine import (AlternatingOptimizerHook,
                            CG3DOptimWrapperConstructor, ZeroShotClassesHook)
from mmengine.model import MMSeparateDistributedDataParallel
from mmengine.optim import CosineAnnealingLR, OptimWrapper
from mmengine.runner import EpochBasedTrainLoop, TestLoop, ValLoop
from torch.optim import AdamW, SGD

optim_wrapper = dict(
    constructor=CG3DOptimWrapperConstructor,
    point_encoder=dict(
        type=OptimWrapper,
        optimizer=dict(type=AdamW, lr=0.0001, weight_decay=0.1),
        clip_grad=dict(max_norm=10),
        paramwise_cfg=dict(
            norm_decay_mult=0.0,
            bias_decay_mult=0.0,
            flat_decay_mult=0.0,
            custom_keys=dict(
                affine_alpha=dict(decay_mult=1.0),
                affine_beta=dict(decay_mult=1.0)))),
    visual_prompt=dict(
        type=OptimWrapper,
        optimizer=dict(type=SGD, lr=0.01, momentum=0.9, weight_decay=0.0001),
        clip_grad=dict(max_norm=10)))
max_epochs = 100
param_scheduler = dict(
    point_encoder=[
        dict(
            type=CosineAnnealingLR,
            T_max=100,
            eta_min=1e-06,
            by_epoch=True,
            convert_to_iter_based=True)
    ],
    visual_prompt=[
        dict(
            type=CosineAnnealingLR,
            T_max=100,
            eta_min=0.0,
            by_epoch=True,
            convert_to_iter_based=True)
    ])
train_cfg = dict(type=EpochBasedTrainLoop, max_epochs=100, val_interval=1)
val_cfg = dict(type=ValLoop)
test_cfg = dict(type=TestLoop)
custom_hooks = [
    dict(
        type=AlternatingOptimizerHook,
        schedule=('point_encoder', 'visual_prompt')),
    dict(type=ZeroShotClassesHook)
]
model_wrapper_cfg = dict(
    type=MMSeparateDistributedDataParallel, find_unused_parameters=False)
auto_scale_lr = dict(enable=False, base_batch_size=32)
