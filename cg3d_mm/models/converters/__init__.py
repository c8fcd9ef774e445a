"""Converters from the original CG3D release (and its SLIP CLIP) into
cg3d_mm checkpoints; the command lines are in ``tools/model_converters/``."""
from .checkpoint_io import (CheckpointConversionError, read_source_checkpoint,
                            write_converted)
from .original_cg3d import (ENCODERS, convert_cg3d_checkpoint,
                            detect_encoder, map_point_encoder)

__all__ = [
    'CheckpointConversionError', 'read_source_checkpoint', 'write_converted',
    'ENCODERS', 'convert_cg3d_checkpoint', 'detect_encoder',
    'map_point_encoder'
]
