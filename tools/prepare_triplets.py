"""Make CG3D triplets (surface points + rendered views) from real meshes.

Writes the ShapeNet55 / CG3D layout read by ``ShapeNetTriplets`` (renders
with the meshes' textures and colours, points in ``shapenet_pc/`` and, with
their colours, in ``shapenet_pc_rgb/``); a second run into the same folder
only does what is missing. Examples::

    # ShapeNetCore v2 with CG3D's official split lists, 2 processes
    python tools/prepare_triplets.py data/ShapeNetCore.v2 data/ShapeNet55 \\
        --format shapenetcore --split-lists data/cg3d_lists --workers 2
    # ModelNet40 meshes (its own train/test split), depth maps (CG3D-depth)
    python tools/prepare_triplets.py data/ModelNet40 data/mn40_depth \\
        --format modelnet --mode depth
    # any folder <class>/**/<mesh>.{obj,off,ply,glb}, seeded split
    python tools/prepare_triplets.py my_meshes data/my_triplets \\
        --format folder --val-ratio 0.1 --test-ratio 0.2 --seed 0
    # also tar shards per split for streaming (ShardedTriplets);
    # --gzip-shards for .tar.gz ones
    python tools/prepare_triplets.py my_meshes data/my_triplets \\
        --format folder --shards data/my_triplets_shards \\
        --samples-per-shard 1000

Exit status: 0 when at least one sample is usable (failed meshes are listed
in the summary), 1 when none is, 2 on bad arguments or inputs, 130 when
interrupted (rerun to resume).
"""
import argparse
import sys
from typing import List, Optional

from cg3d_mm.datagen.triplets import FORMATS, IMAGE_MODES, prepare_triplets


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Make CG3D (point cloud, rendered view, class) triplets '
        'in the ShapeNet55 layout from a mesh collection.')
    parser.add_argument('mesh_root', help='mesh collection root')
    parser.add_argument('out', help='output folder (the data_root of '
                        'ShapeNetTriplets)')
    parser.add_argument(
        '--format', required=True, choices=FORMATS,
        help='shapenetcore: <synset>/<id>/models/model_normalized.obj; '
        'modelnet: <class>/{train,test}/<class>_XXXX.off; folder: '
        '<class>/**/<mesh>.{obj,off,ply,glb,gltf,stl}')
    parser.add_argument('--views', type=int, default=5,
                        help='rendered views per mesh')
    parser.add_argument('--points', type=int, default=8192,
                        help='surface points per mesh')
    parser.add_argument('--image-size', type=int, default=224)
    parser.add_argument('--mode', choices=IMAGE_MODES, default='render',
                        help='render: shaded RGB with the mesh textures and '
                        'colours; depth: grey depth maps (CG3D-depth)')
    parser.add_argument('--workers', type=int, default=None,
                        help='processes (default: min(2, CPUs)); the output '
                        'does not depend on it')
    parser.add_argument('--fps', action='store_true',
                        help='farthest point subsampling of a 4x denser '
                        'surface sample (more even, slower)')
    parser.add_argument('--split-lists', metavar='DIR',
                        help='folder with official train_img.txt / '
                        'test_img.txt (/ val_img.txt); meshes not listed are '
                        'left out')
    parser.add_argument('--val-ratio', type=float, default=0.1,
                        help='val fraction per class (taken from train when '
                        'the split is given)')
    parser.add_argument('--test-ratio', type=float, default=0.2,
                        help='test fraction per class (own split only)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--classes', nargs='+', default=None,
                        help='only these classes (names or ShapeNetCore '
                        "synsets; 'a b' or 'a,b')")
    parser.add_argument('--up-axis', choices=('y', 'z'), default=None,
                        help="up axis of the meshes (default: 'z' for "
                        "modelnet, 'y' otherwise); outputs are +y up")
    parser.add_argument('--no-color-points', action='store_true',
                        help='do not write shapenet_pc_rgb/ (points with '
                        'their texture / material colours, N x 6)')
    parser.add_argument('--shards', metavar='DIR',
                        help='also write each split as tar shards '
                        '(<DIR>/<split>/shard-NNNNNN.tar + shards.json) for '
                        'ShardedTriplets')
    parser.add_argument('--samples-per-shard', type=int, default=1000,
                        help='samples per shard (with --shards)')
    parser.add_argument('--gzip-shards', action='store_true',
                        help='with --shards: write gzipped shards '
                        '(shard-NNNNNN.tar.gz)')
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    if args.gzip_shards and not args.shards:
        parser.error('--gzip-shards needs --shards DIR')
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    classes = None
    if args.classes:  # accept both 'a b' and 'a,b'
        classes = [c for item in args.classes for c in item.split(',') if c]
    try:
        summary = prepare_triplets(
            args.mesh_root,
            args.out,
            fmt=args.format,
            num_views=args.views,
            num_points=args.points,
            image_size=args.image_size,
            mode=args.mode,
            workers=args.workers,
            fps=args.fps,
            split_lists=args.split_lists,
            val_ratio=args.val_ratio,
            test_ratio=args.test_ratio,
            seed=args.seed,
            classes=classes,
            up_axis=args.up_axis,
            color_points=not args.no_color_points,
            progress=not args.no_progress,
            shards=args.shards,
            samples_per_shard=args.samples_per_shard,
            shard_compression='gz' if args.gzip_shards else None)
    except (ValueError, OSError, RuntimeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # finished samples are kept, none is partial
        print('interrupted; run the same command again to resume',
              file=sys.stderr)
        return 130
    return 0 if summary.written + summary.skipped else 1


if __name__ == '__main__':
    sys.exit(main())
