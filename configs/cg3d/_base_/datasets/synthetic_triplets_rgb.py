# The built-in synthetic world with coloured points: shapenet_pc_rgb/ holds
# the xyz of shapenet_pc/ followed by each point's RGB in [0, 1] (the face
# colour the renders show). Same pipeline as synthetic_triplets.py, reading
# 6 columns (the point transforms move xyz only, colours travel with their
# points), plus OpenShape's colour augmentation: every colour of the cloud
# becomes the grey 0.4 with probability color_drop_prob (OpenShape's
# rgb_random_drop_prob, 0.5), so the encoder also learns from shape alone.
# 0.8 was tried (synthetic colours are palette colours jittered per object,
# an identity mark the render shares): validation top-1 fell at epochs
# 10-30, so 0.5 stays. The point backbone takes in_channels=6 (see
# pointmlp_synthetic_rgb.py).
_base_ = ['./synthetic_triplets.py']

pc_dir = 'shapenet_pc_rgb'
color_drop_prob = 0.5
point_dims = (0, 1, 2, 3, 4, 5)  # xyz, rgb
num_points = _base_.num_points
up_axis = _base_.up_axis

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
         translate_range=(-0.2, 0.2), prob=0.3),
    dict(type='RandomDropColor', prob=color_drop_prob, value=0.4),
    dict(type='LoadTripletImage', view='random'),
    dict(type='SampleCaption'),
    dict(type='PackCG3DInputs', keys=('points', 'img')),
]
test_pipeline = [
    dict(type='LoadPointCloud', use_dims=point_dims),
    dict(type='SamplePoints', num_points=num_points, method='fps'),
    dict(type='NormalizePoints'),
    dict(type='PackCG3DInputs', keys=('points', )),
]

train_dataloader = dict(dataset=dict(pc_dir=pc_dir, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pc_dir=pc_dir, pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pc_dir=pc_dir, pipeline=test_pipeline))
