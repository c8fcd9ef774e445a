"""SamplePoints(min_sq_norm=...): the original CUDA FPS's never-selected
points near the origin, for every sampling method."""
import numpy as np
import pytest

from cg3d_mm.datasets.transforms.loading import UnreadableSampleError
from cg3d_mm.datasets.transforms.points import SamplePoints


def _cloud(n=300, seed=0):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(-1, 1, (n, 4)).astype(np.float32)  # xyz + a feature
    near = np.array([0, 5, 6, 100, 299])
    pts[near, :3] = rng.uniform(-0.015, 0.015, (len(near), 3))
    pts[7, :3] = 0  # moved to the origin, as the original "drop" did
    return pts, set(near.tolist()) | {7}


def _rows(pts, out):
    index = {tuple(p): i for i, p in enumerate(pts.tolist())}
    return {index[tuple(p)] for p in out.tolist()}


@pytest.mark.parametrize('method', ['fps', 'random', 'first'])
def test_min_sq_norm_never_keeps_points_near_the_origin(method):
    pts, near = _cloud()
    np.random.seed(0)
    plain = SamplePoints(64, method=method)(dict(points=pts))['points']
    out = SamplePoints(64, method=method, min_sq_norm=1e-3)(
        dict(points=pts))['points']
    assert out.shape == (64, 4)
    kept = _rows(pts, out)
    assert len(kept) == 64 and not kept & near
    if method != 'random':
        assert _rows(pts, plain) & near  # the default keeps them
    if method == 'first':
        assert sorted(kept) == sorted(
            i for i in range(300) if i not in near)[:64]


def test_min_sq_norm_fps_is_the_ops_fps_and_counts_eligible_points():
    import torch

    from cg3d_mm.ops import furthest_point_sample
    pts, near = _cloud()
    out = SamplePoints(32, method='fps', min_sq_norm=1e-3)(
        dict(points=pts))['points']
    idx = furthest_point_sample(torch.from_numpy(pts[None, :, :3].copy()),
                                32, min_sq_norm=1e-3)[0]
    np.testing.assert_array_equal(out, pts[idx.numpy()])
    eligible = 300 - len(near)
    out = SamplePoints(eligible, method='fps', min_sq_norm=1e-3)(
        dict(points=pts))['points']
    assert len(_rows(pts, out)) == eligible
    with pytest.raises(UnreadableSampleError, match='min_sq_norm=0.001'):
        SamplePoints(eligible + 1, method='fps', min_sq_norm=1e-3)(
            dict(points=pts, pts_path='chair.npy'))
    assert 'min_sq_norm=0.001' in repr(SamplePoints(8, min_sq_norm=1e-3))
