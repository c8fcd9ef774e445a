# Zero-shot Objaverse-LVIS (OpenShape's split, 1,156 categories)
# with the PointMLP CG3D point encoder (xyz only: the colours in the files
# are not read):
#   python tools/test.py \
#    configs/cg3d/zeroshot/pointmlp_objaverse_lvis.py CKPT
# Test split only: nothing is ever selected on it.
_base_ = [
    '../pointmlp_shapenet.py',
    './_base_/datasets/objaverse_lvis.py',
]

test_dataloader = dict(
    dataset=dict(_base_.zeroshot_dataset, _delete_=True,
                 pipeline=_base_.test_pipeline))
test_evaluator = _base_.zeroshot_evaluator
