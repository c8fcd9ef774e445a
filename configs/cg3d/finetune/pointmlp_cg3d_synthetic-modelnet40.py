# CPU demo: the narrow PointMLP fine-tuned on the synthetic ModelNet40 from
# the CG3D demo checkpoint (python tools/train.py
# configs/cg3d/pointmlp_synthetic.py writes it), against the from-scratch
# twin pointmlp_scratch_synthetic-modelnet40.py on the same budget.
#   python tools/train.py \
#       configs/cg3d/finetune/pointmlp_cg3d_synthetic-modelnet40.py
_base_ = ['./pointmlp_scratch_synthetic-modelnet40.py']

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='CG3DPretrained',
            checkpoint='work_dirs/pointmlp_synthetic/epoch_40.pth',
            prefix='backbone.',
            strict=True)))
