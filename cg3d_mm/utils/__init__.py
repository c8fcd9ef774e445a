from .cache import cache_dir
from .checkpoint import (UnsafeCheckpointError, install_weights_only_loader,
                         load_weights_only, register_safe_globals)
from .mim import register_config_package

__all__ = [
    'cache_dir', 'UnsafeCheckpointError', 'install_weights_only_loader',
    'load_weights_only', 'register_safe_globals', 'register_config_package'
]
