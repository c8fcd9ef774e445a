from typing import Callable, List, Sequence, Union

from mmdet3d.registry import TRANSFORMS


def build_transforms(pipeline: Sequence[Union[dict, Callable]]
                     ) -> List[Callable]:
    """Build pipeline dicts from mmdet3d's registry, whatever the scope.

    mmengine's ``BaseDataset`` builds from the registry of the current
    default scope; building here keeps the datasets usable from plain
    Python (tests, notebooks, ``cg3d_mm.apis``) without ``default_scope``.
    """
    return [TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in pipeline]
