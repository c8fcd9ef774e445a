# Generated from configs/cg3d/_base_/models/cg3d_pointmlp.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from cg3d_mm.models import CG3D
from cg3d_mm.models.backbones import PointMLP, PromptedCLIPViT
from cg3d_mm.models.clip import CLIPTextEncoder
from cg3d_mm.models.heads import CG3DHead

clip = dict(model_name='ViT-B-16', pretrained='laion2b_s34b_b88k')
model = dict(
    type=CG3D,
    backbone=dict(type=PointMLP),
    img_backbone=dict(
        type=PromptedCLIPViT,
        clip=dict(model_name='ViT-B-16', pretrained='laion2b_s34b_b88k'),
        num_prompts=5,
        deep=True),
    text_encoder=dict(
        type=CLIPTextEncoder,
        clip=dict(model_name='ViT-B-16', pretrained='laion2b_s34b_b88k')),
    head=dict(
        type=CG3DHead,
        in_channels=1024,
        embed_dim=512,
        loss_weights=dict(point_text=1.0, point_image=1.0, image_text=1.0),
        gather_across_ranks=True),
    train_cfg=dict(mode='alternate'),
    test_cfg=dict(templates=['This is a {}.']))
