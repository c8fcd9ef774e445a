"""Inference entry points: build a model from a config + checkpoint, encode
point clouds, images and texts, and run zero-shot benchmarks."""
from .inference import (encode_dataset, encode_images, encode_point_clouds,
                        encode_texts, init_model, load_image, point_pipeline)
from .zeroshot import (BENCHMARKS, TEMPLATE_SETS, Benchmark,
                       build_zeroshot_model, evaluate_zeroshot,
                       format_markdown_table, run_zeroshot_benchmarks)

__all__ = [
    'encode_dataset', 'encode_images', 'encode_point_clouds', 'encode_texts',
    'init_model', 'load_image', 'point_pipeline', 'BENCHMARKS',
    'TEMPLATE_SETS', 'Benchmark', 'build_zeroshot_model', 'evaluate_zeroshot',
    'format_markdown_table', 'run_zeroshot_benchmarks'
]
