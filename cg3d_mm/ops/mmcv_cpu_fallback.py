"""Run mmdet3d's PointNet++ layers on CPU by routing mmcv's point ops.

mmdet3d's ``PointSAModule`` / ``PointFPModule`` (hence ``PointNet2SASSG``)
call mmcv's furthest point sampling, ball query, kNN, grouping, gathering and
three-NN interpolation, which exist only as CUDA kernels: on CPU they raise.

:func:`mmcv_point_ops_cpu_fallback` replaces those functions, wherever mmcv
and mmdet/mmdet3d modules have bound them, by wrappers that keep mmcv's
signatures and layouts (``(B, C, N)`` features, int32 indices) and dispatch on
the device of their first tensor argument:

* CUDA tensors -> the original mmcv kernel (unchanged behaviour);
* other tensors -> this package's PyTorch implementations.

Because of the device dispatch the patch is safe on GPU machines too, so a
model may simply wrap its forward in it. Stacked ("batch_cnt") variants of
ball query / grouping have no CPU path and raise NotImplementedError.
"""
import contextlib
import sys
import threading
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from torch import Tensor

from .gathering import gather_points, group_points
from .neighbors import ball_query, knn
from .sampling import furthest_point_sample, furthest_point_sample_with_dist

# Packages whose modules may hold their own reference to an mmcv point op.
PATCHED_PACKAGES = ('mmcv', 'mmdet3d', 'mmdet')
ORIGINAL_ATTR = '__mmcv_original__'


def _no_stacked(name: str, *batch_cnts: Optional[Tensor]) -> None:
    if any(cnt is not None for cnt in batch_cnts):
        raise NotImplementedError(
            f'mmcv.ops.{name} with stacked inputs (*_batch_cnt) has no CPU '
            'implementation in cg3d_mm; use CUDA tensors')


def _cpu_furthest_point_sample(points_xyz: Tensor, num_points: int) -> Tensor:
    return furthest_point_sample(points_xyz, num_points).int()


def _cpu_furthest_point_sample_with_dist(points_dist: Tensor,
                                         num_points: int) -> Tensor:
    return furthest_point_sample_with_dist(points_dist, num_points).int()


def _cpu_gather_points(features: Tensor, indices: Tensor) -> Tensor:
    # (B, C, N), (B, M) -> (B, C, M)
    return gather_points(features.transpose(1, 2), indices).transpose(1, 2)


def _cpu_grouping_operation(features: Tensor,
                            indices: Tensor,
                            features_batch_cnt: Optional[Tensor] = None,
                            indices_batch_cnt: Optional[Tensor] = None
                            ) -> Tensor:
    _no_stacked('grouping_operation', features_batch_cnt, indices_batch_cnt)
    # (B, C, N), (B, M, k) -> (B, C, M, k)
    return group_points(features.transpose(1, 2),
                        indices).permute(0, 3, 1, 2)


def _cpu_ball_query(min_radius: float,
                    max_radius: float,
                    sample_num: int,
                    xyz: Tensor,
                    center_xyz: Tensor,
                    xyz_batch_cnt: Optional[Tensor] = None,
                    center_xyz_batch_cnt: Optional[Tensor] = None) -> Tensor:
    _no_stacked('ball_query', xyz_batch_cnt, center_xyz_batch_cnt)
    return ball_query(max_radius, sample_num, xyz, center_xyz,
                      min_radius).int()


def _cpu_knn(k: int,
             xyz: Tensor,
             center_xyz: Optional[Tensor] = None,
             transposed: bool = False) -> Tensor:
    if center_xyz is None:
        center_xyz = xyz
    if transposed:
        xyz, center_xyz = xyz.transpose(1, 2), center_xyz.transpose(1, 2)
    # mmcv returns (B, k, M) int32
    return knn(k, xyz, center_xyz).transpose(1, 2).int().contiguous()


