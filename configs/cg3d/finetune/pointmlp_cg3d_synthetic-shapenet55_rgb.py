# CPU demo with colour: the narrow PointMLP fine-tuned on the synthetic
# world's coloured ShapeNet55 classes from the colour demo's CG3D checkpoint
# (python tools/train.py configs/cg3d/pointmlp_synthetic_rgb.py writes it),
# against the from-scratch twin
# pointmlp_scratch_synthetic-shapenet55_rgb.py on the same budget. The
# pretraining saw these training shapes (not their labels); the test split
# is held out from both.
#   python tools/train.py \
#       configs/cg3d/finetune/pointmlp_cg3d_synthetic-shapenet55_rgb.py
_base_ = ['./pointmlp_scratch_synthetic-shapenet55_rgb.py']

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='CG3DPretrained',
            checkpoint='work_dirs/pointmlp_synthetic_rgb/epoch_40.pth',
            prefix='backbone.',
            strict=True)))
