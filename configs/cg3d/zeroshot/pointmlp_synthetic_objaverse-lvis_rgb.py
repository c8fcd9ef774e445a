# Zero-shot on the synthetic world's Objaverse-LVIS-style split (OpenShape's
# format: many classes, 2-4 coloured shapes each) with the colour CPU-demo
# PointMLP CG3D of pointmlp_synthetic_rgb.py (xyz + RGB, in_channels=6):
#   python tools/test.py \
#       configs/cg3d/zeroshot/pointmlp_synthetic_objaverse-lvis_rgb.py CKPT
# Test split only: nothing is ever selected on it.
_base_ = [
    '../pointmlp_synthetic_rgb.py', './_base_/datasets/objaverse_lvis.py'
]

test_dataloader = dict(
    dataset=dict(_base_.zeroshot_dataset, _delete_=True, data_root=None,
                 synthetic=_base_.synthetic, pipeline=_base_.test_pipeline))
test_evaluator = _base_.zeroshot_evaluator
