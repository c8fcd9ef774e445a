"""Cross-modal retrieval: an embedding index over point clouds (exact or
faiss) queried by text, images or point clouds."""
from .database import database_from_config, dataset_items, point_files
from .evaluation import evaluate_retrieval
from .index import (EmbeddingIndex, IndexMismatchError, is_index_dir,
                    load_or_build_index)
from .search import BACKENDS, build_faiss_index, exact_search

__all__ = [
    'EmbeddingIndex', 'IndexMismatchError', 'evaluate_retrieval',
    'load_or_build_index', 'is_index_dir', 'database_from_config',
    'dataset_items', 'point_files', 'BACKENDS', 'build_faiss_index',
    'exact_search'
]
