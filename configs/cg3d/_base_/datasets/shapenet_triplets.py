# CG3D pretraining triplets: ShapeNet55 points (Point-BERT release) + CG3D's
# renders + template captions. See README "Real data" for the layout.
dataset_type = 'ShapeNetTriplets'
data_root = 'data/ShapeNet55/'
num_points = 1024
up_axis = 'y'  # ShapeNet is y-up

train_pipeline = [
    dict(type='LoadPointCloud', use_dims=(0, 1, 2)),
    dict(type='SamplePoints', num_points=num_points, method='random'),
    dict(type='NormalizePoints'),
    # the original augmentations, each with probability 0.3
    dict(type='RandomRotatePoints', up_axis=up_axis, quarter_turns=True,
         angle_range=None, prob=0.3),
    dict(type='RandomRotatePoints', up_axis=up_axis, prob=0.3),
    dict(type='PerturbRotation', sigma=0.06, clip=0.18, prob=0.3),
    dict(type='JitterPoints', sigma=0.01, clip=0.05, prob=0.3),
    dict(type='RandomDropPoints', max_ratio=0.1, prob=0.3),
    dict(type='RandomScaleTranslate', scale_range=(2 / 3, 3 / 2),
         translate_range=(-0.2, 0.2)),
    # views are resized to the CLIP tower's input size (if needed) and
    # normalised with its mean/std on the device by CG3DDataPreprocessor
    dict(type='LoadTripletImage', view='random'),
    dict(type='SampleCaption'),
    dict(type='PackCG3DInputs', keys=('points', 'img')),
]
# Zero-shot evaluation on held-out shapes: deterministic FPS, points only.
test_pipeline = [
    dict(type='LoadPointCloud', use_dims=(0, 1, 2)),
    dict(type='SamplePoints', num_points=num_points, method='fps'),
    dict(type='NormalizePoints'),
    dict(type='PackCG3DInputs', keys=('points', )),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    drop_last=True,  # equal batches on every rank (global contrastive loss)
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='train_img.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='val_img.txt',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='test_img.txt',
        test_mode=True,
        pipeline=test_pipeline))
# Checkpoints are selected on val_img.txt, never on the test list.
val_evaluator = dict(type='ZeroShotAccuracy', name='val')
test_evaluator = dict(type='ZeroShotAccuracy', name='test')
