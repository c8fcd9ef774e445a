"""Turn one mesh into one CG3D sample: surface points + rendered views.

::

    <out>/shapenet_pc/<synset>-<id>.npy                (N, 3) float32
    <out>/shapenet_render/img/<synset>/<id>/000.png .. one PNG per view

A sample is built in a private temporary folder under ``<out>/.tmp`` and
moved into place with two renames, the views first and the point file
last: a point file therefore means a finished sample, and an interrupted
run never leaves a half-written one (leftover views without their point
file are redone). The result depends only on the mesh and the settings, so
any number of worker processes writes the same bytes.
"""
import os
import os.path as osp
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import List, Tuple

import numpy as np
from PIL import Image

from cg3d_mm.render import camera_views, render_mesh

from ..synthetic.sampling import normalize_shapenet, sample_surface
from ..synthetic.seeding import object_rng
from ..synthetic.shapenet import PNG_COMPRESS_LEVEL
from .discovery import MeshRecord
from .mesh_loading import UP_AXES, MeshLoadError, load_mesh

PC_DIR = 'shapenet_pc'
IMG_DIR = osp.join('shapenet_render', 'img')
TMP_DIR = '.tmp'
IMAGE_MODES = ('render', 'depth')
# --fps: farthest point subsampling of a sample this many times denser.
FPS_OVERSAMPLE = 4


@dataclass(frozen=True)
class SampleSettings:
    """Everything a sample's bytes depend on.

    Args:
        num_points (int): Points per sample.
        num_views (int): Rendered views per sample (the camera set of
            :func:`camera_views`).
        image_size (int): Side of the square views in pixels.
        mode (str): 'render' (shaded RGB, mesh colours) or 'depth' (grey
            depth maps, near = bright, CG3D-depth).
        fps (bool): Farthest point subsampling of a
            ``FPS_OVERSAMPLE`` x denser area-weighted sample instead of
            the area-weighted sample itself.
        up_axis (str): Up axis of the input meshes ('y' or 'z').
        seed (int): Seed of the point sampling.
    """
    num_points: int = 8192
    num_views: int = 5
    image_size: int = 224
    mode: str = 'render'
    fps: bool = False
    up_axis: str = 'y'
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ('num_points', 'num_views', 'image_size'):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(
                    value, (int, np.integer)) or value < 1:
                raise ValueError(f'{name} must be a positive integer, got '
                                 f'{value!r}')
        if self.mode not in IMAGE_MODES:
            raise ValueError(f'mode must be one of {IMAGE_MODES}, got '
                             f'{self.mode!r}')
        if self.up_axis not in UP_AXES:
            raise ValueError(f'up_axis must be one of {UP_AXES}, got '
                             f'{self.up_axis!r}')
        if isinstance(self.seed, bool) or not isinstance(
                self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f'seed must be a non-negative integer, got '
                             f'{self.seed!r}')

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SampleResult:
    """Outcome of one mesh: status 'written', 'skipped' (already complete)
    or 'failed' (with the reason)."""
    name: str
    source: str
    status: str
    reason: str = ''
    seconds: float = 0.


def sample_paths(out: str, record: MeshRecord) -> Tuple[str, str]:
    """(point file, view folder) of a sample under ``out``."""
    return (osp.join(out, PC_DIR, f'{record.name}.npy'),
            osp.join(out, IMG_DIR, record.synset, record.model_id))


def view_file(index: int) -> str:
    return f'{index:03d}.png'


def is_complete(out: str, record: MeshRecord,
                settings: SampleSettings) -> bool:
    """True if the sample has its point file of the right shape and dtype
    and all its views."""
    pts_path, view_dir = sample_paths(out, record)
    try:
        pts = np.load(pts_path, mmap_mode='r')  # reads the header only
        ok = pts.shape == (settings.num_points, 3) and \
            pts.dtype == np.float32
        del pts
    except (OSError, ValueError):
        return False
    return ok and all(
        osp.isfile(osp.join(view_dir, view_file(k)))
        for k in range(settings.num_views))


