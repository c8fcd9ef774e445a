# ScanObjectNN, hardest variant PB_T50_RS (main_split, augmentedrot_scale75:
# 11,416 train / 2,882 test), 15 classes, 1024 of the 2,048 points.
dataset_type = 'ScanObjectNN'
data_root = 'data/ScanObjectNN/'
variant = 'PB_T50_RS'
num_classes = 15
num_points = 1024
up_axis = 'y'  # ScanObjectNN objects stand on +y

train_pipeline = [
    dict(type='LoadPointCloud', use_dims=(0, 1, 2)),
    dict(type='SamplePoints', num_points=num_points, method='random'),
    dict(type='NormalizePoints'),
    # real scans have arbitrary headings: rotate about the up axis
    dict(type='RandomRotatePoints', up_axis=up_axis),
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
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, variant=variant,
                 split='train', pipeline=train_pipeline))
# No validation split either: validation = test split, reported number =
# last epoch (see modelnet40.py).
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, variant=variant,
                 split='test', test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClassificationAccuracy')
test_evaluator = val_evaluator
