"""A training dataset that skips unreadable samples and accounts for them."""
import os.path as osp
from typing import List, Optional

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from cg3d_mm.utils.assets import resolve_asset

from .transforms.loading import UnreadableSampleError


def resolve_layout_root(name: str, data_root: Optional[str],
                        synthetic: Optional[dict], layout: str) -> str:
    """``data_root``, or the synthetic world written in ``layout``.

    Args:
        name (str): The dataset class, for messages.
        data_root (str, optional): A real dataset root.
        synthetic (dict, optional): ``dict(seed=..., part=..., [layout=])``
            settings of the synthetic world converted to ``layout`` (the
            ``synthetic_layout`` asset), used when ``data_root`` is None.
        layout (str): The layout this dataset reads.
    """
    if data_root is not None:
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'{name}: data_root {data_root} does not exist')
        return data_root
    if synthetic is None:
        raise ValueError(f'{name}: give data_root, or synthetic=dict(...) '
                         f'for the built-in data written in the {layout!r} '
                         'layout')
    settings = dict(synthetic)
    if settings.setdefault('layout', layout) != layout:
        raise ValueError(f'{name} reads the {layout!r} layout, got '
                         f'synthetic layout={settings["layout"]!r}')
    return resolve_asset('synthetic_layout', **settings)


class SkippingDataset(BaseDataset):
    """BaseDataset whose training samples that cannot be read are skipped.

    A pipeline error :class:`UnreadableSampleError` (a missing or corrupt
    file, a sample without caption) makes ``prepare_data`` return None, so
    that mmengine's ``BaseDataset`` draws another index; the skipped sample
    is logged and listed in the ``skipped_samples`` metainfo of the sample
    returned instead, which ``SampleAccountingHook`` counts whichever
    worker read it. In ``test_mode`` the error is raised.

    Subclasses call :meth:`check_missing` for the entries whose files are
    missing when the list is read.

    Args:
        max_missing_ratio (float): Entries with missing files are skipped
            with a log line while they are at most this fraction of the
            list; beyond it the dataset refuses to start. Defaults to 0.01.
        *args, **kwargs: ``BaseDataset``'s.
    """

    def __init__(self, *args, max_missing_ratio: float = 0.01,
                 **kwargs) -> None:
        if not 0 <= max_missing_ratio <= 1:
            raise ValueError('max_missing_ratio must be in [0, 1], got '
                             f'{max_missing_ratio!r}')
        self.max_missing_ratio = max_missing_ratio
        self._skipped_unreadable = 0
        self._pending_skips: List[dict] = []
        super().__init__(*args, **kwargs)

    def check_missing(self, missing: List[str], total: int,
                      expected: str) -> None:
        """Skip (log) or refuse (raise) the entries with missing files."""
        if not missing:
            return
        listed = ', '.join(missing[:3]) + (' ...' if len(missing) > 3 else '')
        if len(missing) > self.max_missing_ratio * total:
            raise FileNotFoundError(
                f'{self.ann_file or self.data_root}: {len(missing)} of '
                f'{total} entries have missing files (e.g. {listed}); '
                f'expected {expected}')
        print_log(f'{self.ann_file or self.data_root}: skipping '
                  f'{len(missing)} of {total} entries with missing files '
                  f'(e.g. {listed})', logger='current', level=30)

    def prepare_data(self, idx: int):
        try:
            return super().prepare_data(idx)
        except UnreadableSampleError as err:
            if self.test_mode:
                raise
            info = self.get_data_info(idx)
            self._skipped_unreadable += 1
            self._pending_skips.append(dict(
                sample=info.get('sample_id'), path=info.get('pts_path'),
                error=str(err)))
            print_log(f'skipping unreadable sample {info.get("sample_id")} '
                      f'({err})', logger='current', level=30)
            return None

    def __getitem__(self, idx: int) -> dict:
        self._pending_skips = []
        data = super().__getitem__(idx)
        if self._pending_skips and isinstance(data, dict) and \
                'data_samples' in data:
            data['data_samples'].set_metainfo(
                dict(skipped_samples=self._pending_skips))
        self._pending_skips = []
        return data
