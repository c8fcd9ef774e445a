"""Zero-shot 3D classification of one checkpoint on every benchmark present.

    python tools/zeroshot_benchmark.py CONFIG CHECKPOINT \
        [--data-root data] [--templates single ensemble] [--out results.json] \
        [--benchmarks objaverse_lvis modelnet40 ...]

Builds the model of CONFIG once, loads CHECKPOINT weights-only, and
evaluates ModelNet10, ModelNet40 and ScanObjectNN (PB_T50_RS, OBJ_BG,
OBJ_ONLY) on their TEST splits, then OpenShape's evaluation files:
Objaverse-LVIS (1,156 categories), ModelNet40 and ScanObjectNN, under
<data-root>/OpenShape/; benchmarks whose files are absent are listed as
skipped. A colour model (its test pipeline loads xyz + rgb) reads the
files' colours, or OpenShape's constant grey for sources without any.
Prints one markdown table and writes the full results (per-class accuracy,
confusion matrices) as JSON. Nothing is selected on a test split.
"""
import argparse
import os.path as osp

import cg3d_mm  # noqa: F401  registers components, weights-only loading
from cg3d_mm.apis.zeroshot import (BENCHMARKS, TEMPLATE_SETS,
                                   format_markdown_table,
                                   run_zeroshot_benchmarks)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Zero-shot benchmarks of a CG3D checkpoint')
    parser.add_argument('config', help='config of the checkpoint\'s model')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--data-root', help='folder holding modelnet40_normal_resampled/, '
        'ScanObjectNN/ and OpenShape/ (default: the synthetic world for '
        'synthetic configs, else the folder holding the config\'s test '
        'data, e.g. data/)')
    parser.add_argument(
        '--templates', nargs='+', choices=tuple(TEMPLATE_SETS),
        help='prompt template set(s); default: the model\'s '
        'test_cfg.templates')
    parser.add_argument(
        '--benchmarks', nargs='+', choices=[b.key for b in BENCHMARKS],
        help='run only these benchmarks (keys; default: all, in table '
        'order)')
    parser.add_argument('--num-points', type=int,
                        help='points per cloud (default: the config\'s)')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--device', default='auto',
                        help="'auto' (cuda if available), 'cpu', 'cuda:1'")
    parser.add_argument('--out', help='JSON file for the full results '
                        '(default: <checkpoint>_zeroshot.json)')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args()


def main():
    args = parse_args()
    out = args.out or osp.splitext(args.checkpoint)[0] + '_zeroshot.json'
    benchmarks = [b for b in BENCHMARKS
                  if not args.benchmarks or b.key in args.benchmarks]
    report = run_zeroshot_benchmarks(
        args.config, args.checkpoint, data_root=args.data_root,
        template_sets=args.templates, num_points=args.num_points,
        benchmarks=benchmarks,
        batch_size=args.batch_size, num_workers=args.num_workers,
        device=args.device, progress=not args.no_progress, out_file=out)
    print(format_markdown_table(report))


if __name__ == '__main__':
    main()
