# Generated from configs/cg3d/pointtransformer_shapenet.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from mmengine.config import read_base

with read_base():
    from ._base_.models.cg3d_pointtransformer import *
    from ._base_.datasets.shapenet_triplets import *
    from ._base_.schedules.cg3d_alternating_100e import *
    from ._base_.default_runtime import *

from mmengine.hooks import CheckpointHook

train_dataloader.merge(dict(batch_size=64))
optim_wrapper.merge(
    dict(
        point_encoder=dict(
            optimizer=dict(lr=5e-05, weight_decay=0.05),
            paramwise_cfg=dict(
                custom_keys=dict(
                    cls_token=dict(decay_mult=0.0),
                    cls_pos=dict(decay_mult=1.0)))),
        visual_prompt=dict(optimizer=dict(lr=0.002))))
auto_scale_lr.merge(dict(base_batch_size=64))
default_hooks.merge(
    dict(
        checkpoint=dict(
            type=CheckpointHook,
            interval=1,
            max_keep_ckpts=3,
            save_best='zeroshot/top1',
            rule='greater')))
