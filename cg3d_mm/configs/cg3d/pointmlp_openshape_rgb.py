# Generated from configs/cg3d/pointmlp_openshape_rgb.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from mmengine.config import read_base

with read_base():
    from ._base_.models.cg3d_pointmlp import *
    from ._base_.datasets.openshape_triplets import *
    from ._base_.schedules.cg3d_alternating_100e import *
    from ._base_.default_runtime import *
    from .zeroshot._base_.datasets.objaverse_lvis import *

from cg3d_mm.datasets import ObjaverseLVIS
from cg3d_mm.datasets.transforms import (
    JitterPoints, LoadOpenShapeShape, LoadPointCloud, NormalizePoints,
    PackCG3DInputs, PerturbRotation, RandomDropColor, RandomDropPoints,
    RandomRotatePoints, RandomScaleTranslate, SamplePoints,
    SampleSourceCaption)
from cg3d_mm.engine import AlternatingOptimizerHook, ZeroShotClassesHook
from cg3d_mm.evaluation import ZeroShotAccuracy
from mmengine.dataset import DefaultSampler

model.merge(dict(backbone=dict(in_channels=6)))
train_pipeline = [
    dict(
        type=LoadOpenShapeShape,
        text_sources=('text', 'caption', 'retrieval_text')),
    dict(type=LoadPointCloud, use_dims=(0, 1, 2, 3, 4, 5)),
    dict(type=NormalizePoints),
    dict(
        type=RandomRotatePoints,
        up_axis='y',
        quarter_turns=True,
        angle_range=None,
        prob=0.3),
    dict(type=RandomRotatePoints, up_axis='y', prob=0.3),
    dict(type=PerturbRotation, sigma=0.06, clip=0.18, prob=0.3),
    dict(type=JitterPoints, sigma=0.01, clip=0.05, prob=0.3),
    dict(type=RandomDropPoints, max_ratio=0.1, prob=0.3, min_points=1024),
    dict(type=SamplePoints, num_points=1024, method='fps'),
    dict(
        type=RandomScaleTranslate,
        scale_range=(0.6666666666666666, 1.5),
        translate_range=(-0.2, 0.2)),
    dict(type=RandomDropColor, prob=0.5, value=0.4),
    dict(type=SampleSourceCaption, templated=('text', )),
    dict(type=PackCG3DInputs, keys=('points', ))
]
train_dataloader.merge(
    dict(
        dataset=dict(pipeline=[
            dict(
                type=LoadOpenShapeShape,
                text_sources=('text', 'caption', 'retrieval_text')),
            dict(type=LoadPointCloud, use_dims=(0, 1, 2, 3, 4, 5)),
            dict(type=NormalizePoints),
            dict(
                type=RandomRotatePoints,
                up_axis='y',
                quarter_turns=True,
                angle_range=None,
                prob=0.3),
            dict(type=RandomRotatePoints, up_axis='y', prob=0.3),
            dict(type=PerturbRotation, sigma=0.06, clip=0.18, prob=0.3),
            dict(type=JitterPoints, sigma=0.01, clip=0.05, prob=0.3),
            dict(
                type=RandomDropPoints,
                max_ratio=0.1,
                prob=0.3,
                min_points=1024),
            dict(type=SamplePoints, num_points=1024, method='fps'),
            dict(
                type=RandomScaleTranslate,
                scale_range=(0.6666666666666666, 1.5),
                translate_range=(-0.2, 0.2)),
            dict(type=RandomDropColor, prob=0.5, value=0.4),
            dict(type=SampleSourceCaption, templated=('text', )),
            dict(type=PackCG3DInputs, keys=('points', ))
        ])))
custom_hooks = [
    dict(type=AlternatingOptimizerHook, schedule=('point_encoder', )),
    dict(type=ZeroShotClassesHook)
]
param_scheduler.merge(dict(visual_prompt=[]))
test_pipeline = [
    dict(type=LoadPointCloud, use_dims=(0, 1, 2, 3, 4, 5)),
    dict(type=SamplePoints, num_points=1024, method='fps'),
    dict(type=NormalizePoints),
    dict(type=PackCG3DInputs, keys=('points', ))
]
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type=DefaultSampler, shuffle=False),
    dataset=dict(
        type=ObjaverseLVIS,
        data_root='data/OpenShape/',
        split='test',
        trust_pickle=True,
        test_mode=True,
        pipeline=[
            dict(type=LoadPointCloud, use_dims=(0, 1, 2, 3, 4, 5)),
            dict(type=SamplePoints, num_points=1024, method='fps'),
            dict(type=NormalizePoints),
            dict(type=PackCG3DInputs, keys=('points', ))
        ]))
test_evaluator = dict(type=ZeroShotAccuracy, name='objaverse_lvis')
val_dataloader = None
val_cfg = None
val_evaluator = None
