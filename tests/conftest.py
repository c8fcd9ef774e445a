import os
import os.path as osp

import pytest
import torch
from data_writers import write_tiny_shapenet

from cg3d_mm.benchmark import small_model_cfg

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

# Two cores: keep torch from oversubscribing them across pytest workers.
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(autouse=True)
def _isolated_default_scope():
    """A runner built by one test (e.g. with ``default_scope='mmengine'``)
    leaves its scope as mmengine's global current scope; restore it so
    later tests build from the registry they name."""
    from mmengine.registry import DefaultScope
    saved = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)


@pytest.fixture(autouse=True)
def _fresh_clip_cache():
    """Models built with the same CLIP config share one loaded CLIP per
    process; a test that seeds and builds must get its own weights, not
    those an earlier test's model left in the cache."""
    from cg3d_mm.models.clip import clear_clip_cache
    yield
    clear_clip_cache()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Tests never write into the user's ~/.cache/cg3d_mm unless asked."""
    if 'CG3D_TEST_CACHE' in os.environ:
        monkeypatch.setenv('CG3D_CACHE', os.environ['CG3D_TEST_CACHE'])
    else:
        monkeypatch.setenv('CG3D_CACHE',
                           str(tmp_path_factory.getbasetemp() / 'cg3d_cache'))


# A CG3D pretraining config small enough for CPU tests, inheriting the real
# one through the cg3d_mm:: prefix (as another project would).
TINY_CFG = """
_base_ = ['cg3d_mm::cg3d/pointmlp_shapenet.py']
clip = dict(model_name='cg3d-tiny-vit', pretrained=None)
model = dict(
    backbone=dict(embed_channels=8, num_anchors=(64, 32, 16, 8),
                  num_neighbors=8, pre_blocks=(1, 1, 1, 1),
                  pos_blocks=(1, 1, 1, 1)),
    img_backbone=dict(clip=clip), text_encoder=dict(clip=clip),
    head=dict(in_channels=128, embed_dim=256))
# deterministic data: resumed and uninterrupted runs see the same batches
pipeline = [
    dict(type='LoadPointCloud'),
    dict(type='SamplePoints', num_points=128, method='fps'),
    dict(type='NormalizePoints'),
    dict(type='LoadTripletImage', view=0),
    dict(type='SampleCaption', fixed=0),
    dict(type='PackCG3DInputs', keys=('points', 'img')),
]
test_pipeline = [
    dict(type='LoadPointCloud'),
    dict(type='SamplePoints', num_points=128, method='fps'),
    dict(type='NormalizePoints'),
    dict(type='PackCG3DInputs', keys=('points', )),
]
data_root = '{data_root}'
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, num_views=2, pipeline=pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, num_views=2, pipeline=test_pipeline))
test_dataloader = val_dataloader
max_epochs = {max_epochs}
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = dict(
    point_encoder=[dict(type='CosineAnnealingLR', T_max=max_epochs,
                        eta_min=1e-6, by_epoch=True,
                        convert_to_iter_based=True)],
    visual_prompt=[dict(type='CosineAnnealingLR', T_max=max_epochs,
                        eta_min=0., by_epoch=True,
                        convert_to_iter_based=True)])
optim_wrapper = dict(point_encoder=dict(optimizer=dict(lr=1e-3)),
                     visual_prompt=dict(optimizer=dict(lr=0.1)))
default_hooks = dict(logger=dict(interval=1))
log_processor = dict(window_size=1)  # log each iteration's own values
"""


# A tiny CG3D model (tiny PointMLP + the demo's tiny CLIP architecture) and
# a 128-point test pipeline, for tests that encode with a config file.
TINY_MODEL_CFG = f"""
default_scope = 'cg3d_mm'
custom_imports = dict(imports=['cg3d_mm'], allow_failed_imports=False)
model = {small_model_cfg()!r}
test_pipeline = [
    dict(type='LoadPointCloud', use_dims=(0, 1, 2)),
    dict(type='SamplePoints', num_points=128, method='fps'),
    dict(type='NormalizePoints'),
    dict(type='PackCG3DInputs', keys=('points', )),
]
"""


@pytest.fixture
def repo_root():
    return REPO


@pytest.fixture
def tiny_shapenet(tmp_path):
    return write_tiny_shapenet(tmp_path / 'ShapeNet55')
