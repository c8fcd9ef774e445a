"""The frozen CLIP side of CG3D: loading, small archs, text encoder."""
from .archs import CG3D_TINY_VIT, register_clip_arch
from .loading import (CLIPBundle, CLIPCheckpointError, build_clip,
                      build_clip_from_cfg, clear_clip_cache,
                      load_clip_checkpoint, preprocess_facts,
                      read_clip_state_dict)
from .text_encoder import CLIPTextEncoder, FlatTextTower, readable_class_name

__all__ = [
    'CG3D_TINY_VIT', 'register_clip_arch', 'CLIPBundle', 'CLIPCheckpointError',
    'build_clip', 'build_clip_from_cfg', 'clear_clip_cache',
    'load_clip_checkpoint', 'preprocess_facts', 'read_clip_state_dict',
    'CLIPTextEncoder', 'FlatTextTower', 'readable_class_name'
]
