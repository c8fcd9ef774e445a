# Zero-shot ScanObjectNN in OpenShape's file
# with the PointTransformer CG3D point encoder (xyz only: the colours in
# the files are not read):
#   python tools/test.py \
#    configs/cg3d/zeroshot/pointtransformer_openshape_scanobjectnn.py CKPT
# Test split only: nothing is ever selected on it.
_base_ = [
    '../pointtransformer_shapenet.py',
    './_base_/datasets/openshape_scanobjectnn.py',
]

test_dataloader = dict(
    dataset=dict(_base_.zeroshot_dataset, _delete_=True,
                 pipeline=_base_.test_pipeline))
test_evaluator = _base_.zeroshot_evaluator
