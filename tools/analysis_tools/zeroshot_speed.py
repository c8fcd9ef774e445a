"""Wall clock of a whole zero-shot evaluation of a ModelNet40-sized test set.

Times what ``tools/test.py`` does (mmengine's ``Runner.test``: the
dataloader with its workers and the config's test pipeline, FPS included,
the class prototypes, every batch, the metric) on ``--shapes`` clouds in the
Point-BERT ``.dat`` layout that CG3D's ModelNet40 protocol reads (8192
points per shape). The clouds are random and the model's weights are random
(CLIP architecture of the config, nothing downloaded): the time of a
zero-shot run does not depend on either, the accuracy printed is
meaningless.

    python tools/analysis_tools/zeroshot_speed.py --amp auto
    python tools/analysis_tools/zeroshot_speed.py --amp fp32 --shapes 500
"""
import argparse
import json
import os.path as osp
import pickle
import tempfile
import time

import numpy as np
import torch
from mmengine.config import Config

import cg3d_mm  # noqa: F401  registers components
from cg3d_mm.benchmark.builders import random_clip_weights
from cg3d_mm.benchmark.machine import machine_facts
from cg3d_mm.datagen.synthetic.categories import MODELNET40_CLASSES
from cg3d_mm.engine.cli import PRECISION_CHOICES, apply_precision, build_runner

DEFAULT_CONFIG = 'configs/cg3d/zeroshot/pointmlp_modelnet40.py'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='zero-shot config (its model, test pipeline '
                        'and test dataloader are used)')
    parser.add_argument('--shapes', type=int, default=2468,
                        help='test shapes (ModelNet40 test set: 2,468)')
    parser.add_argument('--points', type=int, default=8192,
                        help='points per stored shape (Point-BERT .dat: '
                        '8192)')
    parser.add_argument('--amp', choices=PRECISION_CHOICES, default='auto',
                        help="precision of the test loop, as tools/test.py's "
                        '--amp')
    parser.add_argument('--batch-size', type=int,
                        help="override the config's test batch size")
    parser.add_argument('--num-workers', type=int,
                        help="override the config's test dataloader workers")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='write the result JSON here')
    return parser.parse_args()


def write_dat_test_set(root: str, shapes: int, points: int,
                       seed: int) -> str:
    """A ``modelnet40_normal_resampled``-style folder whose test split is a
    Point-BERT ``.dat`` pickle of ``shapes`` random (points, 6) clouds."""
    rng = np.random.default_rng(seed)
    with open(osp.join(root, 'modelnet40_shape_names.txt'), 'w') as f:
        f.write('\n'.join(MODELNET40_CLASSES) + '\n')
    clouds = [rng.uniform(-1, 1, (points, 6)).astype(np.float32)
              for _ in range(shapes)]
    labels = [np.array([i % len(MODELNET40_CLASSES)], np.int32)
              for i in range(shapes)]
    name = 'modelnet40_test_8192pts_fps.dat'
    with open(osp.join(root, name), 'wb') as f:
        pickle.dump([clouds, labels], f, protocol=4)
    return name


def main() -> dict:
    args = parse_args()
    facts = machine_facts('cuda' if torch.cuda.is_available() else 'cpu')
    print('[zeroshot_speed] machine: ' + json.dumps(facts))
    cfg = Config.fromfile(args.config)
    cfg.model = random_clip_weights(cfg.model)
    cfg.load_from = None
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        dat = write_dat_test_set(tmp, args.shapes, args.points, args.seed)
        print(f'[zeroshot_speed] wrote {args.shapes} random clouds of '
              f'{args.points} points in {time.perf_counter() - t0:.1f} s '
              '(not timed below)')
        loader = cfg.test_dataloader
        loader.dataset.update(data_root=tmp, dat_file=dat)
        if args.batch_size:
            loader.batch_size = args.batch_size
        if args.num_workers is not None:
            loader.num_workers = args.num_workers
            loader.persistent_workers = args.num_workers > 0
        cfg.work_dir = osp.join(tmp, 'work_dir')
        cfg.launcher = 'none'
        cfg.default_hooks = dict(logger=dict(type='LoggerHook',
                                             interval=20))
        choice = apply_precision(cfg, args.amp, train=False)
        runner = build_runner(cfg)
        t0 = time.perf_counter()
        metrics = runner.test()
        seconds = time.perf_counter() - t0
    result = dict(
        config=args.config, shapes=args.shapes, stored_points=args.points,
        precision=choice.precision if choice else args.amp,
        batch_size=loader.batch_size, num_workers=loader.num_workers,
        seconds=seconds, minutes=seconds / 60,
        shapes_per_s=args.shapes / seconds,
        accuracy_meaningless=metrics, machine=facts)
    print(f'[zeroshot_speed] {args.shapes} shapes in {seconds:.1f} s '
          f'({seconds / 60:.2f} min, {args.shapes / seconds:.2f} shapes/s), '
          f'precision {result["precision"]}, batch {loader.batch_size}, '
          f'{loader.num_workers} workers; CPU {facts["cpu"]} '
          f'{facts["cpu_flags"]}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2, default=str)
    return result


if __name__ == '__main__':
    main()
