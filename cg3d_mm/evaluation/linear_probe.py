"""Frozen point features of a dataset and a logistic-regression probe.

The linear probe of CG3D's appendix: a point encoder is frozen, its global
features of the train and test splits are extracted once, and a logistic
regression (scikit-learn) is fitted on the train features and scored on the
test features. Used by ``tools/extract_features.py``.
"""
import copy
import dataclasses
import logging
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log
from torch import Tensor, nn
from tqdm import tqdm

from cg3d_mm.utils.config import config_num_points, load_config
from cg3d_mm.utils.device import DeviceLike, resolve_device

FEATURES = ('global', 'embed')
SPLITS = ('train', 'test')


class PointFeatureExtractor(nn.Module):
    """The frozen point encoder of a config: backbone [+ neck] [+ proj].

    Args:
        backbone (nn.Module): Point backbone.
        neck (nn.Module, optional): Pooling neck.
        proj (nn.Linear, optional): CG3D's projection into the CLIP space;
            with it the output is the L2-normalised embedding.
    """

    def __init__(self, backbone: nn.Module, neck: Optional[nn.Module] = None,
                 proj: Optional[nn.Linear] = None) -> None:
        super().__init__()
        from cg3d_mm.models.utils import uses_mmcv_point_ops
        self.backbone = backbone
        self.neck = neck
        self.proj = proj
        self._mmcv_ops = uses_mmcv_point_ops(backbone)

    def forward(self, points: Tensor) -> Tensor:
        """(B, N, C) points -> (B, D) features."""
        from cg3d_mm.models.utils import global_point_feats
        feats = global_point_feats(self.backbone, self.neck, points,
                                   self._mmcv_ops)
        if self.proj is not None:
            feats = F.normalize(self.proj(feats), dim=-1)
        return feats


def build_feature_extractor(config: Union[str, Config],
                            checkpoint: str,
                            feature: str = 'global',
                            device: DeviceLike = 'cpu'
                            ) -> PointFeatureExtractor:
    """The point encoder of ``config`` with the weights of ``checkpoint``.

    Works for CG3D pretraining configs (only the point side is built: no
    CLIP tower is loaded) and for ``PointClassifier`` configs. Every tensor
    of the built parts must come from the checkpoint (strict loading).

    Args:
        config (str | Config): Config with ``model.backbone`` (and
            optionally ``model.neck`` / ``model.head``).
        checkpoint (str): mmengine or slim checkpoint with ``backbone.*``
            (``neck.*``, ``head.proj.*``) keys, read weights-only.
        feature (str): ``'global'`` (backbone [+ neck] output, the input of
            CG3D's projection / the classifier head) or ``'embed'`` (CG3D's
            L2-normalised CLIP-space embedding; CG3D configs only).
        device (str): 'cpu' (default), 'cuda[:i]' or 'auto'.
    """
    from mmengine.registry import init_default_scope

    from cg3d_mm.models.utils import load_model_checkpoint, read_checkpoint
    from cg3d_mm.registry import MODELS
    if feature not in FEATURES:
        raise ValueError(f'feature must be one of {FEATURES}, got '
                         f'{feature!r}')
    cfg = load_config(config)
    if 'model' not in cfg or 'backbone' not in cfg.model:
        raise ValueError(f'{cfg.filename}: no model.backbone in the config')
    init_default_scope(cfg.get('default_scope', 'cg3d_mm'))
    state, _ = read_checkpoint(checkpoint)  # once for every part

    def build(part_cfg: dict, prefix: str) -> nn.Module:
        part_cfg = copy.deepcopy(part_cfg)
        part_cfg.pop('init_cfg', None)  # the checkpoint replaces any init
        module = MODELS.build(part_cfg)
        if module.state_dict():
            load_model_checkpoint(module, state, prefix, source=checkpoint)
        return module

    backbone = build(cfg.model.backbone, 'backbone.')
    neck = build(cfg.model.neck, 'neck.') if cfg.model.get('neck') else None
    proj = None
    if feature == 'embed':
        head_cfg = cfg.model.get('head') or {}
        if head_cfg.get('type') != 'CG3DHead':
            raise ValueError(
                f"feature='embed' needs a CG3D config (model.head of type "
                f"CG3DHead with its projection); {cfg.filename} has "
                f"{head_cfg.get('type')!r}: use feature='global'")
        proj = build(head_cfg, 'head.').proj
    return PointFeatureExtractor(backbone, neck, proj).to(
        resolve_device(device)).eval()


