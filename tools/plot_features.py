"""2-D maps of point and image features, before and after CG3D pretraining.

Reproduces the kind of picture of the paper's Fig. 6/7: the embeddings of
a labelled dataset's point clouds (point encoder) and rendered views (CLIP
image tower with its visual prompts), reduced to 2-D with t-SNE (or UMAP
when the ``umap`` package is installed) and coloured by class. The top row
is the model at random initialisation (no checkpoint), the bottom row the
pretrained checkpoint. Each panel's title gives the silhouette score of the
classes in the full embedding space (cosine; higher = better separated),
which is also printed. Examples::

    python tools/plot_features.py CONFIG CKPT --out work_dirs/features.png
    python tools/plot_features.py CONFIG --out random_init.png --method umap
"""
import argparse
import io
import logging
from typing import Dict, List, Optional

import numpy as np
from mmengine.config import DictAction
from mmengine.logging import print_log


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='t-SNE / UMAP of CG3D point and image features')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', nargs='?',
                        help='pretrained checkpoint (omit: random init only)')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--method', choices=('tsne', 'umap'), default='tsne')
    parser.add_argument('--split', default='test_dataloader',
                        help='config key of the labelled dataset')
    parser.add_argument('--max-items', type=int, default=1000,
                        help='random subset of the dataset (seeded)')
    parser.add_argument('--view', type=int, default=0,
                        help='rendered view used for image features')
    parser.add_argument('--no-images', action='store_true',
                        help='plot point features only')
    parser.add_argument('--perplexity', type=float, default=30.)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--device', default='auto',
                        help="'auto' (cuda if available), 'cpu', 'cuda:1'")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def reduce_2d(feats: np.ndarray, method: str = 'tsne', seed: int = 0,
              perplexity: float = 30.) -> np.ndarray:
    """(N, D) features -> (N, 2) with t-SNE (cosine) or UMAP.

    UMAP is used only if ``umap`` is importable; otherwise t-SNE, with a
    log line. The t-SNE perplexity is capped at (N - 1) / 3 for small N.
    """
    feats = np.asarray(feats, np.float64)
    if len(feats) < 3:
        raise ValueError(f'need at least 3 items for a 2-D map, got '
                         f'{len(feats)}')
    if method == 'umap':
        try:
            import umap
        except ImportError:
            print_log('umap is not installed: falling back to t-SNE',
                      logger='current', level=logging.WARNING)
            method = 'tsne'
        else:
            return umap.UMAP(n_components=2, metric='cosine',
                             random_state=seed).fit_transform(feats)
    if method != 'tsne':
        raise ValueError(f"method must be 'tsne' or 'umap', got {method!r}")
    from sklearn.manifold import TSNE
    perplexity = float(min(perplexity, (len(feats) - 1) / 3))
    return TSNE(n_components=2, perplexity=perplexity, metric='cosine',
                init='pca', random_state=seed).fit_transform(feats)


def class_separation(feats: np.ndarray, labels: np.ndarray) -> float:
    """Silhouette score of the classes (cosine), NaN if undefined."""
    from sklearn.metrics import silhouette_score
    if len(np.unique(labels)) < 2 or len(np.unique(labels)) >= len(labels):
        return float('nan')
    return float(silhouette_score(feats, labels, metric='cosine'))


def _features(model, dataset, subset: np.ndarray, views: Optional[List[str]],
              batch_size: int) -> Dict[str, np.ndarray]:
    import torch

    from cg3d_mm.apis.inference import encode_dataset, encode_images
    out = dict(point=encode_dataset(
        model, torch.utils.data.Subset(dataset, subset.tolist()),
        batch_size))
    if views is not None:
        out['image'] = encode_images(model, views, batch_size)
    return out


def plot_panels(panels: List[dict], labels: np.ndarray,
                classes: List[str]):
    """A matplotlib figure: one row per model state, one column per
    modality; points coloured by class."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = sorted({p['row'] for p in panels})
    cols = sorted({p['col'] for p in panels})
    fig, axes = plt.subplots(len(rows), len(cols), squeeze=False,
                             figsize=(5 * len(cols), 4.6 * len(rows)))
    cmap = plt.get_cmap('tab20' if len(classes) > 10 else 'tab10')
    present = np.unique(labels)
    for p in panels:
        ax = axes[rows.index(p['row'])][cols.index(p['col'])]
        for c in present:
            sel = labels == c
            ax.scatter(p['xy'][sel, 0], p['xy'][sel, 1], s=8,
                       color=cmap(int(c) % cmap.N),
                       label=classes[c] if c < len(classes) else str(c))
        ax.set_title(f'{p["title"]}\nsilhouette {p["silhouette"]:.3f}',
                     fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc='center right', fontsize=8,
               markerscale=2, frameon=False)
    fig.tight_layout(rect=(0, 0, 0.86, 1))
    return fig


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    import torch
    from mmdet3d.registry import DATASETS

    from cg3d_mm.apis.inference import init_model
    from cg3d_mm.retrieval import database_from_config, dataset_items
    from cg3d_mm.utils.io import atomic_write

    torch.manual_seed(args.seed)  # a reproducible "random init"
    states = [('random init', None)]
    if args.checkpoint:
        states.append(('pretrained', args.checkpoint))
    models = [(name, init_model(args.config, ckpt, args.device,
                                args.cfg_options)) for name, ckpt in states]
    cfg = models[0][1].cfg
    dataset = DATASETS.build(database_from_config(cfg, args.split))
    items, classes = dataset_items(dataset)
    labels = np.array([it['label'] for it in items])
    if any(lab is None for lab in labels):
        raise ValueError(f'{args.split}: the dataset has no labels')
    rng = np.random.default_rng(args.seed)
    subset = np.arange(len(items))
    if len(subset) > args.max_items:
        subset = np.sort(rng.choice(subset, args.max_items, replace=False))
    labels = labels[subset].astype(np.int64)
    views = None
    if not args.no_images:
        if all(len(items[i]['views']) > args.view for i in subset):
            views = [items[i]['views'][args.view] for i in subset]
        else:
            print_log(f'{args.split}: items have no view #{args.view}; '
                      'plotting point features only', logger='current')

    panels, scores = [], {}
    for row, (state, model) in enumerate(models):
        feats = _features(model, dataset, subset, views, args.batch_size)
        for col, (modality, f) in enumerate(feats.items()):
            sil = class_separation(f, labels)
            scores[f'{state}/{modality}'] = sil
            panels.append(dict(
                row=row, col=col, silhouette=sil,
                title=f'{state}: {modality} features ({len(f)})',
                xy=reduce_2d(f, args.method, args.seed, args.perplexity)))
            print(f'{state:>12} {modality:<7} silhouette {sil:.4f}')
    fig = plot_panels(panels, labels, classes)
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=110)
    atomic_write(args.out, lambda f: f.write(buf.getvalue()))
    print(f'figure written to {args.out}')
    return dict(silhouette=scores, num_items=int(len(subset)),
                out=args.out)


if __name__ == '__main__':
    from cg3d_mm.engine.cli import exit_on_bad_input
    exit_on_bad_input(main)
