"""Generate cg3d_mm's synthetic 3D world in the real dataset layouts.

Example::

    python tools/make_synthetic_data.py --out data/synthetic --seed 0 \\
        --shapes-per-class 24 --layouts shapenet,modelnet,scanobjectnn,scenes
"""
import argparse
import sys
import time

from mmengine.logging import print_log

from cg3d_mm.datagen.synthetic import CATEGORIES, LAYOUTS, generate


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate the synthetic ShapeNet55 / ModelNet / '
        'ScanObjectNN / S3DIS data of cg3d_mm.')
    parser.add_argument('--out', required=True, help='output dataset root')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--shapes-per-class', type=int, default=24)
    parser.add_argument(
        '--layouts',
        default=','.join(LAYOUTS),
        help=f'comma-separated subset of {",".join(LAYOUTS)}')
    parser.add_argument(
        '--classes',
        nargs='+',
        default=None,
        help='category names (default: all): ' + ' '.join(c.name
                                                          for c in CATEGORIES))
    parser.add_argument('--image-size', type=int, default=224)
    parser.add_argument('--num-views', type=int, default=5)
    parser.add_argument(
        '--areas',
        type=int,
        nargs='+',
        default=[1, 2, 3, 4, 5, 6],
        help='S3DIS areas')
    parser.add_argument('--rooms-per-area', type=int, default=2)
    parser.add_argument('--points-per-room', type=int, default=50000)
    parser.add_argument(
        '--workers',
        type=int,
        default=None,
        help='processes (default: min(2, CPUs))')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    classes = None
    if args.classes:  # accept both 'a b' and 'a,b'
        classes = [c for item in args.classes for c in item.split(',') if c]
    start = time.perf_counter()
    try:
        root = generate(
            args.out,
            seed=args.seed,
            shapes_per_class=args.shapes_per_class,
            layouts=args.layouts,
            classes=classes,
            image_size=args.image_size,
            num_views=args.num_views,
            areas=args.areas,
            rooms_per_area=args.rooms_per_area,
            points_per_room=args.points_per_room,
            workers=args.workers,
            progress=not args.no_progress)
    except (ValueError, OSError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    print_log(
        f'synthetic data ready in {root} '
        f'({time.perf_counter() - start:.1f} s)',
        logger='current')
    return 0


if __name__ == '__main__':
    sys.exit(main())
