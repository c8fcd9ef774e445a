# Generated from configs/cg3d/_base_/datasets/ulip2_objaverse_triplets.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from cg3d_mm.datasets import ULIP2ObjaverseTriplets
from cg3d_mm.datasets.transforms import (
    JitterPoints, LoadPointCloud, LoadTripletImage, NormalizePoints,
    PackCG3DInputs, PerturbRotation, RandomDropColor, RandomDropPoints,
    RandomRotatePoints, RandomScaleTranslate, SamplePoints,
    SampleSourceCaption)
from mmengine.dataset import DefaultSampler

dataset_type = 'ULIP2ObjaverseTriplets'
data_root = 'data/ULIP-Objaverse_triplets/'
num_points = 1024
up_axis = 'y'
point_dims = (0, 1, 2, 3, 4, 5)
train_pipeline = [
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
    dict(type=LoadTripletImage, view='random'),
    dict(type=SampleSourceCaption),
    dict(type=PackCG3DInputs, keys=('points', 'img'))
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type=DefaultSampler, shuffle=True),
    dataset=dict(
        type=ULIP2ObjaverseTriplets,
        data_root='data/ULIP-Objaverse_triplets/',
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
            dict(type=LoadTripletImage, view='random'),
            dict(type=SampleSourceCaption),
            dict(type=PackCG3DInputs, keys=('points', 'img'))
        ]))
