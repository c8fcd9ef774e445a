# CG3D pretraining, PointMLP, on coloured points: the real-data twin of
# pointmlp_synthetic_rgb.py for the output of tools/prepare_triplets.py
# (shapenet_pc_rgb/: xyz + surface RGB; see _base_/datasets/
# shapenet_triplets_rgb.py). pointmlp_shapenet.py with a PointMLP reading 6
# input channels; its settings are repeated (mmengine forbids two bases
# defining the same keys) and tests/test_datasets/test_colors.py checks that
# the two configs differ only in the data pipeline and in_channels.
_base_ = [
    './_base_/models/cg3d_pointmlp.py',
    './_base_/datasets/shapenet_triplets_rgb.py',
    './_base_/schedules/cg3d_alternating_100e.py',
    './_base_/default_runtime.py',
]

model = dict(backbone=dict(in_channels=6))  # xyz + RGB per point
# as pointmlp_shapenet.py
train_dataloader = dict(batch_size=32)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                    save_best='zeroshot/top1', rule='greater'))
