# Zero-shot Objaverse-LVIS (OpenShape's split, 1,156 categories)
# on the built-in synthetic world (its OpenShape/ folder, in the real
# on-disk format) with the CPU-demo PointMLP CG3D (xyz only):
#   python tools/test.py \
#    configs/cg3d/zeroshot/pointmlp_synthetic_objaverse_lvis.py \
#    CKPT
# Test split only: nothing is ever selected on it.
_base_ = [
    '../pointmlp_synthetic.py',
    './_base_/datasets/objaverse_lvis.py',
]

test_dataloader = dict(
    dataset=dict(_base_.zeroshot_dataset, _delete_=True, data_root=None,
                 synthetic=_base_.synthetic, pipeline=_base_.test_pipeline))
test_evaluator = _base_.zeroshot_evaluator
