# Zero-shot ModelNet40 on the built-in synthetic world with the colour demo
# (configs/cg3d/pointmlp_synthetic_rgb.py, a PointMLP reading xyz + RGB).
# ModelNet40 has no colours: every point gets OpenShape's grey 0.4, the
# colour the demo's RandomDropColor trains with half of the time.
#   python tools/test.py \
#       configs/cg3d/zeroshot/pointmlp_synthetic_rgb_modelnet40.py CKPT
# Test split only: nothing is ever selected on it.
_base_ = ['../pointmlp_synthetic_rgb.py', './_base_/datasets/modelnet40.py']

xyz_test_pipeline = [
    dict(type='LoadPointCloud', use_dims=(0, 1, 2)),
    dict(type='AddConstantColor', value=0.4),
    dict(type='SamplePoints', num_points=_base_.num_points, method='fps'),
    dict(type='NormalizePoints'),
    dict(type='PackCG3DInputs', keys=('points', )),
]
test_dataloader = dict(
    dataset=dict(_base_.zeroshot_dataset, _delete_=True, data_root=None,
                 synthetic=_base_.synthetic, pipeline=xyz_test_pipeline))
test_evaluator = _base_.zeroshot_evaluator
