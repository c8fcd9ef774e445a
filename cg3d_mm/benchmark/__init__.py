"""The speed benchmark behind ``tools/benchmark.py``: the plugin's schedule
against the original's per-step work, zero-shot throughput and point ops."""