def _cpu_three_nn(target: Tensor, source: Tensor) -> Tuple[Tensor, Tensor]:
    idx = knn(3, source, target)  # (B, N, 3)
    neighbours = group_points(source.detach(), idx)  # (B, N, 3, 3)
    dist = (neighbours - target.detach().unsqueeze(2)).norm(dim=-1)
    return dist, idx.int()


def _cpu_three_interpolate(features: Tensor, indices: Tensor,
                           weight: Tensor) -> Tensor:
    # (B, C, M), (B, n, 3), (B, n, 3) -> (B, C, n)
    neighbours = group_points(features.transpose(1, 2), indices)
    return (neighbours * weight.unsqueeze(-1)).sum(dim=2).transpose(1, 2)


CPU_IMPLEMENTATIONS: Dict[str, Callable] = {
    'furthest_point_sample': _cpu_furthest_point_sample,
    'furthest_point_sample_with_dist': _cpu_furthest_point_sample_with_dist,
    'gather_points': _cpu_gather_points,
    'grouping_operation': _cpu_grouping_operation,
    'ball_query': _cpu_ball_query,
    'knn': _cpu_knn,
    'three_nn': _cpu_three_nn,
    'three_interpolate': _cpu_three_interpolate,
}


def _first_tensor(args: tuple, kwargs: dict) -> Optional[Tensor]:
    for value in (*args, *kwargs.values()):
        if isinstance(value, Tensor):
            return value
    return None


def _device_dispatching(name: str, original: Callable) -> Callable:
    cpu_impl = CPU_IMPLEMENTATIONS[name]

    def op(*args, **kwargs):
        tensor = _first_tensor(args, kwargs)
        if tensor is not None and tensor.is_cuda:
            return original(*args, **kwargs)
        return cpu_impl(*args, **kwargs)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f'mmcv.ops.{name} on CUDA tensors, cg3d_mm\'s PyTorch '
                  f'implementation otherwise.\n\n{original.__doc__ or ""}')
    setattr(op, ORIGINAL_ATTR, original)
    return op


def _import_users() -> None:
    """Import the modules that bind the ops, so that the scan finds them."""
    import mmcv.ops  # noqa: F401
    import mmcv.ops.group_points  # noqa: F401
    import mmcv.ops.points_sampler  # noqa: F401
    try:
        import mmdet3d.models.layers.pointnet_modules  # noqa: F401
    except ImportError:  # mmcv alone can still be patched
        pass


def _install() -> List[Tuple[object, str, Callable]]:
    _import_users()
    import mmcv.ops
    originals = {}
    for name in CPU_IMPLEMENTATIONS:
        fn = getattr(mmcv.ops, name)
        originals[name] = getattr(fn, ORIGINAL_ATTR, fn)
    wrappers = {
        name: _device_dispatching(name, fn)
        for name, fn in originals.items()
    }
    patched = []
    for mod_name, module in list(sys.modules.items()):
        if module is None or mod_name.split('.')[0] not in PATCHED_PACKAGES:
            continue
        for name, original in originals.items():
            if getattr(module, name, None) is original:
                setattr(module, name, wrappers[name])
                patched.append((module, name, original))
    return patched


_lock = threading.Lock()
_active_depth = 0
_patched: List[Tuple[object, str, Callable]] = []


@contextlib.contextmanager
def mmcv_point_ops_cpu_fallback() -> Iterator[None]:
    """Context in which mmcv's point ops also work on CPU tensors.

    Re-entrant; the last exit restores mmcv's functions. Modules imported
    while it is active may keep the (device-dispatching, hence harmless)
    wrappers. Example::

        with mmcv_point_ops_cpu_fallback():
            feats = pointnet2_backbone(points_on_cpu)
    """
    global _active_depth, _patched
    with _lock:
        if _active_depth == 0:
            _patched = _install()
        _active_depth += 1
    try:
        yield
    finally:
        with _lock:
            _active_depth -= 1
            if _active_depth == 0:
                for module, name, original in _patched:
                    setattr(module, name, original)
                _patched = []