def build_probe_dataset(config: Union[str, Config],
                        dataset: str = 'modelnet40',
                        split: str = 'test',
                        data_root: Optional[str] = None):
    """A labelled dataset split with the deterministic evaluation pipeline.

    Args:
        config (str | Config): Gives the point count (its test pipeline) and
            the data: the synthetic world for configs that use it.
        dataset (str): A zero-shot benchmark key (``'modelnet40'``,
            ``'modelnet10'``, ``'scanobjectnn_pb_t50_rs'``,
            ``'scanobjectnn_obj_bg'``, ``'scanobjectnn_obj_only'``).
        split (str): 'train' or 'test'.
        data_root (str, optional): Folder holding
            ``modelnet40_normal_resampled/`` and ``ScanObjectNN/``.

    Raises:
        FileNotFoundError: The split's files are absent.
    """
    from cg3d_mm.datasets.benchmarks import (BENCHMARKS,
                                             build_benchmark_dataset,
                                             resolve_data_root)
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    benches = {b.key: b for b in BENCHMARKS}
    if dataset not in benches:
        raise ValueError(f'unknown dataset {dataset!r}, expected one of '
                         f'{sorted(benches)}')
    cfg = load_config(config)
    bench = benches[dataset]
    bench = dataclasses.replace(bench, dataset=dict(bench.dataset,
                                                    split=split))
    root = resolve_data_root(cfg, data_root)
    ds, reason = build_benchmark_dataset(bench, root, config_num_points(cfg))
    if ds is None:
        raise FileNotFoundError(f'{dataset} {split} split: {reason}')
    return ds


@torch.no_grad()
def extract_features(extractor: nn.Module,
                     dataset,
                     batch_size: int = 32,
                     num_workers: int = 0,
                     progress: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """Features and labels of every item, in dataset order.

    Returns:
        tuple: (N, D) float32 features and (N, ) int64 labels.
    """
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=False,
        num_workers=num_workers, collate_fn=pseudo_collate)
    device = next(extractor.parameters()).device
    feats, labels = [], []
    for batch in tqdm(loader, desc='features', unit='batch', leave=False,
                      disable=not progress or len(loader) < 2):
        points = torch.stack(batch['inputs']['points']).float().to(device)
        feats.append(extractor(points).float().cpu())
        for sample in batch['data_samples']:
            if 'gt_label' not in sample:
                raise ValueError(f'{type(dataset).__name__}: a sample has no '
                                 'gt_label')
            labels.append(int(sample.gt_label.view(-1)[0]))
    if not feats:
        raise ValueError(f'{type(dataset).__name__} is empty')
    return (torch.cat(feats).numpy().astype(np.float32, copy=False),
            np.asarray(labels, dtype=np.int64))


