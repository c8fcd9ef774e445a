"""Keep a streamed dataset's position with the run: epoch and samples
consumed, saved in checkpoints and restored on ``--resume``."""
import logging
from typing import List, Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log

from cg3d_mm.registry import HOOKS

DATA_BATCH = Optional[dict]
CHECKPOINT_KEY = 'stream_position'


@HOOKS.register_module()
class StreamPositionHook(Hook):
    """The stream position of a ``ShardedTriplets`` training set.

    Before each epoch the dataset gets the runner's epoch (its shard order
    and shuffle buffers are seeded with it); each trained batch counts, per
    DataLoader worker, the samples consumed (the ``stream_worker`` of their
    metainfo); every checkpoint stores ``(epoch, iteration, layout,
    consumed per worker)`` under ``checkpoint['stream_position']``. A run
    resumed from a checkpoint saved mid-epoch hands the counts back to the
    dataset, whose workers drop exactly the samples already trained on, so
    nothing is repeated or skipped. Resuming with another number of ranks,
    workers or batch size maps the consumed fraction onto the new workers
    (logged as approximate). Ranks consume identical per-worker counts (the
    dataset gives every rank the same range sizes), so each rank saves and
    restores its own.

    Checkpoints must be saved by iteration for mid-epoch resumes (e.g.
    ``default_hooks.checkpoint = dict(by_epoch=False, interval=1000)``);
    epoch checkpoints resume at an epoch start anyway. Datasets without
    ``set_epoch`` are left alone.
    """

    # counts a batch before CheckpointHook (VERY_LOW) saves after it
    priority = 'ABOVE_NORMAL'

    def __init__(self) -> None:
        self._consumed: List[int] = []
        self._restored: Optional[dict] = None

    @staticmethod
    def _dataset(runner):
        loader = runner.train_dataloader
        dataset = getattr(loader, 'dataset', None)
        return dataset if hasattr(dataset, 'set_epoch') and hasattr(
            dataset, 'worker_plan') else None

    @staticmethod
    def _layout(runner, dataset) -> dict:
        from mmengine.dist import get_world_size
        loader = runner.train_dataloader
        return dict(world_size=get_world_size(),
                    num_workers=max(1, loader.num_workers),
                    batch_size=loader.batch_size,
                    num_samples=dataset.num_samples)

    def before_train(self, runner) -> None:
        dataset = self._dataset(runner)
        if dataset is None:
            return
        size = runner.train_dataloader.batch_size
        if dataset.batch_size is not None and dataset.batch_size != size:
            raise ValueError(
                f'{type(dataset).__name__}.batch_size ({dataset.batch_size}) '
                f'differs from the dataloader batch_size ({size}); set both '
                'from one variable')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._restored = checkpoint.get(CHECKPOINT_KEY)

    def _resume_counts(self, runner, dataset) -> Optional[List[int]]:
        """Per-worker counts to drop, if this epoch resumes mid-way."""
        saved, self._restored = self._restored, None
        if not saved or saved['epoch'] != runner.epoch or \
                saved['iter'] != runner.iter:
            return None  # an epoch-end checkpoint, or weights only
        layout = self._layout(runner, dataset)
        if saved['layout'] == layout:
            counts = list(saved['consumed'])
            print_log(f'stream position: epoch {runner.epoch + 1} resumes '
                      f'after {sum(counts)} samples per rank (per worker '
                      f'{counts})', logger='current')
            return counts
        old = saved['layout']
        from cg3d_mm.datasets.sharded_triplets import worker_sizes
        old_total = max(1, old['num_samples'] // old['world_size'])
        frac = min(1., sum(saved['consumed']) / old_total)
        sizes = worker_sizes(
            dataset.samples_per_rank(layout['world_size']),
            layout['num_workers'], dataset.batch_size)
        counts = [int(frac * s) for s in sizes]
        print_log(f'stream position: the checkpoint was saved with {old}, '
                  f'this run has {layout}; skipping {100 * frac:.1f} % of '
                  'each worker\'s samples of this epoch (approximate: some '
                  'samples may repeat or be missed)', logger='current',
                  level=logging.WARNING)
        return counts

    def before_train_epoch(self, runner) -> None:
        dataset = self._dataset(runner)
        if dataset is None:
            return
        counts = self._resume_counts(runner, dataset)
        dataset.set_epoch(runner.epoch, counts)
        workers = max(1, runner.train_dataloader.num_workers)
        self._consumed = list(counts or [0] * workers)

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        if not self._consumed or not isinstance(data_batch, dict):
            return
        for sample in data_batch.get('data_samples') or ():
            worker = getattr(sample, 'metainfo', {}).get('stream_worker')
            if worker is not None:
                self._consumed[worker] += 1

    def after_train_epoch(self, runner) -> None:
        # a finished epoch has no position to save (the next one starts
        # from its beginning); also keeps best-checkpoint saves after
        # validation from carrying this epoch's counts into the next
        self._consumed = []

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        dataset = self._dataset(runner)
        if dataset is None or not self._consumed:
            return
        checkpoint[CHECKPOINT_KEY] = dict(
            epoch=runner.epoch, iter=checkpoint['meta']['iter'],
            layout=self._layout(runner, dataset),
            consumed=list(self._consumed))
