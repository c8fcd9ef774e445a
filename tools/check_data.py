"""Check a dataset's files before a run, from their headers (fast, cached).

The splits a config reads (what ``tools/train.py`` / ``tools/test.py``
check before every run)::

    python tools/check_data.py configs/cg3d/pointmlp_shapenet.py \\
        --cfg-options train_dataloader.dataset.data_root=/data/ShapeNet55/

or every split found in a data root of one layout::

    python tools/check_data.py --data-root data/ShapeNet55 --layout shapenet
    python tools/check_data.py --data-root data/modelnet40_normal_resampled \\
        --layout modelnet
    python tools/check_data.py --data-root data/ShapeNet55_shards \\
        --layout shards --deep   # every tar read to its end

Prints a summary table (one row per split) and the problems, writes every
problem to a JSON file (``--out``), and exits with status 1 when an
evaluation split has any problem, a training split's lists or classes are
inconsistent, or more than ``--max-bad-ratio`` of its samples are
unreadable. Verdicts are cached by (path, size, mtime) under the cache
directory (``$CG3D_CACHE``), so a second run only re-reads changed files.
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config, DictAction

from cg3d_mm.datasets.checks import (DEFAULT_MAX_BAD_RATIO, LAYOUTS,
                                     check_config, check_data_root)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Check the data files of a config\'s splits or of a '
        'data root (headers and sizes, not arrays).')
    parser.add_argument('config', nargs='?', help='config file')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, key=value')
    parser.add_argument('--splits', nargs='+',
                        default=['train', 'val', 'test'],
                        choices=['train', 'val', 'test'],
                        help='the config\'s dataloaders to check')
    parser.add_argument('--data-root', help='check this folder instead')
    parser.add_argument('--layout', choices=LAYOUTS,
                        help='layout of --data-root')
    parser.add_argument('--num-views', type=int, default=5,
                        help='views per object (shapenet layout)')
    parser.add_argument('--points-only', action='store_true',
                        help='do not check the views (shards: samples '
                        'without a view are accepted)')
    parser.add_argument('--max-bad-ratio', type=float,
                        default=DEFAULT_MAX_BAD_RATIO,
                        help='largest fraction of unreadable samples a '
                        'training split may have')
    parser.add_argument('--deep', action='store_true',
                        help='also read every sample: decode every image, '
                        'load point arrays, read tar shards to their end, '
                        'unpickle OpenShape files where trusted (slower)')
    parser.add_argument('--trust-pickle', action='store_true',
                        help='--data-root of an OpenShape layout: let '
                        '--deep unpickle its files (runs code from them; '
                        'only for data you trust). With a config, its '
                        'trust_pickle decides')
    parser.add_argument('--no-cache', action='store_true',
                        help='check every file again, ignoring the cache')
    parser.add_argument('--workers', type=int, default=None,
                        help='processes for uncached files')
    parser.add_argument('--out', default='data_check.json',
                        help='JSON file of every problem')
    args = parser.parse_args(argv)
    if (args.config is None) == (args.data_root is None):
        parser.error('give a CONFIG or --data-root (not both)')
    if args.data_root is not None and args.layout is None:
        parser.error(f'--data-root needs --layout ({", ".join(LAYOUTS)})')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    common = dict(max_bad_ratio=args.max_bad_ratio, workers=args.workers,
                  use_cache=not args.no_cache, deep=args.deep)
    if args.config is not None:
        cfg = Config.fromfile(args.config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        report = check_config(cfg, args.splits, **common)
    else:
        report = check_data_root(args.data_root, args.layout,
                                 num_views=args.num_views,
                                 read_views=not args.points_only,
                                 trust_pickle=args.trust_pickle, **common)
    print(report.table())
    lines = report.problem_lines(limit=50)
    if lines:
        print(f'\n{report.num_problems} problem(s):')
        print('\n'.join(f'  {line}' for line in lines))
    report.write_json(args.out)
    print(f'\nall problems: {osp.abspath(args.out)}')
    failures = report.failures()
    if failures:
        print('\nFAILED:\n' + '\n'.join(f'  {f}' for f in failures))
        return 1
    print('\nOK: no problem' if not report.num_problems else
          '\nOK: training splits within --max-bad-ratio')
    return 0


if __name__ == '__main__':
    sys.exit(main())
