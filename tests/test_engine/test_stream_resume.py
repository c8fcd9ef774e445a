"""Kill a training run over shards mid-epoch, resume it: the resumed epoch
trains on exactly the samples the checkpoint had not consumed."""
import json
import os.path as osp
import signal
import time
from collections import Counter

import pytest
from conftest import TINY_CFG, write_tiny_shapenet
from test_fault_tolerance import PAUSE_HOOK, _train


# The test's own hook: every trained sample, by iteration and epoch.
RECORD_HOOK = """
import json
import os

from mmengine.hooks import Hook

from cg3d_mm.registry import HOOKS


@HOOKS.register_module()
class RecordSamples(Hook):
    priority = 'HIGH'  # before PauseForKill stops the run

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        with open(os.environ['RECORD_FILE'], 'a') as f:
            f.write(json.dumps(dict(
                iter=runner.iter + 1, epoch=runner.epoch,
                samples=[s.pts_path for s in data_batch['data_samples']]))
                + '\\n')
"""

SHARDS_LOADER = """
train_dataloader = dict(
    _delete_=True, batch_size=4, num_workers=2, persistent_workers=True,
    drop_last=True, sampler=None,
    dataset=dict(type='ShardedTriplets', data_root='{shards}',
                 shuffle_buffer=5, batch_size=4, pipeline=pipeline))
"""

# two sources, 1:1: the shards above with their views, and the same shapes
# under other keys without views (point-text only, as OpenShape's)
MIXED_LOADER = """
no_view_pipeline = [t for t in pipeline if t['type'] != 'LoadTripletImage']
no_view_pipeline[-1] = dict(type='PackCG3DInputs', keys=('points', 'img'),
                            blank_img_size=32)
train_dataloader = dict(
    _delete_=True, batch_size=4, num_workers=2, persistent_workers=True,
    drop_last=True, sampler=None,
    dataset=dict(type='MixedShardedTriplets', ratios=(1, 1),
                 shuffle_buffer=5, batch_size=4,
                 sources=[dict(data_root='{shards}', pipeline=pipeline),
                          dict(data_root='{no_view_shards}',
                               require_images=False,
                               pipeline=no_view_pipeline)]))
"""

RUN_CFG = """
custom_imports = dict(imports=['cg3d_mm', 'pause_hook', 'record_hook'],
                      allow_failed_imports=False)
custom_hooks = [
    dict(type='AlternatingOptimizerHook',
         schedule=('point_encoder', 'visual_prompt')),
    dict(type='ZeroShotClassesHook'),
    dict(type='StreamPositionHook'),
    dict(type='RecordSamples'),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
# checkpoints every 2 iterations: a kill lands after a mid-epoch one
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(by_epoch=False, interval=2,
                                     max_keep_ckpts=2),
                     pause=dict(type='PauseForKill'))
"""


def _no_view_shards(root, out):
    """The training shapes again, under other keys and without views."""
    from cg3d_mm.datagen.triplets.to_shards import write_triplet_shards
    from cg3d_mm.datasets import ShapeNetTriplets
    shapes = ShapeNetTriplets(data_root=root, num_views=2)
    infos = [shapes.get_data_info(i) for i in range(len(shapes))]
    items = [dict(pts_path=d['pts_path'], sample_id=f"b-{d['sample_id']}",
                  class_name=d['class_name']) for d in infos]
    write_triplet_shards(items, out, classes=shapes.metainfo['classes'],
                         samples_per_shard=3, require_images=False)


