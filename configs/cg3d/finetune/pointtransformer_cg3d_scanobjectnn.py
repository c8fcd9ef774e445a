# PointTransformer fine-tuned on ScanObjectNN PB_T50_RS from CG3D pretraining
# (configs/cg3d/pointtransformer_shapenet.py).
#   python tools/train.py \
#       configs/cg3d/finetune/pointtransformer_cg3d_scanobjectnn.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=CG3D.pth
# CG3D.pth: the pretraining run's checkpoint (state_dict keys backbone.*,
# neck.*, head.proj.*, img_backbone.prompts) or a slim one from
#   python tools/publish_checkpoint.py CG3D.pth cg3d_pointtransformer.pth \
#       --keep-prefix backbone.
# (written with --strip-prefix backbone. too, it needs init_cfg.prefix=None).
# Only the backbone is taken; the classification head starts from scratch.
# strict=True: any missing, unexpected or reshaped backbone weight is an
# error, so a config / checkpoint mismatch cannot silently fine-tune a
# half-random backbone.
_base_ = ['./pointtransformer_scratch_scanobjectnn.py']

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='CG3DPretrained',
            checkpoint='work_dirs/pointtransformer_shapenet/epoch_100.pth',
            prefix='backbone.',
            strict=True)))
