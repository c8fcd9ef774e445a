# CPU demo: the narrow PointMLP fine-tuned on the synthetic ScanObjectNN
# PB_T50_RS from the CG3D demo checkpoint.
_base_ = ['./pointmlp_scratch_synthetic-scanobjectnn.py']

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='CG3DPretrained',
            checkpoint='work_dirs/pointmlp_synthetic/epoch_40.pth',
            prefix='backbone.',
            strict=True)))
