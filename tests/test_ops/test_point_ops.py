"""Point ops: FPS, kNN, ball query, gathering, mmcv dispatch, CPU fallback."""
import mmcv.ops
import pytest
import torch

from cg3d_mm.benchmark.naive_ops import benchmark_point_ops, rows_to_markdown
from cg3d_mm.ops import (ball_query, furthest_point_sample,
                         furthest_point_sample_with_dist, gather_points,
                         group_points, knn, mmcv_backend, mmcv_cpu_fallback,
                         mmcv_point_ops_cpu_fallback)
from cg3d_mm.ops.sampling import available_fps_backends

CPU_FPS_BACKENDS = available_fps_backends('cpu')


def reference_fps(cloud: torch.Tensor, num_samples: int, start: int) -> list:
    """Plain FPS on one (N, 3) cloud: O(N * M), no tricks."""
    selected = [start]
    min_dist = torch.full((cloud.shape[0], ), float('inf'),
                          dtype=cloud.dtype)
    for _ in range(num_samples - 1):
        last = cloud[selected[-1]]
        dist = ((cloud - last)**2).sum(dim=1)
        min_dist = torch.minimum(min_dist, dist)
        best, best_idx = -1.0, -1
        for i, d in enumerate(min_dist.tolist()):
            if i not in selected and d > best:
                best, best_idx = d, i
        selected.append(best_idx)
    return selected


def reference_knn(k, xyz, query):
    dist = ((query[:, :, None, :].double() -
             xyz[:, None, :, :].double())**2).sum(-1)
    order = dist.argsort(dim=-1, stable=True)[..., :k]
    return order, dist.gather(-1, order)


@pytest.fixture
def clouds():
    return torch.rand(3, 120, 3, generator=torch.Generator().manual_seed(0))


# ---------------------------------------------------------------- FPS


@pytest.mark.parametrize('backend', CPU_FPS_BACKENDS)
@pytest.mark.parametrize('start', [0, 37])
def test_fps_picks_the_same_points_as_a_reference_loop(
        clouds, backend, start):
    idx = furthest_point_sample(clouds, 30, start, backend=backend)
    assert idx.dtype == torch.int64 and idx.shape == (3, 30)
    for b in range(3):
        assert idx[b].tolist() == reference_fps(clouds[b], 30, start)


@pytest.mark.parametrize('backend', CPU_FPS_BACKENDS)
def test_fps_does_not_reselect_while_duplicates_remain(backend):
    distinct = torch.rand(10, 3, generator=torch.Generator().manual_seed(1))
    cloud = distinct.repeat_interleave(4, dim=0)  # every point 4 times
    clouds = torch.stack([cloud, cloud.flip(0), torch.zeros(40, 3)])
    idx = furthest_point_sample(clouds, 40, 5, backend=backend)
    for row in idx.tolist():
        assert sorted(row) == list(range(40))
    # The first 10 picks of a repeated cloud are the 10 distinct locations.
    assert len({tuple(p) for p in cloud[idx[0, :10]].tolist()}) == 10


def test_fps_backends_and_auto_agree_and_are_deterministic(clouds):
    results = [
        furthest_point_sample(clouds, 25, 3, backend=b)
        for b in CPU_FPS_BACKENDS + ['auto', 'auto']
    ]
    for other in results[1:]:
        assert torch.equal(results[0], other)
    assert (results[0][:, 0] == 3).all()


def test_fps_errors(clouds):
    with pytest.raises(ValueError, match=r'121.*120|120.*121'):
        furthest_point_sample(clouds, 121)
    with pytest.raises(ValueError, match=r'\(B, N, 3\)'):
        furthest_point_sample(clouds[0], 10)
    with pytest.raises(ValueError, match=r'\(B, N, 3\)'):
        furthest_point_sample(clouds[..., :2], 10)
    with pytest.raises(ValueError, match='start_idx'):
        furthest_point_sample(clouds, 10, start_idx=120)
    with pytest.raises(ValueError, match='backend'):
        furthest_point_sample(clouds, 10, backend='cuda')
    with pytest.raises(ValueError, match='CUDA'):
        furthest_point_sample(clouds, 10, backend='mmcv')
    with pytest.raises(ValueError, match='>= 1'):
        furthest_point_sample(clouds, 0)


