# Generated from configs/cg3d/pointmlp_synthetic-mixture_rgb.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from mmengine.config import read_base

with read_base():
    from .pointmlp_synthetic_rgb import *

from cg3d_mm.datasets import (MixtureSampler, OpenShapeTriplets,
                              ULIP2ObjaverseTriplets)
from cg3d_mm.datasets.transforms import (
    JitterPoints, LoadOpenShapeShape, LoadPointCloud, LoadTripletImage,
    NormalizePoints, PackCG3DInputs, PerturbRotation, RandomDropColor,
    RandomDropPoints, RandomRotatePoints, RandomScaleTranslate, SamplePoints,
    SampleSourceCaption)
from mmengine.dataset import ConcatDataset
from mmengine.optim import CosineAnnealingLR

seed = 0
num_points = 512
up_axis = 'y'
point_dims = (0, 1, 2, 3, 4, 5)
view_size = 224
point_augmentation = [
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
    dict(type=RandomDropColor, prob=0.5, value=0.4)
]
ulip2_pipeline = [
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
    dict(type=LoadTripletImage, view='random'),
    dict(type=SampleSourceCaption),
    dict(type=PackCG3DInputs, keys=('points', 'img'))
]
openshape_pipeline = [
    dict(type=LoadOpenShapeShape),
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
    sampler=dict(type=MixtureSampler, ratios=(2, 1)),
    dataset=dict(
        type=ConcatDataset,
        ignore_keys=['classes'],
        datasets=[
            dict(
                type=ULIP2ObjaverseTriplets,
                synthetic=dict(
                    seed=0, layout='ulip2_objaverse', part='train_a'),
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
                type=OpenShapeTriplets,
                synthetic=dict(seed=0, layout='openshape', part='train_b'),
                trust_pickle=True,
                pipeline=[
                    dict(type=LoadOpenShapeShape),
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
max_epochs = 60
train_cfg.merge(dict(max_epochs=60))
param_scheduler.merge(
    dict(
        point_encoder=[
            dict(
                type=CosineAnnealingLR,
                T_max=60,
                eta_min=1e-05,
                by_epoch=True,
                convert_to_iter_based=True)
        ],
        visual_prompt=[
            dict(
                type=CosineAnnealingLR,
                T_max=60,
                eta_min=0.0,
                by_epoch=True,
                convert_to_iter_based=True)
        ]))
