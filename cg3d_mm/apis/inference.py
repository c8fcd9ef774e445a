"""Build a CG3D model for inference and encode points, images and texts.

Every encoder returns L2-normalised float32 numpy embeddings, computed in
batches without gradients, with a progress bar for long inputs. Point
clouds go through the *model's* test pipeline (from its config): the same
point count, sampling and normalisation the checkpoint was evaluated with.
"""
import copy
import hashlib
import os.path as osp
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch import nn
from tqdm import tqdm

from cg3d_mm.datasets.utils import build_transforms
from cg3d_mm.models.utils import load_model_checkpoint
from cg3d_mm.utils.config import pipeline_num_points  # noqa: F401 (API)
from cg3d_mm.utils.config import ConfigLike, load_config
from cg3d_mm.utils.device import resolve_device

ImageLike = Union[str, np.ndarray]
PointsLike = Union[str, np.ndarray]
# Test-time transforms of images / captions, not of points.
_NON_POINT_TRANSFORMS = ('LoadTripletImage', 'ResizeImage', 'SampleCaption',
                         'PackCG3DInputs')
DEFAULT_NUM_POINTS = 1024


def file_sha256(path: str) -> str:
    """sha256 hex digest of a file, read in 1 MiB blocks."""
    sha = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            sha.update(block)
    return sha.hexdigest()


def weights_sha256(module: nn.Module) -> str:
    """sha256 of a module's state dict (names, dtypes and values)."""
    sha = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        t = t.detach().to('cpu').contiguous().reshape(-1)
        sha.update(f'{name}:{t.dtype}:{t.numel()};'.encode())
        sha.update(t.view(torch.uint8).numpy().tobytes())
    return sha.hexdigest()


def init_model(config: ConfigLike,
               checkpoint: Optional[str] = None,
               device: Optional[str] = None,
               cfg_options: Optional[dict] = None) -> nn.Module:
    """Build a CG3D model from an mmengine config and load a checkpoint.

    Args:
        config (str | Path | Config): Config file or object with ``model``.
        checkpoint (str, optional): Checkpoint file, loaded weights-only
            and strictly (:func:`cg3d_mm.models.utils.load_model_checkpoint`:
            every key the model saves, none it has no place for, all of the
            same shape). None keeps the random initialisation of the point
            encoder (the frozen CLIP comes from the config either way).
        device (str, optional): 'auto' or None (default): 'cuda' if
            available else 'cpu'.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        nn.Module: The model in eval mode on ``device``, with ``cfg``,
        ``checkpoint_path``, ``checkpoint_sha256`` (of the file; for a
        random init, ``'init:'`` + sha256 of the weights) and
        ``dataset_meta`` (from the checkpoint's meta, if any).
    """
    from cg3d_mm.registry import MODELS
    cfg = load_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise ValueError(f'{cfg.filename}: the config has no `model`')
    init_default_scope(cfg.get('default_scope', 'cg3d_mm'))
    config_name = cfg.filename or 'the config'
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.cfg = cfg
    model.dataset_meta = None
    if checkpoint is not None:
        report = load_model_checkpoint(
            model, str(checkpoint), target=f'the model of {config_name}')
        model.dataset_meta = report.meta.get('dataset_meta')
        model.checkpoint_path = osp.abspath(str(checkpoint))
        model.checkpoint_sha256 = file_sha256(str(checkpoint))
    else:
        model.checkpoint_path = None
        model.checkpoint_sha256 = 'init:' + weights_sha256(model)
    model.to(resolve_device(device))
    model.eval()
    return model


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


