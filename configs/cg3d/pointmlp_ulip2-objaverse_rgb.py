# CG3D pretraining, PointMLP on coloured points, on ULIP-2's Objaverse
# triplets (xyz + rgb, rendered views, per-view captions): all three losses.
#   python tools/train.py configs/cg3d/pointmlp_ulip2-objaverse_rgb.py
# The view and caption file names of that release are assumptions (see
# _base_/datasets/ulip2_objaverse_triplets.py). ULIP-2 ships no held-out
# split: no validation, the last checkpoint is kept; the test is zero-shot
# ModelNet40 with colours in OpenShape's files (data/OpenShape/).
_base_ = [
    './_base_/models/cg3d_pointmlp.py',
    './_base_/datasets/ulip2_objaverse_triplets.py',
    './_base_/schedules/cg3d_alternating_100e.py',
    './_base_/default_runtime.py',
    './zeroshot/_base_/datasets/openshape_modelnet40.py',
]

model = dict(backbone=dict(in_channels=6))  # xyz + rgb per point

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
