"""Train a CG3D model (or any cg3d_mm / mmdet3d config) with mmengine.

Same interface as mmdet3d's tools/train.py, plus:
  * ``--amp`` works with several optimizer wrappers (CG3D alternates two) and
    on CPU (bfloat16 autocast); ``--amp auto`` (or ``precision = 'auto'``
    in the config) picks the precision by hardware and logs why;
  * checkpoints load weights-only under torch >= 2.6 (``--resume``,
    ``load_from``, ``init_cfg=dict(type='Pretrained')``) without allowing
    arbitrary pickles to run code;
  * ``--launcher pytorch`` also works on CPU-only machines (gloo);
  * configs with ``test_after_train=True`` run the test loop (held-out split)
    on the final weights after training;
  * before building anything, the files of every split the run reads are
    checked from their headers (cached: a second run re-reads only what
    changed): any
    problem in an evaluation split, or more than ``--max-bad-ratio`` of
    the training samples unreadable, stops the run with the bad files
    listed (``--skip-data-check`` to run anyway); the samples training
    skips are logged per epoch and saved in ``skipped_samples.json``.
"""
import argparse
import logging
import os.path as osp
import sys

from mmengine.logging import print_log

import cg3d_mm  # noqa: F401  registers components, weights-only loading
from cg3d_mm.engine.cli import (DataCheckError,
                                PRECISION_CHOICES, add_common_args,
                                apply_precision, build_runner,
                                check_data_before_run, load_config,
                                parse_common_args)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a CG3D model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--amp', nargs='?', const='on', choices=PRECISION_CHOICES,
        help="mixed precision: no value = autocast (GPU fp16, CPU bf16); "
        "'auto' picks by hardware (bf16 on AMX / AVX512-BF16 CPUs and bf16 "
        "GPUs, fp16 on older GPUs, else fp32) and logs why; 'bf16' / "
        "'fp16' / 'fp32' force one. Default: the config's `precision`")
    parser.add_argument('--amp-dtype', choices=['float16', 'bfloat16'],
                        help='AMP dtype (GPU default float16, CPU bfloat16)')
    parser.add_argument('--sync_bn', choices=['none', 'torch', 'mmcv'],
                        default='none', help='convert all BN layers')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rates with the batch size')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest '
        'checkpoint in the work dir when no path is given')
    parser.add_argument('--no-test', action='store_true',
                        help='skip the test run of test_after_train configs')
    add_common_args(parser)
    return parse_common_args(parser)


def main():
    args = parse_args()
    cfg = load_config(args)
    apply_precision(cfg, args.amp, args.amp_dtype)
    if args.sync_bn != 'none':
        cfg.sync_bn = args.sync_bn
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise ValueError('--auto-scale-lr needs `auto_scale_lr='
                             'dict(base_batch_size=...)` in the config')
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'--resume: checkpoint {args.resume} '
                                    'does not exist')
        cfg.resume = True
        cfg.load_from = args.resume

    run_test = cfg.get('test_after_train', False) and not args.no_test
    if not args.skip_data_check:
        splits = ['train'] + (['val'] if cfg.get('val_cfg') else []) + \
            (['test'] if run_test else [])
        try:
            check_data_before_run(cfg, splits, args.max_bad_ratio)
        except DataCheckError as err:
            sys.exit(f'ERROR: {err}')  # exit status 1, no traceback

    runner = build_runner(cfg)
    runner.train()

    if run_test:
        print_log('test_after_train: evaluating the final weights on the '
                  'test split', logger='current', level=logging.INFO)
        runner.test()


if __name__ == '__main__':
    main()
