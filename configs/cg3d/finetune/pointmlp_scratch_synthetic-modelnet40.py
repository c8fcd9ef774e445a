# CPU demo baseline: the narrow PointMLP of configs/cg3d/pointmlp_synthetic.py
# trained from scratch on the synthetic world's ModelNet40, with the
# PointMLP recipe shortened to a CPU budget. Twin of
# pointmlp_cg3d_synthetic-modelnet40.py (same everything but the init).
#   python tools/train.py \
#       configs/cg3d/finetune/pointmlp_scratch_synthetic-modelnet40.py
_base_ = [
    './_base_/models/pointmlp_narrow_cls.py',
    './_base_/datasets/synthetic_modelnet40.py',
    './_base_/schedules/pointmlp_sgd_cosine_10e_cpu.py',
    '../_base_/default_runtime.py'
]

# the synthetic world has 23 of the 40 ModelNet40 classes
model = dict(head=dict(num_classes=23))

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=1))
