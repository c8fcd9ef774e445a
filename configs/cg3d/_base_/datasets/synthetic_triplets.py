# The built-in synthetic world in the CG3D layout (generated into the cache
# directory on first use, see cg3d_mm/datagen/synthetic). Same pipeline as
# the real ShapeNet triplets with two CPU-budget changes: 512 points, and the
# per-axis scale/translation applied with probability 0.3 like the other
# augmentations (always on, it slowed a 40-epoch run down the most).
_base_ = ['./shapenet_triplets.py']

synthetic = dict(seed=0)
num_points = 512
up_axis = 'y'

# normalise, augment, FPS, scale/translate: as shapenet_triplets.py
train_pipeline = [
    dict(type='LoadPointCloud', use_dims=(0, 1, 2)),
    dict(type='NormalizePoints'),
    dict(type='RandomRotatePoints', up_axis=up_axis, quarter_turns=True,
         angle_range=None, prob=0.3),
    dict(type='RandomRotatePoints', up_axis=up_axis, prob=0.3),
    dict(type='PerturbRotation', sigma=0.06, clip=0.18, prob=0.3),
    dict(type='JitterPoints', sigma=0.01, clip=0.05, prob=0.3),
    dict(type='RandomDropPoints', max_ratio=0.1, prob=0.3,
         min_points=num_points),
    dict(type='SamplePoints', num_points=num_points, method='fps'),
    dict(type='RandomScaleTranslate', scale_range=(2 / 3, 3 / 2),
         translate_range=(-0.2, 0.2), prob=0.3),
    dict(type='LoadTripletImage', view='random'),
    dict(type='SampleCaption'),
    dict(type='PackCG3DInputs', keys=('points', 'img')),
]
test_pipeline = [
    dict(type='LoadPointCloud', use_dims=(0, 1, 2)),
    dict(type='SamplePoints', num_points=num_points, method='fps'),
    dict(type='NormalizePoints'),
    dict(type='PackCG3DInputs', keys=('points', )),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(data_root=None, synthetic=synthetic,
                 pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1,
    dataset=dict(data_root=None, synthetic=synthetic,
                 pipeline=test_pipeline))
test_dataloader = dict(
    num_workers=1,
    dataset=dict(data_root=None, synthetic=synthetic,
                 pipeline=test_pipeline))
