"""Data generation: the built-in synthetic world, triplets from real meshes
and the demo CLIP trained on the synthetic renders. Everything here writes
the real on-disk layouts that :mod:`cg3d_mm.datasets` reads, and registers
the generated assets that configs name (see :mod:`cg3d_mm.utils.assets`)."""
from cg3d_mm.utils.assets import register_asset

from .demo_clip import ensure_demo_clip, train_demo_clip
from .synthetic import ensure_synthetic_data

register_asset('synthetic_data')(ensure_synthetic_data)
register_asset('demo_clip')(ensure_demo_clip)


@register_asset('synthetic_layout')
def _synthetic_layout(**settings) -> str:
    # imported on use: the mesh tools of .triplets are not needed otherwise
    from .triplets.convert_layouts import ensure_synthetic_layout
    return ensure_synthetic_layout(**settings)


@register_asset('synthetic_shards')
def _synthetic_shards(**settings) -> str:
    # imported on use, like synthetic_layout
    from .synthetic_shards import ensure_synthetic_shards
    return ensure_synthetic_shards(**settings)


__all__ = ['ensure_demo_clip', 'train_demo_clip', 'ensure_synthetic_data']
