# The built-in synthetic world's ShapeNet55 as a classification set, with
# coloured points (shapenet_pc_rgb/: xyz + RGB in [0, 1]): its 21 classes,
# train_img.txt / val_img.txt / test_img.txt (disjoint). ShapeNetTriplets
# gives each object its class label; only the points are read (no views).
# Validation runs on val_img.txt; the test split is evaluated once, on the
# final weights.
dataset_type = 'ShapeNetTriplets'
synthetic = dict(seed=0)
pc_dir = 'shapenet_pc_rgb'
point_dims = (0, 1, 2, 3, 4, 5)  # xyz, rgb
num_classes = 21
num_points = 512  # the CPU demo's (configs/cg3d/pointmlp_synthetic_rgb.py)

train_pipeline = [
    dict(type='LoadPointCloud', use_dims=point_dims),
    # a random subset each epoch (FPS of 8,192 points per sample per epoch
    # is the costliest step on CPU loaders); evaluation uses FPS
    dict(type='SamplePoints', num_points=num_points, method='random'),
    dict(type='NormalizePoints'),
    dict(type='RandomScaleTranslate', scale_range=(2 / 3, 3 / 2),
         translate_range=(-0.2, 0.2)),
    dict(type='PackCG3DInputs', keys=('points', )),
]
test_pipeline = [
    dict(type='LoadPointCloud', use_dims=point_dims),
    dict(type='SamplePoints', num_points=num_points, method='fps'),
    dict(type='NormalizePoints'),
    dict(type='PackCG3DInputs', keys=('points', )),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,  # no BatchNorm step on a batch of one
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=None, synthetic=synthetic,
                 ann_file='train_img.txt', pc_dir=pc_dir,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=None, synthetic=synthetic,
                 ann_file='val_img.txt', pc_dir=pc_dir, test_mode=True,
                 pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=None, synthetic=synthetic,
                 ann_file='test_img.txt', pc_dir=pc_dir, test_mode=True,
                 pipeline=test_pipeline))
val_evaluator = dict(type='ClassificationAccuracy')
test_evaluator = val_evaluator
