"""Turn one mesh into one CG3D sample: surface points + rendered views.

::

    <out>/shapenet_pc/<synset>-<id>.npy                (N, 3) float32
    <out>/shapenet_pc_rgb/<synset>-<id>.npy            (N, 6) float32
    <out>/shapenet_render/img/<synset>/<id>/000.png .. one PNG per view

``shapenet_pc_rgb`` (optional, ``color_points``) holds the same points
followed by their surface colour (RGB in [0, 1], the texture / vertex /
face colour at the point, looked up as the renderer does per pixel), so
``ShapeNetTriplets(pc_dir='shapenet_pc_rgb')`` with
``LoadPointCloud(use_dims=(0, 1, 2, 3, 4, 5))`` reads coloured points,
while ``shapenet_pc`` stays the (N, 3) file every reader expects.

A sample is built in a private temporary folder under ``<out>/.tmp`` and
moved into place with renames, the views first and the xyz point file
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
from typing import List, Optional, Tuple

import numpy as np
from PIL import Image

from cg3d_mm.render import camera_views, render_mesh, surface_colors

from ..synthetic.sampling import normalize_shapenet, sample_surface
from ..synthetic.seeding import object_rng
from ..synthetic.shapenet import PNG_COMPRESS_LEVEL
from .discovery import MeshRecord
from .mesh_loading import UP_AXES, LoadedMesh, MeshLoadError, load_mesh

PC_DIR = 'shapenet_pc'
PC_RGB_DIR = 'shapenet_pc_rgb'
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
        color_points (bool): Also write the coloured points
            (``shapenet_pc_rgb``).
    """
    num_points: int = 8192
    num_views: int = 5
    image_size: int = 224
    mode: str = 'render'
    fps: bool = False
    up_axis: str = 'y'
    seed: int = 0
    color_points: bool = True

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
    or 'failed' (with the reason); ``warning`` names what a written sample
    left out (missing textures)."""
    name: str
    source: str
    status: str
    reason: str = ''
    seconds: float = 0.
    warning: str = ''


def sample_paths(out: str, record: MeshRecord) -> Tuple[str, str]:
    """(point file, view folder) of a sample under ``out``."""
    return (osp.join(out, PC_DIR, f'{record.name}.npy'),
            osp.join(out, IMG_DIR, record.synset, record.model_id))


def color_points_path(out: str, record: MeshRecord) -> str:
    """The coloured point file of a sample under ``out``."""
    return osp.join(out, PC_RGB_DIR, f'{record.name}.npy')


def _has_points(path: str, shape: Tuple[int, int]) -> bool:
    try:
        pts = np.load(path, mmap_mode='r')  # reads the header only
        ok = pts.shape == shape and pts.dtype == np.float32
        del pts
    except (OSError, ValueError):
        return False
    return ok


def view_file(index: int) -> str:
    return f'{index:03d}.png'


def is_complete(out: str, record: MeshRecord,
                settings: SampleSettings) -> bool:
    """True if the sample has its point file(s) of the right shape and
    dtype and all its views."""
    pts_path, view_dir = sample_paths(out, record)
    n = settings.num_points
    if not _has_points(pts_path, (n, 3)) or (settings.color_points and (
            not _has_points(color_points_path(out, record), (n, 6)))):
        return False
    return all(
        osp.isfile(osp.join(view_dir, view_file(k)))
        for k in range(settings.num_views))


def _barycentric(points: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """(N, 3) weights of points lying in triangles (N, 3, 3)."""
    e1, e2, d = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0], \
        points - tri[:, 0]
    d11, d12, d22 = (e1 * e1).sum(1), (e1 * e2).sum(1), (e2 * e2).sum(1)
    p1, p2 = (d * e1).sum(1), (d * e2).sum(1)
    det = d11 * d22 - d12 * d12  # > 0: sampled faces have an area
    w1 = (d22 * p1 - d12 * p2) / det
    w2 = (d11 * p2 - d12 * p1) / det
    w = np.stack([1. - w1 - w2, w1, w2], 1).clip(0., 1.)  # rounding
    return w / w.sum(1, keepdims=True)


def surface_points(mesh: LoadedMesh, settings: SampleSettings,
                   rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Area-weighted surface samples, optionally farthest-point subsampled,
    in ShapeNetCore v2's normalisation (bounding-box centre at the origin,
    unit diagonal), with their surface colours.

    Returns:
        tuple[np.ndarray, np.ndarray]: points (num_points, 3) float32 and
        their RGB (num_points, 3) float32 in [0, 1] (texture, vertex /
        face colour or grey, as the renderer colours the surface).
    """
    n = settings.num_points
    vertices, faces = mesh.vertices, mesh.faces
    if not settings.fps:
        points, _, face = sample_surface(vertices, faces, n, rng)
    else:
        import torch

        from cg3d_mm.ops import furthest_point_sample
        dense, _, face = sample_surface(vertices, faces,
                                        n * FPS_OVERSAMPLE, rng)
        idx = furthest_point_sample(
            torch.from_numpy(dense[None].astype(np.float32)), n)[0].numpy()
        points, face = dense[idx], face[idx]
    bary = _barycentric(points, vertices[faces[face]])
    rgb = surface_colors(face, bary, faces, mesh.colors, mesh.texture,
                         len(vertices))
    return normalize_shapenet(points).astype(np.float32), rgb


def render_views(mesh: LoadedMesh,
                 settings: SampleSettings) -> List[Image.Image]:
    """The views of the fixed camera set: RGB renders (textures, colours)
    or 'L' depth maps."""
    depth = settings.mode == 'depth'
    images = []
    for view in camera_views(settings.num_views):
        img = render_mesh(
            mesh.vertices,
            mesh.faces,
            None if depth else mesh.colors,
            view=view,
            image_size=settings.image_size,
            mode='depth' if depth else 'shaded',
            texture=None if depth else mesh.texture)
        images.append(Image.fromarray(img[..., 0]) if depth else
                      Image.fromarray(img))
    return images


def _commit(tmp: str, pts_path: str, view_dir: str,
            rgb_path: Optional[str]) -> None:
    """Move a finished sample into place: views first, xyz points last."""
    if osp.lexists(view_dir):  # leftovers of an interrupted sample
        shutil.rmtree(view_dir)
    os.makedirs(osp.dirname(view_dir), exist_ok=True)
    os.rename(osp.join(tmp, 'views'), view_dir)
    if rgb_path is not None:
        os.replace(osp.join(tmp, 'points_rgb.npy'), rgb_path)
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
        points, rgb = surface_points(mesh, settings, rng)
        views = render_views(mesh, settings)
        tmp = tempfile.mkdtemp(prefix=f'{record.name}.', dir=osp.join(
            out, TMP_DIR))
        os.mkdir(osp.join(tmp, 'views'))
        for k, img in enumerate(views):
            img.save(osp.join(tmp, 'views', view_file(k)),
                     compress_level=PNG_COMPRESS_LEVEL)
        rgb_path = None
        if settings.color_points:
            rgb_path = color_points_path(out, record)
            np.save(osp.join(tmp, 'points_rgb.npy'),
                    np.concatenate([points, rgb], 1).astype(np.float32))
        np.save(osp.join(tmp, 'points.npy'), points)
        _commit(tmp, *sample_paths(out, record), rgb_path)
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
                        seconds=time.perf_counter() - start,
                        warning=mesh.warning)