def _records(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize('mixed', [False, True], ids=['shards', 'mixed'])
def test_killed_run_over_shards_resumes_at_its_position(tmp_path, mixed):
    from cg3d_mm.datagen.triplets.to_shards import shapenet_split_to_shards
    root = write_tiny_shapenet(tmp_path / 'ShapeNet55', per_class=6)
    shards = str(tmp_path / 'shards')
    shapenet_split_to_shards(root, shards, num_views=2, samples_per_shard=3)
    (tmp_path / 'pause_hook.py').write_text(PAUSE_HOOK)
    (tmp_path / 'record_hook.py').write_text(RECORD_HOOK)
    cfg = tmp_path / 'tiny_shards.py'
    if mixed:  # MixedShardedTriplets: 16 + 16 samples an epoch
        _no_view_shards(root, str(tmp_path / 'no_view_shards'))
        loader = MIXED_LOADER.format(
            shards=shards, no_view_shards=tmp_path / 'no_view_shards')
    else:
        loader = SHARDS_LOADER.format(shards=shards)
    cfg.write_text(TINY_CFG.format(data_root=root, max_epochs=3) + loader +
                   RUN_CFG)
    per_epoch = 32 if mixed else 16
    iters = per_epoch // 4

    # SIGKILLed 3 iterations into epoch 2, before its checkpoint: the last
    # one is two batches into epoch 2
    marker, killed_log = tmp_path / 'paused', tmp_path / 'killed.jsonl'
    victim = _train(cfg, tmp_path / 'work', env=dict(
        PAUSE_AT_ITER=str(iters + 3), PAUSE_MARKER=str(marker),
        RECORD_FILE=str(killed_log)))
    deadline = time.time() + 400
    while not marker.exists():
        assert victim.poll() is None, victim.stderr.read()[-3000:]
        assert time.time() < deadline, 'training did not start'
        time.sleep(0.2)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert osp.isfile(tmp_path / 'work' / f'iter_{iters + 2}.pth')

    resumed_log = tmp_path / 'resumed.jsonl'
    resumed = _train(cfg, tmp_path / 'work', '--resume',
                     env=dict(RECORD_FILE=str(resumed_log)))
    assert resumed.wait(timeout=400) == 0, resumed.stderr.read()[-3000:]

    before = [r for r in _records(killed_log) if r['iter'] <= iters + 2]
    after = _records(resumed_log)
    assert [r['iter'] for r in after] == list(range(iters + 3,
                                                    3 * iters + 1))
    for epoch in (1, 2):  # the resumed epoch and the next
        trained = Counter(s for r in before + after if r['epoch'] == epoch
                          for s in r['samples'])
        assert len(trained) == per_epoch, epoch
        assert set(trained.values()) == {1}, epoch
        if mixed:  # half of each epoch from each source
            assert sum('/b-' in s for s in trained) == 16, epoch
    # the resumed epoch is the killed run's order carried on: its first
    # iteration is the batch the killed run trained at that iteration
    killed = [r for r in _records(killed_log) if r['iter'] == iters + 3][0]
    assert after[0]['samples'] == killed['samples']


class _Sample:
    def __init__(self, worker):
        self.metainfo = dict(stream_worker=worker)


class _Dataset:
    """What the hook needs of ShardedTriplets."""
    num_samples, batch_size = 40, 2

    def __init__(self):
        self.calls = []

    def set_epoch(self, epoch, consumed=None):
        self.calls.append((epoch, consumed))

    def worker_plan(self, *args):
        raise AssertionError('not used by the hook')

    def samples_per_rank(self, world_size):
        return self.num_samples // world_size


def _runner(epoch, it, workers=2):
    from types import SimpleNamespace
    loader = SimpleNamespace(num_workers=workers, batch_size=2,
                             dataset=_Dataset())
    return SimpleNamespace(train_dataloader=loader, epoch=epoch, iter=it)


def test_hook_saves_and_restores_the_position():
    from cg3d_mm.engine.hooks import StreamPositionHook
    hook, runner = StreamPositionHook(), _runner(epoch=1, it=10)
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    assert runner.train_dataloader.dataset.calls == [(1, None)]
    batch = dict(data_samples=[_Sample(0), _Sample(0)])
    hook.after_train_iter(runner, 0, batch)
    hook.after_train_iter(runner, 1, dict(data_samples=[_Sample(1)] * 2))
    hook.after_train_iter(runner, 2, batch)
    ckpt = dict(meta=dict(epoch=1, iter=13))
    hook.before_save_checkpoint(runner, ckpt)
    assert ckpt['stream_position']['consumed'] == [4, 2]

    resumed = _runner(epoch=1, it=13)
    hook = StreamPositionHook()
    hook.after_load_checkpoint(resumed, ckpt)
    hook.before_train_epoch(resumed)
    assert resumed.train_dataloader.dataset.calls == [(1, [4, 2])]
    # an epoch-end checkpoint holds no position
    hook.after_train_epoch(resumed)
    end = dict(meta=dict(epoch=2, iter=20))
    hook.before_save_checkpoint(resumed, end)
    assert 'stream_position' not in end
    # and the next epoch starts from its beginning
    resumed.epoch = 2
    hook.before_train_epoch(resumed)
    assert resumed.train_dataloader.dataset.calls[-1] == (2, None)

    # weights loaded into a fresh run (iteration 0): no skipping
    fresh = _runner(epoch=1, it=0)
    hook = StreamPositionHook()
    hook.after_load_checkpoint(fresh, ckpt)
    hook.before_train_epoch(fresh)
    assert fresh.train_dataloader.dataset.calls == [(1, None)]

    # another worker count: the consumed fraction (6 of 20) per worker
    other = _runner(epoch=1, it=13, workers=4)
    hook = StreamPositionHook()
    hook.after_load_checkpoint(other, ckpt)
    hook.before_train_epoch(other)
    assert other.train_dataloader.dataset.calls == [(1, [1, 1, 1, 1])]


def test_hook_refuses_a_mismatched_batch_size():
    from cg3d_mm.engine.hooks import StreamPositionHook
    runner = _runner(epoch=0, it=0)
    runner.train_dataloader.dataset.batch_size = 3
    with pytest.raises(ValueError, match='batch_size'):
        StreamPositionHook().before_train(runner)