# ----------------------------------------------------------------------
# points
def point_pipeline(cfg: Optional[Config] = None,
                   num_points: Optional[int] = None) -> List[dict]:
    """The model's point-only test pipeline as transform configs.

    Taken from ``cfg.test_dataloader.dataset.pipeline`` (else
    ``cfg.test_pipeline``) without its image / caption steps, ending with
    ``PackCG3DInputs(keys=('points', ))``. Without a config: load xyz, FPS
    to ``num_points`` (default 1024), normalise into the unit sphere.
    """
    steps = None
    if cfg is not None:
        steps = cfg.get('test_dataloader', {}).get('dataset', {}).get(
            'pipeline') or cfg.get('test_pipeline')
    if steps:
        steps = [copy.deepcopy(dict(t)) for t in steps
                 if dict(t).get('type') not in _NON_POINT_TRANSFORMS]
        if not steps or steps[0].get('type') != 'LoadPointCloud':
            steps.insert(0, dict(type='LoadPointCloud', use_dims=(0, 1, 2)))
        if num_points is not None:
            for t in steps:
                if t.get('type') == 'SamplePoints':
                    t['num_points'] = int(num_points)
    else:
        steps = [dict(type='LoadPointCloud', use_dims=(0, 1, 2)),
                 dict(type='SamplePoints',
                      num_points=int(num_points or DEFAULT_NUM_POINTS),
                      method='fps'),
                 dict(type='NormalizePoints')]
    return steps + [dict(type='PackCG3DInputs', keys=('points', ),
                         meta_keys=())]


def model_pipeline(model: nn.Module) -> List[dict]:
    return point_pipeline(getattr(model, 'cfg', None))


def model_up_axis(model: nn.Module) -> str:
    """The up axis of the model's training data ('y' for ShapeNet)."""
    cfg = getattr(model, 'cfg', None)
    return str(cfg.get('up_axis', 'y')) if cfg is not None else 'y'


def _batches(n: int, batch_size: int, progress: bool, desc: str):
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f'batch_size must be a positive integer, got '
                         f'{batch_size}')
    starts = range(0, n, int(batch_size))
    return tqdm(starts, desc=desc, unit='batch', leave=False,
                disable=not progress or len(starts) < 2)


@torch.no_grad()
def encode_point_clouds(model: nn.Module,
                        clouds: Sequence[PointsLike],
                        pipeline: Optional[Sequence[dict]] = None,
                        batch_size: int = 32,
                        progress: bool = True) -> np.ndarray:
    """Point-cloud embeddings.

    Args:
        model (nn.Module): A CG3D model.
        clouds (Sequence[str | np.ndarray]): Point files (.npy, .txt, .bin,
            .ply) or (N, C) arrays, xyz first.
        pipeline (Sequence[dict], optional): Point transforms; defaults to
            the model's test pipeline (:func:`point_pipeline`).
        batch_size (int): Clouds per forward pass.
        progress (bool): Show a progress bar.

    Returns:
        np.ndarray: (len(clouds), D) float32 L2-normalised embeddings.
    """
    transforms = build_transforms(pipeline or model_pipeline(model))
    out = []
    for start in _batches(len(clouds), batch_size, progress, 'points'):
        batch = []
        for i, cloud in enumerate(clouds[start:start + batch_size]):
            if isinstance(cloud, (str, Path)):
                results = dict(pts_path=str(cloud))
            else:
                results = dict(points=np.asarray(cloud, np.float32),
                               pts_path=f'point cloud #{start + i}')
            for t in transforms:
                results = t(results)
            batch.append(results['inputs']['points'])
        data = model.data_preprocessor(dict(inputs=dict(points=batch)), False)
        out.append(model.encode_points(data['inputs']['points']).float().cpu())
    return _stack(out, model)


@torch.no_grad()
def encode_dataset(model: nn.Module,
                   dataset,
                   batch_size: int = 32,
                   num_workers: int = 0,
                   progress: bool = True) -> np.ndarray:
    """Point embeddings of every item of a dataset, in dataset order.

    The dataset's own pipeline must pack ``inputs['points']`` (e.g. a test
    pipeline ending in ``PackCG3DInputs``).

    Returns:
        np.ndarray: (len(dataset), D) float32 L2-normalised embeddings.
    """
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=False,
        num_workers=num_workers, collate_fn=pseudo_collate)
    out = []
    for batch in tqdm(loader, desc='database', unit='batch', leave=False,
                      disable=not progress or len(loader) < 2):
        data = model.data_preprocessor(batch, False)
        if 'points' not in data['inputs']:
            raise ValueError(f'{type(dataset).__name__}: its pipeline packs '
                             'no points (end it with PackCG3DInputs)')
        out.append(model.encode_points(data['inputs']['points']).float().cpu())
    return _stack(out, model)


