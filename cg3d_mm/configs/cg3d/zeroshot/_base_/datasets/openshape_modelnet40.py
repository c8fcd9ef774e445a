# Generated from configs/cg3d/zeroshot/_base_/datasets/openshape_modelnet40.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from cg3d_mm.datasets import OpenShapeModelNet40
from cg3d_mm.evaluation import ZeroShotAccuracy

zeroshot_dataset = dict(
    type=OpenShapeModelNet40,
    data_root='data/OpenShape/',
    split='test',
    trust_pickle=True,
    test_mode=True)
zeroshot_evaluator = dict(type=ZeroShotAccuracy, name='openshape_modelnet40')
