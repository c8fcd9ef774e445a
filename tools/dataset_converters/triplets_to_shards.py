"""Write a triplet dataset as tar shards for ``ShardedTriplets``.

From CG3D's ShapeNet55 layout (points, all views, class; captions made
from the taxonomy names)::

    python tools/dataset_converters/triplets_to_shards.py \\
        --data-root data/ShapeNet55 --split train --out data/shards/train \\
        --pc-dir shapenet_pc_rgb --samples-per-shard 1000

or from the dataset of a config's split (any layout whose items carry
``pts_path``, ``img_paths`` and ``class_name`` or captions - ULIP-2's
``view_captions``, OpenShape's ``caption_groups``, ULIP's
``caption_names`` are carried over; the pipeline is not run)::

    python tools/dataset_converters/triplets_to_shards.py \\
        configs/cg3d/pointmlp_synthetic.py --split train \\
        --out data/synthetic_shards/train

``--gzip`` writes ``shard-000000.tar.gz`` ... (``ShardedTriplets`` reads
them as streams). Samples are written in an order shuffled with
``--seed``; unreadable ones are left out and listed. The output folder is
written beside its final name and renamed when complete. Exit status: 0
on success, 1 on bad input.
"""
import argparse
import os.path as osp

from mmengine.config import Config, DictAction

import cg3d_mm  # noqa: F401  registers the datasets
from cg3d_mm.datagen.triplets.to_shards import (dataset_to_shards,
                                                shapenet_split_to_shards)
from cg3d_mm.engine.cli import exit_on_bad_input


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write triplets (points, views, class, captions) as '
        'webdataset-style tar shards with a shards.json index.')
    parser.add_argument('config', nargs='?',
                        help='config whose <split>_dataloader.dataset is '
                        'converted (or use --data-root)')
    parser.add_argument('--data-root',
                        help='a CG3D ShapeNet55 layout folder')
    parser.add_argument('--split', default='train',
                        help='train / val / test (default: train)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--pc-dir', default='shapenet_pc',
                        help='--data-root: point folder (shapenet_pc_rgb '
                        'for colour)')
    parser.add_argument('--num-views', type=int, default=5,
                        help='--data-root: views per object')
    parser.add_argument('--samples-per-shard', type=int, default=1000)
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the order samples are written in')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output folder')
    parser.add_argument('--allow-no-images', action='store_true',
                        help='keep samples without a view (OpenShape has '
                        'none)')
    parser.add_argument('--gzip', action='store_true',
                        help='write gzipped shards (.tar.gz)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    if (args.config is None) == (args.data_root is None):
        parser.error('give a config or --data-root (one of them)')
    return args


def convert(args: argparse.Namespace) -> dict:
    common = dict(samples_per_shard=args.samples_per_shard,
                  shuffle_seed=args.seed, overwrite=args.overwrite,
                  require_images=not args.allow_no_images,
                  progress=not args.no_progress,
                  compression='gz' if args.gzip else None)
    if args.data_root is not None:
        return shapenet_split_to_shards(
            args.data_root, args.out, split=args.split, pc_dir=args.pc_dir,
            num_views=args.num_views, **common)
    from mmengine.registry import DefaultScope

    from cg3d_mm.registry import DATASETS
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    loader = cfg.get(f'{args.split}_dataloader')
    if not loader or 'dataset' not in loader:
        raise ValueError(f'{args.config}: no {args.split}_dataloader.dataset')
    ds_cfg = loader['dataset'].copy()
    ds_cfg['pipeline'] = []
    ds_cfg.pop('test_mode', None)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope',
                                                      'cg3d_mm')):
        dataset = DATASETS.build(ds_cfg)
    info = dict(source=osp.abspath(args.config), split=args.split)
    return dataset_to_shards(dataset, args.out, info=info, **common)


def main(argv=None) -> None:
    result = convert(parse_args(argv))
    print(f'{result["num_samples"]} samples in {result["num_shards"]} '
          f'shard(s) in {result["out_dir"]}' +
          (f'; {len(result["skipped"])} unreadable sample(s) left out'
           if result['skipped'] else ''))


if __name__ == '__main__':
    exit_on_bad_input(main)
