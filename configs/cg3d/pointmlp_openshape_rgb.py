# CG3D point-encoder pretraining, PointMLP on coloured points, on
# OpenShape's processed data. OpenShape ships no rendered views, so this
# source trains the POINT-TEXT LOSS ONLY: no image is packed, every
# iteration steps the point encoder (the visual prompts never train).
#   python tools/train.py configs/cg3d/pointmlp_openshape_rgb.py
# No held-out training split: no validation, the last checkpoint is kept;
# the test is zero-shot Objaverse-LVIS in OpenShape's files.
_base_ = [
    './_base_/models/cg3d_pointmlp.py',
    './_base_/datasets/openshape_triplets.py',
    './_base_/schedules/cg3d_alternating_100e.py',
    './_base_/default_runtime.py',
    './zeroshot/_base_/datasets/objaverse_lvis.py',
]

model = dict(backbone=dict(in_channels=6))  # xyz + rgb per point

# points only: the point-text loss
train_pipeline = _base_.train_pipeline[:-1] + [
    dict(type='PackCG3DInputs', keys=('points', )),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
custom_hooks = [
    dict(type='AlternatingOptimizerHook', schedule=('point_encoder', )),
    dict(type='ZeroShotClassesHook'),
]
# the prompts' optimizer never steps: no schedule for it
param_scheduler = dict(visual_prompt=[])

test_pipeline = [
    dict(type='LoadPointCloud', use_dims=_base_.point_dims),
    dict(type='SamplePoints', num_points=_base_.num_points, method='fps'),
    dict(type='NormalizePoints'),
    dict(type='PackCG3DInputs', keys=('points', )),
]
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(_base_.zeroshot_dataset, pipeline=test_pipeline))
test_evaluator = _base_.zeroshot_evaluator
val_dataloader = None
val_cfg = None
val_evaluator = None
