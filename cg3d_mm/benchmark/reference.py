"""The original CG3D's per-iteration work, as a model the benchmark times.

:class:`~cg3d_mm.models.CG3D` trains on the plugin's schedule: cached text
embeddings, image targets without a graph on point steps, no point encoder
on prompt steps, the image tower's last block for the CLS token only.
:class:`ReferenceCG3D` redoes, on the same weights and batches, what the
authors' training loop did on every iteration, so that ``tools/benchmark.py``
can measure the difference and check that the first losses agree. It is not
a training recipe.
"""
from contextlib import contextmanager
from typing import Dict, Iterator, List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from cg3d_mm.models.cg3d import CG3D, POINT_ENCODER, VISUAL_PROMPT
from cg3d_mm.models.clip import CLIPTextEncoder

# The losses each optimizer of the original stepped on (its own only).
PHASE_LOSSES = {
    POINT_ENCODER: ('loss_point_text', 'loss_point_image'),
    VISUAL_PROMPT: ('loss_image_text', ),
}


def encode_uncached(text_encoder: CLIPTextEncoder,
                    texts: Sequence[str]) -> Tensor:
    """Run the text tower on every caption, as the original did each step.

    Unlike :meth:`CLIPTextEncoder.encode` nothing is looked up or stored, and
    the graph is kept when autograd is on.

    Args:
        text_encoder (CLIPTextEncoder): The model's text encoder.
        texts (Sequence[str]): T captions.

    Returns:
        Tensor: (T, D) float32, L2-normalised.
    """
    tower = text_encoder.tower
    device = next(tower.parameters()).device
    tokens = text_encoder.tokenizer(list(texts)).to(device)
    # the cached rows are computed at the tower's own precision: the same
    # here, so the first losses of both schedules compare
    with torch.autocast(device.type, enabled=False):
        feats = tower(tokens)
    if isinstance(feats, tuple):  # towers with output_tokens
        feats = feats[0]
    return F.normalize(feats.float(), dim=-1)


class ReferenceCG3D(CG3D):
    """CG3D doing the original implementation's per-iteration work.

    Every step, whatever its phase: the text tower runs on every caption
    (:func:`encode_uncached`, with autograd), all three encoders run forward
    with graphs (the image features are not detached, so a point step's
    loss backpropagates through the ViT to the prompts), the image tower's
    last block runs for every token, and both losses are computed; the
    phase's optimizer then steps on its own loss. The frozen CLIP weights
    take part in autograd as in the original (they are only left out of the
    optimizers) unless ``frozen_clip_grads=False``.

    Args:
        *args: :class:`~cg3d_mm.models.CG3D`'s arguments.
        frozen_clip_grads (bool): Autograd through the frozen CLIP weights.
            Defaults to True.
        **kwargs: :class:`~cg3d_mm.models.CG3D`'s keyword arguments.
    """

    def __init__(self, *args, frozen_clip_grads: bool = True,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.frozen_clip_grads = frozen_clip_grads
        if hasattr(self.img_backbone, 'last_block_cls_only'):
            # the original ran the image tower's last block for every token
            self.img_backbone.last_block_cls_only = False

    def loss_reference(self, inputs: dict,
                       captions: Sequence[str]) -> Dict[str, Tensor]:
        """Both losses, nothing cached, detached or skipped."""
        with torch.enable_grad():
            text = encode_uncached(self.text_encoder, captions)
        image = self.encode_images(inputs['imgs'])
        points = self.encode_points(inputs['points'])
        losses = self._head.loss_point(points, text, image)
        losses.update(self._head.loss_prompt(image, text))
        return losses

    def phase_losses(self, phase: str, inputs: dict,
                     captions: List[str]) -> Dict[str, Tensor]:
        """Both losses every step; a single phase keeps only its own."""
        losses = self.loss_reference(inputs, captions)
        keep = PHASE_LOSSES.get(phase)
        if keep is None:  # joint
            return losses
        return {k: v for k, v in losses.items() if k in keep}

    def train_step(self, data, optim_wrapper) -> Dict[str, Tensor]:
        with self._frozen_towers_with_autograd():
            return super().train_step(data, optim_wrapper)

    @contextmanager
    def _frozen_towers_with_autograd(self) -> Iterator[None]:
        """The original's frozen towers: autograd on, no optimizer."""
        frozen = []
        if self.frozen_clip_grads:
            frozen = [p for m in (self.img_backbone, self.text_encoder)
                      for p in m.parameters() if not p.requires_grad]
        for p in frozen:
            p.requires_grad_(True)
        try:
            yield
        finally:
            for p in frozen:
                p.requires_grad_(False)
            # every gradient of this step is consumed or discarded here:
            # nothing leaks into the next step (e.g. the prompts' gradient
            # from a point step's loss, which no optimizer clears)
            for p in self.parameters():
                p.grad = None
