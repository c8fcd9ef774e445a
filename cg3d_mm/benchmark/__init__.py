"""The speed benchmark behind ``tools/benchmark.py``: the plugin's schedule
against the original's per-step work, zero-shot throughput and point ops."""
from .builders import (MODES, TIMED_MODES, build_model, build_optim,
                       make_pretrain_batch, random_clip_weights,
                       small_model_cfg, weights_fingerprint)
from .harness import (AUTO, LOSS_ATOL, POINT_OP_CONFIGS,
                      SMALL_POINT_OP_CONFIGS, autocast_optim_cfg,
                      compare_first_losses, merge_runs, run_benchmark)
from .jobs import cycle_model, run_job
from .machine import PeakMemory, machine_facts, matmul_peak
from .reference import ReferenceCG3D, encode_uncached
from .report import (component_rows, components_markdown,
                     format_markdown, table_rows, write_report)

__all__ = [
    'MODES', 'TIMED_MODES', 'LOSS_ATOL', 'POINT_OP_CONFIGS',
    'SMALL_POINT_OP_CONFIGS', 'small_model_cfg', 'random_clip_weights',
    'make_pretrain_batch', 'build_model', 'build_optim',
    'weights_fingerprint', 'run_benchmark', 'run_job', 'cycle_model',
    'merge_runs', 'compare_first_losses', 'PeakMemory', 'machine_facts',
    'ReferenceCG3D', 'encode_uncached', 'format_markdown', 'table_rows',
    'write_report', 'AUTO', 'autocast_optim_cfg', 'matmul_peak',
    'component_rows', 'components_markdown'
]
