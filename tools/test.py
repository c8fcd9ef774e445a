"""Test (e.g. zero-shot evaluate) a checkpoint with mmengine.

Same interface as mmdet3d's tools/test.py for what applies to CG3D; the
checkpoint is loaded weights-only (see cg3d_mm/utils/checkpoint.py).
"""
import argparse
import os.path as osp

import cg3d_mm  # noqa: F401  registers components, weights-only loading
from cg3d_mm.engine.cli import (add_common_args, build_runner, load_config,
                                parse_common_args)


def parse_args():
    parser = argparse.ArgumentParser(description='Test a CG3D checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
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
    return build_runner(cfg).test()


if __name__ == '__main__':
    main()