def centred_clouds_with_origin_points():
    """Clouds around the origin with a few points (index 0 among them) at
    squared norm <= 1e-3, the ones the original CUDA FPS never selects."""
    g = torch.Generator().manual_seed(4)
    clouds = torch.rand(3, 120, 3, generator=g) * 2 - 1
    near = [0, 7, 50, 51, 119]
    clouds[:, near] = torch.rand(3, len(near), 3, generator=g) * 0.015
    clouds[:, 3] = 0.  # points exactly at the origin, as "dropped" ones
    return clouds, near + [3]


def reference_fps_min_sq_norm(cloud, num_samples, start, min_sq_norm):
    """Plain FPS over the eligible points only, from the first eligible
    index at or after ``start``."""
    keep = [i for i, p in enumerate(cloud.tolist())
            if sum(c * c for c in p) > min_sq_norm]
    first = next(i for i in keep if i >= start)
    sub = reference_fps(cloud[keep], num_samples, keep.index(first))
    return [keep[i] for i in sub]


@pytest.mark.parametrize('backend', CPU_FPS_BACKENDS)
@pytest.mark.parametrize('start', [0, 8])
def test_fps_min_sq_norm_never_selects_points_near_the_origin(
        backend, start):
    clouds, near = centred_clouds_with_origin_points()
    plain = furthest_point_sample(clouds, 40, start, backend=backend)
    assert (plain[:, 0] == start).all()  # the default keeps every point
    idx = furthest_point_sample(clouds, 40, start, backend=backend,
                                min_sq_norm=1e-3)
    for b in range(3):
        assert not set(idx[b].tolist()) & set(near)
        assert idx[b].tolist() == reference_fps_min_sq_norm(
            clouds[b], 40, start, 1e-3)
    # all eligible points can be taken, not one more
    eligible = int(((clouds[0]**2).sum(-1) > 1e-3).sum())
    idx = furthest_point_sample(clouds[:1], eligible, backend=backend,
                                min_sq_norm=1e-3)
    assert sorted(idx[0].tolist()) == sorted(
        set(range(120)) - set(near))
    with pytest.raises(ValueError, match='min_sq_norm=0.001'):
        furthest_point_sample(clouds[:1], eligible + 1, backend=backend,
                              min_sq_norm=1e-3)


def test_fps_with_dist_matches_coordinate_fps(clouds):
    dist = torch.cdist(clouds, clouds)**2
    assert torch.equal(
        furthest_point_sample_with_dist(dist, 20, 4),
        furthest_point_sample(clouds, 20, 4, backend='torch'))


# ---------------------------------------------------------------- kNN


def test_knn_equals_sorted_distance_reference(clouds):
    query = torch.cat([clouds[:, :7], torch.rand(3, 5, 3)], dim=1)
    idx = knn(16, clouds, query)
    ref_idx, ref_dist = reference_knn(16, clouds, query)
    assert idx.dtype == torch.int64 and idx.shape == (3, 12, 16)
    assert torch.equal(idx, ref_idx)
    # The query point itself comes first when it belongs to xyz.
    assert torch.equal(idx[:, :7, 0], torch.arange(7).expand(3, 7))
    assert (ref_dist[..., 1:] >= ref_dist[..., :-1]).all()


def test_knn_with_duplicates_returns_nearest_distances():
    cloud = torch.rand(1, 20, 3).repeat(1, 3, 1)  # each point 3 times
    idx = knn(5, cloud, cloud[:, :4])
    _, ref_dist = reference_knn(5, cloud, cloud[:, :4])
    dist = ((group_points(cloud, idx) -
             cloud[:, :4, None])**2).sum(-1).double()
    assert torch.allclose(dist, ref_dist)
    assert (dist[..., :3] == 0).all()  # the 3 copies of the query first


