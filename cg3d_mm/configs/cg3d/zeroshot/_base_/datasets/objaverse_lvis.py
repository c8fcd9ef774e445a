# Generated from configs/cg3d/zeroshot/_base_/datasets/objaverse_lvis.py
# by tools/misc/generate_python_configs.py: do not edit.
# flake8: noqa (star imports of the bases, by design)

from cg3d_mm.datasets import ObjaverseLVIS
from cg3d_mm.evaluation import ZeroShotAccuracy

zeroshot_dataset = dict(
    type=ObjaverseLVIS,
    data_root='data/OpenShape/',
    split='test',
    trust_pickle=True,
    test_mode=True)
zeroshot_evaluator = dict(type=ZeroShotAccuracy, name='objaverse_lvis')
