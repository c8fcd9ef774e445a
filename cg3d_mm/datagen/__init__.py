"""Data generation: the built-in synthetic world, triplets from real meshes
and the demo CLIP trained on the synthetic renders. Everything here writes
the real on-disk layouts that :mod:`cg3d_mm.datasets` reads, and registers
the generated assets that configs name (see :mod:`cg3d_mm.utils.assets`)."""
from cg3d_mm.utils.assets import register_asset

from .demo_clip import ensure_demo_clip, train_demo_clip
from .synthetic import ensure_synthetic_data

register_asset('synthetic_data')(ensure_synthetic_data)
register_asset('demo_clip')(ensure_demo_clip)

__all__ = ['ensure_demo_clip', 'train_demo_clip', 'ensure_synthetic_data']
