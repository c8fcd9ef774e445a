# Zero-shot ModelNet10 with the PointTransformer CG3D point encoder:
#   python tools/test.py \
#       configs/cg3d/zeroshot/pointtransformer_modelnet10.py CKPT
# The pretraining config's test pipeline (deterministic FPS to the point
# count the checkpoint was trained with, unit sphere, xyz only). Test split
# only: nothing is ever selected on it.
_base_ = ['../pointtransformer_shapenet.py', './_base_/datasets/modelnet10.py']

test_dataloader = dict(
    dataset=dict(_base_.zeroshot_dataset, _delete_=True,
                 pipeline=_base_.test_pipeline))
test_evaluator = _base_.zeroshot_evaluator
