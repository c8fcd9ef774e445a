# ULIP-2's Objaverse triplets (data/ULIP-Objaverse_triplets/): coloured
# points objaverse_pc_parallel/<uid>/<uid>_8192.npz (arr_0: xyz + rgb), as
# salesforce's loaders read them. The names of the rendered views and of the
# caption file could not be verified from public code: the defaults of
# ULIP2ObjaverseTriplets (rendered_images/<uid>/*.png, captions.json) are
# assumptions, set img_dir / view_glob / caption_file to the release's (see
# cg3d_mm/datasets/ulip_triplets.py). Colours are assumed in [0, 1]. The
# caption is one of the drawn view's captions; all three CG3D losses train.
dataset_type = 'ULIP2ObjaverseTriplets'
data_root = 'data/ULIP-Objaverse_triplets/'
num_points = 1024
up_axis = 'y'  # Objaverse (glTF) is y-up
point_dims = (0, 1, 2, 3, 4, 5)  # xyz, rgb

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
    # OpenShape's colour augmentation: all colours grey with p = 0.5
    dict(type='RandomDropColor', prob=0.5, value=0.4),
    dict(type='LoadTripletImage', view='random'),
    dict(type='SampleSourceCaption'),
    dict(type='PackCG3DInputs', keys=('points', 'img')),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        pipeline=train_pipeline))
