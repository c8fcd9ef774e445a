"""Test (e.g. zero-shot evaluate) a checkpoint with mmengine.

Same interface as mmdet3d's tools/test.py for what applies to CG3D; the
checkpoint is loaded weights-only (see cg3d_mm/utils/checkpoint.py). The
test split's files are checked first (``--skip-data-check`` to skip): a bad
file stops the run before the model is built, with the files listed.
"""
import argparse
import os.path as osp
import sys

import cg3d_mm  # noqa: F401  registers components, weights-only loading
from cg3d_mm.engine.cli import (PRECISION_CHOICES, DataCheckError,
                                add_common_args, apply_precision,
                                build_runner, check_data_before_run,
                                load_config, parse_common_args)


def parse_args():
    parser = argparse.ArgumentParser(description='Test a CG3D checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--amp', choices=PRECISION_CHOICES,
        help="autocast the test loop: 'auto' by hardware (logs why), 'on' / "
        "'bf16' / 'fp16', or 'fp32'. Default: the config's `precision`")
    add_common_args(parser)
    return parse_common_args(parser)


def main() -> dict:
    """Returns the test metrics."""
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    apply_precision(cfg, args.amp, train=False)
    if not args.skip_data_check:
        try:
            check_data_before_run(cfg, ['test'], args.max_bad_ratio)
        except DataCheckError as err:
            sys.exit(f'ERROR: {err}')  # exit status 1, no traceback
    return build_runner(cfg).test()


if __name__ == '__main__':
    main()
