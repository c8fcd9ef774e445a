"""Colour transforms of coloured point clouds ((N, 6): xyz, then RGB).

Colours are RGB in [0, 1] in columns ``color_dims`` (3, 4, 5 by default),
the layout of ``shapenet_pc_rgb`` files and of OpenShape's ``[xyz, rgb]``
features. The point transforms (``points.py``) touch xyz only and carry
these columns along unchanged.
"""
from typing import Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from cg3d_mm.registry import TRANSFORMS

from .loading import UnreadableSampleError

# OpenShape's colour for points without one: its training loader replaces
# the RGB with ones * 0.4 (rgb_random_drop_prob), and its evaluation sets
# without colours use the same grey.
OPENSHAPE_GREY = 0.4


def _source(results: dict) -> str:
    return results.get('pts_path') or f"sample {results.get('sample_idx')}"


def _check_dims(color_dims: Sequence[int]) -> Tuple[int, ...]:
    dims = tuple(int(d) for d in color_dims)
    if len(dims) != 3 or len(set(dims)) != 3 or min(dims) < 3:
        raise ValueError('color_dims must be three distinct columns after '
                         f'xyz (e.g. (3, 4, 5)), got {tuple(color_dims)}')
    return dims


def _check_prob(prob: float) -> float:
    if not 0. <= prob <= 1.:
        raise ValueError(f'prob must be in [0, 1], got {prob}')
    return float(prob)


def _check_range(bounds: Sequence[float], name: str) -> Tuple[float, float]:
    lo, hi = (float(b) for b in bounds)
    if not lo <= hi:
        raise ValueError(f'{name} must be (low, high) with low <= high, '
                         f'got {tuple(bounds)}')
    return lo, hi


def _colors(results: dict, dims: Tuple[int, ...], what: str) -> np.ndarray:
    """The (N, C) points, checked to hold the colour columns (a pipeline
    error, not a bad file: LoadPointCloud already checked the columns)."""
    pts = results['points']
    if pts.ndim != 2 or pts.shape[1] <= max(dims):
        raise ValueError(
            f'{_source(results)}: {what} needs colour columns {list(dims)} '
            f'but the points have shape {tuple(pts.shape)} (load them with '
            'LoadPointCloud(use_dims=(0, 1, 2, 3, 4, 5)) from a coloured '
            'file, e.g. shapenet_pc_rgb/)')
    return pts


@TRANSFORMS.register_module()
class NormalizeColor(BaseTransform):
    """Scale colours into [0, 1]: ``rgb / scale``.

    The scale is explicit (255 for 8-bit colours, 1 for colours already in
    [0, 1]): guessing it from the values would silently mix conventions
    within a dataset. Values outside [0, ``scale``] are refused.

    Args:
        scale (float): The colours' full-scale value (e.g. 255).
        color_dims (Sequence[int]): Colour columns. Defaults to (3, 4, 5).
    """

    def __init__(self, scale: float,
                 color_dims: Sequence[int] = (3, 4, 5)) -> None:
        if isinstance(scale, bool) or not np.isfinite(scale) or scale <= 0:
            raise ValueError(f'scale must be a positive number (e.g. 255 '
                             f'for 8-bit colours), got {scale!r}')
        self.scale = float(scale)
        self.color_dims = _check_dims(color_dims)

    def transform(self, results: dict) -> dict:
        pts = _colors(results, self.color_dims, type(self).__name__)
        dims = list(self.color_dims)
        rgb = pts[:, dims]
        lo, hi = (float(rgb.min()), float(rgb.max())) if len(rgb) else (0, 0)
        if lo < 0 or hi > self.scale:
            raise UnreadableSampleError(
                f'{_source(results)}: colour values span [{lo:g}, {hi:g}], '
                f'outside [0, {self.scale:g}] expected by '
                f'NormalizeColor(scale={self.scale:g})')
        pts = pts.copy()
        pts[:, dims] = rgb / np.float32(self.scale)
        results['points'] = pts
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(scale={self.scale:g}, '
                f'color_dims={self.color_dims})')


@TRANSFORMS.register_module()
class RandomDropColor(BaseTransform):
    """Replace all colours of a cloud by one grey with probability ``prob``.

    OpenShape's colour augmentation (``rgb_random_drop_prob``, 0.5 in its
    training config): the encoder learns to work from shape alone, and
    clouds without colour (filled with the same grey by
    :class:`AddConstantColor`) look like training data.

    Args:
        prob (float): Probability of dropping the colours. Defaults to 0.5.
        value (float): The grey, in [0, 1]. Defaults to 0.4 (OpenShape's).
        color_dims (Sequence[int]): Colour columns. Defaults to (3, 4, 5).
    """

    def __init__(self, prob: float = 0.5, value: float = OPENSHAPE_GREY,
                 color_dims: Sequence[int] = (3, 4, 5)) -> None:
        self.prob = _check_prob(prob)
        if not 0. <= value <= 1.:
            raise ValueError(f'value must be a colour in [0, 1], got {value}')
        self.value = float(value)
        self.color_dims = _check_dims(color_dims)

    def transform(self, results: dict) -> dict:
        pts = _colors(results, self.color_dims, type(self).__name__)
        if np.random.rand() < self.prob:
            pts = pts.copy()
            pts[:, list(self.color_dims)] = self.value
            results['points'] = pts
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, '
                f'value={self.value}, color_dims={self.color_dims})')


