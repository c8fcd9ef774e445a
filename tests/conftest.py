import os
import os.path as osp

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

# Two cores: keep torch from oversubscribing them across pytest workers.
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Tests never write into the user's ~/.cache/cg3d_mm unless asked."""
    if 'CG3D_TEST_CACHE' in os.environ:
        monkeypatch.setenv('CG3D_CACHE', os.environ['CG3D_TEST_CACHE'])
    else:
        monkeypatch.setenv('CG3D_CACHE',
                           str(tmp_path_factory.getbasetemp() / 'cg3d_cache'))


@pytest.fixture
def repo_root():
    return REPO
