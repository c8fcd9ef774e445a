# Generated from configs/cg3d/pointmlp_ulip2-objaverse_rgb.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from mmengine.config import read_base

with read_base():
    from ._base_.models.cg3d_pointmlp import *
    from ._base_.datasets.ulip2_objaverse_triplets import *
    from ._base_.schedules.cg3d_alternating_100e import *
    from ._base_.default_runtime import *
    from .zeroshot._base_.datasets.openshape_modelnet40 import *

from cg3d_mm.datasets import OpenShapeModelNet40
from cg3d_mm.datasets.transforms import (LoadPointCloud, NormalizePoints,
                                         PackCG3DInputs, SamplePoints)
from cg3d_mm.evaluation import ZeroShotAccuracy
from mmengine.dataset import DefaultSampler

model.merge(dict(backbone=dict(in_channels=6)))
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
        type=OpenShapeModelNet40,
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
test_evaluator = dict(type=ZeroShotAccuracy, name='openshape_modelnet40')
val_dataloader = None
val_cfg = None
val_evaluator = None
