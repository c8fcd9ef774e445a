# CG3D pretraining, PointMLP, on ULIP's released ShapeNet55 triplets (xyz,
# 30 rendered azimuths, taxonomy-name captions): all three losses.
#   python tools/train.py configs/cg3d/pointmlp_ulip-shapenet.py
# Checkpoints are selected by zero-shot accuracy on ULIP's ShapeNet55
# test.txt (its 55 classes); the test is zero-shot ModelNet40 (as ULIP
# reports), on which nothing is selected.
_base_ = [
    './_base_/models/cg3d_pointmlp.py',
    './_base_/datasets/ulip_shapenet_triplets.py',
    './_base_/schedules/cg3d_alternating_100e.py',
    './_base_/default_runtime.py',
    './zeroshot/_base_/datasets/modelnet40.py',
]

val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=_base_.dataset_type,
        data_root=_base_.data_root,
        ann_file='test.txt',
        test_mode=True,
        pipeline=_base_.test_pipeline))
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(_base_.zeroshot_dataset, pipeline=_base_.test_pipeline))
val_evaluator = dict(type='ZeroShotAccuracy', name='val')
test_evaluator = _base_.zeroshot_evaluator
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                    save_best='zeroshot/top1', rule='greater'))
