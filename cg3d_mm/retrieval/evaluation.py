"""recall@k / mAP of text, image and point queries against an index."""
import logging
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.logging import print_log
from torch import nn

from cg3d_mm.apis.inference import encode_images, encode_texts
from cg3d_mm.evaluation.metrics.retrieval_metric import (DEFAULT_TOPK, MODES,
                                                         RetrievalMetric)

from .index import EmbeddingIndex


def evaluate_retrieval(model: nn.Module,
                       index: EmbeddingIndex,
                       modes: Sequence[str] = MODES,
                       topk: Sequence[int] = DEFAULT_TOPK,
                       view: int = 0,
                       templates: Optional[Sequence[str]] = None,
                       batch_size: int = 32,
                       progress: bool = True) -> dict:
    """recall@k / mAP of text->3D, image->3D and 3D->3D retrieval.

    Relevant = same label. Text queries are the database's class names
    (those with at least one item) through ``templates`` (default: the
    model's zero-shot templates); image queries are each item's view number
    ``view`` (skipped when items have no views); 3D queries are the items
    themselves, each left out of its own ranking.

    Returns:
        dict: mode -> :func:`summarize_ranking` results (percent).
    """
    labels = index.labels
    if labels is None:
        raise ValueError('retrieval evaluation needs a labelled database '
                         '(a dataset with gt_label, or a folder with class '
                         'subfolders)')
    modes = list(modes)
    if 'image_to_3d' in modes and any(len(it.get('views') or []) <= view
                                      for it in index.items):
        print_log(f'image_to_3d skipped: not every item has a view #{view}',
                  logger='current', level=logging.WARNING)
        modes.remove('image_to_3d')
    metric = RetrievalMetric(topk=topk, modes=modes)
    if 'text_to_3d' in modes:
        classes = index.classes
        present = np.unique(labels)
        if len(classes) <= present.max():
            raise ValueError(f'the index lists {len(classes)} classes but has '
                             f'label {present.max()}')
        texts = encode_texts(model, [classes[c] for c in present],
                             templates or model.templates)
        metric.set_text_queries(texts, present)
    images = None
    if 'image_to_3d' in modes:
        views = [it['views'][view] for it in index.items]
        images = encode_images(model, views, batch_size, progress)
    metric.process(None, [
        dict(point_embed=torch.from_numpy(index.embeddings[i]),
             image_embed=None if images is None else
             torch.from_numpy(images[i]),
             gt_label=int(labels[i])) for i in range(len(index))
    ])
    metric.evaluate(len(index))
    return metric.last_summary
