"""CG3D pretraining through mmengine's Runner on a tiny config."""
import gc
import os
import os.path as osp

import pytest
import torch
from conftest import TINY_CFG
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

import cg3d_mm  # noqa: F401

pytestmark = pytest.mark.slow  # end-to-end: Runner / subprocess runs



class RecordLosses(Hook):

    def __init__(self):
        self.losses = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.losses[runner.iter] = {
            k: float(torch.as_tensor(v).detach())
            for k, v in outputs.items()
        }


class KillAfterEpoch(Hook):
    """Stops the run like a crash, after the epoch's checkpoint is saved."""

    priority = 'LOWEST'

    def __init__(self, epoch):
        self.epoch = epoch

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == self.epoch:  # epoch is 0-based here
            raise KeyboardInterrupt(f'killed after epoch {self.epoch}')


def make_cfg(tmp_path, data_root, work_dir, max_epochs=3):
    path = tmp_path / 'tiny.py'
    path.write_text(TINY_CFG.format(data_root=data_root,
                                    max_epochs=max_epochs))
    cfg = Config.fromfile(str(path))
    cfg.work_dir = str(work_dir)
    return cfg


def run(cfg, resume_from=None, kill_after=None):
    recorder = RecordLosses()
    if resume_from:
        cfg.resume, cfg.load_from = True, resume_from
    runner = Runner.from_cfg(cfg)
    runner.register_hook(recorder)
    if kill_after is not None:
        runner.register_hook(KillAfterEpoch(kill_after))
        with pytest.raises(KeyboardInterrupt):
            runner.train()
    else:
        runner.train()
    return runner, recorder.losses


def test_alternating_training_validates_and_resumes_identically(
        tmp_path, tiny_shapenet):
    full_runner, full = run(make_cfg(tmp_path, tiny_shapenet,
                                     tmp_path / 'full'))
    # 8 training objects / batch 4 = 2 iterations per epoch, alternating
    assert sorted(full) == list(range(6))
    for it in range(6):
        key = 'loss_point_text' if it % 2 == 0 else 'loss_image_text'
        assert key in full[it]
    # zero-shot validation ran on the val list and was logged
    scalars = osp.join(full_runner.log_dir, 'vis_data', 'scalars.json')
    assert 'zeroshot/top1' in open(scalars).read()
    assert osp.isfile(osp.join(full_runner.log_dir, 'zeroshot_val.json'))
    best = [p for p in os.listdir(tmp_path / 'full')
            if p.startswith('best_zeroshot_top1')]
    assert best, 'checkpoint selection on validation data'
    full_lrs = full_runner.optim_wrapper.get_lr()
    # free the first model: a live one would share its CLIP with the next
    # run, which then draws fewer random numbers and inits differently
    del full_runner
    gc.collect()

    # the same run, killed after epoch 1, then resumed from its checkpoint
    _, first = run(make_cfg(tmp_path, tiny_shapenet, tmp_path / 'part'),
                   kill_after=1)
    gc.collect()
    ckpt = str(tmp_path / 'part' / 'epoch_1.pth')
    resumed_runner, resumed = run(
        make_cfg(tmp_path, tiny_shapenet, tmp_path / 'part'), ckpt)
    assert sorted(first) == [0, 1] and sorted(resumed) == [2, 3, 4, 5]
    for it in (0, 1):
        assert first[it] == pytest.approx(full[it], rel=1e-6)
    # both optimizers' states and both schedulers were restored: the losses
    # after the resume follow the uninterrupted run
    for it in (2, 3, 4, 5):
        assert resumed[it] == pytest.approx(full[it], rel=1e-5)
    lrs = resumed_runner.optim_wrapper.get_lr()
    assert {k for k in lrs if k.endswith('.lr')} == {'point_encoder.lr',
                                                     'visual_prompt.lr'}
    for key in ('point_encoder.lr', 'visual_prompt.lr'):
        assert lrs[key] == pytest.approx(full_lrs[key])
