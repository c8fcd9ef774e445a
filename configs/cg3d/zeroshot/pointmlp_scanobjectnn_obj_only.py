# Zero-shot ScanObjectNN OBJ_ONLY with the PointMLP CG3D point encoder:
#   python tools/test.py \
#       configs/cg3d/zeroshot/pointmlp_scanobjectnn_obj_only.py CKPT
# The pretraining config's test pipeline (deterministic FPS to the point
# count the checkpoint was trained with, unit sphere, xyz only). Test split
# only: nothing is ever selected on it.
_base_ = [
    '../pointmlp_shapenet.py',
    './_base_/datasets/scanobjectnn_obj_only.py'
]

test_dataloader = dict(
    dataset=dict(_base_.zeroshot_dataset, _delete_=True,
                 pipeline=_base_.test_pipeline))
test_evaluator = _base_.zeroshot_evaluator
