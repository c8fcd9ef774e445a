"""High-level entry points: inference, retrieval, scene querying, zero-shot
benchmarks, linear probes, benchmarks and the demo CLIP."""
from .benchmark import run_benchmark, write_report
from .demo_clip import ensure_demo_clip, train_demo_clip
from .encode import (encode_dataset, encode_images, encode_point_clouds,
                     encode_texts, init_model, load_image, point_pipeline)
from .linear_probe import (PointFeatureExtractor, build_feature_extractor,
                           build_probe_dataset, extract_features,
                           linear_probe, save_features)
from .retrieval import (EmbeddingIndex, IndexMismatchError,
                        evaluate_retrieval, load_or_build_index)
from .scene_query import (QueryResult, SceneQuerier, evaluate_scene_queries,
                          remove_floor_ceiling, write_query_outputs)
from .zeroshot import (BENCHMARKS, TEMPLATE_SETS, Benchmark,
                       build_zeroshot_model, evaluate_zeroshot,
                       format_markdown_table, load_point_encoder,
                       run_zeroshot_benchmarks)

__all__ = [
    'run_benchmark', 'write_report', 'ensure_demo_clip', 'train_demo_clip',
    'encode_dataset', 'encode_images', 'encode_point_clouds', 'encode_texts',
    'init_model', 'load_image', 'point_pipeline', 'PointFeatureExtractor',
    'build_feature_extractor', 'build_probe_dataset', 'extract_features',
    'linear_probe', 'save_features', 'EmbeddingIndex', 'IndexMismatchError',
    'evaluate_retrieval', 'load_or_build_index', 'QueryResult',
    'SceneQuerier', 'evaluate_scene_queries', 'remove_floor_ceiling',
    'write_query_outputs', 'BENCHMARKS', 'TEMPLATE_SETS', 'Benchmark',
    'build_zeroshot_model', 'evaluate_zeroshot', 'format_markdown_table',
    'load_point_encoder', 'run_zeroshot_benchmarks'
]
