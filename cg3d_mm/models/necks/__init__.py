from .global_pool import GlobalPoolNeck

__all__ = ['GlobalPoolNeck']
