"""The plugin foundation: registration, configs, weights-only checkpoints."""
import glob
import os
import os.path as osp
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from conftest import REPO  # noqa: E402
from data_writers import RunsCode  # noqa: E402
from mmengine.config import Config

CONFIGS = sorted(
    glob.glob(osp.join(REPO, 'configs', 'cg3d', '**', '*.py'), recursive=True))


@pytest.mark.slow
def test_import_registers_components_in_the_cg3d_mm_scope():
    # A fresh interpreter: registration must come from `import cg3d_mm` alone.
    code = textwrap.dedent("""
        import cg3d_mm
        from cg3d_mm.registry import OPTIM_WRAPPERS
        assert 'CPUAutocastOptimWrapper' in OPTIM_WRAPPERS.module_dict
        from mmengine.runner.checkpoint import CheckpointLoader
        from cg3d_mm.utils.checkpoint import load_from_weights_only
        assert CheckpointLoader._get_checkpoint_loader('x.pth') is \
            load_from_weights_only
        print('ok')
    """)
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith('ok')


def test_cg3d_mm_scope_is_a_child_of_mmdet3d_and_never_shadows_it():
    """cg3d_mm's names live in its own scope: mmdet3d's registries do not
    hold them, a cg3d_mm-scope lookup falls through to mmdet3d, and an
    mmdet3d-scope project reaches cg3d_mm's with the scope prefix."""
    from mmdet3d.registry import MODELS as MMDET3D_MODELS
    from mmengine.registry import DefaultScope

    from cg3d_mm.registry import MODELS, WEIGHT_INITIALIZERS
    assert MODELS.parent is MMDET3D_MODELS and MODELS.scope == 'cg3d_mm'
    for name in ('CG3D', 'PointTransformer', 'PointMLP', 'CG3DHead'):
        assert name in MODELS.module_dict
        assert name not in MMDET3D_MODELS.module_dict
    assert MODELS.get('PointNet2SASSG') is MMDET3D_MODELS.get('PointNet2SASSG')
    with DefaultScope.overwrite_default_scope('mmdet3d'):
        assert MMDET3D_MODELS.get('CG3D') is None
        assert MMDET3D_MODELS.get('cg3d_mm.CG3D') is MODELS.get('CG3D')
    assert 'CG3DPretrained' in WEIGHT_INITIALIZERS.module_dict


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_every_config_loads(path):
    cfg = Config.fromfile(path)
    if '_base_' not in path:
        # detection configs are mmdet3d's own with a CG3D init_cfg
        assert cfg.default_scope == ('mmdet3d' if 'detection' in path
                                     else 'cg3d_mm')
        assert 'cg3d_mm' in cfg.custom_imports['imports']


def test_external_config_inherits_package_config(tmp_path):
    import cg3d_mm  # noqa: F401  (mmengine learns the cg3d_mm:: prefix)
    external = tmp_path / 'my_project_cfg.py'
    external.write_text(
        "_base_ = ['cg3d_mm::cg3d/_base_/default_runtime.py']\n"
        "log_level = 'DEBUG'\n")
    cfg = Config.fromfile(str(external))
    assert cfg.log_level == 'DEBUG'
    assert cfg.default_scope == 'cg3d_mm'
    assert cfg.custom_imports['imports'] == ['cg3d_mm']


def test_mim_folder_ships_the_configs():
    from mmengine.config import config as config_module

    import cg3d_mm  # noqa: F401
    pkg = config_module.get_installed_path('cg3d_mm')
    assert osp.isfile(osp.join(pkg, '.mim', 'configs', 'cg3d', '_base_',
                               'default_runtime.py'))
    assert osp.isfile(osp.join(pkg, '.mim', 'model-index.yml'))


def _mmengine_training_checkpoint(work_dir):
    """Train a tiny model with mmengine's Runner; return its checkpoint."""
    import torch.nn as nn
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Tiny(BaseModel):

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 1)

        def forward(self, inputs, data_samples=None, mode='loss'):
            return dict(loss=self.fc(inputs).pow(2).mean())

    class Data(torch.utils.data.Dataset):

        def __len__(self):
            return 8

        def __getitem__(self, i):
            return dict(inputs=torch.full((3, ), float(i)))

    runner = Runner(
        model=Tiny(), work_dir=str(work_dir),
        train_dataloader=dict(dataset=Data(), batch_size=4,
                              sampler=dict(type='DefaultSampler',
                                           shuffle=False),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01,
                                          momentum=0.9)),
        param_scheduler=dict(type='CosineAnnealingLR', T_max=2),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=1)),
        default_scope='mmengine')
    runner.train()
    return osp.join(str(work_dir), 'epoch_1.pth'), runner.model


