"""Frozen point features of a dataset, and a linear probe on them.

    python tools/extract_features.py CONFIG CHECKPOINT \
        [--dataset modelnet40] [--split train test] [--out feats.npz] \
        [--feature global|embed] [--linear-probe [--C 0.1 1 10]]

Builds only the point encoder of CONFIG (a CG3D pretraining config or a
PointClassifier config; no CLIP tower), loads CHECKPOINT weights-only and
strictly, and encodes each split with the deterministic evaluation pipeline
(FPS to the config's point count, unit sphere; no augmentation).
``--out`` writes ``{split}_feats`` (N, D) / ``{split}_labels`` (N, ) and
``classes`` to a .npz (or one split to a .npy + ``_labels.npy``).
``--linear-probe`` fits a logistic regression on the train features and
prints train / test accuracy; with several ``--C`` values the one with the
best cross-validated accuracy on the TRAIN features is used.
"""
import argparse
import json

import cg3d_mm  # noqa: F401  registers components, weights-only loading
from cg3d_mm.datasets.benchmarks import BENCHMARKS
from cg3d_mm.evaluation.linear_probe import (FEATURES, SPLITS,
                                             build_feature_extractor,
                                             build_probe_dataset,
                                             extract_features, linear_probe,
                                             save_features)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Extract frozen point features / linear probe')
    parser.add_argument('config', help='config of the checkpoint\'s model')
    parser.add_argument('checkpoint', help='checkpoint file (weights-only)')
    parser.add_argument('--dataset', default='modelnet40',
                        choices=[b.key for b in BENCHMARKS])
    parser.add_argument('--split', nargs='+', choices=SPLITS,
                        default=list(SPLITS))
    parser.add_argument(
        '--data-root', help='folder holding modelnet40_normal_resampled/ '
        'and ScanObjectNN/ (default: the synthetic world for synthetic '
        'configs, else data/)')
    parser.add_argument(
        '--feature', choices=FEATURES, default='global',
        help='global: backbone [+ neck] output; embed: CG3D\'s normalised '
        'CLIP-space embedding (CG3D configs)')
    parser.add_argument('--out', help='.npz (or .npy for one split)')
    parser.add_argument('--linear-probe', action='store_true',
                        help='fit a logistic regression on train, score '
                        'train and test')
    parser.add_argument('--C', type=float, nargs='+', default=[1.0],
                        help='inverse regularisation; several values are '
                        'selected by 5-fold CV on the train split')
    parser.add_argument('--max-iter', type=int, default=1000)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--device', default='auto',
                        help="'auto' (cuda if available), 'cpu', 'cuda:1'")
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    if args.linear_probe and set(args.split) != set(SPLITS):
        parser.error('--linear-probe needs --split train test')
    if not args.out and not args.linear_probe:
        parser.error('nothing to do: give --out and/or --linear-probe')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    extractor = build_feature_extractor(args.config, args.checkpoint,
                                        args.feature, args.device)
    splits, classes = {}, ()
    for split in dict.fromkeys(args.split):
        dataset = build_probe_dataset(args.config, args.dataset, split,
                                      args.data_root)
        classes = dataset.metainfo.get('classes') or classes
        splits[split] = extract_features(
            extractor, dataset, args.batch_size, args.num_workers,
            progress=not args.no_progress)
        print(f'{args.dataset} {split}: {splits[split][0].shape[0]} clouds, '
              f'{splits[split][0].shape[1]}-d {args.feature} features')
    if args.out:
        save_features(args.out, splits, classes, dataset=args.dataset,
                      feature=args.feature, config=args.config,
                      checkpoint=args.checkpoint)
    result = {}
    if args.linear_probe:
        result = linear_probe(*splits['train'], *splits['test'], C=args.C,
                              max_iter=args.max_iter)
        print(json.dumps(result, indent=1))
        print(f"linear probe ({args.dataset}, {args.feature} features, "
              f"C={result['C']:g}): train {result['train_acc']:.2f} %, "
              f"test {result['test_acc']:.2f} % "
              f"(class mean {result['test_class_mean']:.2f} %)")
    return result


if __name__ == '__main__':
    main()
