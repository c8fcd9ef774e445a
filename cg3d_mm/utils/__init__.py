from .cache import cache_dir
from .io import atomic_write, atomic_write_json
from .checkpoint import (UnsafeCheckpointError, install_weights_only_loader,
                         load_weights_only, register_safe_globals)
from .mim import register_config_package

__all__ = [
    'atomic_write', 'atomic_write_json', 'cache_dir', 'UnsafeCheckpointError', 'install_weights_only_loader',
    'load_weights_only', 'register_safe_globals', 'register_config_package'
]
