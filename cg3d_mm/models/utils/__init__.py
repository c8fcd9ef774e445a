from .point_feats import global_point_feats, uses_mmcv_point_ops
from .pretrained import (CG3DPretrainedInit, LoadReport, PrefixNotFoundError,
                         PretrainedKeysWarning, load_pretrained_state,
                         protect_loaded, read_state_dict, select_prefix)

__all__ = [
    'global_point_feats', 'uses_mmcv_point_ops',
    'CG3DPretrainedInit', 'LoadReport', 'PrefixNotFoundError',
    'PretrainedKeysWarning', 'load_pretrained_state', 'protect_loaded',
    'read_state_dict', 'select_prefix'
]
