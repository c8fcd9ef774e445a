"""Point-cloud transforms of the CG3D recipe (numpy, (N, C) xyz-first).

They change xyz only; further columns (colours, normals, ...) travel with
their points unchanged (sampling and dropping keep rows together). The
rotations also rotate normals when told which columns hold them
(``normal_dims``): a column is never assumed to be a normal.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from cg3d_mm.registry import TRANSFORMS

from .loading import UnreadableSampleError

_AXES = {'x': 0, 'y': 1, 'z': 2}


def _source(results: dict) -> str:
    return results.get('pts_path') or f"sample {results.get('sample_idx')}"


def _rotation_about(axis: int, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    i, j = [a for a in range(3) if a != axis]
    rot = np.eye(3, dtype=np.float32)
    rot[i, i], rot[i, j], rot[j, i], rot[j, j] = c, -s, s, c
    return rot


@TRANSFORMS.register_module()
class NormalizePoints(BaseTransform):
    """Centre on the centroid and scale into the unit sphere (CG3D's norm).

    Only xyz is changed; extra columns (normals, colours) are kept.
    """

    def transform(self, results: dict) -> dict:
        pts = results['points'].copy()
        xyz = pts[:, :3]
        xyz -= xyz.mean(axis=0)
        radius = np.sqrt((xyz**2).sum(axis=1)).max()
        if radius <= 0:
            raise UnreadableSampleError(
                f'{_source(results)}: all points coincide, cannot normalise')
        xyz /= radius
        results['points'] = pts
        return results


@TRANSFORMS.register_module()
class SamplePoints(BaseTransform):
    """Sample exactly ``num_points`` points.

    Args:
        num_points (int): Points to keep.
        method (str): ``'random'`` (a random subset, fresh every call: the
            training choice), ``'fps'`` (farthest point sampling from the
            first point: deterministic, the evaluation choice) or
            ``'first'``.
        allow_fewer (bool): Pad clouds with fewer points by repeating
            randomly chosen points instead of raising. Defaults to False:
            a checkpoint is specific to the point count it was trained with,
            so a short cloud is reported rather than silently padded.
        min_sq_norm (float, optional): Never keep points whose squared norm
            ``x^2 + y^2 + z^2`` is <= this, whatever the method: the FPS of
            the original CG3D code (pointnet2_ops, threshold 1e-3 =
            ``cg3d_mm.ops.sampling.POINTNET2_MIN_SQ_NORM``) never selects
            them. Only the remaining points count towards ``num_points``.
            Defaults to None (every point may be kept).
    """

    def __init__(self, num_points: int, method: str = 'random',
                 allow_fewer: bool = False,
                 min_sq_norm: Optional[float] = None) -> None:
        if method not in ('random', 'fps', 'first'):
            raise ValueError(f"method must be 'random', 'fps' or 'first', "
                             f'got {method!r}')
        self.num_points = int(num_points)
        self.method = method
        self.allow_fewer = allow_fewer
        self.min_sq_norm = None if min_sq_norm is None else float(min_sq_norm)

    def transform(self, results: dict) -> dict:
        pts = results['points']
        eligible = None
        if self.min_sq_norm is not None:
            eligible = (pts[:, :3]**2).sum(axis=1) > self.min_sq_norm
        n = len(pts) if eligible is None else int(eligible.sum())
        if n < self.num_points:
            if not self.allow_fewer or n == 0:
                near = '' if eligible is None else (
                    f' with squared norm > min_sq_norm={self.min_sq_norm}')
                raise UnreadableSampleError(
                    f'{_source(results)}: has {n} points{near}, fewer than '
                    f'the {self.num_points} requested')
            pts = pts if eligible is None else pts[eligible]
            extra = np.random.randint(n, size=self.num_points - n)
            pts = np.concatenate([pts, pts[extra]], axis=0)
        elif self.method == 'fps' and n > self.num_points:
            # FPS on the whole cloud: starts at point 0 (or the next
            # eligible one), as the original kernel
            from cg3d_mm.ops import furthest_point_sample
            idx = furthest_point_sample(
                torch.from_numpy(np.ascontiguousarray(pts[None, :, :3])),
                self.num_points, min_sq_norm=self.min_sq_norm)[0]
            pts = pts[idx.numpy()]
        else:
            pts = pts if eligible is None else pts[eligible]
            if self.method == 'random':
                pts = pts[np.random.permutation(n)[:self.num_points]]
            else:  # 'first', or FPS of exactly num_points points
                pts = pts[:self.num_points]
        results['points'] = np.ascontiguousarray(pts)
        return results

    def __repr__(self) -> str:
        extra = '' if self.min_sq_norm is None else \
            f', min_sq_norm={self.min_sq_norm}'
        return (f'{type(self).__name__}(num_points={self.num_points}, '
                f'method={self.method!r}{extra})')


@TRANSFORMS.register_module()
class RandomRotatePoints(BaseTransform):
    """Rotate about the up axis: a quarter turn and/or a uniform angle.

    Args:
        up_axis (str): 'x', 'y' or 'z' (ShapeNet / ModelNet renders: 'y').
        quarter_turns (bool): Rotate by a random multiple of 90 degrees.
        angle_range (tuple[float]): Uniform angle range in radians; None
            for no continuous rotation.
        prob (float): Probability of applying each of the two rotations.
        normal_dims (Sequence[int], optional): Three columns holding unit
            normals, rotated with xyz (e.g. (3, 4, 5) for ModelNet with
            ``use_normals``). Defaults to None: only xyz rotates, colours
            and other columns are kept.
    """

    def __init__(self, up_axis: str = 'y', quarter_turns: bool = False,
                 angle_range: Optional[Tuple[float, float]] = (-np.pi, np.pi),
                 prob: float = 1.0,
                 normal_dims: Optional[Sequence[int]] = None) -> None:
        self.axis = _AXES[up_axis]
        self.quarter_turns = quarter_turns
        self.angle_range = angle_range
        self.prob = prob
        self.normal_dims = _check_normal_dims(normal_dims)

    def transform(self, results: dict) -> dict:
        angle = 0.0
        if self.quarter_turns and np.random.rand() < self.prob:
            angle += np.random.randint(4) * np.pi / 2
        if self.angle_range is not None and np.random.rand() < self.prob:
            angle += np.random.uniform(*self.angle_range)
        if angle != 0.0:
            results['points'] = _rotate(results, _rotation_about(
                self.axis, angle), self.normal_dims)
        return results


def _check_normal_dims(
        normal_dims: Optional[Sequence[int]]) -> Optional[List[int]]:
    if normal_dims is None:
        return None
    dims = [int(d) for d in normal_dims]
    if len(dims) != 3 or len(set(dims)) != 3 or min(dims) < 3:
        raise ValueError('normal_dims must be three distinct columns after '
                         f'xyz (e.g. (3, 4, 5)), got {normal_dims!r}')
    return dims


def _rotate(results: dict, rot: np.ndarray,
            normal_dims: Optional[List[int]]) -> np.ndarray:
    """xyz (and the normal columns, if any) rotated; the rest unchanged."""
    pts = results['points'].copy()
    pts[:, :3] = pts[:, :3] @ rot.T
    if normal_dims is not None:
        if pts.shape[1] <= max(normal_dims):
            raise ValueError(
                f'{_source(results)}: normal_dims={normal_dims} but the '
                f'points have shape {tuple(pts.shape)}')
        pts[:, normal_dims] = pts[:, normal_dims] @ rot.T
    return pts


@TRANSFORMS.register_module()
class PerturbRotation(BaseTransform):
    """Small random rotation about all axes (sigma 0.06, clip 0.18 rad).

    ``normal_dims``: as in :class:`RandomRotatePoints` (default: xyz only).
    """

    def __init__(self, sigma: float = 0.06, clip: float = 0.18,
                 prob: float = 1.0,
                 normal_dims: Optional[Sequence[int]] = None) -> None:
        self.sigma, self.clip, self.prob = sigma, clip, prob
        self.normal_dims = _check_normal_dims(normal_dims)

    def transform(self, results: dict) -> dict:
        if np.random.rand() < self.prob:
            angles = np.clip(self.sigma * np.random.randn(3), -self.clip,
                             self.clip)
            rot = (_rotation_about(2, angles[2]) @ _rotation_about(
                1, angles[1]) @ _rotation_about(0, angles[0]))
            results['points'] = _rotate(results, rot, self.normal_dims)
        return results


@TRANSFORMS.register_module()
class JitterPoints(BaseTransform):
    """Gaussian xyz noise, clipped (sigma 0.01, clip 0.05)."""

    def __init__(self, sigma: float = 0.01, clip: float = 0.05,
                 prob: float = 1.0) -> None:
        self.sigma, self.clip, self.prob = sigma, clip, prob

    def transform(self, results: dict) -> dict:
        if np.random.rand() < self.prob:
            pts = results['points'].copy()
            noise = np.clip(self.sigma * np.random.randn(len(pts), 3),
                            -self.clip, self.clip)
            pts[:, :3] += noise.astype(np.float32)
            results['points'] = pts
        return results


@TRANSFORMS.register_module()
class RandomDropPoints(BaseTransform):
    """Remove a random fraction U(0, ``max_ratio``) of the points.

    The points are really removed, so the cloud gets shorter: put this
    before ``SamplePoints`` (which brings every cloud back to the same N for
    batching), as CG3D's recipe does. The original moved the dropped points
    to the origin before its CUDA FPS, which never selects points that
    close to the origin, i.e. it removed them as well.

    Args:
        max_ratio (float): Largest fraction of the points removed, in
            [0, 1). Defaults to 0.1.
        prob (float): Probability of dropping at all. Defaults to 1.
        min_points (int): Never keep fewer points than this (set it to the
            following ``SamplePoints``' ``num_points`` so that no sample is
            short). Defaults to 1.
    """

    def __init__(self, max_ratio: float = 0.1, prob: float = 1.0,
                 min_points: int = 1) -> None:
        if not 0 <= max_ratio < 1:
            raise ValueError(f'max_ratio must be in [0, 1), got {max_ratio}')
        if min_points < 1:
            raise ValueError(f'min_points must be >= 1, got {min_points}')
        self.max_ratio, self.prob = max_ratio, prob
        self.min_points = int(min_points)

    def transform(self, results: dict) -> dict:
        pts = results['points']
        if np.random.rand() < self.prob and len(pts) > self.min_points:
            ratio = np.random.rand() * self.max_ratio
            keep = np.random.rand(len(pts)) > ratio
            short = self.min_points - int(keep.sum())
            if short > 0:  # give back randomly chosen dropped points
                back = np.random.permutation(np.flatnonzero(~keep))[:short]
                keep[back] = True
            results['points'] = pts[keep]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(max_ratio={self.max_ratio}, '
                f'prob={self.prob}, min_points={self.min_points})')


@TRANSFORMS.register_module()
class RandomScaleTranslate(BaseTransform):
    """Per-axis scale U(2/3, 3/2) and translation U(-0.2, 0.2) of xyz."""

    def __init__(self, scale_range: Sequence[float] = (2 / 3, 3 / 2),
                 translate_range: Sequence[float] = (-0.2, 0.2),
                 prob: float = 1.0) -> None:
        self.scale_range = tuple(scale_range)
        self.translate_range = tuple(translate_range)
        self.prob = prob

    def transform(self, results: dict) -> dict:
        if np.random.rand() < self.prob:
            pts = results['points'].copy()
            scale = np.random.uniform(*self.scale_range, size=3)
            shift = np.random.uniform(*self.translate_range, size=3)
            pts[:, :3] = pts[:, :3] * scale + shift
            results['points'] = pts.astype(np.float32, copy=False)
        return results
