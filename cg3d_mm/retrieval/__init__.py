"""Cross-modal retrieval: an embedding index over point clouds (exact or
faiss) queried by text, images or point clouds."""
from .index import (EmbeddingIndex, IndexMismatchError, evaluate_retrieval,
                    load_or_build_index)

__all__ = [
    'EmbeddingIndex', 'IndexMismatchError', 'evaluate_retrieval',
    'load_or_build_index'
]
