"""What every benchmark job builds: the model of a mode, its optimizers and
a batch, all seeded so that every job holds the same weights and data."""
import copy
import hashlib
from typing import Optional

import torch

from cg3d_mm.models.clip import clear_clip_cache
from cg3d_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from cg3d_mm.structures import PointDataSample

from .reference import ReferenceCG3D

# (a) the plugin's schedule, (b) the original's per-step work.
MODES = ('alternate', 'reference')
# Timed as well: the reference without autograd through frozen weights.
TIMED_MODES = MODES + ('reference_frozen', )
CAPTION_CLASSES = ('chair', 'table', 'airplane', 'lamp', 'sofa', 'car',
                   'guitar', 'bench')


def small_model_cfg() -> dict:
    """A tiny CG3D (tiny PointMLP + ``cg3d-tiny-vit``) for quick checks."""
    clip = dict(model_name='cg3d-tiny-vit')
    return dict(
        type='CG3D',
        backbone=dict(type='PointMLP', embed_channels=8,
                      num_anchors=(64, 32, 16, 8), num_neighbors=8,
                      pre_blocks=(1, 1, 1, 1), pos_blocks=(1, 1, 1, 1)),
        img_backbone=dict(type='PromptedCLIPViT', clip=clip),
        text_encoder=dict(type='CLIPTextEncoder', clip=clip),
        head=dict(type='CG3DHead', in_channels=128, embed_dim=256))


def random_clip_weights(model_cfg: dict) -> dict:
    """``model_cfg`` with every CLIP config stripped of its weights source.

    The architectures stay (e.g. ViT-B-16), the weights are random: nothing
    is downloaded and the timings are those of the real sizes.
    """
    cfg = copy.deepcopy(model_cfg)
    for key in ('img_backbone', 'text_encoder'):
        clip = cfg.get(key, {}).get('clip')
        if isinstance(clip, dict):
            for source in ('pretrained', 'checkpoint'):
                clip.pop(source, None)
    return cfg


def make_pretrain_batch(batch_size: int, num_points: int, image_size: int,
                        seed: int) -> dict:
    """A raw (un-preprocessed) triplet batch: points, uint8 views,
    captions, as the dataloader hands it to ``train_step``."""
    g = torch.Generator().manual_seed(seed)
    samples = []
    for i in range(batch_size):
        name = CAPTION_CLASSES[(seed + i) % len(CAPTION_CLASSES)]
        samples.append(PointDataSample(
            metainfo=dict(caption=f'a photo of a {name}.')).set_gt_label(
                (seed + i) % len(CAPTION_CLASSES)))
    return dict(
        inputs=dict(
            points=[torch.rand(num_points, 3, generator=g) * 2 - 1
                    for _ in range(batch_size)],
            imgs=[torch.randint(0, 256, (3, image_size, image_size),
                                generator=g, dtype=torch.uint8)
                  for _ in range(batch_size)]),
        data_samples=samples)


def build_model(model_cfg: dict, mode: Optional[str], device: str,
                seed: int) -> torch.nn.Module:
    """Build the model of ``mode`` with a fixed seed (same weights in every
    job).

    Args:
        model_cfg (dict): A ``CG3D`` config.
        mode (str, optional): One of :data:`TIMED_MODES`: ``'alternate'``
            (or None) builds ``CG3D`` itself, the reference modes a
            :class:`~cg3d_mm.benchmark.reference.ReferenceCG3D` of the same
            config.
        device (str): Where the model goes.
        seed (int): RNG seed drawn from while building.
    """
    if mode is not None and mode not in TIMED_MODES:
        raise ValueError(f'benchmark mode must be one of {TIMED_MODES}, '
                         f'got {mode!r}')
    cfg = copy.deepcopy(model_cfg)
    if mode in ('reference', 'reference_frozen'):
        cfg.update(type=ReferenceCG3D,
                   frozen_clip_grads=mode == 'reference')
    clear_clip_cache()  # a shared cached CLIP would skip RNG draws
    torch.manual_seed(seed)
    return MODELS.build(cfg).to(device)


def build_optim(model: torch.nn.Module, optim_cfg: dict):
    """The ``OptimWrapperDict`` of ``CG3DOptimWrapperConstructor``."""
    cfg = copy.deepcopy(optim_cfg)
    cfg.pop('constructor', None)
    ctor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type='CG3DOptimWrapperConstructor', optim_wrapper_cfg=cfg))
    return ctor(model)


def weights_fingerprint(model: torch.nn.Module) -> str:
    """sha256 (first 16 hex) of every parameter and buffer."""
    h = hashlib.sha256()
    tensors = dict(model.named_parameters())
    tensors.update(model.named_buffers())
    for name in sorted(tensors):
        t = tensors[name].detach().to('cpu', copy=True).contiguous()
        h.update(name.encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]
