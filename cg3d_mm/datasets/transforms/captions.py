"""Captions: a template sampled per call, filled with the class name."""
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet3d.registry import TRANSFORMS

from cg3d_mm.utils.class_names import readable_class_name

# Templates for pretraining captions. The caption set stays finite
# (templates x classes), which is what lets the frozen text tower be cached.
PRETRAIN_TEMPLATES = (
    'a photo of a {}.',
    'a rendering of a {}.',
    'a 3D model of a {}.',
    'a point cloud of a {}.',
    'a photo of the {}.',
    'a rendered image of a {}.',
    'a 3D rendering of the {}.',
    'an object of the category {}.',
    'a CAD model of a {}.',
    'a picture of a {}.',
    'there is a {} in the scene.',
    'a {} in a 3D scene.',
)
# CG3D evaluated zero-shot with one prompt.
ZEROSHOT_TEMPLATES = ('This is a {}.', )


def check_templates(templates: Sequence[str], source: str = 'templates'):
    if isinstance(templates, str) or not len(templates):
        raise ValueError(f'{source}: expected a non-empty list of templates, '
                         f'got {templates!r}')
    for t in templates:
        if not isinstance(t, str) or t.count('{}') != 1:
            raise ValueError(f"{source}: template {t!r} must contain exactly "
                             "one '{}' where the class name goes")
    return tuple(templates)


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

# A fixed prompt ensemble for zero-shot evaluation (prototype = mean of the
# L2-normalised embeddings, renormalised; ULIP / OpenShape / Uni3D practice).
# Written down before any evaluation and never tuned on a test split.
ENSEMBLE_TEMPLATES = (
    'This is a {}.',
    'a point cloud of a {}.',
    'a point cloud of the {}.',
    'a 3D model of a {}.',
    'a 3D scan of a {}.',
    'a partial 3D scan of a {}.',
    'a CAD model of a {}.',
    'a rendering of a {}.',
    'a photo of a {}.',
    'a photo of the {}.',
    'an object of the category {}.',
    'there is a {} in the scene.',
    'a {} in a 3D scene.',
    'the shape of a {}.',
)