def test_knn_chunking_does_not_change_the_result(clouds, monkeypatch):
    from cg3d_mm.ops import neighbors
    expected = knn(8, clouds, clouds[:, :50])
    monkeypatch.setattr(neighbors, 'MAX_CHUNK_ELEMENTS', 1000)
    assert torch.equal(knn(8, clouds, clouds[:, :50]), expected)


def test_knn_errors(clouds):
    with pytest.raises(ValueError, match=r'121.*120|120.*121'):
        knn(121, clouds, clouds)
    with pytest.raises(ValueError, match='batch size'):
        knn(4, clouds, clouds[:2])
    with pytest.raises(ValueError, match=r'\(B, M, 3\)'):
        knn(4, clouds, clouds[..., :2])


def test_ball_query_matches_mmcv_semantics():
    xyz = torch.rand(2, 40, 3, generator=torch.Generator().manual_seed(2))
    query = torch.cat([xyz[:, :6], torch.full((2, 1, 3), 9.)], dim=1)
    radius, min_radius, num_samples = 0.3, 0.05, 5
    idx = ball_query(radius, num_samples, xyz, query, min_radius)
    for b in range(2):
        for m in range(query.shape[1]):
            d = (xyz[b] - query[b, m]).norm(dim=1)
            hits = [
                i for i in range(40)
                if d[i] == 0 or min_radius <= d[i] < radius
            ][:num_samples]
            expected = hits + [hits[0] if hits else 0] * (
                num_samples - len(hits))
            assert idx[b, m].tolist() == expected


# ---------------------------------------------------------- gathering


def test_gather_and_group_points_values_and_gradients():
    feats = torch.randn(2, 10, 4, requires_grad=True)
    idx = torch.tensor([[1, 1, 9], [0, 3, 3]])
    out = gather_points(feats, idx)
    assert torch.equal(out[1, 2], feats[1, 3])
    nbr = torch.tensor([[[0, 1], [1, 2]], [[9, 9], [4, 0]]], dtype=torch.int32)
    grouped = group_points(feats, nbr)
    assert grouped.shape == (2, 2, 2, 4)
    assert torch.equal(grouped[1, 0, 1], feats[1, 9])
    (out.sum() + grouped.sum()).backward()
    # d/dfeats counts how often each point was picked.
    assert feats.grad[0, 1, 0] == 2 + 2 and feats.grad[1, 9, 0] == 2
    assert feats.grad[0, 5, 0] == 0
    with pytest.raises(ValueError, match='integer'):
        gather_points(feats, idx.float())
    with pytest.raises(ValueError, match=r'\(B, M, k\)'):
        group_points(feats, idx)


# ------------------------------------------------------- mmcv dispatch


@pytest.fixture
def fake_cuda(monkeypatch):
    """Pretend every tensor is on CUDA and record calls to mmcv ops."""
    calls = []
    monkeypatch.setattr(mmcv_backend, 'use_mmcv', lambda tensor: True)

    def fake_fps(points, num):
        assert points.dtype == torch.float32 and points.is_contiguous()
        calls.append('furthest_point_sample')
        # Simulate the kernel: start at 0, pad with 0 once only duplicates
        # of picked points are left.
        out = []
        for cloud in points:
            uniq = cloud.unique(dim=0).shape[0]
            ref = reference_fps(cloud, min(num, uniq), 0)
            out.append(ref + [0] * (num - len(ref)))
        return torch.tensor(out, dtype=torch.int32)

    def fake_knn(k, xyz, center, transposed):
        assert not transposed and xyz.dtype == torch.float32
        calls.append('knn')
        return reference_knn(k, xyz, center)[0].int().transpose(1, 2)

    def fake_gather_points(features, indices):
        assert features.is_contiguous() and indices.dtype == torch.int32
        calls.append('gather_points')
        return torch.stack([f[:, i.long()] for f, i in zip(features, indices)])

    def fake_grouping(features, indices):
        assert features.is_contiguous() and indices.dtype == torch.int32
        calls.append('grouping_operation')
        return torch.stack([f[:, i.long()] for f, i in zip(features, indices)])

    def fake_ball_query(min_r, max_r, num, xyz, center):
        calls.append('ball_query')
        return torch.zeros(*center.shape[:2], num, dtype=torch.int32)

    for name, fn in [('furthest_point_sample', fake_fps), ('knn', fake_knn),
                     ('gather_points', fake_gather_points),
                     ('grouping_operation', fake_grouping),
                     ('ball_query', fake_ball_query)]:
        monkeypatch.setattr(mmcv.ops, name, fn)
    return calls