def _stack(chunks: List[torch.Tensor], model: nn.Module) -> np.ndarray:
    if not chunks:
        dim = model.head.proj.out_features
        return np.zeros((0, dim), np.float32)
    return torch.cat(chunks).numpy().astype(np.float32, copy=False)


# ----------------------------------------------------------------------
# images
def load_image(path: str) -> np.ndarray:
    """Read an image file as uint8 (H, W, 3) RGB, with a clear error."""
    from PIL import Image, UnidentifiedImageError
    if not osp.isfile(path):
        raise FileNotFoundError(f'image {path} does not exist')
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert('RGB')).copy()
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise ValueError(f'{path}: not an image that can be read (expected '
                         f'PNG, JPEG, ...; {type(err).__name__}: {err})'
                         ) from None


def _as_image(image: ImageLike, index: int) -> np.ndarray:
    if isinstance(image, (str, Path)):
        return load_image(str(image))
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f'image #{index}: expected uint8 (H, W, 3) RGB, got '
                         f'{img.dtype} {img.shape}')
    return img


@torch.no_grad()
def encode_images(model: nn.Module,
                  images: Sequence[ImageLike],
                  batch_size: int = 32,
                  progress: bool = True) -> np.ndarray:
    """Image embeddings through the prompted CLIP image tower.

    Each image is resized on its short side and centre-cropped to the CLIP
    input size (``ResizeImage``), then normalised by the model's data
    preprocessor with the CLIP mean / std.

    Args:
        images (Sequence[str | np.ndarray]): Image files or uint8
            (H, W, 3) RGB arrays.

    Returns:
        np.ndarray: (len(images), D) float32 L2-normalised embeddings.
    """
    from cg3d_mm.datasets.transforms import ResizeImage
    size = model.data_preprocessor.image_size
    resize = ResizeImage(size) if size else None
    out = []
    for start in _batches(len(images), batch_size, progress, 'images'):
        batch = []
        for i, image in enumerate(images[start:start + batch_size]):
            img = _as_image(image, start + i)
            if resize is not None:
                img = resize(dict(img=img))['img']
            batch.append(torch.from_numpy(
                np.ascontiguousarray(img.transpose(2, 0, 1))))
        data = model.data_preprocessor(dict(inputs=dict(imgs=batch)), False)
        out.append(model.encode_images(data['inputs']['imgs']).float().cpu())
    return _stack(out, model)


# ----------------------------------------------------------------------
# texts
@torch.no_grad()
def encode_texts(model: nn.Module,
                 texts: Sequence[str],
                 templates: Optional[Sequence[str]] = None) -> np.ndarray:
    """Text embeddings through the frozen CLIP text tower.

    Args:
        texts (Sequence[str]): Queries or class names.
        templates (Sequence[str], optional): With templates (e.g. the
            model's zero-shot ``model.templates``) each text is a class name
            filled into every template and the embeddings are ensembled
            (mean of L2-normalised, renormalised); without, texts are
            encoded as given.

    Returns:
        np.ndarray: (len(texts), D) float32 L2-normalised embeddings.
    """
    if isinstance(texts, str):
        texts = [texts]
    texts = list(texts)
    bad = [t for t in texts if not isinstance(t, str) or not t.strip()]
    if bad:
        raise ValueError(f'text queries must be non-empty strings, got {bad}')
    if templates:
        emb = model.text_encoder.class_prototypes(texts, list(templates))
    else:
        emb = model.encode_texts(texts)
    return emb.float().cpu().numpy()
