
from .global_pool import GlobalPoolNeck  # noqa: F401