@TRANSFORMS.register_module()
class JitterColor(BaseTransform):
    """Per-point Gaussian colour noise, clipped back into [0, 1].

    Args:
        sigma (float): Standard deviation (colours in [0, 1]). Defaults to
            0.05.
        prob (float): Probability of jittering a cloud. Defaults to 1.
        color_dims (Sequence[int]): Colour columns. Defaults to (3, 4, 5).
    """

    def __init__(self, sigma: float = 0.05, prob: float = 1.0,
                 color_dims: Sequence[int] = (3, 4, 5)) -> None:
        if not sigma >= 0:
            raise ValueError(f'sigma must be >= 0, got {sigma}')
        self.sigma = float(sigma)
        self.prob = _check_prob(prob)
        self.color_dims = _check_dims(color_dims)

    def transform(self, results: dict) -> dict:
        pts = _colors(results, self.color_dims, type(self).__name__)
        if np.random.rand() < self.prob:
            pts = pts.copy()
            dims = list(self.color_dims)
            noise = self.sigma * np.random.randn(len(pts), 3)
            pts[:, dims] = (pts[:, dims] + noise).clip(0., 1.)
            results['points'] = pts
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(sigma={self.sigma}, '
                f'prob={self.prob}, color_dims={self.color_dims})')


@TRANSFORMS.register_module()
class RandomShiftColor(BaseTransform):
    """Scale and shift all colours of a cloud by one random draw.

    ``rgb' = clip(rgb * s + t, 0, 1)`` with a brightness ``s`` and a
    per-channel offset ``t`` drawn once per cloud (the chromatic
    translation of scene-level point work, e.g. MinkowskiEngine and
    Pointcept). Per-point noise (:class:`JitterColor`) leaves a cloud's
    overall tint intact, and a view rendered from the same object shares
    that tint; this changes it, so matching the two cannot rest on exact
    colours, while coarse cues (dark, white, wooden) survive.

    Args:
        scale_range (Sequence[float]): Range of ``s``. Defaults to
            (0.8, 1.2).
        shift_range (Sequence[float]): Range of each channel of ``t``.
            Defaults to (-0.1, 0.1).
        prob (float): Probability of shifting a cloud. Defaults to 1.
        color_dims (Sequence[int]): Colour columns. Defaults to (3, 4, 5).
    """

    def __init__(self,
                 scale_range: Sequence[float] = (0.8, 1.2),
                 shift_range: Sequence[float] = (-0.1, 0.1),
                 prob: float = 1.0,
                 color_dims: Sequence[int] = (3, 4, 5)) -> None:
        self.scale_range = _check_range(scale_range, 'scale_range')
        if self.scale_range[0] < 0:
            raise ValueError('scale_range must be >= 0, got '
                             f'{tuple(scale_range)}')
        self.shift_range = _check_range(shift_range, 'shift_range')
        self.prob = _check_prob(prob)
        self.color_dims = _check_dims(color_dims)

    def transform(self, results: dict) -> dict:
        pts = _colors(results, self.color_dims, type(self).__name__)
        if np.random.rand() < self.prob:
            pts = pts.copy()
            dims = list(self.color_dims)
            scale = np.random.uniform(*self.scale_range)
            shift = np.random.uniform(*self.shift_range, size=3)
            pts[:, dims] = (pts[:, dims] * scale + shift).clip(0., 1.)
            results['points'] = pts
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(scale_range={self.scale_range}, '
                f'shift_range={self.shift_range}, prob={self.prob}, '
                f'color_dims={self.color_dims})')


@TRANSFORMS.register_module()
class AddConstantColor(BaseTransform):
    """Give xyz-only clouds a constant colour: (N, 3) -> (N, 6).

    Lets a colour model (``in_channels=6``) read sources without colours
    (ModelNet, ScanObjectNN, ``shapenet_pc``), as OpenShape does with its
    0.4 grey. Clouds that have more than 3 columns are refused: their extra
    columns would end up before the colour.

    Args:
        value (float): The grey, in [0, 1]. Defaults to 0.4 (OpenShape's).
    """

    def __init__(self, value: float = OPENSHAPE_GREY) -> None:
        if not 0. <= value <= 1.:
            raise ValueError(f'value must be a colour in [0, 1], got {value}')
        self.value = float(value)

    def transform(self, results: dict) -> dict:
        pts = results['points']
        if pts.ndim != 2 or pts.shape[1] != 3:
            raise ValueError(
                f'{_source(results)}: AddConstantColor expects xyz-only '
                f'points (N, 3), got {tuple(pts.shape)}')
        grey = np.full((len(pts), 3), self.value, dtype=pts.dtype)
        results['points'] = np.concatenate([pts, grey], axis=1)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(value={self.value})'
