# Generated from configs/cg3d/_base_/datasets/synthetic_shards.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from mmengine.config import read_base

with read_base():
    from .synthetic_triplets_rgb import *

from cg3d_mm.datasets import ShardedTriplets
from cg3d_mm.datasets.transforms import (
    JitterPoints, LoadPointCloud, LoadTripletImage, NormalizePoints,
    PackCG3DInputs, PerturbRotation, RandomDropColor, RandomDropPoints,
    RandomRotatePoints, RandomScaleTranslate, SampleCaption, SamplePoints)

batch_size = 32
synthetic_shards = dict(
    synthetic=dict(seed=0),
    split='train',
    pc_dir='shapenet_pc_rgb',
    samples_per_shard=32)
train_dataloader.merge(
    dict(
        batch_size=32,
        num_workers=2,
        persistent_workers=True,
        sampler=None,
        dataset=dict(
            _delete_=True,
            type=ShardedTriplets,
            synthetic=dict(
                synthetic=dict(seed=0),
                split='train',
                pc_dir='shapenet_pc_rgb',
                samples_per_shard=32),
            shuffle_buffer=128,
            batch_size=32,
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
                    min_points=512),
                dict(type=SamplePoints, num_points=512, method='fps'),
                dict(
                    type=RandomScaleTranslate,
                    scale_range=(0.6666666666666666, 1.5),
                    translate_range=(-0.2, 0.2),
                    prob=0.3),
                dict(type=RandomDropColor, prob=0.5, value=0.4),
                dict(type=LoadTripletImage, view='random'),
                dict(type=SampleCaption),
                dict(type=PackCG3DInputs, keys=('points', 'img'))
            ])))
