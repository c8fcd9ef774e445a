# Generated from configs/cg3d/pointmlp_synthetic-mixture-shards_rgb.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from mmengine.config import read_base

with read_base():
    from .pointmlp_synthetic_mixture_rgb import *

from cg3d_mm.datasets import MixedShardedTriplets
from cg3d_mm.datasets.transforms import (
    JitterPoints, LoadPointCloud, LoadTripletImage, NormalizePoints,
    PackCG3DInputs, PerturbRotation, RandomDropColor, RandomDropPoints,
    RandomRotatePoints, RandomScaleTranslate, SamplePoints,
    SampleSourceCaption)
from cg3d_mm.engine import (AlternatingOptimizerHook, StreamPositionHook,
                            ZeroShotClassesHook)

batch_size = 32
shard_settings = dict(synthetic=dict(seed=0), samples_per_shard=32)
openshape_shard_pipeline = [
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
    dict(type=RandomDropPoints, max_ratio=0.1, prob=0.3, min_points=512),
    dict(type=SamplePoints, num_points=512, method='fps'),
    dict(
        type=RandomScaleTranslate,
        scale_range=(0.6666666666666666, 1.5),
        translate_range=(-0.2, 0.2),
        prob=0.3),
    dict(type=RandomDropColor, prob=0.5, value=0.4),
    dict(type=SampleSourceCaption, templated=('text', )),
    dict(type=PackCG3DInputs, keys=('points', 'img'), blank_img_size=224)
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,
    sampler=None,
    dataset=dict(
        type=MixedShardedTriplets,
        ratios=(2, 1),
        seed=0,
        shuffle_buffer=64,
        batch_size=32,
        sources=[
            dict(
                synthetic=dict(
                    synthetic=dict(seed=0),
                    samples_per_shard=32,
                    layout='ulip2_objaverse',
                    part='train_a'),
                pipeline=[
                    dict(type=LoadPointCloud, use_dims=(0, 1, 2, 3, 4, 5)),
                    dict(type=NormalizePoints),
                    dict(
                        type=RandomRotatePoints,
                        up_axis='y',
                        quarter_turns=True,
                        angle_range=None,
                        prob=0.3),
                    dict(type=RandomRotatePoints, up_axis='y', prob=0.3),
                    dict(
                        type=PerturbRotation, sigma=0.06, clip=0.18, prob=0.3),
                    dict(type=JitterPoints, sigma=0.01, clip=0.05, prob=0.3),
                    dict(
                        type=RandomDropPoints,
                        max_ratio=0.1,
                        prob=0.3,
                        min_points=512),
                    dict(type=SamplePoints, num_points=512, method='fps'),
                    dict(
                        type=RandomScaleTranslate,
                        scale_range=(0.6666666666666666, 1.5),
                        translate_range=(-0.2, 0.2),
                        prob=0.3),
                    dict(type=RandomDropColor, prob=0.5, value=0.4),
                    dict(type=LoadTripletImage, view='random'),
                    dict(type=SampleSourceCaption),
                    dict(type=PackCG3DInputs, keys=('points', 'img'))
                ]),
            dict(
                synthetic=dict(
                    synthetic=dict(seed=0),
                    samples_per_shard=32,
                    layout='openshape',
                    part='train_b'),
                require_images=False,
                pipeline=[
                    dict(type=LoadPointCloud, use_dims=(0, 1, 2, 3, 4, 5)),
                    dict(type=NormalizePoints),
                    dict(
                        type=RandomRotatePoints,
                        up_axis='y',
                        quarter_turns=True,
                        angle_range=None,
                        prob=0.3),
                    dict(type=RandomRotatePoints, up_axis='y', prob=0.3),
                    dict(
                        type=PerturbRotation, sigma=0.06, clip=0.18, prob=0.3),
                    dict(type=JitterPoints, sigma=0.01, clip=0.05, prob=0.3),
                    dict(
                        type=RandomDropPoints,
                        max_ratio=0.1,
                        prob=0.3,
                        min_points=512),
                    dict(type=SamplePoints, num_points=512, method='fps'),
                    dict(
                        type=RandomScaleTranslate,
                        scale_range=(0.6666666666666666, 1.5),
                        translate_range=(-0.2, 0.2),
                        prob=0.3),
                    dict(type=RandomDropColor, prob=0.5, value=0.4),
                    dict(type=SampleSourceCaption, templated=('text', )),
                    dict(
                        type=PackCG3DInputs,
                        keys=('points', 'img'),
                        blank_img_size=224)
                ])
        ]))
custom_hooks = [
    dict(
        type=AlternatingOptimizerHook,
        schedule=('point_encoder', 'visual_prompt')),
    dict(type=ZeroShotClassesHook),
    dict(type=StreamPositionHook)
]
