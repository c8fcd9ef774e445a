# Zero-shot Objaverse-LVIS (OpenShape's split, 1,156 categories) with the
# colour PointMLP CG3D of pointmlp_shapenet_rgb.py (xyz + RGB per point,
# in_channels=6):
#   python tools/test.py configs/cg3d/zeroshot/pointmlp_objaverse-lvis_rgb.py \
#       CKPT
# The test pipeline keeps the 6 columns the shape files give (colours in
# [0, 1]). Test split only: nothing is ever selected on it.
_base_ = [
    '../pointmlp_shapenet_rgb.py', './_base_/datasets/objaverse_lvis.py'
]

test_dataloader = dict(
    dataset=dict(_base_.zeroshot_dataset, _delete_=True,
                 pipeline=_base_.test_pipeline))
test_evaluator = _base_.zeroshot_evaluator
