"""Time CPU furthest point sampling and kNN grouping, or a point encoder
against its code before issue 19.

Compares cg3d_mm's ops with naive PyTorch implementations and fpsample;
with ``--encoder``, PointMLP / PointTransformer with their legacy copies in
``cg3d_mm/benchmark`` (same weights, interleaved, outputs compared), in
fp32 and at the precision ``--amp auto`` picks.

Example::

    python tools/benchmark_point_ops.py --threads 2 --json fps_knn.json
    python tools/benchmark_point_ops.py --config 32,1024,512,32
    python tools/benchmark_point_ops.py --encoder PointMLP --repeats 5
"""
import argparse
import json

import torch

from cg3d_mm.benchmark.encoders import (PAIRS, compare_point_encoders,
                                        encoders_markdown)
from cg3d_mm.benchmark.machine import machine_facts, matmul_peak
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
    parser.add_argument(
        '--encoder', choices=sorted(PAIRS),
        help='time this encoder (batch 4 x 1024 points) against its code '
        'before issue 19 instead of the ops; --repeats rounds')
    return parser.parse_args()


def run_encoder(args: argparse.Namespace) -> dict:
    facts = machine_facts('cpu')
    precisions = tuple(dict.fromkeys(('fp32', facts['precision_auto'])))
    peaks = matmul_peak('cpu', [dict(fp32='float32', bf16='bfloat16')[p]
                                for p in precisions])
    result = compare_point_encoders(dict(type=args.encoder),
                                    rounds=args.repeats,
                                    precisions=precisions)
    print(f"{facts['cpu']} ({', '.join(facts['cpu_flags'])}), torch "
          f"capability {facts['cpu_capability']}, "
          f"{facts['torch_threads']} threads; matmul peak "
          + ', '.join(f'{k} {v:.0f} GFLOP/s' for k, v in peaks.items()))
    print(encoders_markdown(result, peaks))
    return dict(machine=facts, matmul_gflops=peaks, **result)


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.encoder:
        rows = run_encoder(args)
        if args.json:
            with open(args.json, 'w') as f:
                json.dump(rows, f, indent=2)
        return
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