def test_training_checkpoint_round_trip_weights_only(tmp_path):
    from mmengine.runner import CheckpointLoader

    import cg3d_mm  # noqa: F401
    ckpt, model = _mmengine_training_checkpoint(tmp_path)
    # mmengine's own loader (used by resume / load_from / Pretrained)
    loaded = CheckpointLoader.load_checkpoint(ckpt, map_location='cpu')
    assert set(loaded) >= {'state_dict', 'optimizer', 'message_hub', 'meta'}
    for k, v in model.state_dict().items():
        assert torch.equal(loaded['state_dict'][k], v)
    # the message hub (HistoryBuffer objects) came back intact: the same
    # losses as an unrestricted load of this (trusted, self-written) file
    buf = loaded['message_hub']['log_scalars']['train/loss']
    ref = torch.load(ckpt, map_location='cpu', weights_only=False)[
        'message_hub']['log_scalars']['train/loss']
    assert len(buf.data[0]) == 2  # 8 samples, batch 4, one epoch
    np.testing.assert_array_equal(buf.data[0], ref.data[0])
    np.testing.assert_array_equal(buf.data[1], ref.data[1])
    assert buf.mean() == pytest.approx(float(np.mean(ref.data[0])))
    assert buf.current() == pytest.approx(float(ref.data[0][-1]))


def test_publish_checkpoint_is_slim_and_hashed(tmp_path):
    import hashlib

    from cg3d_mm.utils.publish import publish_checkpoint
    ckpt, model = _mmengine_training_checkpoint(tmp_path)
    out = publish_checkpoint(ckpt, str(tmp_path / 'tiny.pth'))
    digest = hashlib.sha256(open(out, 'rb').read()).hexdigest()
    assert osp.basename(out) == f'tiny-{digest[:8]}.pth'
    slim = torch.load(out, weights_only=True)  # plain torch, no allowlist
    assert set(slim) == {'state_dict', 'meta'}
    assert set(slim['state_dict']) == set(model.state_dict())
    # only the published file is left, no temporary
    assert sorted(p for p in os.listdir(tmp_path) if p.endswith('.pth')) \
        == sorted(['epoch_1.pth', osp.basename(out)])


def test_unsafe_checkpoint_is_refused_and_runs_nothing(tmp_path):
    from mmengine.runner import CheckpointLoader

    import cg3d_mm  # noqa: F401
    from cg3d_mm.utils import UnsafeCheckpointError, load_weights_only
    marker = tmp_path / 'pwned'
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)},
                'meta': RunsCode(marker)}, str(evil))
    with pytest.raises(UnsafeCheckpointError) as err:
        load_weights_only(str(evil))
    assert str(evil) in str(err.value)
    assert 'system' in str(err.value)  # names the offending global
    with pytest.raises(UnsafeCheckpointError):
        CheckpointLoader.load_checkpoint(str(evil), map_location='cpu')
    assert not marker.exists()


def test_getattr_in_checkpoint_is_restricted(tmp_path):
    """The getattr allowed for HistoryBuffer cannot reach anything else."""
    import pickle

    from cg3d_mm.utils import UnsafeCheckpointError, load_weights_only

    class _Getattr:

        def __reduce__(self):
            return (getattr, (torch.Tensor, '__init__'))

    path = tmp_path / 'getattr.pth'
    torch.save({'x': _Getattr()}, str(path))
    with pytest.raises(pickle.UnpicklingError):
        load_weights_only(str(path))
    with pytest.raises(UnsafeCheckpointError):
        load_weights_only(str(path))


def test_missing_checkpoint_names_the_file(tmp_path):
    from cg3d_mm.utils import load_weights_only
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_weights_only(str(tmp_path / 'nope.pth'))


def test_trusted_pickle_can_be_converted(tmp_path):
    """--trust-pickle: the one explicit way to load a legacy pickle."""
    from cg3d_mm.utils import load_weights_only
    from cg3d_mm.utils.publish import publish_checkpoint
    legacy = tmp_path / 'legacy.pth'
    import argparse
    torch.save({'state_dict': {'w': torch.ones(2)},
                'meta': {'args': argparse.Namespace(lr=0.1)}}, str(legacy))
    with pytest.raises(Exception):
        load_weights_only(str(legacy))
    out = publish_checkpoint(str(legacy), str(tmp_path / 'clean.pth'),
                             trust_pickle=True)
    assert torch.equal(load_weights_only(out)['state_dict']['w'],
                       torch.ones(2))


def test_amp_configs_and_flag_cover_every_optimizer_wrapper():
    from cg3d_mm.engine.cli import enable_amp, iter_optim_wrapper_cfgs
    for name, dtype in (('fp16', None), ('bf16', 'bfloat16')):
        cfg = Config.fromfile(osp.join(
            REPO, 'configs', 'cg3d', f'pointmlp_shapenet_amp-{name}.py'))
        wrappers = list(iter_optim_wrapper_cfgs(cfg.optim_wrapper))
        assert len(wrappers) == 2
        assert all(w.type == 'AmpOptimWrapper' for w in wrappers)
        assert all(w.get('dtype') == dtype for w in wrappers)
        assert cfg.model.img_backbone.with_cp
    # --amp on a multi-optimizer config: every wrapper, GPU or CPU flavour
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cg3d',
                                   'pointmlp_shapenet.py'))
    enable_amp(cfg)
    types = {w.type for w in iter_optim_wrapper_cfgs(cfg.optim_wrapper)}
    assert types == ({'AmpOptimWrapper'} if torch.cuda.is_available() else
                     {'CPUAutocastOptimWrapper'})
