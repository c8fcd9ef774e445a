"""Shared command-line plumbing of tools/train.py and tools/test.py.

Keeps mmdet3d's interface and fixes what it gets wrong for CG3D: ``--amp``
with several optimizer wrappers, and distributed runs on CPU-only machines
(mmengine's pytorch launcher calls ``torch.cuda.set_device``). Before any
long work the data of the splits a run reads is checked
(:func:`check_data_before_run`), and every run accounts for the samples it
skips (``SampleAccountingHook``, added by :func:`build_runner`).
"""
import argparse
import logging
import os
import os.path as osp
import sys
from typing import Any, Callable, Optional, Sequence

import torch
import torch.distributed as dist
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.logging import print_log


def exit_on_bad_input(main: Callable[[], Any]) -> None:
    """Run a tool's ``main``: bad input (``ValueError``, ``OSError``,
    ``KeyError``, whose messages name the file and what was expected) ends
    the tool with one ``error:`` line and exit code 1, not a traceback."""
    try:
        main()
    except (ValueError, OSError, KeyError) as err:
        print(f'error: {err}', file=sys.stderr)
        sys.exit(1)


def default_work_dir(config_path: str) -> str:
    return osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """The options mmdet3d's train and test tools share."""
    parser.add_argument('--work-dir',
                        help='the dir to save logs, metrics and checkpoints')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, key=value (xxx=[a,b] for '
        'lists)')
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument(
        '--skip-data-check', action='store_true',
        help='do not check the data files of the splits before the run')
    parser.add_argument(
        '--max-bad-ratio', type=float, default=0.01,
        help='largest fraction of unreadable training samples the run '
        'skips (more stops it before training; evaluation splits must be '
        'clean). Defaults to 0.01')


def parse_common_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse, exporting ``--local-rank`` as ``LOCAL_RANK`` like mmdet3d."""
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def load_config(args: argparse.Namespace) -> Config:
    """The config with the launcher, ``--cfg-options`` and work dir set."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = default_work_dir(args.config)
    return cfg


class DataCheckError(RuntimeError):
    """The data of a split the run reads failed the check."""


def check_data_before_run(cfg: Config, splits: Sequence[str],
                          max_bad_ratio: float = 0.01) -> None:
    """Check the files of ``splits`` (e.g. ``('train', 'val', 'test')``).

    Logs the summary table, writes every problem to
    ``<work_dir>/data_check.json`` and raises when an evaluation split has
    any problem or a training split more than ``max_bad_ratio`` unreadable
    samples (fewer are skipped during training, and accounted for).

    Raises:
        DataCheckError: Naming the bad files (the first 20) and the JSON.
    """
    from cg3d_mm.datasets.checks import check_config
    report = check_config(cfg, splits, max_bad_ratio=max_bad_ratio)
    out = osp.join(cfg.work_dir, 'data_check.json')
    report.write_json(out)
    failures = report.failures()
    print_log('data check of the splits this run reads:\n' + report.table(),
              logger='current')
    if failures:
        raise DataCheckError(
            'the data check failed, nothing was run:\n  ' +
            '\n  '.join(failures) + '\nbad files:\n  ' +
            '\n  '.join(report.problem_lines()) +
            f'\nall problems: {out}\n(fix or remove them; '
            '--skip-data-check runs anyway)')
    if report.num_problems:
        print_log(f'data check: {report.num_problems} problem(s) in training '
                  'splits, within --max-bad-ratio; those samples will be '
                  f'skipped (see {out}):\n  ' +
                  '\n  '.join(report.problem_lines()),
                  logger='current', level=logging.WARNING)


def add_accounting_hook(cfg: Config) -> None:
    """Add ``SampleAccountingHook`` to ``cfg.custom_hooks`` unless the
    config already has one."""
    hooks = list(cfg.get('custom_hooks') or [])
    names = {str(h.get('type', '')).split('.')[-1] for h in hooks
             if isinstance(h, dict)}
    if 'SampleAccountingHook' not in names:
        hooks.append(ConfigDict(type='cg3d_mm.SampleAccountingHook'))
    cfg.custom_hooks = hooks


# mmengine 0.10's CheckpointHook builds a FileClient whatever the config
# says; these notices concern mmengine's own code, nothing a user can change.
MMENGINE_INTERNAL_NOTICES = (
    '"FileClient" will be deprecated in future. Please use io functions in '
    'https://mmengine.readthedocs.io/en/latest/api/fileio.html#file-io',
    '"HardDiskBackend" is the alias of "LocalBackend" and the former will be '
    'deprecated in future.')


class _DropMessages(logging.Filter):
    """Drops records whose text is exactly one of ``messages``."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__()
        self.messages = set(messages)

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.messages


def build_runner(cfg: Config):
    """mmengine's Runner (or the config's ``runner_type``), after starting
    a gloo group when launched distributed on a CPU-only machine; with the
    run's skip accounting (:func:`add_accounting_hook`) and without
    mmengine's internal deprecation notices in its log."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    init_cpu_distributed(cfg, cfg.launcher)
    add_accounting_hook(cfg)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else \
        RUNNERS.build(cfg)
    logger = getattr(runner, 'logger', None)
    if isinstance(logger, logging.Logger):
        logger.addFilter(_DropMessages(MMENGINE_INTERNAL_NOTICES))
    return runner


