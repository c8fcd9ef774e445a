# Zero-shot ModelNet40 (synthetic world) with the CPU-demo PointMLP CG3D and
# the fixed prompt ensemble; fixed in advance, not chosen on a test split.
_base_ = ['./pointmlp_synthetic_modelnet40.py',
          './_base_/templates/ensemble.py']

model = dict(test_cfg=dict(templates=_base_.zeroshot_templates))
test_evaluator = dict(name='modelnet40_ensemble')
