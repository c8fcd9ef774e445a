"""Which floating-point precision a run should use on this hardware.

bf16 autocast pays off only where the hardware multiplies bf16 natively:
CPUs with AMX (``amx_bf16``) or AVX512-BF16 (``avx512_bf16``), and GPUs with
bf16 support (Ampere and later). Older GPUs get fp16 with loss scaling;
any other CPU stays fp32, where bf16 would be emulated and slower.
"""
from dataclasses import dataclass
from typing import Iterable, Optional, Set, Union

import torch

PRECISIONS = ('fp32', 'bf16', 'fp16')
# torch dtype names, as the optimizer wrappers take them
AUTOCAST_DTYPES = dict(bf16='bfloat16', fp16='float16')
# cpuinfo flags of native bf16 matrix arithmetic
CPU_BF16_FLAGS = ('amx_bf16', 'avx512_bf16')


@dataclass(frozen=True)
class PrecisionChoice:
    """A precision decision and the reason for it.

    Attributes:
        precision (str): ``'fp32'``, ``'bf16'`` or ``'fp16'``.
        reason (str): Why, naming the device and the flags it looked at.
        device_type (str): ``'cpu'`` or ``'cuda'``.
    """
    precision: str
    reason: str
    device_type: str

    @property
    def autocast_dtype(self) -> Optional[str]:
        """``'bfloat16'`` / ``'float16'``, or None for fp32."""
        return AUTOCAST_DTYPES.get(self.precision)

    @property
    def loss_scaling(self) -> bool:
        """fp16 needs a (dynamic) loss scale; bf16 keeps fp32's range."""
        return self.precision == 'fp16'


def cpu_flags(path: str = '/proc/cpuinfo') -> Set[str]:
    """The CPU feature flags of the first core (empty when unreadable)."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith('flags'):
                    return set(line.split(':', 1)[1].split())
    except OSError:
        pass
    return set()


def choose_precision(device: Union[str, torch.device, None] = None,
                     flags: Optional[Iterable[str]] = None,
                     cuda_bf16: Optional[bool] = None) -> PrecisionChoice:
    """Decide the training / inference precision for ``device``.

    Args:
        device (str | torch.device, optional): Where the model runs; None
            for CUDA when available, else the CPU.
        flags (Iterable[str], optional): CPU flags; read from
            ``/proc/cpuinfo`` when None.
        cuda_bf16 (bool, optional): Whether the GPU supports bf16; asked
            from ``torch.cuda.is_bf16_supported`` when None.

    Returns:
        PrecisionChoice: ``bf16`` on CPUs with AMX or AVX512-BF16 and on
        GPUs with bf16, ``fp16`` (with loss scaling) on other GPUs, ``fp32``
        elsewhere; with the reason.
    """
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    device_type = torch.device(device).type
    if device_type == 'cuda':
        if cuda_bf16 is None:
            cuda_bf16 = torch.cuda.is_bf16_supported()
        if cuda_bf16:
            return PrecisionChoice(
                'bf16', 'the GPU supports bf16 (fp32 range, no loss '
                'scaling)', device_type)
        return PrecisionChoice(
            'fp16', 'the GPU has no bf16: fp16 autocast with dynamic loss '
            'scaling', device_type)
    if device_type != 'cpu':
        return PrecisionChoice('fp32', f'device type {device_type!r}: no '
                               'mixed-precision rule, fp32', device_type)
    flags = set(cpu_flags() if flags is None else flags)
    found = [f for f in CPU_BF16_FLAGS if f in flags]
    if found:
        return PrecisionChoice(
            'bf16', f'the CPU multiplies bf16 natively ({", ".join(found)})',
            device_type)
    capability = torch.backends.cpu.get_cpu_capability()
    return PrecisionChoice(
        'fp32', f'the CPU has neither AMX nor AVX512-BF16 (torch capability '
        f'{capability}): bf16 would be emulated and slower than fp32',
        device_type)
