from typing import Callable, List, Sequence, Union

from mmengine.registry import DefaultScope

from cg3d_mm.registry import TRANSFORMS


def build_transforms(pipeline: Sequence[Union[dict, Callable]]
                     ) -> List[Callable]:
    """Build pipeline dicts in the ``cg3d_mm`` scope, whatever the caller's.

    mmengine's ``BaseDataset`` builds from the registry of the current
    default scope; building here keeps cg3d_mm's datasets usable from plain
    Python (tests, notebooks, ``cg3d_mm.apis``) and from projects whose
    scope is ``mmdet3d`` (names fall through cg3d_mm -> mmdet3d -> mmengine).
    """
    with DefaultScope.overwrite_default_scope('cg3d_mm'):
        return [TRANSFORMS.build(t) if isinstance(t, dict) else t
                for t in pipeline]
