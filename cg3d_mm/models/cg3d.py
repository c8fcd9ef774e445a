"""CG3D: a point encoder aligned with frozen CLIP towers (Hegde et al.)."""
import logging
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmdet3d.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.logging import MessageHub, print_log
from mmengine.model import BaseModel, is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import Tensor

from cg3d_mm.registry import MODELS
from cg3d_mm.structures import PointDataSample
from cg3d_mm.utils.templates import ZEROSHOT_TEMPLATES, resolve_templates

from .data_preprocessors import build_data_preprocessor
from .utils import global_point_feats, uses_mmcv_point_ops

POINT_ENCODER = 'point_encoder'
VISUAL_PROMPT = 'visual_prompt'
JOINT = 'joint'
TRAIN_MODES = ('alternate', )


def _unwrap(module):
    """The module inside a DDP wrapper (MMSeparateDDP wraps submodules)."""
    return module.module if is_model_wrapper(module) else module


@MODELS.register_module()
class CG3D(BaseModel):
    """CG3D pretraining and its zero-shot / retrieval inference.

    Three encoders share one embedding space: a trainable point encoder
    (``backbone`` [+ ``neck``] + ``head.proj``), CLIP's image tower with
    learnable deep visual prompts (``img_backbone``, everything else
    frozen) and CLIP's frozen text tower (``text_encoder``, cached).

    Training alternates two optimizers of an ``OptimWrapperDict``
    (``point_encoder``: AdamW on the point side; ``visual_prompt``: SGD on the
    prompts). The phase of each iteration is set by
    ``AlternatingOptimizerHook`` through :attr:`train_phase`:

    - ``point_encoder`` step: loss = NCE(point, text) + NCE(point, image);
      the image features are targets, computed without an autograd graph.
    - ``visual_prompt`` step: loss = NCE(image, text); the point encoder
      does not run.
    - ``joint``: both losses and both optimizers every iteration.

    A sample whose metainfo says ``has_img=False`` (a source without
    rendered views in a mixture, packed with a blank image by
    ``PackCG3DInputs(blank_img_size=...)``) trains the point-text loss
    only: its blank image is not encoded and the point-image and
    image-text losses are computed over the other samples (see
    :class:`CG3DHead`). A visual-prompt step whose (global) batch has no
    view at all is skipped: no backward and no optimizer step, rather than
    a zero loss, because a "zero" step would still move the prompts (SGD's
    momentum and weight decay act on zero gradients); mmengine's
    ``OptimWrapper`` is simply not called, the schedulers still advance
    with the iteration. The count is :attr:`skipped_prompt_steps`. In
    distributed runs every rank takes the same decision (one all-reduce).

    Args:
        backbone (dict): Point backbone, e.g. ``PointMLP``; ``(B, N, C)``
            points in, a dict with ``global_feat`` (or pooled by ``neck``).
        img_backbone (dict): ``PromptedCLIPViT`` config.
        text_encoder (dict): ``CLIPTextEncoder`` config.
        head (dict): ``CG3DHead`` config.
        neck (dict, optional): Pooling neck for backbones without a global
            feature (e.g. mmdet3d's ``PointNet2SASSG``).
        train_cfg (dict, optional): ``mode``, only ``'alternate'`` (the
            schedule above; the original's per-step work, for comparison,
            is ``cg3d_mm.benchmark.reference.ReferenceCG3D``).
        test_cfg (dict, optional): ``templates`` for zero-shot prototypes
            (default: CG3D's single "This is a {}." prompt).
        save_frozen_clip (bool): Keep the frozen CLIP weights in checkpoints.
            Defaults to False: they are rebuilt from the CLIP config (model
            name + pretrained tag or checkpoint file), and checkpoints stay
            the size of the point encoder plus prompts.
        data_preprocessor (dict, optional): Defaults to
            ``CG3DDataPreprocessor``; mean, std and image size are taken
            from the CLIP image tower.
    """

    def __init__(self,
                 backbone: ConfigType,
                 img_backbone: ConfigType,
                 text_encoder: ConfigType,
                 head: ConfigType,
                 neck: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 save_frozen_clip: bool = False,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=build_data_preprocessor(data_preprocessor),
            init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self._mmcv_ops = uses_mmcv_point_ops(self.backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.img_backbone = MODELS.build(img_backbone)
        self.text_encoder = MODELS.build(text_encoder)
        self.head = MODELS.build(head)
        if self.img_backbone.out_channels != self.text_encoder.embed_dim:
            raise ValueError(
                f'image tower embeds to {self.img_backbone.out_channels} but '
                f'the text tower to {self.text_encoder.embed_dim}: use one '
                'CLIP for both')
        if self.head.proj.out_features != self.text_encoder.embed_dim:
            raise ValueError(
                f'CG3DHead.embed_dim={self.head.proj.out_features} must equal '
                f'the CLIP embedding size {self.text_encoder.embed_dim}')
        self.head.set_logit_scale(float(self.text_encoder.logit_scale))
        self.data_preprocessor.set_image_stats(
            self.img_backbone.mean, self.img_backbone.std,
            self.img_backbone.image_size[0])

        self.train_cfg = dict(train_cfg or {})
        self.train_cfg.setdefault('mode', 'alternate')
        if self.train_cfg['mode'] not in TRAIN_MODES:
            raise ValueError(
                f"train_cfg.mode must be one of {TRAIN_MODES}, got "
                f"{self.train_cfg['mode']!r} (the original's per-step work "
                'is cg3d_mm.benchmark.reference.ReferenceCG3D)')
        self.test_cfg = dict(test_cfg or {})
        self.templates = resolve_templates(
            self.test_cfg.get('templates', ZEROSHOT_TEMPLATES),
            'CG3D test_cfg.templates')
        # Set every iteration by AlternatingOptimizerHook; 'joint' otherwise.
        self.train_phase = JOINT
        self.skipped_prompt_steps = 0
        self.class_names: Optional[List[str]] = None
        self.register_buffer('class_prototypes', None, persistent=False)
        self.save_frozen_clip = save_frozen_clip
        self._register_state_dict_hook(_drop_frozen_clip)
        self.register_load_state_dict_post_hook(_ignore_missing_frozen_clip)

    @property
    def _head(self):
        """The head, unwrapped from its DDP wrapper for the loss calls."""
        return _unwrap(self.head)

    # ------------------------------------------------------------------
    # encoders
    def encode_points(self, points: Tensor) -> Tensor:
        """(B, N, C) points -> (B, D) L2-normalised embeddings."""
        return self.head(global_point_feats(self.backbone, self.neck, points,
                                            self._mmcv_ops))

    def encode_images(self, imgs: Tensor) -> Tensor:
        """(B, 3, H, W) normalised views -> (B, D) L2-normalised embeddings."""
        return F.normalize(self.img_backbone(imgs), dim=-1)

    def encode_texts(self, texts: Sequence[str]) -> Tensor:
        """Captions -> (T, D) L2-normalised embeddings (cached)."""
        return self.text_encoder.encode(list(texts))

    def encode_views(self, imgs: Tensor,
                     img_mask: Optional[Tensor] = None) -> Tensor:
        """(B, 3, H, W) views -> (B, D) embeddings of the samples that have
        a view (``img_mask``, None: all); the other rows are zeros and
        their blank images are not encoded. A rank without any view
        encodes one blank image with zero weight, so that the image tower
        takes part in the step like on the other ranks (DDP)."""
        if img_mask is None or bool(img_mask.all()):
            return self.encode_images(imgs)
        keep = img_mask.nonzero().squeeze(1)
        if len(keep) == 0:
            anchor = self.encode_images(imgs[:1])
            return anchor.new_zeros(len(imgs), anchor.shape[1]) + \
                0 * anchor.sum()
        embeds = self.encode_images(imgs[keep])
        return embeds.new_zeros(len(imgs), embeds.shape[1]).index_copy(
            0, keep, embeds)

    def _views_in_batch(self, inputs: dict) -> bool:
        """Whether any sample of the (global) batch has a view."""
        if 'imgs' not in inputs:
            return False
        mask = inputs.get('img_mask')
        if mask is None:
            return True
        found = mask.any().to(torch.int32)
        if dist.is_available() and dist.is_initialized() and \
                dist.get_world_size() > 1:
            dist.all_reduce(found, op=dist.ReduceOp.MAX)
        return bool(found)

    # ------------------------------------------------------------------
    # training
    def loss_point_step(self, inputs: dict,
                        captions: Sequence[str]) -> Dict[str, Tensor]:
        """Losses of a point-encoder step (image targets without graph)."""
        text = self.encode_texts(captions)
        image, mask = None, inputs.get('img_mask')
        if self._views_in_batch(inputs):
            with torch.no_grad():
                image = self.encode_views(inputs['imgs'], mask)
        points = self.encode_points(inputs['points'])
        return self._head.loss_point(points, text, image, mask)

    def loss_prompt_step(self, inputs: dict,
                         captions: Sequence[str]) -> Dict[str, Tensor]:
        """Losses of a visual-prompt step (the point encoder does not run);
        empty when the (global) batch has no view: the step is skipped."""
        if not self._views_in_batch(inputs):
            return {}
        mask = inputs.get('img_mask')
        text = self.encode_texts(captions)
        image = self.encode_views(inputs['imgs'], mask)
        losses = self._head.loss_prompt(image, text, mask)
        if not losses:
            # views on other ranks only (no gathered loss): a zero that
            # keeps this rank's image tower in the step
            losses = dict(loss_image_text=0 * image.sum())
        return losses

    def loss_joint(self, inputs: dict, captions: Sequence[str]
                   ) -> Dict[str, Tensor]:
        """Both steps' losses from one image forward (for ``joint``)."""
        head = self._head
        mask = inputs.get('img_mask')
        text = self.encode_texts(captions)
        image = (self.encode_views(inputs['imgs'], mask)
                 if self._views_in_batch(inputs) else None)
        points = self.encode_points(inputs['points'])
        if image is None:
            return head.loss_point(points, text, None)
        losses = head.loss_point(points, text, image.detach(), mask)
        prompt = head.loss_prompt(image, text, mask)
        losses.update(prompt or dict(loss_image_text=0 * image.sum()))
        return losses

    def loss(self, inputs: dict,
             data_samples: List[PointDataSample]) -> Dict[str, Tensor]:
        """All loss terms (``forward(mode='loss')``)."""
        return self.loss_joint(_with_image_mask(inputs, data_samples),
                               _captions(data_samples))

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: Union[OptimWrapperDict, OptimWrapper]
                   ) -> Dict[str, Tensor]:
        if not isinstance(optim_wrapper, OptimWrapperDict):
            raise TypeError(
                'CG3D trains with two optimizers: build optim_wrapper with '
                "constructor='CG3DOptimWrapperConstructor' (an "
                f'OptimWrapperDict), got {type(optim_wrapper).__name__}')
        phase = self.train_phase
        if phase == JOINT:
            wrappers = [optim_wrapper[POINT_ENCODER],
                        optim_wrapper[VISUAL_PROMPT]]
        elif phase in (POINT_ENCODER, VISUAL_PROMPT):
            wrappers = [optim_wrapper[phase]]
        else:
            raise ValueError(f'unknown train_phase {phase!r}')
        data = self.data_preprocessor(data, True)
        captions = _captions(data['data_samples'])
        inputs = _with_image_mask(data['inputs'], data['data_samples'])
        with wrappers[0].optim_context(self):
            losses = self.phase_losses(phase, inputs, captions)
        return self._update(losses, wrappers)

    def phase_losses(self, phase: str, inputs: dict,
                     captions: List[str]) -> Dict[str, Tensor]:
        """The losses a ``phase`` step optimizes (see the class doc)."""
        if phase == POINT_ENCODER:
            return self.loss_point_step(inputs, captions)
        if phase == VISUAL_PROMPT:
            return self.loss_prompt_step(inputs, captions)
        return self.loss_joint(inputs, captions)

    def _update(self, losses: Dict[str, Tensor],
                wrappers: List[OptimWrapper]) -> Dict[str, Tensor]:
        if not losses:
            # a prompt step without any view (see the class doc)
            self.skipped_prompt_steps += 1
            if self.skipped_prompt_steps == 1:
                print_log('visual-prompt step skipped: no sample of the '
                          'batch has a view (counted in '
                          'CG3D.skipped_prompt_steps; logged once)',
                          logger='current', level=logging.WARNING)
            return {}
        _check_finite(losses)
        if len(wrappers) == 1:
            loss, log_vars = self.parse_losses(losses)
            wrappers[0].update_params(loss)
            return log_vars
        # joint: one backward over the sum, then each optimizer steps its
        # own (disjoint) parameters
        loss, log_vars = self.parse_losses(losses)
        wrappers[0].backward(loss)
        for wrapper in wrappers:
            if wrapper.should_update():
                wrapper.step()
                wrapper.zero_grad()
        return log_vars

    # ------------------------------------------------------------------
    # inference
    def set_class_names(self, class_names: Sequence[str],
                        templates: Optional[Sequence[str]] = None) -> None:
        """Zero-shot classes: prototypes are computed once, here.

        Args:
            class_names (list[str]): K class names (``night_stand`` is read
                as "night stand").
            templates (list[str], optional): Prompt templates, ensembled
                (mean of L2-normalised embeddings, renormalised). Defaults
                to ``test_cfg.templates``.
        """
        if not class_names:
            raise ValueError('set_class_names: empty class list')
        templates = resolve_templates(templates or self.templates,
                                      'zero-shot templates')
        self.class_names = list(class_names)
        self.class_prototypes = self.text_encoder.class_prototypes(
            self.class_names, templates)
        print_log(f'zero-shot: {len(class_names)} class prototypes from '
                  f'{len(templates)} template(s)', logger='current',
                  level=logging.DEBUG)

    def predict(self, inputs: dict,
                data_samples: Optional[List[PointDataSample]] = None
                ) -> List[PointDataSample]:
        """Zero-shot classification (when classes are set) + embeddings."""
        point_embeds = self.encode_points(inputs['points'])
        image_embeds = (self.encode_images(inputs['imgs'])
                        if 'imgs' in inputs else None)
        if data_samples is None:
            data_samples = [PointDataSample() for _ in range(len(
                point_embeds))]
        scores = None
        if self.class_prototypes is not None:
            # fp32 logits under a test-time autocast too: bf16 keeps ~3
            # digits, too few to rank near-equal cosine similarities
            with torch.autocast(point_embeds.device.type, enabled=False):
                logits = self._head.logit_scale.float() * (
                    point_embeds.float() @ self.class_prototypes.float().t())
            scores = logits.softmax(dim=-1)
        for i, sample in enumerate(data_samples):
            sample.point_embed = point_embeds[i]
            if image_embeds is not None:
                sample.image_embed = image_embeds[i]
            if scores is not None:
                sample.pred_score = scores[i]
                sample.pred_label = scores[i].argmax().view(1)
        return data_samples

    def extract_feat(self, inputs: dict) -> Dict[str, Tensor]:
        """L2-normalised embeddings of the points and/or views in inputs."""
        out = {}
        if 'points' in inputs:
            out['points'] = self.encode_points(inputs['points'])
        if 'imgs' in inputs:
            out['imgs'] = self.encode_images(inputs['imgs'])
        return out

    def forward(self, inputs: dict,
                data_samples: Optional[List[PointDataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.extract_feat(inputs)
        raise ValueError(f'Invalid mode {mode!r}: expected loss, predict '
                         'or tensor')


def _with_image_mask(inputs: dict, data_samples) -> dict:
    """``inputs`` plus ``img_mask`` (B, ) bool when some sample has no view
    (``has_img=False`` in its metainfo). Distributed runs always carry it:
    every rank then computes its image losses the same (masked) way."""
    if 'imgs' not in inputs or not data_samples:
        return inputs
    flags = [bool(s.metainfo.get('has_img', True)) for s in data_samples]
    distributed = dist.is_available() and dist.is_initialized() and \
        dist.get_world_size() > 1
    if all(flags) and not distributed:
        return inputs
    device = inputs['imgs'].device
    return dict(inputs, img_mask=torch.tensor(flags, dtype=torch.bool,
                                              device=device))


def _captions(data_samples) -> List[str]:
    captions = [s.get('caption') for s in data_samples]
    if any(c is None for c in captions):
        raise ValueError('training samples need a caption (add SampleCaption '
                         'to the pipeline and caption to PackCG3DInputs)')
    return captions


def _check_finite(losses: Dict[str, Tensor]) -> None:
    """Stop before a NaN/inf loss reaches the weights (and a checkpoint)."""
    for name, value in losses.items():
        if not torch.isfinite(value).all():
            hub = MessageHub.get_current_instance()
            raise FloatingPointError(
                f'iteration {hub.get_info("iter")}: loss term {name} is '
                f'{value.detach().float().cpu().tolist()}; stopping before '
                'the weights are updated (check the learning rates and the '
                'input data; resume from the last checkpoint)')


def _frozen_clip_keys(model: CG3D, prefix: str = '') -> set:
    keys = set()
    for name, module in (('img_backbone', model.img_backbone),
                         ('text_encoder', model.text_encoder)):
        module = _unwrap(module)
        for key, param in module.named_parameters():
            if not param.requires_grad:
                keys.add(f'{prefix}{name}.{key}')
    return keys


def _drop_frozen_clip(module: CG3D, state_dict: dict, prefix: str,
                      local_metadata) -> None:
    if module.save_frozen_clip:
        return
    for key in _frozen_clip_keys(module, prefix):
        state_dict.pop(key, None)


def _ignore_missing_frozen_clip(module: CG3D, incompatible_keys) -> None:
    # The frozen CLIP weights come from the CLIP config, not the checkpoint.
    frozen = _frozen_clip_keys(module)
    missing = incompatible_keys.missing_keys
    missing[:] = [k for k in missing if k not in frozen]
