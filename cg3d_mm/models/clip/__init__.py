"""The frozen CLIP side of CG3D: loading, small archs, SLIP, text encoder."""
from .archs import CG3D_TINY_VIT, apply_arch_extras, register_clip_arch
from .loading import (CLIPBundle, CLIPCheckpointError, build_clip,
                      build_clip_from_cfg, clear_clip_cache,
                      load_clip_checkpoint, preprocess_facts,
                      read_clip_state_dict)
from .slip import (SLIP_VIT_B_16, SLIPConversionError, register_slip_arch,
                   slip_arch_cfg, slip_to_open_clip, timm_vit_to_open_clip)
from .text_encoder import CLIPTextEncoder, FlatTextTower, readable_class_name

__all__ = [
    'CG3D_TINY_VIT', 'register_clip_arch', 'apply_arch_extras',
    'SLIP_VIT_B_16', 'SLIPConversionError', 'register_slip_arch',
    'slip_arch_cfg', 'slip_to_open_clip', 'timm_vit_to_open_clip',
    'CLIPBundle', 'CLIPCheckpointError', 'build_clip', 'build_clip_from_cfg',
    'clear_clip_cache',
    'load_clip_checkpoint', 'preprocess_facts', 'read_clip_state_dict',
    'CLIPTextEncoder', 'FlatTextTower', 'readable_class_name'
]
