# pointmlp_shapenet.py with bfloat16 autocast on GPU (Ampere or newer: no
# loss scaling needed) and gradient checkpointing in the prompted ViT.
_base_ = ['./pointmlp_shapenet.py']

model = dict(img_backbone=dict(with_cp=True))
optim_wrapper = dict(
    point_encoder=dict(type='AmpOptimWrapper', dtype='bfloat16'),
    visual_prompt=dict(type='AmpOptimWrapper', dtype='bfloat16'))
