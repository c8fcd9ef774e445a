# CG3D pretraining exactly as the paper: PointTransformer against SLIP
# ViT-B/16 with the original's point pipeline; also the config of the
# authors' released PointTransformer weights after conversion (see
# pointmlp_shapenet_slip.py and README "Reproducing the paper from the
# authors' weights").
_base_ = ['./pointtransformer_shapenet.py']

clip = dict(
    _delete_=True,
    model_name='SLIP-ViT-B-16',  # no ln_pre, LN eps 1e-6, QuickGELU text
    checkpoint='checkpoints/slip_vitb16_open_clip.pth')
num_points = 1024
up_axis = 'y'
# The original's order: normalise, augment, FPS to 1,024 points with the
# original CUDA FPS semantics (points with x^2+y^2+z^2 <= 1e-3 are never
# selected: min_sq_norm), then scale and translate.
train_pipeline = [
    dict(type='LoadPointCloud', use_dims=(0, 1, 2)),
    dict(type='NormalizePoints'),
    dict(type='RandomRotatePoints', up_axis=up_axis, quarter_turns=True,
         angle_range=None, prob=0.3),
    dict(type='RandomRotatePoints', up_axis=up_axis, prob=0.3),
    dict(type='PerturbRotation', sigma=0.06, clip=0.18, prob=0.3),
    dict(type='JitterPoints', sigma=0.01, clip=0.05, prob=0.3),
    dict(type='RandomDropPoints', max_ratio=0.1, prob=0.3),
    dict(type='SamplePoints', num_points=num_points, method='fps',
         min_sq_norm=1e-3),
    dict(type='RandomScaleTranslate', scale_range=(2 / 3, 3 / 2),
         translate_range=(-0.2, 0.2)),
    dict(type='LoadTripletImage', view='random'),
    dict(type='SampleCaption'),
    dict(type='PackCG3DInputs', keys=('points', 'img')),
]
test_pipeline = [
    dict(type='LoadPointCloud', use_dims=(0, 1, 2)),
    dict(type='NormalizePoints'),
    dict(type='SamplePoints', num_points=num_points, method='fps',
         min_sq_norm=1e-3),
    dict(type='PackCG3DInputs', keys=('points', )),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

model = dict(
    img_backbone=dict(clip=clip),
    text_encoder=dict(clip=clip),
    # the original's zero-shot prompt: "This is a " + class name, no period
    test_cfg=dict(templates=['This is a {}']))
