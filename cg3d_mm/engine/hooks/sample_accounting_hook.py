"""Account for every sample a run skipped or read from a fallback view."""
import logging
import os.path as osp
from typing import List, Optional

from mmengine.dist import all_gather_object, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

from cg3d_mm.registry import HOOKS
from cg3d_mm.utils.io import atomic_write_json

DATA_BATCH = Optional[dict]


def _samples_of(data_batch: DATA_BATCH) -> list:
    if not isinstance(data_batch, dict):
        return []
    samples = data_batch.get('data_samples')
    return list(samples) if isinstance(samples, (list, tuple)) else []


def _names(entries: List[dict], key: str, limit: int = 10) -> str:
    names = [str(e.get(key)) for e in entries]
    more = f' and {len(names) - limit} more' if len(names) > limit else ''
    return ', '.join(names[:limit]) + more


@HOOKS.register_module()
class SampleAccountingHook(Hook):
    """Log and save, per epoch, which samples training skipped and which
    read another view than the one drawn; log how many samples each
    evaluation saw.

    Training datasets skip unreadable samples (another index is drawn
    instead) and ``LoadTripletImage`` falls back to another view of the
    same object; both are recorded in the metainfo of the samples that
    reach the batch (``skipped_samples``, ``view_fallback``), so they are
    counted here whichever DataLoader worker read them, on every rank.
    After each epoch the counts and names go to the log and to
    ``<log_dir>/skipped_samples.json`` (rewritten atomically every epoch).

    Args:
        out_file (str): JSON file name inside the run's log directory.
            Defaults to 'skipped_samples.json'.
    """

    priority = 'BELOW_NORMAL'

    def __init__(self, out_file: str = 'skipped_samples.json') -> None:
        self.out_file = out_file
        self.epochs: List[dict] = []
        self._reset()
        self._evaluated = 0

    def _reset(self) -> None:
        self._skipped: List[dict] = []
        self._fallbacks: List[dict] = []
        self._seen = 0

    def before_train_epoch(self, runner) -> None:
        self._reset()

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        for sample in _samples_of(data_batch):
            self._seen += 1
            meta = sample.metainfo if hasattr(sample, 'metainfo') else {}
            self._skipped += list(meta.get('skipped_samples') or ())
            for failed in meta.get('view_fallback') or ():
                self._fallbacks.append(dict(
                    failed, used=meta.get('img_path'),
                    sample=osp.basename(str(meta.get('pts_path', '')))))

    def after_train_epoch(self, runner) -> None:
        parts = all_gather_object(
            (self._seen, self._skipped, self._fallbacks))
        seen = sum(p[0] for p in parts)
        skipped = [s for p in parts for s in p[1]]
        fallbacks = [f for p in parts for f in p[2]]
        epoch = dict(epoch=runner.epoch + 1, samples_read=seen,
                     num_skipped=len(skipped), skipped=skipped,
                     num_view_fallbacks=len(fallbacks),
                     view_fallbacks=fallbacks)
        self.epochs.append(epoch)
        if skipped or fallbacks:
            msg = (f'epoch {epoch["epoch"]}: {len(skipped)} unreadable '
                   f'sample(s) skipped')
            if skipped:
                msg += f' ({_names(skipped, "sample")})'
            msg += f', {len(fallbacks)} unreadable view(s) replaced by ' \
                'another view of the same object'
            if fallbacks:
                msg += f' ({_names(fallbacks, "path")})'
            level = logging.WARNING
        else:
            msg = (f'epoch {epoch["epoch"]}: all {seen} samples read, none '
                   'skipped')
            level = logging.INFO
        print_log(msg + f'; details in {self._path(runner)}',
                  logger='current', level=level)
        if is_main_process():
            atomic_write_json(self._path(runner), dict(epochs=self.epochs))

    def _path(self, runner) -> str:
        return osp.join(runner.log_dir, self.out_file)

    def before_val_epoch(self, runner) -> None:
        self._evaluated = 0

    def before_test_epoch(self, runner) -> None:
        self._evaluated = 0

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        self._evaluated += len(_samples_of(data_batch))

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._evaluated += len(_samples_of(data_batch))

    def _log_evaluated(self, runner, mode: str) -> None:
        total = sum(all_gather_object(self._evaluated))
        loader = getattr(runner, f'{mode}_dataloader', None)
        size = len(loader.dataset) if loader is not None and hasattr(
            loader, 'dataset') else None
        what = f'{mode}: evaluated {total} samples'
        if size is not None and size != total:
            # a distributed sampler pads to equal shards
            what += f' (the dataset has {size})'
        print_log(what, logger='current')

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._log_evaluated(runner, 'val')

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._log_evaluated(runner, 'test')
