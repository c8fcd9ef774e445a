# CG3D pretraining (mmdet3d's PointNet2SASSG as the point encoder) inherited
# from the installed cg3d_mm package: an mmengine pure-Python config whose
# base is a module of `cg3d_mm.configs`. Plain mmengine loads and builds it
# (Config.fromfile + Runner.from_cfg, what mmdet3d's tools/train.py does)
# without importing cg3d_mm first: the types are classes, and building them
# imports cg3d_mm, which registers everything.
from mmengine.config import read_base

with read_base():
    from cg3d_mm.configs.cg3d.pointnet2_synthetic import *  # noqa: F401,F403

# The inherited variables are ConfigDicts: merge() is the `_base_` rule.
train_dataloader.merge(dict(batch_size=16))  # noqa: F405
work_dir = './work_dirs/cg3d_pointnet2_synthetic_bs16'
