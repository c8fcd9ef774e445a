"""Text templates: pretraining captions and zero-shot class prompts.

One list of each, used by the caption transform, the model's zero-shot
prototypes, the demo CLIP and the zero-shot configs.
"""
from typing import Sequence, Tuple, Union

# Templates for pretraining captions, in the style of CLIP's ImageNet
# prompts, written for renders and 3D shapes; the original trained with 64.
# Targets are diagonal (one positive per sample), so two identical captions
# in a batch are contradictory negatives: with ShapeNet's class frequencies
# a batch of 32 holds about 2.8 exact duplicate pairs with 12 templates and
# about 0.4 with these 80. The set stays finite (templates x classes), which
# is what lets the frozen text tower be cached.
PRETRAIN_TEMPLATES = (
    # photographs, qualities and sizes
    'a photo of a {}.',
    'a photo of the {}.',
    'a photo of one {}.',
    'a photo of my {}.',
    'a good photo of a {}.',
    'a bad photo of a {}.',
    'a bright photo of a {}.',
    'a dark photo of a {}.',
    'a blurry photo of a {}.',
    'a cropped photo of a {}.',
    'a close-up photo of a {}.',
    'a low resolution photo of a {}.',
    'a clean photo of a {}.',
    'a photo of a small {}.',
    'a photo of a large {}.',
    'a photo of a big {}.',
    'a photo of a nice {}.',
    'a photo of a weird {}.',
    'a photo of a clean {}.',
    'a photo of a dirty {}.',
    'a picture of a {}.',
    'a picture of the {}.',
    'an image of a {}.',
    'an image of the {}.',
    # renderings
    'a rendering of a {}.',
    'a rendering of the {}.',
    'a rendered image of a {}.',
    'a 3D rendering of a {}.',
    'a 3D rendering of the {}.',
    'a grey rendering of a {}.',
    'a shaded rendering of a {}.',
    'a computer graphics image of a {}.',
    # 3D shapes
    'a 3D model of a {}.',
    'a 3D model of the {}.',
    'a 3D model of a small {}.',
    'a 3D model of a large {}.',
    'a CAD model of a {}.',
    'a CAD model of the {}.',
    'a mesh of a {}.',
    'a 3D mesh of the {}.',
    'a point cloud of a {}.',
    'a point cloud of the {}.',
    'a point cloud model of a {}.',
    'a sparse point cloud of a {}.',
    'a 3D scan of a {}.',
    'a 3D scan of the {}.',
    'the shape of a {}.',
    'the 3D shape of a {}.',
    # categories, views and scenes
    'an object of the category {}.',
    'an object that is a {}.',
    'a {} seen from the side.',
    'a {} seen from above.',
    'a {} seen from the front.',
    'a {} from an unusual angle.',
    'a {} on a white background.',
    'a {} in a 3D scene.',
    'there is a {} in the scene.',
    'there is the {} in the scene.',
    'a view of a {}.',
    'a single {}.',
    # other depictions
    'a sketch of a {}.',
    'a drawing of a {}.',
    'a painting of a {}.',
    'a sculpture of a {}.',
    'a toy {}.',
    'a plastic {}.',
    'a model of a {}.',
    'a miniature {}.',
    'a cartoon {}.',
    'a virtual {}.',
    'a synthetic {}.',
    'a digital {}.',
    'a simple {}.',
    'a detailed {}.',
    'a textured {}.',
    'an untextured {}.',
    'a {} object.',
    'a typical {}.',
    'one {}.',
    'the {}.',
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

# Named template sets: configs may name one instead of listing templates.
TEMPLATE_SETS = dict(single=ZEROSHOT_TEMPLATES, ensemble=ENSEMBLE_TEMPLATES)


def resolve_templates(templates: Union[str, Sequence[str]],
                      source: str = 'templates') -> Tuple[str, ...]:
    """Templates from a list or the name of a set in :data:`TEMPLATE_SETS`."""
    if isinstance(templates, str) and '{}' not in templates:
        if templates not in TEMPLATE_SETS:
            raise ValueError(f'{source}: unknown template set {templates!r}; '
                             f'expected one of {tuple(TEMPLATE_SETS)} or a '
                             'list of templates')
        return TEMPLATE_SETS[templates]
    return check_templates(templates, source)
