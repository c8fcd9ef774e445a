# ULIP's ShapeNet55 triplets as released (data/shapenet-55/: train.txt,
# taxonomy.json, shapenet_pc/ 8192 x 3, rendered_images/ 30 azimuths; see
# cg3d_mm/datasets/ulip_triplets.py). Points are xyz only; the caption is a
# taxonomy name of the synset in a pretraining template, drawn per
# iteration (SampleSourceCaption), the view one of the 30 RGB renders. All
# three CG3D losses train on it. Same point pipeline as
# shapenet_triplets.py (CG3D's recipe).
dataset_type = 'ULIPShapeNetTriplets'
data_root = 'data/shapenet-55/'
num_points = 1024
up_axis = 'y'  # ShapeNet is y-up
point_dims = (0, 1, 2)

train_pipeline = [
    dict(type='LoadPointCloud', use_dims=point_dims),
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
         translate_range=(-0.2, 0.2)),
    dict(type='LoadTripletImage', view='random'),
    dict(type='SampleSourceCaption'),
    dict(type='PackCG3DInputs', keys=('points', 'img')),
]
# Zero-shot evaluation: deterministic FPS, points only.
test_pipeline = [
    dict(type='LoadPointCloud', use_dims=point_dims),
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
        ann_file='train.txt',
        pipeline=train_pipeline))
