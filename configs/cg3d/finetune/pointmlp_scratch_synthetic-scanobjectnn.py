# CPU demo baseline on the synthetic world's ScanObjectNN PB_T50_RS: the
# narrow PointMLP of configs/cg3d/pointmlp_synthetic.py from scratch.
_base_ = [
    './_base_/models/pointmlp_cls.py',
    './_base_/datasets/synthetic_scanobjectnn_pb_t50_rs.py',
    './_base_/schedules/pointmlp_sgd_cosine_300e.py',
    '../_base_/default_runtime.py'
]

model = dict(
    backbone=dict(embed_channels=32, num_anchors=(128, 64, 32, 16),
                  num_neighbors=16, pre_blocks=(1, 1, 1, 1),
                  pos_blocks=(1, 1, 1, 1)),
    head=dict(in_channels=512, num_classes=15))

max_epochs = 10
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.005,
         by_epoch=True, convert_to_iter_based=True)
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=1))
test_after_train = True
