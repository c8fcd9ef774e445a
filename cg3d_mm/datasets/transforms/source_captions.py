"""Captions shipped with the data: one candidate drawn per iteration."""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from cg3d_mm.registry import TRANSFORMS
from cg3d_mm.utils.class_names import readable_class_name
from cg3d_mm.utils.templates import PRETRAIN_TEMPLATES, check_templates

from .loading import UnreadableSampleError


class NoCaptionError(UnreadableSampleError):
    """A training sample has no caption candidate (it is skipped)."""


@TRANSFORMS.register_module()
class SampleSourceCaption(BaseTransform):
    """Make ``results['caption']`` from the captions a source ships.

    Candidates, first found wins:

    - ``view_captions``: view file name -> captions (ULIP-2 captions its
      renders one by one): the captions of the view ``LoadTripletImage``
      loaded (``img_path``), else of every view of the object;
    - ``caption_groups``: source name -> captions (OpenShape: ``text``,
      ``caption``, ``retrieval_text``): a non-empty source is drawn
      uniformly, then a caption in it, as OpenShape does;
    - ``caption_names``: names of the object's class (ULIP's ShapeNet55:
      the taxonomy names): a name drawn and put in a template.

    Groups named in ``templated`` (and ``caption_names``) are bare names
    and go through a template drawn from ``templates``; the others are
    sentences and are used as they are.

    Required keys: one of the above. Added keys: ``caption``.

    Args:
        templates (Sequence[str], optional): Templates with one ``{}``.
            Defaults to :data:`PRETRAIN_TEMPLATES`.
        templated (Sequence[str]): ``caption_groups`` sources that hold bare
            names. Defaults to ``('text', )`` (OpenShape's ``text`` is the
            class / object name; its loader averages prompt templates over
            it, drawing one per iteration plays that role).

    Raises:
        NoCaptionError: The sample has no candidate at all (OpenShape
            Objaverse shapes may have no usable text); the training
            datasets skip such samples and count them.
    """

    def __init__(self, templates: Optional[Sequence[str]] = None,
                 templated: Sequence[str] = ('text', )) -> None:
        self.templates = check_templates(templates or PRETRAIN_TEMPLATES,
                                         'SampleSourceCaption')
        self.templated = tuple(templated)

    def _template(self, name: str) -> str:
        idx = np.random.randint(len(self.templates))
        return self.templates[idx].format(readable_class_name(name))

    @staticmethod
    def _view_candidates(view_captions: Dict[str, Sequence[str]],
                         img_path: Optional[str]) -> List[str]:
        if img_path is not None:
            own = view_captions.get(osp.basename(img_path))
            if own:
                return list(own)
        return [c for caps in view_captions.values() for c in caps]

    def transform(self, results: dict) -> dict:
        source = results.get('pts_path', results.get('sample_id', 'sample'))
        if results.get('view_captions'):
            candidates = self._view_candidates(results['view_captions'],
                                               results.get('img_path'))
            if candidates:
                results['caption'] = candidates[np.random.randint(
                    len(candidates))]
                return results
        groups = {k: list(v) for k, v in
                  (results.get('caption_groups') or {}).items() if v}
        if groups:
            names = sorted(groups)
            name = names[np.random.randint(len(names))]
            text = groups[name][np.random.randint(len(groups[name]))]
            results['caption'] = (self._template(text)
                                  if name in self.templated else text)
            return results
        names = list(results.get('caption_names') or ())
        if names:
            results['caption'] = self._template(
                names[np.random.randint(len(names))])
            return results
        raise NoCaptionError(
            f'{source}: no caption (expected view_captions, caption_groups '
            'or caption_names with at least one entry)')

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(templates={len(self.templates)}, '
                f'templated={self.templated})')
