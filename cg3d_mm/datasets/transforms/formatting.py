from typing import Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from cg3d_mm.registry import TRANSFORMS
from cg3d_mm.structures import PointDataSample


@TRANSFORMS.register_module()
class PackCG3DInputs(BaseTransform):
    """Pack a sample into ``dict(inputs=..., data_samples=PointDataSample)``.

    ``inputs['points']`` is float32 (N, C); ``inputs['imgs']`` uint8
    (3, H, W) RGB (normalised later on the device by the data
    preprocessor with the CLIP model's own mean and std).

    With ``'img'`` among the keys, every sample's metainfo says whether it
    carries a view (``has_img``). A source without rendered views (e.g.
    OpenShape's data) sets ``blank_img_size``: its samples get a blank
    (zero) image of that size, so they batch with the views of other
    sources, and ``has_img=False``; CG3D leaves them out of the image
    losses (point-image and image-text), they train the point-text loss.

    Args:
        keys (Sequence[str]): Input keys among ``('points', 'img')``.
        meta_keys (Sequence[str]): Keys copied into the sample's metainfo.
        blank_img_size (int, optional): Side of the blank image packed for
            a sample without ``img``. None (the default): such a sample is
            an error (a pipeline that forgot ``LoadTripletImage``). It must
            equal the size of the other sources' views in a mixed batch.
    """

    def __init__(self, keys: Sequence[str] = ('points', 'img'),
                 meta_keys: Sequence[str] = ('caption', 'class_name',
                                             'sample_idx', 'pts_path',
                                             'img_path', 'view_idx',
                                             'view_fallback'),
                 blank_img_size: Optional[int] = None) -> None:
        unknown = set(keys) - {'points', 'img'}
        if unknown:
            raise ValueError(f'PackCG3DInputs: unknown input keys {unknown}')
        if blank_img_size is not None and (
                isinstance(blank_img_size, bool)
                or not isinstance(blank_img_size, int) or blank_img_size < 1):
            raise ValueError('PackCG3DInputs: blank_img_size must be a '
                             f'positive int or None, got {blank_img_size!r}')
        self.keys = tuple(keys)
        self.meta_keys = tuple(meta_keys)
        self.blank_img_size = blank_img_size

    def transform(self, results: dict) -> dict:
        inputs = {}
        if 'points' in self.keys:
            inputs['points'] = torch.from_numpy(
                np.ascontiguousarray(results['points'], dtype=np.float32))
        has_img = None
        if 'img' in self.keys:
            has_img = results.get('img') is not None
            if has_img:
                img = np.ascontiguousarray(results['img'].transpose(2, 0, 1))
            elif self.blank_img_size is not None:
                size = self.blank_img_size
                img = np.zeros((3, size, size), np.uint8)
            else:
                raise KeyError(
                    f'{results.get("pts_path", "a sample")}: no img to pack '
                    '(add LoadTripletImage to the pipeline, or set '
                    'PackCG3DInputs.blank_img_size for a source without '
                    'views: its samples then train without image losses)')
            inputs['imgs'] = torch.from_numpy(img)
        sample = PointDataSample(metainfo={
            k: results[k]
            for k in self.meta_keys if k in results
        })
        if has_img is not None:
            sample.set_metainfo(dict(has_img=has_img))
        if 'gt_label' in results:
            sample.set_gt_label(results['gt_label'])
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(keys={self.keys}, '
                f'blank_img_size={self.blank_img_size})')
