# pointmlp_shapenet.py with fp16 mixed precision on GPU (both optimizers;
# dynamic loss scaling) and gradient checkpointing in the prompted ViT:
# prompt steps backpropagate through all 12 frozen blocks, checkpointing
# keeps only block inputs (same outputs and prompt gradients, tested).
# Equivalent to `tools/train.py configs/cg3d/pointmlp_shapenet.py --amp`
# plus with_cp.
_base_ = ['./pointmlp_shapenet.py']

model = dict(img_backbone=dict(with_cp=True))
optim_wrapper = dict(
    point_encoder=dict(type='AmpOptimWrapper', loss_scale='dynamic'),
    visual_prompt=dict(type='AmpOptimWrapper', loss_scale='dynamic'))
