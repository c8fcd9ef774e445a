"""Kill a training run mid-epoch, resume it: the loss curve carries on."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
from conftest import REPO, TINY_CFG, write_tiny_shapenet

ITERS_PER_EPOCH = 4  # 16 training objects / batch 4


# A hook of the test's own: with PAUSE_AT_ITER set, the run stops moving
# after that iteration (and says so with a marker file) until it is killed,
# so the kill lands mid-epoch however fast the machine is.
PAUSE_HOOK = """
import os
import time

from mmengine.hooks import Hook

from cg3d_mm.registry import HOOKS


@HOOKS.register_module()
class PauseForKill(Hook):

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        at = os.environ.get('PAUSE_AT_ITER')
        if at and runner.iter + 1 == int(at):
            open(os.environ['PAUSE_MARKER'], 'w').close()
            time.sleep(600)
"""


def _train(cfg, work_dir, *extra, env=None):
    env = dict(os.environ, **(env or {}))
    env['PYTHONPATH'] = os.pathsep.join(
        [osp.dirname(str(cfg))] + [p for p in [env.get('PYTHONPATH')] if p])
    return subprocess.Popen(
        [sys.executable, osp.join(REPO, 'tools', 'train.py'), str(cfg),
         '--work-dir', str(work_dir), '--no-test', *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=env)


def _logged_losses(work_dir):
    """iteration -> logged total loss, over every run in the work dir."""
    losses = {}
    if not osp.isdir(work_dir):
        return losses
    for run in sorted(os.listdir(work_dir)):
        path = osp.join(work_dir, run, 'vis_data', 'scalars.json')
        if not osp.isfile(path):
            continue
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                if 'loss' in row:
                    losses[row['step']] = row['loss']  # later runs win
    return losses


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_killed_run_resumes_from_last_checkpoint(tmp_path):
    data_root = write_tiny_shapenet(tmp_path / 'ShapeNet55', per_class=6)
    cfg = tmp_path / 'tiny.py'
    (tmp_path / 'pause_hook.py').write_text(PAUSE_HOOK)
    cfg.write_text(TINY_CFG.format(data_root=data_root, max_epochs=3) + """
custom_imports = dict(imports=['cg3d_mm', 'pause_hook'],
                      allow_failed_imports=False)
# (this file's own default_hooks too: a second assignment replaces the first)
default_hooks = dict(logger=dict(interval=1),
                     pause=dict(type='PauseForKill'))
""")

    full = _train(cfg, tmp_path / 'full')
    assert full.wait(timeout=600) == 0, full.stderr.read()[-3000:]
    reference = _logged_losses(tmp_path / 'full')
    assert sorted(reference) == list(range(1, 3 * ITERS_PER_EPOCH + 1))

    # same run, SIGKILLed in the middle of epoch 2
    marker = tmp_path / 'paused'
    victim = _train(cfg, tmp_path / 'killed', env=dict(
        PAUSE_AT_ITER=str(ITERS_PER_EPOCH + 2), PAUSE_MARKER=str(marker)))
    deadline = time.time() + 600
    while not marker.exists():
        assert victim.poll() is None, victim.stderr.read()[-3000:]
        assert time.time() < deadline, 'training did not start'
        time.sleep(0.2)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert osp.isfile(tmp_path / 'killed' / 'epoch_1.pth')
    assert not osp.exists(tmp_path / 'killed' / 'epoch_2.pth')

    resumed = _train(cfg, tmp_path / 'killed', '--resume')
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read()[-3000:]
    after = _logged_losses(tmp_path / 'killed')
    # epoch 2 is redone from the epoch-1 checkpoint (both optimizers and
    # schedulers restored) and the curve matches the uninterrupted run
    for step in range(ITERS_PER_EPOCH + 1, 3 * ITERS_PER_EPOCH + 1):
        assert after[step] == pytest.approx(reference[step], rel=1e-4), step
    assert osp.isfile(tmp_path / 'killed' / 'epoch_3.pth')
