# The narrow PointMLP of configs/cg3d/pointmlp_synthetic.py (the CPU demo's
# encoder) with the original head on its 512-d feature. The backbone must
# stay identical to that config's (the demo checkpoint loads strictly;
# tests/test_finetune.py checks it).
_base_ = ['./pointmlp_cls.py']

model = dict(
    backbone=dict(embed_channels=32, num_anchors=(128, 64, 32, 16),
                  num_neighbors=16, pre_blocks=(1, 1, 1, 1),
                  pos_blocks=(1, 1, 1, 1)),
    head=dict(in_channels=512))
