"""The data check before a run, the skip accounting hook and a clean log
(no scheduler-order warning, no frozen-parameter notices)."""
import json
import logging
import os
import os.path as osp
import subprocess
import sys
import warnings
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from conftest import REPO, TINY_CFG
from data_writers import write_tiny_shapenet
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.optim.scheduler import CosineAnnealingLR

import cg3d_mm  # noqa: F401
from cg3d_mm.engine.cli import (DataCheckError, add_accounting_hook,
                                check_data_before_run)
from cg3d_mm.engine.hooks import (AlternatingOptimizerHook,
                                  SampleAccountingHook)
from cg3d_mm.engine.optimizers import CG3DOptimWrapperConstructor
from cg3d_mm.structures import PointDataSample


def _damage(path, how='truncate'):
    if how == 'truncate':
        with open(path, 'rb') as f:
            data = f.read()
        with open(path, 'wb') as f:
            f.write(data[:len(data) // 2])
    else:
        with open(path, 'wb') as f:
            f.write(b'not an array')


def _first(root, split):
    with open(osp.join(root, f'{split}_img.txt')) as f:
        return osp.join(root, 'shapenet_pc', f.readline().strip())


@pytest.fixture
def tiny_cfg(tmp_path):
    root = write_tiny_shapenet(tmp_path / 'ShapeNet55')
    path = tmp_path / 'tiny.py'
    path.write_text(TINY_CFG.format(data_root=root, max_epochs=1) +
                    '\ntest_after_train = True\n')
    cfg = Config.fromfile(str(path))
    cfg.work_dir = str(tmp_path / 'work')
    return cfg, root, str(path)


def test_a_bad_test_file_stops_the_run_before_it_starts(tiny_cfg):
    cfg, root, _ = tiny_cfg
    bad = _first(root, 'test')
    _damage(bad)
    check_data_before_run(cfg, ['train', 'val'])  # the test split unread
    with pytest.raises(DataCheckError) as err:
        check_data_before_run(cfg, ['train', 'val', 'test'])
    assert bad in str(err.value) and 'truncated' in str(err.value)
    with open(osp.join(cfg.work_dir, 'data_check.json')) as f:
        saved = json.load(f)
    test = [s for s in saved['splits'] if s['name'] == 'test'][0]
    assert [p['path'] for p in test['problems']] == [bad]
    assert test['role'] == 'eval'


def test_training_splits_skip_under_the_threshold(tiny_cfg):
    cfg, root, _ = tiny_cfg
    _damage(_first(root, 'train'), 'not_an_array')  # 1 of 8 samples
    with pytest.raises(DataCheckError, match=r'1 of 8 samples unreadable '
                       r'\(12.5 % > 1 %\)'):
        check_data_before_run(cfg, ['train'])
    check_data_before_run(cfg, ['train'], max_bad_ratio=0.2)
    # a bad view with another view left: a problem, but the sample loads
    view = osp.join(root, 'shapenet_render', 'img', '00000001', 'm1000',
                    '000.png')
    os.remove(view)
    check_data_before_run(cfg, ['train'], max_bad_ratio=0.2)
    with open(osp.join(cfg.work_dir, 'data_check.json')) as f:
        train = json.load(f)['splits'][0]
    assert len(train['problems']) == 2
    assert train['bad_samples'] == [osp.basename(_first(root, 'train'))[:-4]]


def test_the_cli_adds_the_accounting_hook_once(tiny_cfg):
    cfg = tiny_cfg[0]
    add_accounting_hook(cfg)
    add_accounting_hook(cfg)
    names = [h['type'] for h in cfg.custom_hooks]
    assert names.count('cg3d_mm.SampleAccountingHook') == 1
    assert 'AlternatingOptimizerHook' in names


def _batch(metas):
    return dict(inputs={}, data_samples=[PointDataSample(metainfo=m)
                                         for m in metas])


def test_accounting_hook_logs_and_saves_every_skip(tmp_path):
    hook = SampleAccountingHook()
    runner = SimpleNamespace(log_dir=str(tmp_path), epoch=0,
                             test_dataloader=SimpleNamespace(dataset=[0] * 3))
    skip = dict(sample='02691156-a', path='pc/02691156-a.npy',
                error='pc/02691156-a.npy: truncated')
    fallback = dict(path='img/a/000.png', error='img/a/000.png: missing')
    hook.before_train_epoch(runner)
    hook.after_train_iter(runner, 0, _batch([
        dict(skipped_samples=[skip], pts_path='pc/b.npy'),
        dict(view_fallback=[fallback], img_path='img/c/001.png',
             pts_path='pc/c.npy'),
        dict(pts_path='pc/d.npy')]))
    hook.after_train_epoch(runner)
    runner.epoch = 1
    hook.before_train_epoch(runner)
    hook.after_train_iter(runner, 0, _batch([dict(pts_path='pc/d.npy')]))
    hook.after_train_epoch(runner)
    with open(tmp_path / 'skipped_samples.json') as f:
        epochs = json.load(f)['epochs']
    assert [e['num_skipped'] for e in epochs] == [1, 0]
    assert epochs[0]['skipped'] == [skip]
    assert epochs[0]['view_fallbacks'] == [dict(
        fallback, used='img/c/001.png', sample='c.npy')]
    assert [e['samples_read'] for e in epochs] == [3, 1]
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, _batch([{}, {}]))
    hook.after_test_iter(runner, 1, _batch([{}]))
    assert hook._evaluated == 3


def test_alternating_schedule_does_not_trip_the_order_warning():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    wrappers = OptimWrapperDict(
        point_encoder=OptimWrapper(torch.optim.SGD(a.parameters(), lr=1.)),
        visual_prompt=OptimWrapper(torch.optim.SGD(b.parameters(), lr=1.)))

    def first_iteration(with_hook):
        scheds = [CosineAnnealingLR(w, T_max=4) for w in wrappers.values()]
        a(torch.ones(1, 2)).sum().backward()
        wrappers['point_encoder'].step()  # iteration 0: its turn only
        if with_hook:
            runner = SimpleNamespace(iter=0, optim_wrapper=wrappers)
            AlternatingOptimizerHook().after_train_iter(runner, 0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            for s in scheds:
                s.step()
        return [str(w.message) for w in caught
                if 'before `optimizer.step()`' in str(w.message)]

    assert len(first_iteration(with_hook=False)) == 1  # mmengine's check
    for w in wrappers.values():  # fresh counters, as a new run has
        w._global_step = -1
    assert first_iteration(with_hook=True) == []


class _Frozen(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4))
        self.head = nn.Linear(4, 2)
        self.head.log_logit_scale = nn.Parameter(torch.zeros(()),
                                                 requires_grad=False)
        self.img_backbone = nn.Linear(2, 2)
        self.img_backbone.weight.requires_grad_(False)


def test_frozen_parameters_are_one_info_line_not_warnings():
    records = []

    class Keep(logging.Handler):

        def emit(self, record):
            records.append(record)

    logger = MMLogger.get_current_instance()
    handler = Keep(level=logging.DEBUG)
    logger.addHandler(handler)
    try:
        wrappers = CG3DOptimWrapperConstructor(dict(
            point_encoder=dict(optimizer=dict(type='AdamW', lr=1e-3,
                                              weight_decay=0.1),
                               paramwise_cfg=dict(norm_decay_mult=0.)),
            visual_prompt=dict(optimizer=dict(type='SGD', lr=0.1))))(
                _Frozen())
        logger.warning('head.other is skipped since its requires_grad=False')
    finally:
        logger.removeHandler(handler)
    warned = [r.getMessage() for r in records if r.levelno >= logging.WARNING]
    # only the warning raised after the constructor (filter removed) is left
    assert warned == ['head.other is skipped since its requires_grad=False']
    info = [r.getMessage() for r in records if 'frozen parameter' in
            r.getMessage()]
    assert info == ['1 frozen parameter(s) left out of the optimizer '
                    '(head.log_logit_scale)']
    groups = wrappers['point_encoder'].optimizer.param_groups
    assert all(p.requires_grad for g in groups for p in g['params'])


def _train(cfg_path, work_dir, *extra):
    env = dict(os.environ, PYTHONWARNINGS='default')
    return subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'train.py'), cfg_path,
         '--work-dir', work_dir, *extra], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_train_tool_stops_before_training_then_accounts_for_skips(
        tiny_cfg, tmp_path):
    _, root, cfg_path = tiny_cfg
    bad_test = _first(root, 'test')
    with open(bad_test, 'rb') as f:
        good = f.read()
    _damage(bad_test)
    _damage(_first(root, 'train'), 'not_an_array')
    out = _train(cfg_path, str(tmp_path / 'w1'), '--max-bad-ratio', '0.2')
    log = out.stdout + out.stderr
    assert out.returncode == 1, log
    assert bad_test in log and 'evaluation split' in log
    assert 'Epoch(train)' not in log and 'Traceback' not in log

    with open(bad_test, 'wb') as f:  # repaired: trains, skipping 1 of 8
        f.write(good)
    out = _train(cfg_path, str(tmp_path / 'w2'), '--max-bad-ratio', '0.2')
    log = out.stdout + out.stderr
    assert out.returncode == 0, log
    train_name = osp.basename(_first(root, 'train'))[:-4]
    assert f'1 unreadable sample(s) skipped ({train_name})' in log
    assert 'test: evaluated 4 samples' in log
    # a clean log: the only warnings are about the skipped sample
    for noise in ('Detected call of', 'requires_grad=False', 'FileClient',
                  'HardDiskBackend'):
        assert noise not in log
    warned = [line for line in log.splitlines() if ' - WARNING - ' in line]
    assert warned and all('skip' in w for w in warned), warned
    found = [osp.join(d, f) for d, _, files in os.walk(tmp_path / 'w2')
             for f in files if f == 'skipped_samples.json']
    epochs = json.load(open(found[0]))['epochs']
    assert epochs[0]['num_skipped'] >= 1
    assert {s['sample'] for s in epochs[0]['skipped']} == {train_name}


@pytest.mark.slow
def test_test_tool_stops_before_building_the_model(tiny_cfg, tmp_path):
    _, root, cfg_path = tiny_cfg
    bad = _first(root, 'test')
    _damage(bad, 'not_an_array')
    ckpt = tmp_path / 'any.pth'
    ckpt.write_bytes(b'never read: the data check stops first')
    out = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'test.py'), cfg_path,
         str(ckpt), '--work-dir', str(tmp_path / 'w')], cwd=REPO,
        capture_output=True, text=True, timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode == 1, log
    assert f'{bad}: not a .npy array' in log and 'Traceback' not in log