def linear_probe(train_feats: np.ndarray,
                 train_labels: np.ndarray,
                 test_feats: np.ndarray,
                 test_labels: np.ndarray,
                 C: Union[float, Sequence[float]] = 1.0,
                 max_iter: int = 1000,
                 standardize: bool = True,
                 cv: int = 5,
                 seed: int = 0) -> dict:
    """Logistic regression on frozen features; train and test accuracy.

    Args:
        train_feats, test_feats (np.ndarray): (N, D) features.
        train_labels, test_labels (np.ndarray): (N, ) class indices.
        C (float | Sequence[float]): Inverse L2 strength. With several
            values, the one with the best ``cv``-fold cross-validated
            accuracy ON THE TRAINING FEATURES is used (the test split is
            never used for selection).
        max_iter (int): L-BFGS iterations.
        standardize (bool): Scale features to zero mean / unit variance
            (statistics of the training features).
        cv (int): Folds of the C selection.
        seed (int): Seed of the CV folds.

    Returns:
        dict: ``train_acc``, ``test_acc``, ``test_class_mean`` (percent),
        ``C`` (the value used), ``cv_acc`` ({C: mean CV accuracy}, when
        several C were given), ``num_train``, ``num_test``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from cg3d_mm.evaluation.metrics.zeroshot_accuracy import accuracy_summary
    train_feats, test_feats = _check_xy(train_feats, train_labels,
                                        test_feats, test_labels)

    def make(c: float):
        clf = LogisticRegression(C=c, max_iter=max_iter)
        return make_pipeline(StandardScaler(), clf) if standardize else clf

    grid = [float(C)] if np.isscalar(C) else [float(c) for c in C]
    if not grid or any(c <= 0 for c in grid):
        raise ValueError(f'C must be positive, got {C}')
    out = {}
    if len(grid) > 1:
        folds = min(cv, int(np.bincount(train_labels).max()))
        splitter = StratifiedKFold(n_splits=max(2, folds), shuffle=True,
                                   random_state=seed)
        scores = {c: float(cross_val_score(make(c), train_feats,
                                           train_labels, cv=splitter).mean()
                           * 100) for c in grid}
        out['cv_acc'] = scores
        best = max(grid, key=lambda c: scores[c])
    else:
        best = grid[0]
    model = make(best).fit(train_feats, train_labels)
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    scores = np.zeros((len(test_feats), num_classes))
    scores[:, model.classes_] = model.predict_proba(test_feats)
    summary = accuracy_summary(scores, test_labels, num_classes, topk=(1, ))
    out.update(
        train_acc=float((model.predict(train_feats) == train_labels).mean()
                        * 100),
        test_acc=summary['top1'],
        test_class_mean=summary['class_mean'],
        C=best,
        num_train=int(len(train_labels)),
        num_test=int(len(test_labels)))
    return out


def _check_xy(train_x, train_y, test_x, test_y):
    train_x = np.asarray(train_x, dtype=np.float64)
    test_x = np.asarray(test_x, dtype=np.float64)
    for name, x, y in (('train', train_x, train_y), ('test', test_x, test_y)):
        if x.ndim != 2 or len(x) != len(y):
            raise ValueError(f'{name}: features {x.shape} and labels '
                             f'{np.shape(y)} do not match (expected (N, D) '
                             'and (N, ))')
        if not np.isfinite(x).all():
            raise ValueError(f'{name} features contain NaN or inf')
    if train_x.shape[1] != test_x.shape[1]:
        raise ValueError(f'train features are {train_x.shape[1]}-d, test '
                         f'features {test_x.shape[1]}-d')
    if len(np.unique(train_y)) < 2:
        raise ValueError('the training labels hold a single class')
    return train_x, test_x


def save_features(path: str,
                  splits: Dict[str, Tuple[np.ndarray, np.ndarray]],
                  classes: Sequence[str] = (),
                  **meta: str) -> Dict[str, str]:
    """Write features (and labels) to ``.npz`` or ``.npy``.

    ``.npz``: ``{split}_feats`` (N, D) float32 and ``{split}_labels``
    (N, ) int64 per split, ``classes`` and the string ``meta`` values (no
    pickled objects: ``np.load`` works without ``allow_pickle``).
    ``.npy``: one split only; the features go to ``path`` and the labels
    to ``<stem>_labels.npy``.

    Returns:
        dict[str, str]: Written file per content.
    """
    out_dir = osp.dirname(osp.abspath(path))
    os.makedirs(out_dir, exist_ok=True)
    if path.endswith('.npy'):
        if len(splits) != 1:
            raise ValueError(f'{path}: a .npy file holds one split, got '
                             f'{sorted(splits)}; use .npz')
        (feats, labels), = splits.values()
        labels_path = path[:-4] + '_labels.npy'
        np.save(path, feats)
        np.save(labels_path, labels)
        return dict(feats=path, labels=labels_path)
    if not path.endswith('.npz'):
        raise ValueError(f'{path}: expected a .npz or .npy file name')
    arrays = {}
    for split, (feats, labels) in splits.items():
        arrays[f'{split}_feats'] = feats
        arrays[f'{split}_labels'] = labels
    arrays['classes'] = np.asarray(list(classes), dtype=str)
    arrays.update({k: np.asarray(str(v)) for k, v in meta.items()})
    np.savez(path, **arrays)
    print_log(f'features written to {path}', logger='current',
              level=logging.INFO)
    return dict(npz=path)
