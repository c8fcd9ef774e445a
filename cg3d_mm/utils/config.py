"""Reading configs: a file or Config in, a private Config out; the point
count a config's model was trained and tested with."""
import copy
import os
import os.path as osp
from typing import Optional, Sequence, Union

from mmengine.config import Config

ConfigLike = Union[str, os.PathLike, Config]


def load_config(config: ConfigLike) -> Config:
    """A Config the caller may change: a deep copy of a given Config, or the
    file read with ``Config.fromfile``.

    Raises:
        FileNotFoundError: ``config`` is a path that does not exist.
    """
    if isinstance(config, Config):
        return copy.deepcopy(config)
    config = str(config)
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file {config} does not exist')
    return Config.fromfile(config)


def pipeline_num_points(pipeline: Sequence[dict]) -> Optional[int]:
    """``num_points`` of the pipeline's ``SamplePoints`` (None if absent)."""
    for t in pipeline or ():
        if isinstance(t, dict) and t.get('type') == 'SamplePoints':
            return int(t['num_points'])
    return None


def config_num_points(cfg: Config) -> int:
    """Points per cloud the config's model was trained / tested with.

    Taken from ``SamplePoints`` of the test pipeline
    (``test_dataloader.dataset.pipeline``, else ``test_pipeline``), else
    from a top-level ``num_points``: a checkpoint is specific to its point
    count, so there is no default.

    Raises:
        ValueError: None of them is set; the message names the config file.
    """
    test_ds = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    for pipeline in (test_ds.get('pipeline'), cfg.get('test_pipeline')):
        num_points = pipeline_num_points(pipeline)
        if num_points is not None:
            return num_points
    if cfg.get('num_points'):
        return int(cfg.num_points)
    raise ValueError(
        f'{cfg.filename or "the config"}: cannot tell the point count (no '
        'SamplePoints in test_dataloader.dataset.pipeline or test_pipeline '
        'and no num_points); set num_points in the config or pass it '
        'explicitly')
