from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from torch import nn

from cg3d_mm.registry import MODELS

# open_clip's OPENAI_DATASET_MEAN / STD, the default until the model sets
# its own CLIP's values.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@MODELS.register_module()
class CG3DDataPreprocessor(BaseDataPreprocessor):
    """Batch points and views on the device; normalise views like CLIP.

    ``inputs['points']``: list of (N, C) -> (B, N, C) float.
    ``inputs['imgs']``: list of uint8 (3, H, W) RGB -> (B, 3, S, S) float,
    ``(x / 255 - mean) / std``, resized (bicubic, antialiased) to
    ``image_size`` when it differs. The CG3D model sets ``mean``, ``std`` and
    ``image_size`` from its CLIP image tower, so the views are normalised
    with the CLIP model's own statistics.

    Args:
        mean, std (Sequence[float]): RGB statistics in [0, 1] units.
        image_size (int, optional): Side the views are resized to.
    """

    def __init__(self, mean: Sequence[float] = CLIP_MEAN,
                 std: Sequence[float] = CLIP_STD,
                 image_size: Optional[int] = None) -> None:
        super().__init__()
        self.register_buffer('mean', torch.zeros(1, 3, 1, 1), False)
        self.register_buffer('std', torch.ones(1, 3, 1, 1), False)
        self.set_image_stats(mean, std, image_size)

    def set_image_stats(self, mean: Sequence[float], std: Sequence[float],
                        image_size: Optional[int] = None) -> None:
        self.mean.copy_(torch.tensor(mean, dtype=torch.float).view(1, 3, 1, 1))
        self.std.copy_(torch.tensor(std, dtype=torch.float).view(1, 3, 1, 1))
        self.image_size = image_size

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = dict(data['inputs'])
        if 'points' in inputs:
            pts = inputs['points']
            if isinstance(pts, (list, tuple)):
                sizes = {tuple(p.shape) for p in pts}
                if len(sizes) != 1:
                    raise ValueError(
                        f'points of a batch must have one shape, got '
                        f'{sorted(sizes)} (use SamplePoints in the pipeline)')
                pts = torch.stack(pts)
            inputs['points'] = pts.float()
        if 'imgs' in inputs:
            imgs = inputs['imgs']
            if isinstance(imgs, (list, tuple)):
                imgs = torch.stack(imgs)
            imgs = imgs.float() / 255.
            size = self.image_size
            if size is not None and tuple(imgs.shape[-2:]) != (size, size):
                imgs = F.interpolate(imgs, size=(size, size), mode='bicubic',
                                     align_corners=False, antialias=True)
            inputs['imgs'] = (imgs - self.mean) / self.std
        return dict(inputs=inputs, data_samples=data.get('data_samples'))


def build_data_preprocessor(cfg: Optional[dict] = None) -> nn.Module:
    """``cfg`` (default: :class:`CG3DDataPreprocessor`) built from mmdet3d's
    registry whatever the current default scope; a module passes through."""
    if cfg is None:
        cfg = dict(type=CG3DDataPreprocessor)  # a class: any scope
    return MODELS.build(cfg) if isinstance(cfg, dict) else cfg