def test_ops_dispatch_to_mmcv_kernels_on_cuda(fake_cuda, clouds):
    feats = torch.randn(3, 120, 5)
    idx = furthest_point_sample(clouds, 20, start_idx=11)
    assert fake_cuda == ['furthest_point_sample']
    # start_idx is honoured by rotating the clouds for the kernel.
    assert torch.equal(idx,
                       furthest_point_sample(clouds, 20, 11, backend='torch'))
    nbr = knn(6, clouds, clouds[:, :9])
    assert nbr.dtype == torch.int64 and nbr.shape == (3, 9, 6)
    assert torch.equal(nbr, reference_knn(6, clouds, clouds[:, :9])[0])
    out = gather_points(feats, idx)
    assert torch.equal(out, feats[torch.arange(3)[:, None], idx])
    grouped = group_points(feats, nbr)
    assert torch.equal(grouped, feats[torch.arange(3)[:, None, None], nbr])
    assert ball_query(0.2, 4, clouds, clouds[:, :2]).dtype == torch.int64
    assert fake_cuda == [
        'furthest_point_sample', 'knn', 'gather_points', 'grouping_operation',
        'ball_query'
    ]


def test_mmcv_dispatch_fixes_padding_and_limits(fake_cuda):
    cloud = torch.rand(6, 3).repeat(3, 1)  # 6 locations, 18 points
    idx = furthest_point_sample(cloud[None], 18)
    assert fake_cuda == ['furthest_point_sample']
    assert sorted(idx[0].tolist()) == list(range(18))  # no 0-padding
    # mmcv's kNN kernel is limited to k < 100: larger k stays in torch.
    xyz = torch.rand(1, 150, 3)
    assert knn(120, xyz, xyz[:, :3]).shape == (1, 3, 120)
    assert 'knn' not in fake_cuda
    # dtypes mmcv's gather kernels lack stay in torch as well.
    gather_points(torch.ones(1, 4, 2, dtype=torch.bfloat16),
                  torch.zeros(1, 3, dtype=torch.long))
    assert 'gather_points' not in fake_cuda


@pytest.mark.parametrize('start', [0, 8])
def test_mmcv_dispatch_honours_min_sq_norm(fake_cuda, start):
    """mmcv's kernel has no such check: the points near the origin are
    replaced by a copy of the start point, which it never picks."""
    clouds, near = centred_clouds_with_origin_points()
    idx = furthest_point_sample(clouds, 40, start, min_sq_norm=1e-3)
    assert fake_cuda == ['furthest_point_sample']
    assert torch.equal(idx, furthest_point_sample(
        clouds, 40, start, backend='torch', min_sq_norm=1e-3))
    assert not set(idx.flatten().tolist()) & set(near)


def test_real_mmcv_is_not_used_for_cpu_tensors(clouds):
    assert not mmcv_backend.use_mmcv(clouds)


# ---------------------------------------------- mmcv CPU fallback patch


class _FakeCudaTensor(torch.Tensor):

    @property
    def is_cuda(self):
        return True


