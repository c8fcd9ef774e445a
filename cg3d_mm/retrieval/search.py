"""Cosine top-k search over an embedding matrix: exact or faiss.

Search is exact cosine similarity (a matmul + top-k, in query blocks) by
default. ``backend='faiss'`` uses faiss: ``IndexFlatIP`` (same results as
exact) below :data:`IVF_MIN_ITEMS` items, else ``IndexIVFFlat``
(approximate). ``'auto'`` picks IVF only from :data:`IVF_MIN_ITEMS` items
on: faiss's flat search computes the same scores as torch's matmul + top-k
and was the slower of the two on CPU (timings in the README's retrieval
section), so flat faiss never pays off.
"""
import logging
from typing import Optional, Tuple

import numpy as np
import torch
from mmengine.logging import print_log

BACKENDS = ('exact', 'faiss', 'auto')
# faiss switches to IVF, and 'auto' to faiss, from this many items.
IVF_MIN_ITEMS = 1_000_000
# Scores held at once by exact search (queries are processed in blocks).
_EXACT_BLOCK = 1 << 25


def exact_search(database: torch.Tensor, queries: torch.Tensor, k: int
                 ) -> Tuple[np.ndarray, np.ndarray]:
    """Exact cosine top-k: (Q, k) scores and indices, best first."""
    step = max(1, _EXACT_BLOCK // max(1, len(database)))
    scores, indices = [], []
    for start in range(0, len(queries), step):
        top = torch.topk(queries[start:start + step] @ database.t(), k,
                         dim=1, largest=True, sorted=True)
        scores.append(top.values)
        indices.append(top.indices)
    return torch.cat(scores).numpy(), torch.cat(indices).numpy()


def build_faiss_index(database: np.ndarray,
                      ivf_min_items: int = IVF_MIN_ITEMS,
                      nlist: Optional[int] = None,
                      nprobe: Optional[int] = None,
                      seed: int = 0):
    """Inner-product faiss index: flat, or IVF from ``ivf_min_items`` items.

    IVF is approximate: it searches the ``nprobe`` (default nlist / 8)
    closest of ``nlist`` (default 4 sqrt(N)) k-means cells.
    """
    try:
        import faiss
    except ImportError:
        raise ImportError("backend='faiss' needs faiss (pip install "
                          'faiss-cpu)') from None
    database = np.ascontiguousarray(database, dtype=np.float32)
    dim = database.shape[1]
    if len(database) < ivf_min_items:
        index = faiss.IndexFlatIP(dim)
    else:
        nlist = int(nlist or max(1, round(4 * np.sqrt(len(database)))))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist,
                                   faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = seed
        index.train(database)
        index.nprobe = int(nprobe or max(1, nlist // 8))
    index.add(database)
    return index


def drop_excluded(scores: np.ndarray, idx: np.ndarray, exclude,
                  k: int) -> Tuple[np.ndarray, np.ndarray]:
    """The first ``k`` results of each query without its ``exclude`` item.

    Args:
        scores, idx (np.ndarray): (Q, k') search results, k' > k.
        exclude (np.ndarray): (Q, ) item index to leave out per query.
    """
    exclude = np.asarray(exclude).reshape(-1)
    if len(exclude) != len(idx):
        raise ValueError(f'exclude must have one entry per query '
                         f'({len(idx)}), got {len(exclude)}')
    out_s = np.empty((len(idx), k), scores.dtype)
    out_i = np.empty((len(idx), k), idx.dtype)
    for r in range(len(idx)):
        keep = idx[r] != exclude[r]
        out_s[r] = scores[r][keep][:k]
        out_i[r] = idx[r][keep][:k]
    return out_s, out_i


def has_faiss() -> bool:
    """Whether faiss can be imported (logged at DEBUG when not)."""
    try:
        import faiss  # noqa: F401
        return True
    except ImportError:
        print_log("faiss is not installed: backend='auto' uses exact search",
                  logger='current', level=logging.DEBUG)
        return False
