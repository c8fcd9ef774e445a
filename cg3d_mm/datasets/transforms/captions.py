"""Captions: a template sampled per call, filled with the class name."""
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from cg3d_mm.registry import TRANSFORMS
from cg3d_mm.utils.class_names import readable_class_name
from cg3d_mm.utils.templates import PRETRAIN_TEMPLATES, check_templates


@TRANSFORMS.register_module()
class SampleCaption(BaseTransform):
    """Make ``results['caption']`` from the class name and a template.

    Required keys: ``class_name``. Added keys: ``caption``.

    Args:
        templates (Sequence[str]): Templates with one ``{}``. Defaults to
            :data:`PRETRAIN_TEMPLATES`.
        fixed (int, optional): Always use this template index instead of
            sampling one per call (e.g. for validation).
    """

    def __init__(self, templates: Optional[Sequence[str]] = None,
                 fixed: Optional[int] = None) -> None:
        self.templates = check_templates(templates or PRETRAIN_TEMPLATES,
                                         'SampleCaption')
        self.fixed = fixed

    def transform(self, results: dict) -> dict:
        idx = self.fixed if self.fixed is not None else np.random.randint(
            len(self.templates))
        results['caption'] = self.templates[idx].format(
            readable_class_name(results['class_name']))
        return results
