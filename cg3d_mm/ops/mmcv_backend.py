"""Access to mmcv's CUDA point-op kernels.

mmcv 2.x ships furthest point sampling, kNN, ball query and grouping as CUDA
kernels only (on CPU tensors they raise). The ops in this package call them
through :func:`use_mmcv` and :func:`mmcv_op`, so that

* CUDA tensors get the fast kernels when mmcv was built with them, and
* tests can exercise the dispatch on CPU by monkeypatching ``use_mmcv`` and
  the functions in ``mmcv.ops``.
"""
import functools
from typing import Callable

import torch
from torch import Tensor


@functools.lru_cache(maxsize=None)
def mmcv_ext_available() -> bool:
    """Whether ``mmcv._ext`` (mmcv's compiled ops) can be imported."""
    try:
        import mmcv._ext  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def use_mmcv(tensor: Tensor) -> bool:
    """Whether an op on ``tensor`` should run mmcv's CUDA kernel.

    Args:
        tensor (Tensor): The op's main input.

    Returns:
        bool: True for CUDA tensors when mmcv's compiled ops are importable.
    """
    return tensor.is_cuda and mmcv_ext_available()


def mmcv_op(name: str) -> Callable:
    """Look up ``mmcv.ops.<name>`` at call time, run on its input's GPU.

    Looking up late lets tests monkeypatch ``mmcv.ops``; the device-dispatching
    wrappers installed by :func:`mmcv_point_ops_cpu_fallback` are unwrapped so
    that this never recurses into our own CPU code. Some kernels allocate
    their outputs on the *current* CUDA device, so the call is made with the
    device of its first tensor argument made current.

    Args:
        name (str): Function name in ``mmcv.ops``, e.g. ``'knn'``.

    Returns:
        Callable: The mmcv function.
    """
    import mmcv.ops
    fn = getattr(mmcv.ops, name)
    fn = getattr(fn, '__mmcv_original__', fn)

    @functools.wraps(fn)
    def on_input_device(*args):
        tensor = next((a for a in args if isinstance(a, Tensor)), None)
        if tensor is None or not tensor.is_cuda:
            return fn(*args)
        with torch.cuda.device(tensor.device):
            return fn(*args)

    return on_input_device


def as_mmcv_float(tensor: Tensor) -> Tensor:
    """Contiguous float32 copy (or view) for kernels that read raw floats.

    Args:
        tensor (Tensor): Any floating tensor.

    Returns:
        Tensor: ``tensor`` as contiguous float32.
    """
    return tensor.detach().to(torch.float32).contiguous()
