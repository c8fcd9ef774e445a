from .checkpoint_loader import (LoadReport, PrefixNotFoundError,
                                PretrainedKeysWarning, load_model_checkpoint,
                                load_pretrained_state, read_checkpoint,
                                read_state_dict, select_prefix)
from .point_feats import global_point_feats, uses_mmcv_point_ops
from .pretrained import CG3DPretrainedInit, protect_loaded

__all__ = [
    'global_point_feats', 'uses_mmcv_point_ops',
    'CG3DPretrainedInit', 'LoadReport', 'PrefixNotFoundError',
    'PretrainedKeysWarning', 'load_model_checkpoint', 'load_pretrained_state',
    'protect_loaded', 'read_checkpoint', 'read_state_dict', 'select_prefix'
]
