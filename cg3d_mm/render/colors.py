"""Colour argument checks shared by the renderers."""
from typing import Optional, Sequence, Union

import numpy as np

ColorLike = Union[int, float, Sequence[float], np.ndarray]


def to_rgb_float(colors: np.ndarray, name: str = 'colors') -> np.ndarray:
    """Convert (N, 3|4) colours to float RGB in [0, 1].

    Integer colours are read as 0..255, float colours as 0..1; an alpha
    channel is dropped.

    Args:
        colors (np.ndarray): (N, 3) or (N, 4) colours.
        name (str): Argument name used in error messages.

    Returns:
        np.ndarray: (N, 3) float32 in [0, 1].
    """
    colors = np.asarray(colors)
    if colors.ndim != 2 or colors.shape[1] not in (3, 4):
        raise ValueError(f'{name} must have shape (N, 3) or (N, 4), got '
                         f'{colors.shape}')
    colors = colors[:, :3]
    if np.issubdtype(colors.dtype, np.integer):
        if colors.min(initial=0) < 0 or colors.max(initial=0) > 255:
            raise ValueError(f'{name}: integer colours must be in 0..255')
        return colors.astype(np.float32) / 255.
    if not np.issubdtype(colors.dtype, np.floating):
        raise ValueError(f'{name} must be integer (0..255) or float (0..1), '
                         f'got dtype {colors.dtype}')
    if not np.isfinite(colors).all():
        raise ValueError(f'{name} contain NaN or inf')
    return colors.astype(np.float32).clip(0., 1.)


def background_rgb(background: Optional[ColorLike],
                   default: int) -> np.ndarray:
    """Background as a (3, ) uint8 array from a grey level or an RGB triple.

    Args:
        background (int | sequence | None): Grey level 0..255, an RGB triple
            0..255, or None for ``default``.
        default (int): Grey level used for None.

    Returns:
        np.ndarray: (3, ) uint8.
    """
    if background is None:
        background = default
    value = np.asarray(background, dtype=np.float64)
    if value.ndim == 0:
        value = np.repeat(value, 3)
    if value.shape != (3, ) or (value < 0).any() or (value > 255).any():
        raise ValueError('background must be a grey level or an RGB triple '
                         f'in 0..255, got {background!r}')
    return value.round().astype(np.uint8)
