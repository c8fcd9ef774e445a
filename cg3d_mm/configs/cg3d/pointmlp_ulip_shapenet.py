# Generated from configs/cg3d/pointmlp_ulip-shapenet.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from mmengine.config import read_base

with read_base():
    from ._base_.models.cg3d_pointmlp import *
    from ._base_.datasets.ulip_shapenet_triplets import *
    from ._base_.schedules.cg3d_alternating_100e import *
    from ._base_.default_runtime import *
    from .zeroshot._base_.datasets.modelnet40 import *

from cg3d_mm.datasets import ModelNet, ULIPShapeNetTriplets
from cg3d_mm.datasets.transforms import (LoadPointCloud, NormalizePoints,
                                         PackCG3DInputs, SamplePoints)
from cg3d_mm.evaluation import ZeroShotAccuracy
from mmengine.dataset import DefaultSampler
from mmengine.hooks import CheckpointHook

val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type=DefaultSampler, shuffle=False),
    dataset=dict(
        type=ULIPShapeNetTriplets,
        data_root='data/shapenet-55/',
        ann_file='test.txt',
        test_mode=True,
        pipeline=[
            dict(type=LoadPointCloud, use_dims=(0, 1, 2)),
            dict(type=SamplePoints, num_points=1024, method='fps'),
            dict(type=NormalizePoints),
            dict(type=PackCG3DInputs, keys=('points', ))
        ]))
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type=DefaultSampler, shuffle=False),
    dataset=dict(
        type=ModelNet,
        data_root='data/modelnet40_normal_resampled/',
        num_classes=40,
        split='test',
        test_mode=True,
        pipeline=[
            dict(type=LoadPointCloud, use_dims=(0, 1, 2)),
            dict(type=SamplePoints, num_points=1024, method='fps'),
            dict(type=NormalizePoints),
            dict(type=PackCG3DInputs, keys=('points', ))
        ]))
val_evaluator = dict(type=ZeroShotAccuracy, name='val')
test_evaluator = dict(type=ZeroShotAccuracy, name='modelnet40')
default_hooks.merge(
    dict(
        checkpoint=dict(
            type=CheckpointHook,
            interval=1,
            max_keep_ckpts=3,
            save_best='zeroshot/top1',
            rule='greater')))
