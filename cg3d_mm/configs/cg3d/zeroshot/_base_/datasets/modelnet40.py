# Generated from configs/cg3d/zeroshot/_base_/datasets/modelnet40.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from cg3d_mm.datasets import ModelNet
from cg3d_mm.evaluation import ZeroShotAccuracy

zeroshot_dataset = dict(
    type=ModelNet,
    data_root='data/modelnet40_normal_resampled/',
    num_classes=40,
    split='test',
    test_mode=True)
zeroshot_evaluator = dict(type=ZeroShotAccuracy, name='modelnet40')
