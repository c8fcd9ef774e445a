# CG3D with a PointMLP point encoder (13,095,360 parameters with its
# 1024 -> 512 projection) and open_clip's ViT-B-16 (512-d embeddings).
clip = dict(model_name='ViT-B-16', pretrained='laion2b_s34b_b88k')

model = dict(
    type='CG3D',
    backbone=dict(type='PointMLP'),
    img_backbone=dict(type='PromptedCLIPViT', clip=clip, num_prompts=5,
                      deep=True),
    text_encoder=dict(type='CLIPTextEncoder', clip=clip),
    head=dict(type='CG3DHead', in_channels=1024, embed_dim=512,
              loss_weights=dict(point_text=1.0, point_image=1.0,
                                image_text=1.0),
              gather_across_ranks=True),
    train_cfg=dict(mode='alternate'),
    test_cfg=dict(templates=['This is a {}.']))
