"""One way to turn a ``--device`` value into a :class:`torch.device`."""
from typing import Union

import torch

DeviceLike = Union[str, torch.device, None]


def resolve_device(device: DeviceLike = 'auto') -> torch.device:
    """The device to run on.

    Args:
        device (str | torch.device | None): ``'auto'`` or None for CUDA when
            available, else the CPU; otherwise any ``torch.device`` string
            (``'cpu'``, ``'cuda'``, ``'cuda:1'``).

    Returns:
        torch.device: The resolved device.

    Raises:
        RuntimeError: A CUDA device was asked for and CUDA is not available
            (said here rather than at the first tensor moved there).
        ValueError: ``device`` is not a device name.
    """
    if device is None or str(device) == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    try:
        resolved = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"device {device!r} is not a device name ('auto', "
                         f"'cpu', 'cuda', 'cuda:0', ...): {err}") from None
    if resolved.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError(f'device {str(device)!r}: no CUDA device is '
                           "available (use 'cpu' or 'auto')")
    return resolved
