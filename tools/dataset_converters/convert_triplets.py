"""Write CG3D-layout triplets in ULIP's, ULIP-2's or OpenShape's layout.

Examples::

    # the synthetic world's ShapeNet55 (generated on first use) as OpenShape
    # data, the first half of its training split
    python tools/dataset_converters/convert_triplets.py --to openshape \\
        --part train_a --out data/synthetic_openshape_a
    # any ShapeNet55 folder in CG3D's layout (e.g. prepare_triplets output)
    python tools/dataset_converters/convert_triplets.py --to ulip_shapenet \\
        --src data/ShapeNet55 --out data/shapenet-55

See :mod:`cg3d_mm.datagen.triplets.convert_layouts` for the layouts.
"""
import argparse
import os.path as osp

from cg3d_mm.datagen.triplets.convert_layouts import (TARGET_LAYOUTS,
                                                      convert_triplets)
from cg3d_mm.engine.cli import exit_on_bad_input


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert CG3D-layout ShapeNet55 triplets to the ULIP '
        'ShapeNet55, ULIP-2 Objaverse or OpenShape layout.')
    parser.add_argument('--to', required=True, choices=TARGET_LAYOUTS,
                        help='target layout')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--src', default=None,
        help="ShapeNet55 folder in CG3D's layout (default: the synthetic "
        "world's, generated into the cache on first use)")
    parser.add_argument(
        '--part', default='all',
        help="'all', a split (train, val, test) or half of one (train_a, "
        'train_b: disjoint, every class in both)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the halves and template captions (and '
                        'of the synthetic world without --src)')
    parser.add_argument('--captions-per-view', type=int, default=2)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    src = args.src
    if src is None:
        from cg3d_mm.datagen.synthetic import ensure_synthetic_data
        src = osp.join(str(ensure_synthetic_data(seed=args.seed)),
                       'ShapeNet55')
    out = convert_triplets(src, args.out, args.to, part=args.part,
                           seed=args.seed,
                           captions_per_view=args.captions_per_view)
    print(f'{args.to} layout written to {out}')


if __name__ == '__main__':
    exit_on_bad_input(main)
