from typing import Union

import numpy as np
import torch
from mmengine.structures import BaseDataElement


class PointDataSample(BaseDataElement):
    """Annotations and predictions of one object for CG3D.

    Meta fields (set once, e.g. by ``PackCG3DInputs``): ``caption`` (str),
    ``class_name`` (str), ``pts_path``, ``img_path``, ``sample_idx``.

    Data fields:
        gt_label (Tensor): (1, ) int64 class index.
        pred_score (Tensor): (K, ) class probabilities (zero-shot).
        pred_label (Tensor): (1, ) predicted class index.
        point_embed / image_embed (Tensor): (D, ) L2-normalised embeddings.
    """

    def set_gt_label(self, label: Union[int, np.integer, torch.Tensor]
                     ) -> 'PointDataSample':
        self.gt_label = torch.as_tensor(label, dtype=torch.long).view(-1)
        return self
