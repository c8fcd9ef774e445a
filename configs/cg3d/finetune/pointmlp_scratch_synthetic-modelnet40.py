# CPU demo baseline: the narrow PointMLP of configs/cg3d/pointmlp_synthetic.py
# trained from scratch on the synthetic world's ModelNet40, with the
# PointMLP recipe shortened to a CPU budget. Twin of
# pointmlp_cg3d_synthetic-modelnet40.py (same everything but the init).
#   python tools/train.py \
#       configs/cg3d/finetune/pointmlp_scratch_synthetic-modelnet40.py
_base_ = [
    './_base_/models/pointmlp_cls.py',
    './_base_/datasets/synthetic_modelnet40.py',
    './_base_/schedules/pointmlp_sgd_cosine_300e.py',
    '../_base_/default_runtime.py'
]

# Must stay identical to model.backbone of configs/cg3d/pointmlp_synthetic.py
# (the demo checkpoint loads strictly; tests/test_finetune.py checks it).
model = dict(
    backbone=dict(embed_channels=32, num_anchors=(128, 64, 32, 16),
                  num_neighbors=16, pre_blocks=(1, 1, 1, 1),
                  pos_blocks=(1, 1, 1, 1)),
    # the original head (hidden 512, 256) on the narrow 512-d feature; the
    # synthetic world has 23 of the 40 ModelNet40 classes
    head=dict(in_channels=512, num_classes=23))

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
