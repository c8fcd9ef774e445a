# CPU demo baseline with colour: the narrow PointMLP of
# configs/cg3d/pointmlp_synthetic_rgb.py (6 input channels: xyz + RGB)
# trained from scratch to classify the synthetic world's ShapeNet55
# (coloured points), with the PointMLP recipe shortened to a CPU budget.
# Twin of pointmlp_cg3d_synthetic-shapenet55_rgb.py (same everything but
# the init).
#   python tools/train.py \
#       configs/cg3d/finetune/pointmlp_scratch_synthetic-shapenet55_rgb.py
_base_ = [
    './_base_/models/pointmlp_narrow_cls.py',
    './_base_/datasets/synthetic_shapenet55_rgb.py',
    './_base_/schedules/pointmlp_sgd_cosine_10e_cpu.py',
    '../_base_/default_runtime.py'
]

model = dict(
    backbone=dict(in_channels=6),
    head=dict(num_classes=_base_.num_classes))

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=1))