def iter_optim_wrapper_cfgs(optim_wrapper: ConfigDict):
    """Yield each optimizer wrapper config (one, or each entry of a dict).

    A multi-optimizer config (``OptimWrapperDict`` built by a constructor)
    holds one wrapper config per name; anything with an ``optimizer`` key is
    a wrapper.
    """
    if 'optimizer' in optim_wrapper:
        yield optim_wrapper
        return
    for value in optim_wrapper.values():
        if isinstance(value, dict) and 'optimizer' in value:
            yield value


def enable_amp(cfg: Config, dtype: Optional[str] = None) -> None:
    """Switch every optimizer wrapper of ``cfg`` to mixed precision.

    On a GPU each wrapper becomes mmengine's ``AmpOptimWrapper`` (dynamic
    loss scale for fp16); on CPU, where ``AmpOptimWrapper`` refuses to run,
    each becomes cg3d_mm's ``CPUAutocastOptimWrapper`` (bfloat16).
    """
    wrappers = list(iter_optim_wrapper_cfgs(cfg.optim_wrapper))
    if not wrappers:
        raise ValueError('--amp: cfg.optim_wrapper holds no optimizer '
                         'wrapper config (no entry with an `optimizer` key)')
    on_gpu = torch.cuda.is_available()
    for wrapper in wrappers:
        if wrapper.get('type', 'OptimWrapper') in ('AmpOptimWrapper',
                                                   'CPUAutocastOptimWrapper'):
            continue
        if wrapper.get('type', 'OptimWrapper') != 'OptimWrapper':
            raise ValueError(f'--amp: cannot convert optimizer wrapper type '
                             f'{wrapper["type"]!r} to mixed precision')
        if on_gpu:
            wrapper.type = 'AmpOptimWrapper'
            wrapper.setdefault('loss_scale', 'dynamic')
            if dtype is not None:
                wrapper.dtype = dtype
        else:
            wrapper.type = 'CPUAutocastOptimWrapper'
            wrapper.dtype = dtype or 'bfloat16'
    print_log(f'AMP enabled on {len(wrappers)} optimizer wrapper(s) '
              f'({"cuda" if on_gpu else "cpu bfloat16"})', logger='current')


PRECISION_CHOICES = ('auto', 'on', 'bf16', 'fp16', 'fp32')


def apply_precision(cfg: Config, precision: Optional[str] = None,
                    dtype: Optional[str] = None, train: bool = True):
    """Set the run's precision from ``--amp`` or the config's ``precision``.

    ``precision`` (the ``--amp`` value, else ``cfg.precision``, else fp32):
    ``'auto'`` picks by hardware (:func:`cg3d_mm.utils.precision.
    choose_precision`: bf16 on CPUs with AMX / AVX512-BF16 and on GPUs with
    bf16, fp16 with loss scaling on other GPUs, fp32 elsewhere) and logs
    what it chose and why; ``'on'`` is the plain ``--amp`` (``dtype`` or the
    device's default); ``'bf16'`` / ``'fp16'`` / ``'fp32'`` force one.
    Training switches the optimizer wrappers (:func:`enable_amp`; the
    parameters and optimizer state stay fp32), testing runs the test loop
    under autocast (``test_cfg.fp16``).

    Returns:
        PrecisionChoice | None: The decision of ``'auto'``, else None.
    """
    from cg3d_mm.utils.precision import (AUTOCAST_DTYPES, PRECISIONS,
                                         choose_precision)
    precision = precision or cfg.get('precision', None) or 'fp32'
    if precision not in PRECISION_CHOICES:
        raise ValueError(f'precision must be one of {PRECISION_CHOICES}, '
                         f'got {precision!r}')
    choice = None
    if precision == 'auto':
        choice = choose_precision()
        print_log(f'precision auto: {choice.precision} on '
                  f'{choice.device_type}, because {choice.reason}',
                  logger='current')
        precision = choice.precision
    if precision == 'fp32':
        return choice
    if precision in PRECISIONS:
        dtype = AUTOCAST_DTYPES[precision]
    if train:
        enable_amp(cfg, dtype)
    else:
        test_cfg = cfg.get('test_cfg') or ConfigDict(type='TestLoop')
        test_cfg.fp16 = True  # mmengine's autocast: bf16 on CPU
        cfg.test_cfg = test_cfg
    return choice


def init_cpu_distributed(cfg: Config, launcher: str) -> None:
    """Start a gloo process group when launched distributed without a GPU."""
    if launcher == 'none' or torch.cuda.is_available():
        return
    env_cfg = cfg.setdefault('env_cfg', ConfigDict())
    env_cfg.setdefault('dist_cfg', ConfigDict())['backend'] = 'gloo'
    # the Runner passes device_ids=[LOCAL_RANK], which DDP rejects on CPU
    wrapper = cfg.get('model_wrapper_cfg') or ConfigDict(
        type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    if dist.is_available() and not dist.is_initialized():
        if launcher == 'pytorch':
            dist.init_process_group(backend='gloo')
        elif launcher == 'slurm':
            _init_slurm_env()
            dist.init_process_group(backend='gloo')
        else:
            raise ValueError(f'launcher {launcher!r} is not supported on CPU')


def _init_slurm_env() -> None:
    # Same variables mmengine's slurm launcher derives, without the GPU part.
    os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
    os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
    os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
    if 'MASTER_ADDR' not in os.environ:
        import subprocess
        node_list = os.environ['SLURM_NODELIST']
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1')
    os.environ.setdefault('MASTER_PORT', '29500')
