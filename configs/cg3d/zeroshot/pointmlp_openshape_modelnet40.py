# Zero-shot ModelNet40 in OpenShape's files (coloured)
# with the PointMLP CG3D point encoder (xyz only: the colours in the files
# are not read):
#   python tools/test.py \
#    configs/cg3d/zeroshot/pointmlp_openshape_modelnet40.py CKPT
# Test split only: nothing is ever selected on it.
_base_ = [
    '../pointmlp_shapenet.py',
    './_base_/datasets/openshape_modelnet40.py',
]

test_dataloader = dict(
    dataset=dict(_base_.zeroshot_dataset, _delete_=True,
                 pipeline=_base_.test_pipeline))
test_evaluator = _base_.zeroshot_evaluator
