"""Time CPU furthest point sampling and kNN grouping.

Compares cg3d_mm's ops with naive PyTorch implementations and fpsample.

Example::

    python tools/benchmark_point_ops.py --threads 2 --json fps_knn.json
    python tools/benchmark_point_ops.py --config 32,1024,512,32
"""
import argparse
import json

import torch

from cg3d_mm.benchmark.naive_ops import (DEFAULT_CONFIGS, benchmark_point_ops,
                                         rows_to_markdown)


def parse_config(text: str) -> tuple:
    values = tuple(int(v) for v in text.split(','))
    if len(values) != 4:
        raise argparse.ArgumentTypeError(
            f'--config takes B,N,M,k (4 integers), got {text!r}')
    return values


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--config',
        type=parse_config,
        action='append',
        help='batch,num_points,num_samples,k (repeatable); default: '
        + ' '.join(','.join(map(str, c)) for c in DEFAULT_CONFIGS))
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument(
        '--threads', type=int, help='torch.set_num_threads value')
    parser.add_argument(
        '--no-naive', action='store_true', help='skip the naive baselines')
    parser.add_argument('--json', help='also write the rows to this file')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = benchmark_point_ops(
        configs=args.config or DEFAULT_CONFIGS,
        repeats=args.repeats,
        include_naive=not args.no_naive)
    print(rows_to_markdown(rows))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=2)
        print(f'wrote {args.json}')


if __name__ == '__main__':
    main()
