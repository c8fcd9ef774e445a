# Generated from configs/cg3d/pointmlp_synthetic_rgb.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from mmengine.config import read_base

with read_base():
    from ._base_.models.cg3d_pointmlp import *
    from ._base_.datasets.synthetic_triplets_rgb import *
    from ._base_.schedules.cg3d_alternating_100e import *
    from ._base_.default_runtime import *

from mmengine.hooks import CheckpointHook
from mmengine.optim import CosineAnnealingLR

clip = dict(model_name='cg3d-tiny-vit', demo=dict(synthetic=dict(seed=0)))
model.merge(
    dict(
        backbone=dict(
            in_channels=6,
            embed_channels=32,
            num_anchors=(128, 64, 32, 16),
            num_neighbors=16,
            pre_blocks=(1, 1, 1, 1),
            pos_blocks=(1, 1, 1, 1)),
        img_backbone=dict(
            clip=dict(
                _delete_=True,
                model_name='cg3d-tiny-vit',
                demo=dict(synthetic=dict(seed=0)))),
        text_encoder=dict(
            clip=dict(
                _delete_=True,
                model_name='cg3d-tiny-vit',
                demo=dict(synthetic=dict(seed=0)))),
        head=dict(in_channels=512, embed_dim=256)))
max_epochs = 40
train_cfg.merge(dict(max_epochs=40, val_interval=10))
optim_wrapper.merge(dict(point_encoder=dict(optimizer=dict(lr=0.001))))
param_scheduler.merge(
    dict(
        point_encoder=[
            dict(
                type=CosineAnnealingLR,
                T_max=40,
                eta_min=1e-05,
                by_epoch=True,
                convert_to_iter_based=True)
        ],
        visual_prompt=[
            dict(
                type=CosineAnnealingLR,
                T_max=40,
                eta_min=0.0,
                by_epoch=True,
                convert_to_iter_based=True)
        ]))
default_hooks.merge(
    dict(
        logger=dict(interval=10),
        checkpoint=dict(
            type=CheckpointHook,
            interval=10,
            max_keep_ckpts=2,
            save_best='zeroshot/top1',
            rule='greater')))
test_after_train = True