def surface_points(vertices: np.ndarray, faces: np.ndarray,
                   settings: SampleSettings,
                   rng: np.random.Generator) -> np.ndarray:
    """Area-weighted surface samples, optionally farthest-point subsampled,
    in ShapeNetCore v2's normalisation (bounding-box centre at the origin,
    unit diagonal).

    Returns:
        np.ndarray: (num_points, 3) float32.
    """
    n = settings.num_points
    if not settings.fps:
        points = sample_surface(vertices, faces, n, rng)[0]
    else:
        import torch

        from cg3d_mm.ops import furthest_point_sample
        dense = sample_surface(vertices, faces, n * FPS_OVERSAMPLE, rng)[0]
        idx = furthest_point_sample(
            torch.from_numpy(dense[None].astype(np.float32)), n)[0].numpy()
        points = dense[idx]
    return normalize_shapenet(points).astype(np.float32)


def render_views(vertices: np.ndarray, faces: np.ndarray, colors,
                 settings: SampleSettings) -> List[Image.Image]:
    """The views of the fixed camera set: RGB renders or 'L' depth maps."""
    depth = settings.mode == 'depth'
    images = []
    for view in camera_views(settings.num_views):
        img = render_mesh(
            vertices,
            faces,
            None if depth else colors,
            view=view,
            image_size=settings.image_size,
            mode='depth' if depth else 'shaded')
        images.append(Image.fromarray(img[..., 0]) if depth else
                      Image.fromarray(img))
    return images


def _commit(tmp: str, pts_path: str, view_dir: str) -> None:
    """Move a finished sample into place: views first, point file last."""
    if osp.lexists(view_dir):  # leftovers of an interrupted sample
        shutil.rmtree(view_dir)
    os.makedirs(osp.dirname(view_dir), exist_ok=True)
    os.rename(osp.join(tmp, 'views'), view_dir)
    os.replace(osp.join(tmp, 'points.npy'), pts_path)


def write_sample(out: str, record: MeshRecord,
                 settings: SampleSettings) -> SampleResult:
    """Write one sample unless it is complete; never raises for a bad mesh.

    Args:
        out (str): Output root (with ``.tmp/``, ``shapenet_pc/`` and
            ``shapenet_render/img/`` already made).
        record (MeshRecord): The mesh.
        settings (SampleSettings): Sampling and rendering settings.

    Returns:
        SampleResult: what happened, with the failure reason (naming the
        mesh file) if any.
    """
    start = time.perf_counter()
    if is_complete(out, record, settings):
        return SampleResult(record.name, record.path, 'skipped')
    tmp = None
    try:
        mesh = load_mesh(record.path, settings.up_axis)
        rng = object_rng(settings.seed, 'shapenet', record.name)
        points = surface_points(mesh.vertices, mesh.faces, settings, rng)
        views = render_views(mesh.vertices, mesh.faces, mesh.colors,
                             settings)
        tmp = tempfile.mkdtemp(prefix=f'{record.name}.', dir=osp.join(
            out, TMP_DIR))
        os.mkdir(osp.join(tmp, 'views'))
        for k, img in enumerate(views):
            img.save(osp.join(tmp, 'views', view_file(k)),
                     compress_level=PNG_COMPRESS_LEVEL)
        np.save(osp.join(tmp, 'points.npy'), points)
        _commit(tmp, *sample_paths(out, record))
    except MeshLoadError as err:
        return SampleResult(record.name, record.path, 'failed', str(err),
                            time.perf_counter() - start)
    except Exception as err:  # noqa: B902 - one bad mesh must not stop a run
        reason = f'{record.path}: {type(err).__name__}: {err}'
        return SampleResult(record.name, record.path, 'failed', reason,
                            time.perf_counter() - start)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return SampleResult(record.name, record.path, 'written',
                        seconds=time.perf_counter() - start)
