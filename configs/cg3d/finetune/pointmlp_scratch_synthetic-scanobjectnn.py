# CPU demo baseline on the synthetic world's ScanObjectNN PB_T50_RS: the
# narrow PointMLP of configs/cg3d/pointmlp_synthetic.py from scratch.
_base_ = [
    './_base_/models/pointmlp_narrow_cls.py',
    './_base_/datasets/synthetic_scanobjectnn_pb_t50_rs.py',
    './_base_/schedules/pointmlp_sgd_cosine_10e_cpu.py',
    '../_base_/default_runtime.py'
]

model = dict(head=dict(num_classes=15))

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=1))
