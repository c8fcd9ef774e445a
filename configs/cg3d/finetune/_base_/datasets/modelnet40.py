# ModelNet40 (PointNet++'s modelnet40_normal_resampled: 9,843 train / 2,468
# test shapes), xyz only, 1024 points.
dataset_type = 'ModelNet'
data_root = 'data/modelnet40_normal_resampled/'
num_classes = 40
num_points = 1024

train_pipeline = [
    dict(type='LoadPointCloud', use_dims=(0, 1, 2)),
    # a random subset each epoch (FPS of 10k points per sample per epoch is
    # too slow on CPU loaders); evaluation uses deterministic FPS
    dict(type='SamplePoints', num_points=num_points, method='random'),
    dict(type='NormalizePoints'),
    # the usual ModelNet augmentation: per-axis scale and translation
    dict(type='RandomScaleTranslate', scale_range=(2 / 3, 3 / 2),
         translate_range=(-0.2, 0.2)),
    dict(type='PackCG3DInputs', keys=('points', )),
]
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
    drop_last=True,  # no BatchNorm step on a batch of one
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root,
                 num_classes=num_classes, split='train',
                 pipeline=train_pipeline))
# ModelNet40 has no validation split: like the original recipes, validation
# runs on the test split. The reported number is the LAST epoch's (test
# loop after training), never a maximum over epochs picked on the test set.
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 num_classes=num_classes, split='test', test_mode=True,
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClassificationAccuracy')
test_evaluator = val_evaluator
