"""Retrieval metrics: recall@k and mAP of label-relevance rankings.

Semantics (hand-checkable, all values in percent):

- a database item is *relevant* to a query when it has the query's label;
- ``recall@k`` is the fraction of queries with at least one relevant item
  among their top ``k`` results;
- ``mAP`` is the mean over queries of the average precision over the full
  ranking, ``AP = (1 / R) * sum over relevant ranks r of precision@r``
  with ``R`` the number of relevant items in the database;
- queries without any relevant item (``R = 0``) are left out and counted
  in ``num_skipped``;
- excluded items (the query itself in leave-one-out 3D->3D retrieval) are
  removed from the ranking before anything is counted.

Ties are broken by database order (stable sort), so results do not depend
on the search backend.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from cg3d_mm.registry import METRICS
from cg3d_mm.utils.io import atomic_write_json

DEFAULT_TOPK = (1, 5, 10)
MODES = ('text_to_3d', 'image_to_3d', '3d_to_3d')
# Entries of one (queries x database) block sorted at once.
_BLOCK_ENTRIES = 1 << 22


def ranking_stats(
        scores: np.ndarray,
        query_labels: np.ndarray,
        db_labels: np.ndarray,
        topk: Sequence[int] = DEFAULT_TOPK,
        exclude: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
    """Per-query hits@k and average precision of one block of queries.

    Args:
        scores (np.ndarray): (Q, N) similarities, higher = better.
        query_labels (np.ndarray): (Q, ) labels of the queries.
        db_labels (np.ndarray): (N, ) labels of the database items.
        topk (Sequence[int]): The k of recall@k.
        exclude (np.ndarray, optional): (Q, ) database index to drop from
            each query's ranking (-1 = none), e.g. ``arange(Q)`` for
            leave-one-out retrieval within the database.

    Returns:
        dict: ``hits`` (Q, len(topk)) bool, ``ap`` (Q, ) float64 (NaN when
        the query has no relevant item), ``num_relevant`` (Q, ) int64.
    """
    scores = np.asarray(scores, dtype=np.float64)
    query_labels = np.asarray(query_labels).reshape(-1)
    db_labels = np.asarray(db_labels).reshape(-1)
    if scores.ndim != 2 or scores.shape != (len(query_labels),
                                            len(db_labels)):
        raise ValueError(f'scores must be (num_queries={len(query_labels)}, '
                         f'num_items={len(db_labels)}), got {scores.shape}')
    relevant = query_labels[:, None] == db_labels[None, :]
    if exclude is not None:
        exclude = np.asarray(exclude, dtype=np.int64).reshape(-1)
        if len(exclude) != len(query_labels):
            raise ValueError(f'exclude must have one entry per query '
                             f'({len(query_labels)}), got {len(exclude)}')
        rows = np.nonzero(exclude >= 0)[0]
        scores = scores.copy()
        # excluded items go last and never count as relevant
        scores[rows, exclude[rows]] = -np.inf
        relevant[rows, exclude[rows]] = False
    order = np.argsort(-scores, axis=1, kind='stable')
    rel = np.take_along_axis(relevant, order, axis=1)
    num_relevant = rel.sum(axis=1)
    precision = np.cumsum(rel, axis=1) / np.arange(1, rel.shape[1] + 1)
    with np.errstate(invalid='ignore', divide='ignore'):
        ap = (precision * rel).sum(axis=1) / num_relevant
    ap[num_relevant == 0] = np.nan
    hits = np.stack([rel[:, :k].any(axis=1) for k in topk], axis=1)
    return dict(hits=hits, ap=ap, num_relevant=num_relevant)


def retrieval_metrics(query_embeds: np.ndarray,
                      db_embeds: np.ndarray,
                      query_labels: np.ndarray,
                      db_labels: np.ndarray,
                      topk: Sequence[int] = DEFAULT_TOPK,
                      exclude: Optional[np.ndarray] = None) -> dict:
    """recall@k and mAP of cosine retrieval, computed block by block.

    Args:
        query_embeds (np.ndarray): (Q, D) L2-normalised query embeddings.
        db_embeds (np.ndarray): (N, D) L2-normalised database embeddings.
        query_labels (np.ndarray): (Q, ) query labels.
        db_labels (np.ndarray): (N, ) database labels.
        topk (Sequence[int]): The k of recall@k.
        exclude (np.ndarray, optional): (Q, ) database index excluded from
            each query's ranking (-1 = none).

    Returns:
        dict: See :func:`summarize_ranking`.
    """
    query_embeds = torch.as_tensor(np.asarray(query_embeds, np.float32))
    db_embeds = torch.as_tensor(np.asarray(db_embeds, np.float32))
    if query_embeds.ndim != 2 or db_embeds.ndim != 2 or \
            query_embeds.shape[1] != db_embeds.shape[1]:
        raise ValueError(f'query embeddings {tuple(query_embeds.shape)} and '
                         f'database embeddings {tuple(db_embeds.shape)} must '
                         'be (Q, D) and (N, D) with the same D')
    query_labels = np.asarray(query_labels).reshape(-1)
    step = max(1, _BLOCK_ENTRIES // max(1, len(db_embeds)))
    blocks = []
    for start in range(0, len(query_embeds), step):
        end = start + step
        scores = (query_embeds[start:end] @ db_embeds.t()).numpy()
        blocks.append(ranking_stats(
            scores, query_labels[start:end], db_labels, topk,
            None if exclude is None else exclude[start:end]))
    stats = {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]} \
        if blocks else dict(hits=np.zeros((0, len(topk)), bool),
                            ap=np.zeros(0), num_relevant=np.zeros(0, int))
    return summarize_ranking(stats, topk)


def summarize_ranking(stats: Dict[str, np.ndarray],
                      topk: Sequence[int] = DEFAULT_TOPK) -> dict:
    """Mean recall@k and mAP (percent) over queries with a relevant item.

    Returns:
        dict: ``recall@{k}`` for each k, ``mAP``, ``num_queries`` (queries
        counted) and ``num_skipped`` (queries without relevant items).
    """
    valid = stats['num_relevant'] > 0
    out = {}
    for i, k in enumerate(topk):
        out[f'recall@{k}'] = float(stats['hits'][valid, i].mean() * 100) \
            if valid.any() else float('nan')
    out['mAP'] = float(np.mean(stats['ap'][valid]) * 100) \
        if valid.any() else float('nan')
    out['num_queries'] = int(valid.sum())
    out['num_skipped'] = int((~valid).sum())
    return out


@METRICS.register_module()
class RetrievalMetric(BaseMetric):
    """Cross-modal retrieval of point clouds: recall@k and mAP.

    The database is every predicted sample's ``point_embed``; relevance is
    an equal ``gt_label``. Query sets:

    - ``3d_to_3d``: each point embedding against the others (leave-one-out);
    - ``image_to_3d``: each sample's ``image_embed`` (when the test pipeline
      loads a view, e.g. ShapeNet triplets);
    - ``text_to_3d``: class prompts given with :meth:`set_text_queries`
      (``tools/retrieve.py --eval`` does it; inside a Runner the metric has
      no text tower, so this mode is skipped with a log line unless set).

    Args:
        topk (Sequence[int]): The k of recall@k. Defaults to (1, 5, 10).
        modes (Sequence[str]): Among :data:`MODES`.
        out_dir (str, optional): Write the results as JSON there.
        name (str, optional): Tag of the JSON file.
    """

    default_prefix = 'retrieval'

    def __init__(self,
                 topk: Sequence[int] = DEFAULT_TOPK,
                 modes: Sequence[str] = MODES,
                 out_dir: Optional[str] = None,
                 name: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        unknown = set(modes) - set(MODES)
        if unknown or not modes:
            raise ValueError(f'RetrievalMetric: unknown modes '
                             f'{sorted(unknown)}; expected a non-empty '
                             f'subset of {MODES}')
        if not topk or any(int(k) != k or k < 1 for k in topk):
            raise ValueError(f'RetrievalMetric: topk must be positive '
                             f'integers, got {topk}')
        self.topk = tuple(int(k) for k in topk)
        self.modes = tuple(modes)
        self.out_dir = out_dir
        self.name = name
        self._text: Optional[tuple] = None
        self.last_summary: Optional[dict] = None

    def set_text_queries(self, embeds, labels) -> None:
        """Text queries (e.g. one prompt embedding per class) and labels.

        Args:
            embeds: (T, D) L2-normalised text embeddings.
            labels: (T, ) the label each query looks for.
        """
        embeds = torch.as_tensor(embeds).float().cpu()
        labels = np.asarray(labels).reshape(-1)
        if embeds.ndim != 2 or len(embeds) != len(labels):
            raise ValueError('set_text_queries: expected (T, D) embeddings '
                             f'and T labels, got {tuple(embeds.shape)} and '
                             f'{len(labels)}')
        self._text = (embeds.numpy(), labels)

    def process(self, data_batch, data_samples: Sequence) -> None:
        for sample in data_samples:
            get = sample.get if isinstance(sample, dict) else \
                (lambda k, s=sample: getattr(s, k, None))
            point, label = get('point_embed'), get('gt_label')
            if point is None or label is None:
                raise ValueError('RetrievalMetric: each sample needs '
                                 'point_embed and gt_label')
            image = get('image_embed')
            self.results.append(dict(
                point=torch.as_tensor(point).float().cpu(),
                image=None if image is None else
                torch.as_tensor(image).float().cpu(),
                label=int(torch.as_tensor(label).view(-1)[0])))

    def compute_metrics(self, results: List[dict]) -> dict:
        db = torch.stack([r['point'] for r in results]).numpy()
        labels = np.array([r['label'] for r in results], dtype=np.int64)
        summary = {}
        for mode in self.modes:
            if mode == '3d_to_3d':
                summary[mode] = retrieval_metrics(
                    db, db, labels, labels, self.topk,
                    exclude=np.arange(len(db)))
            elif mode == 'image_to_3d':
                if any(r['image'] is None for r in results):
                    print_log('RetrievalMetric: samples carry no image_embed; '
                              'image_to_3d skipped', logger='current')
                    continue
                images = torch.stack([r['image'] for r in results]).numpy()
                summary[mode] = retrieval_metrics(images, db, labels, labels,
                                                  self.topk)
            elif self._text is None:
                print_log('RetrievalMetric: no text queries set '
                          '(set_text_queries); text_to_3d skipped',
                          logger='current')
            else:
                summary[mode] = retrieval_metrics(
                    self._text[0], db, self._text[1], labels, self.topk)
        self.last_summary = summary
        self._dump(summary)
        return {f'{mode}/{k}': v for mode, res in summary.items()
                for k, v in res.items()}

    def _dump(self, summary: dict) -> None:
        if self.out_dir is None:
            return
        tag = f'_{self.name}' if self.name else ''
        atomic_write_json(osp.join(self.out_dir, f'retrieval{tag}.json'),
                          summary)
