# CG3D pretraining exactly as the paper: PointMLP against SLIP ViT-B/16, the
# CLIP the authors trained with (not an open_clip model), and the original's
# point pipeline. Also the config for the authors' released PointMLP weights
# after conversion (README "Reproducing the paper from the authors' weights"):
#   python tools/model_converters/slip_to_open_clip.py \
#       slip_base_100ep.pt checkpoints/slip_vitb16_open_clip.pth --trust-pickle
#   python tools/model_converters/cg3d_to_mmengine.py ORIGINAL.pth \
#       checkpoints/cg3d_pointmlp_slip.pth \
#       --clip checkpoints/slip_vitb16_open_clip.pth
# Another SLIP file: --cfg-options model.img_backbone.clip.checkpoint=X \
#   model.text_encoder.clip.checkpoint=X (both towers come from one CLIP).
_base_ = ['./pointmlp_shapenet.py']

clip = dict(
    _delete_=True,
    model_name='SLIP-ViT-B-16',  # no ln_pre, LN eps 1e-6, QuickGELU text
    checkpoint='checkpoints/slip_vitb16_open_clip.pth')
num_points = 1024
up_axis = 'y'
# The original's order: normalise, augment, FPS to 1,024 points with the
# original CUDA FPS semantics (points with x^2+y^2+z^2 <= 1e-3 are never
# selected: min_sq_norm), then scale and translate. Its "drop" moved points
# to the origin before FPS, i.e. removed them: RandomDropPoints removes.
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
# Evaluation as the original: normalise, then FPS with the same semantics.
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
