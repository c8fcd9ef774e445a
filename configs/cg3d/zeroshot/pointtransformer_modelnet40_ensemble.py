# Zero-shot ModelNet40 with the PointTransformer CG3D encoder and the fixed
# prompt ensemble instead of CG3D's single "This is a {}." prompt. The
# ensemble is fixed in advance; it is not chosen by its test accuracy.
_base_ = ['./pointtransformer_modelnet40.py', './_base_/templates/ensemble.py']

model = dict(test_cfg=dict(templates=_base_.zeroshot_templates))
test_evaluator = dict(name='modelnet40_ensemble')