def test_cpu_fallback_patches_and_restores_mmcv_ops(clouds):
    import mmcv.ops.group_points as group_points_module
    import mmcv.ops.points_sampler as sampler_module
    original = group_points_module.grouping_operation
    with mmcv_point_ops_cpu_fallback():
        with mmcv_point_ops_cpu_fallback():  # re-entrant
            pass
        assert group_points_module.grouping_operation is not original
        idx = sampler_module.furthest_point_sample(clouds.contiguous(), 16)
        assert idx.dtype == torch.int32
        assert torch.equal(idx.long(), furthest_point_sample(clouds, 16))
        nbr = mmcv.ops.knn(4, clouds, clouds[:, :5])
        assert nbr.shape == (3, 4, 5) and nbr.dtype == torch.int32
        feats = torch.randn(3, 7, 120)  # mmcv layout (B, C, N)
        grouped = mmcv.ops.grouping_operation(feats, nbr.transpose(1, 2))
        assert torch.equal(grouped[1, :, 2, 3], feats[1, :, nbr[1, 3, 2]])
        dist, three = mmcv.ops.three_nn(clouds, clouds[:, :10].contiguous())
        assert torch.allclose(
            dist[:, :10, 0], torch.zeros(3, 10)) and three.shape == (3, 120, 3)
        # The first 10 targets are source points: nearest is themselves.
        assert torch.equal(three[:, :10, 0].long(),
                           torch.arange(10).expand(3, 10))
    assert group_points_module.grouping_operation is original


def test_three_interpolate_fallback_is_a_weighted_sum():
    feats = torch.randn(2, 4, 6)
    indices = torch.tensor([[[0, 1, 2]] * 5, [[5, 5, 3]] * 5],
                           dtype=torch.int32)
    weight = torch.tensor([0.5, 0.3, 0.2]).expand(2, 5, 3).contiguous()
    with mmcv_point_ops_cpu_fallback():
        out = mmcv.ops.three_interpolate(feats, indices, weight)
    expected0 = 0.5 * feats[0, :, 0] + 0.3 * feats[0, :, 1] + \
        0.2 * feats[0, :, 2]
    expected1 = 0.8 * feats[1, :, 5] + 0.2 * feats[1, :, 3]
    assert torch.allclose(out[0, :, 4], expected0)
    assert torch.allclose(out[1, :, 0], expected1)


def test_cpu_fallback_sends_cuda_tensors_to_the_original_kernel():
    seen = []
    wrapper = mmcv_cpu_fallback._device_dispatching(
        'knn', lambda *args: seen.append(args) or 'kernel')
    cuda_like = torch.rand(1, 8, 3).as_subclass(_FakeCudaTensor)
    assert wrapper(2, cuda_like, cuda_like) == 'kernel' and len(seen) == 1
    assert wrapper(2, torch.rand(1, 8, 3)).shape == (1, 2, 8)
    assert len(seen) == 1


def test_cpu_fallback_rejects_stacked_inputs():
    with mmcv_point_ops_cpu_fallback():
        with pytest.raises(NotImplementedError, match='stacked'):
            mmcv.ops.ball_query(0., 0.2, 4, torch.rand(10, 3),
                                torch.rand(2, 3), torch.tensor([10]),
                                torch.tensor([2]))


# ---------------------------------------------------------- benchmark


def test_benchmark_rows_report_matching_implementations():
    rows = benchmark_point_ops(configs=[(2, 64, 16, 4)], repeats=1)
    impls = {(r['op'], r['impl']) for r in rows}
    assert {('fps', 'ours[auto]'), ('fps', 'ours[torch]'), ('fps', 'naive'),
            ('knn_group', 'ours'), ('knn_group', 'naive')} <= impls
    assert all(r['same_as_reference'] and r['ms'] > 0 for r in rows)
    table = rows_to_markdown(rows)
    assert table.count('\n') == len(rows) + 1 and '| fps | naive |' in table
