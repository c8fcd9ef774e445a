from contextlib import contextmanager

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from cg3d_mm.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAutocastOptimWrapper(OptimWrapper):
    """Mixed precision on CPU: the forward pass runs under bfloat16 autocast.

    mmengine's ``AmpOptimWrapper`` asserts a GPU. On CPUs with bf16 matrix
    units (AMX / AVX512-BF16) autocast is a real speed-up (elsewhere bf16 is
    emulated and slower: ``--amp auto`` /
    :func:`cg3d_mm.utils.precision.choose_precision` decide); bfloat16 keeps
    the fp32 exponent range, so no loss scaling is needed. Parameters and
    optimizer state stay fp32, and so do CG3D's contrastive logits and
    losses (:func:`cg3d_mm.models.losses.info_nce` leaves autocast).

    Args:
        dtype (str): ``'bfloat16'`` (default) or ``'float16'``.
        **kwargs: As :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, dtype: str = 'bfloat16', **kwargs) -> None:
        super().__init__(**kwargs)
        if dtype not in ('bfloat16', 'float16'):
            raise ValueError(f'CPUAutocastOptimWrapper: dtype must be '
                             f"'bfloat16' or 'float16', got {dtype!r}")
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast(
                device_type='cpu', dtype=self.cast_dtype):
            yield
