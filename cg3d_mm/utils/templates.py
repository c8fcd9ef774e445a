"""Text templates: pretraining captions and zero-shot class prompts.

One list of each, used by the caption transform, the model's zero-shot
prototypes, the demo CLIP and the zero-shot configs.
"""
from typing import Sequence, Tuple, Union

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
