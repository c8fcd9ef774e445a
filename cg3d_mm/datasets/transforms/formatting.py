from typing import Sequence

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

    Args:
        keys (Sequence[str]): Input keys among ``('points', 'img')``.
        meta_keys (Sequence[str]): Keys copied into the sample's metainfo.
    """

    def __init__(self, keys: Sequence[str] = ('points', 'img'),
                 meta_keys: Sequence[str] = ('caption', 'class_name',
                                             'sample_idx', 'pts_path',
                                             'img_path', 'view_idx',
                                             'view_fallback')) -> None:
        unknown = set(keys) - {'points', 'img'}
        if unknown:
            raise ValueError(f'PackCG3DInputs: unknown input keys {unknown}')
        self.keys = tuple(keys)
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        inputs = {}
        if 'points' in self.keys:
            inputs['points'] = torch.from_numpy(
                np.ascontiguousarray(results['points'], dtype=np.float32))
        if 'img' in self.keys:
            img = np.ascontiguousarray(results['img'].transpose(2, 0, 1))
            inputs['imgs'] = torch.from_numpy(img)
        sample = PointDataSample(metainfo={
            k: results[k]
            for k in self.meta_keys if k in results
        })
        if 'gt_label' in results:
            sample.set_gt_label(results['gt_label'])
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(keys={self.keys})'
