"""Throughput and memory of CG3D pretraining, zero-shot eval and point ops.

In one run on one machine:

1. pretraining cycles (one point step + one prompt step) of the plugin's
   default schedule (alternate steps, cached text) vs ``ReferenceCG3D``,
   which redoes the original per-iteration work; samples/s, peak
   memory, the ratio (a)/(b), and the first point step's losses of both
   modes (same weights, same batch; must agree to 1e-4);
   (a') the plugin's schedule at the precision ``--amp auto`` picks on
   this machine (bf16 autocast on AMX / AVX512-BF16 CPUs and bf16 GPUs,
   fp16 on older GPUs, else fp32) and the ratio (a')/(b);
2. zero-shot evaluation (encode_points + class prototypes), shapes/s, in
   fp32 and at the automatic precision;
3. furthest point sampling / kNN grouping timings (1024 and 8192 points);
4. the machine's own matmul peak per dtype, and per component (ViT forward,
   ViT forward + backward to the prompts, point encoder forward, forward +
   backward, zero-shot encode) its FLOPs, achieved GFLOP/s and fraction of
   that peak; the CPU's capability is printed with the numbers;
5. PointMLP forward / forward + backward, this code vs the code before its
   speed work (``cg3d_mm/benchmark/legacy_pointmlp.py``), same weights,
   interleaved, with their outputs compared.

Real sizes by default (PointMLP + open_clip ViT-B-16 with random weights,
1024 points, 224 px views); nothing is downloaded.

Example::

    python tools/benchmark.py --out work_dirs/benchmark
    python tools/benchmark.py --small --out /tmp/bench  # tiny models
"""
import argparse
import os.path as osp

from mmengine.config import Config

from cg3d_mm.benchmark import (POINT_OP_CONFIGS, SMALL_POINT_OP_CONFIGS,
                               format_markdown, random_clip_weights,
                               run_benchmark, small_model_cfg, write_report)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODEL_CONFIG = osp.join(REPO, 'configs/cg3d/_base_/models/cg3d_pointmlp.py')
SCHEDULE_CONFIG = osp.join(
    REPO, 'configs/cg3d/_base_/schedules/cg3d_alternating_100e.py')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='auto',
                        help="'auto' (cuda when available), 'cpu', 'cuda'")
    parser.add_argument('--batch-size', type=int,
                        help='pretraining batch per step (default 4 on CPU, '
                        '32 on GPU)')
    parser.add_argument('--cycles', type=int, default=3,
                        help='timed point + prompt cycles per mode')
    parser.add_argument('--warmup', type=int, default=1,
                        help='untimed cycles before (>= 1)')
    parser.add_argument('--rounds', type=int, default=1,
                        help='repeat the (a), (b) pretraining jobs in the '
                        'order a, b, b, a, ... and pool their cycles')
    parser.add_argument('--zs-batch-size', type=int,
                        help='zero-shot batch N (default 16 on CPU, 128 on '
                        'GPU)')
    parser.add_argument('--zs-batches', type=int, default=3,
                        help='timed zero-shot batches')
    parser.add_argument('--num-points', type=int,
                        help='points per cloud (default 1024; 256 --small)')
    parser.add_argument('--small', action='store_true',
                        help='tiny models, for a quick check of the tool')
    parser.add_argument('--model-config', default=MODEL_CONFIG,
                        help='config whose `model` is benchmarked (its CLIP '
                        'weights are replaced by random ones)')
    parser.add_argument('--schedule-config', default=SCHEDULE_CONFIG,
                        help='config whose `optim_wrapper` is used')
    parser.add_argument('--threads', type=int,
                        help='torch.set_num_threads in every job')
    parser.add_argument('--no-breakdown', action='store_true',
                        help='skip timing the encoders one by one')
    parser.add_argument('--no-point-ops', action='store_true')
    parser.add_argument('--encoder-rounds', type=int, default=5,
                        help='interleaved rounds of PointMLP vs the legacy '
                        'PointMLP (fp32 and the automatic precision); 0 '
                        'skips')
    parser.add_argument('--no-naive', action='store_true',
                        help='skip the naive point-op baselines')
    parser.add_argument('--no-isolate', action='store_true',
                        help='run every job in this process (faster start; '
                        'peak memory less exact)')
    parser.add_argument('--precision', choices=['bf16', 'fp16', 'fp32'],
                        help="precision of (a') instead of the automatic "
                        'choice (e.g. bf16 on a CPU without bf16 units)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='write benchmark.json + benchmark.md '
                        'into this folder')
    args = parser.parse_args()
    if args.warmup < 1:
        parser.error('--warmup must be >= 1 (the loss check uses it)')
    return args


def main() -> None:
    args = parse_args()
    if args.small:
        model_cfg = small_model_cfg()
    else:
        model_cfg = random_clip_weights(
            Config.fromfile(args.model_config).model.to_dict())
    optim_cfg = Config.fromfile(args.schedule_config).optim_wrapper.to_dict()
    gpu = args.device.startswith('cuda') or (
        args.device == 'auto' and __import__('torch').cuda.is_available())
    point_ops = None if args.no_point_ops else (
        SMALL_POINT_OP_CONFIGS if args.small else POINT_OP_CONFIGS)
    report = run_benchmark(
        model_cfg, optim_cfg, device=args.device,
        batch_size=args.batch_size or (32 if gpu else 4),
        cycles=args.cycles, warmup=args.warmup,
        rounds=args.rounds,
        num_points=args.num_points or (256 if args.small else 1024),
        zs_batch_size=args.zs_batch_size or (128 if gpu else 16),
        zs_batches=args.zs_batches, breakdown=not args.no_breakdown,
        point_op_configs=point_ops, point_op_naive=not args.no_naive,
        threads=args.threads, isolate=not args.no_isolate, seed=args.seed,
        precision=args.precision, encoder_rounds=args.encoder_rounds)
    print(format_markdown(report))
    if args.out:
        paths = write_report(report, args.out)
        print('wrote ' + ', '.join(paths))


if __name__ == '__main__':
    main()
