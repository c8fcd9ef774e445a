# Zero-shot ScanObjectNN OBJ_ONLY with the authors' PointMLP CG3D weights,
# converted by tools/model_converters/cg3d_to_mmengine.py, and SLIP ViT-B/16:
#   python tools/test.py \
#       configs/cg3d/zeroshot/pointmlp_slip_scanobjectnn_obj_only.py \
#       checkpoints/cg3d_pointmlp_slip.pth
# The original's evaluation: normalise, FPS to 1,024 points never selecting
# points with squared norm <= 1e-3, prompt "This is a {}". Test split only.
_base_ = [
    '../pointmlp_shapenet_slip.py',
    './_base_/datasets/scanobjectnn_obj_only.py'
]

test_dataloader = dict(
    dataset=dict(_base_.zeroshot_dataset, _delete_=True,
                 pipeline=_base_.test_pipeline))
test_evaluator = _base_.zeroshot_evaluator
