"""The one config helper and the one device helper."""
import os.path as osp

import pytest
import torch
from conftest import REPO
from mmengine.config import Config

from cg3d_mm.utils.config import (config_num_points, load_config,
                                  pipeline_num_points)
from cg3d_mm.utils.device import resolve_device


def _sample(n):
    return [dict(type='LoadPointCloud'),
            dict(type='SamplePoints', num_points=n, method='fps')]


def test_load_config_copies_and_names_a_missing_file(tmp_path):
    cfg = Config(dict(model=dict(type='CG3D')))
    copy = load_config(cfg)
    copy.model.type = 'Other'
    assert cfg.model.type == 'CG3D'
    path = osp.join(REPO, 'configs', 'cg3d', 'zeroshot',
                    'pointmlp_modelnet40.py')
    assert load_config(path).filename == path
    with pytest.raises(FileNotFoundError,
                       match=r'config file .*nope.py does not exist'):
        load_config(tmp_path / 'nope.py')


def test_point_count_sources_in_order():
    both = Config(dict(test_dataloader=dict(dataset=dict(
        pipeline=_sample(256))), test_pipeline=_sample(512), num_points=64))
    assert config_num_points(both) == 256
    assert config_num_points(Config(dict(
        test_pipeline=_sample(512), num_points=64))) == 512
    assert config_num_points(Config(dict(num_points=64))) == 64
    assert pipeline_num_points(_sample(32)) == 32
    assert pipeline_num_points(_sample(32)[:1]) is None


def test_unknown_point_count_is_an_error_naming_the_file(tmp_path):
    """No silent default: a checkpoint is specific to its point count."""
    path = tmp_path / 'no_points.py'
    path.write_text("model = dict(type='CG3D')\n")
    with pytest.raises(ValueError, match=r'no_points.py: cannot tell the '
                       'point count'):
        config_num_points(Config.fromfile(str(path)))


def test_probe_and_zeroshot_share_the_point_count(tmp_path):
    from cg3d_mm.apis import zeroshot
    from cg3d_mm.evaluation import linear_probe
    assert zeroshot.config_num_points is config_num_points
    assert linear_probe.config_num_points is config_num_points
    path = tmp_path / 'no_points.py'
    path.write_text("model = dict(type='CG3D', backbone=dict())\n")
    with pytest.raises(ValueError, match='cannot tell the point count'):
        linear_probe.build_probe_dataset(str(path), 'modelnet40',
                                         data_root=str(tmp_path))


def test_resolve_device(monkeypatch):
    assert resolve_device('cpu') == torch.device('cpu')
    assert resolve_device(torch.device('cpu')) == torch.device('cpu')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    for auto in ('auto', None):
        assert resolve_device(auto) == torch.device('cpu')
    with pytest.raises(RuntimeError, match="device 'cuda:1': no CUDA"):
        resolve_device('cuda:1')
    with pytest.raises(ValueError, match="device 'gpu0' is not a device"):
        resolve_device('gpu0')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert resolve_device('auto') == torch.device('cuda')
    assert resolve_device('cuda:1') == torch.device('cuda', 1)
