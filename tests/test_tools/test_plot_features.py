"""tools/plot_features.py: 2-D feature maps before / after pretraining."""
import importlib.util
import logging
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from conftest import REPO, TINY_MODEL_CFG, write_tiny_shapenet
from PIL import Image

from cg3d_mm.apis.inference import init_model

pytestmark = pytest.mark.slow  # end-to-end: Runner / subprocess runs

CONFIG = TINY_MODEL_CFG + """
test_dataloader = dict(dataset=dict(
    type='ShapeNetTriplets', data_root='{root}', ann_file='train_img.txt',
    test_mode=True, pipeline=test_pipeline))
"""


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location(
        'tool_plot_features', osp.join(REPO, 'tools', 'plot_features.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reduce_and_separation(tool, monkeypatch, caplog):
    rng = np.random.default_rng(0)
    centres = np.eye(4)[:3] * 5
    labels = np.repeat(np.arange(3), 10)
    feats = centres[labels] + rng.normal(0, 0.1, (30, 4))
    assert tool.class_separation(feats, labels) > 0.9
    assert abs(tool.class_separation(rng.normal(size=(30, 4)), labels)) < 0.2
    xy = tool.reduce_2d(feats, 'tsne', seed=0)
    assert xy.shape == (30, 2)
    # t-SNE keeps the classes apart: each point's nearest neighbour in 2-D
    # has its class
    d = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    np.fill_diagonal(d, np.inf)
    assert (labels[d.argmin(1)] == labels).all()
    monkeypatch.setitem(sys.modules, 'umap', None)  # not importable
    with caplog.at_level(logging.WARNING):
        xy2 = tool.reduce_2d(feats, 'umap', seed=0)
    np.testing.assert_allclose(xy2, xy)  # the t-SNE fallback
    with pytest.raises(ValueError, match='at least 3 items'):
        tool.reduce_2d(feats[:2])


def test_plot_features_cli(tool, tmp_path):
    root = write_tiny_shapenet(tmp_path / 'ShapeNet55')
    config = tmp_path / 'tiny.py'
    config.write_text(CONFIG.replace('{root}', root))
    torch.manual_seed(1)
    ckpt = str(tmp_path / 'ckpt.pth')
    torch.save({'state_dict': init_model(str(config)).state_dict()}, ckpt)
    out = tool.main([str(config), ckpt, '--out', str(tmp_path / 'f.png'),
                     '--method', 'tsne'])
    assert set(out['silhouette']) == {
        'random init/point', 'random init/image', 'pretrained/point',
        'pretrained/image'}
    assert out['num_items'] == 8
    assert all(-1 <= v <= 1 for v in out['silhouette'].values())
    img = Image.open(tmp_path / 'f.png')
    assert img.format == 'PNG' and img.height > 400  # two rows of panels
    # random init only, point features only
    out = tool.main([str(config), '--out', str(tmp_path / 'g.png'),
                     '--no-images'])
    assert set(out['silhouette']) == {'random init/point'}
    assert Image.open(tmp_path / 'g.png').height < img.height
