import os
import os.path as osp

import pytest
import torch

from cg3d_mm.apis.benchmark import small_model_cfg

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
default_scope = 'mmdet3d'
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


def write_tiny_shapenet(root, classes=('chair', 'table', 'lamp', 'mug'),
                        per_class=4, num_points=256, image_size=32, views=2,
                        seed=0):
    """A small ShapeNet/CG3D layout written with numpy + PIL only.

    Each class is a distinct point distribution (so a model can tell them
    apart) and each view a distinct flat colour.
    """
    import json

    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(seed)
    root = str(root)
    os.makedirs(osp.join(root, 'shapenet_pc'), exist_ok=True)
    synsets = {c: f'{i:08d}' for i, c in enumerate(classes)}
    splits = {'train': [], 'val': [], 'test': []}
    for ci, c in enumerate(classes):
        for j in range(per_class):
            model_id = f'm{ci}{j:03d}'
            name = f'{synsets[c]}-{model_id}'
            pts = rng.normal(size=(num_points, 3)).astype(np.float32)
            pts[:, ci % 3] *= 3.0 + ci  # class-specific elongation
            np.save(osp.join(root, 'shapenet_pc', name + '.npy'), pts)
            view_dir = osp.join(root, 'shapenet_render', 'img', synsets[c],
                                model_id)
            os.makedirs(view_dir, exist_ok=True)
            for v in range(views):
                img = np.full((image_size, image_size, 3),
                              (40 * ci + 10 * v) % 255, np.uint8)
                img[::4] = 255 - img[::4]
                Image.fromarray(img).save(osp.join(view_dir, f'{v:03d}.png'))
            split = ('train' if j < per_class - 2 else
                     'val' if j == per_class - 2 else 'test')
            splits[split].append(name + '.npy')
    for split, lines in splits.items():
        with open(osp.join(root, f'{split}_img.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    with open(osp.join(root, 'shape_names.txt'), 'w') as f:
        f.write('\n'.join(classes) + '\n')
    with open(osp.join(root, 'taxonomy.json'), 'w') as f:
        json.dump({s: f'{c},{c}s' for c, s in synsets.items()}, f)
    return root


@pytest.fixture
def tiny_shapenet(tmp_path):
    return write_tiny_shapenet(tmp_path / 'ShapeNet55')
