"""Shape and dtype checks shared by the point ops (clear errors, early)."""
import numbers
from typing import Optional, Sequence

from torch import Tensor


def check_tensor(tensor: Tensor,
                 name: str,
                 ndim: int,
                 layout: str,
                 last_dim: Optional[int] = None) -> None:
    """Raise ValueError unless ``tensor`` has ``ndim`` dims (and last dim).

    Args:
        tensor (Tensor): Tensor to check.
        name (str): Argument name used in the message.
        ndim (int): Expected number of dimensions.
        layout (str): Human-readable expected layout, e.g. ``'(B, N, 3)'``.
        last_dim (int, optional): Expected size of the last dimension.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f'{name} must be a torch.Tensor {layout}, '
                        f'got {type(tensor).__name__}')
    if tensor.dim() != ndim or (last_dim is not None
                                and tensor.shape[-1] != last_dim):
        raise ValueError(f'{name} must have shape {layout}, '
                         f'got {tuple(tensor.shape)}')


def check_index(index: Tensor, name: str, ndim: int, layout: str) -> None:
    """Like :func:`check_tensor`, and the tensor must hold integers."""
    check_tensor(index, name, ndim, layout)
    if index.is_floating_point() or index.is_complex():
        raise ValueError(
            f'{name} must be an integer tensor, got {index.dtype}')


def check_same_batch(tensors: Sequence[Tensor], names: Sequence[str]) -> None:
    """Raise ValueError unless all tensors share batch size and device."""
    first = tensors[0]
    for tensor, name in zip(tensors[1:], names[1:]):
        if tensor.shape[0] != first.shape[0]:
            raise ValueError(f'{names[0]} and {name} must have the same batch '
                             f'size, got {first.shape[0]} and '
                             f'{tensor.shape[0]}')
        if tensor.device != first.device:
            raise ValueError(f'{names[0]} and {name} must be on the same '
                             f'device, got {first.device} and {tensor.device}')


def check_num_samples(num_samples: int, num_points: int, what: str) -> None:
    """Raise ValueError unless ``1 <= num_samples <= num_points``.

    Args:
        num_samples (int): Requested number (of samples / neighbours).
        num_points (int): Number of points available per cloud.
        what (str): What is requested, used in the message.
    """
    if isinstance(num_samples, bool) or not isinstance(
            num_samples, numbers.Integral):
        raise TypeError(f'{what} must be an int, got {num_samples!r}')
    if num_samples < 1:
        raise ValueError(f'{what} must be >= 1, got {num_samples}')
    if num_samples > num_points:
        raise ValueError(f'{what}: requested {num_samples} but the point '
                         f'clouds have only {num_points} points')
