"""Surface colour lookup shared by the mesh renderer and point colouring.

A surface point is given by its face and barycentric weights; its colour
comes, first match wins, from the face's texture (UVs interpolated with the
weights, bilinear sampling with wrap-around, times the material's tint),
the per-vertex colours (interpolated), the per-face colours, or grey.
The renderer passes the rasteriser's perspective-correct weights, the
point sampler the weights of its samples, so pixels and points of the same
surface get the same colour.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import numpy as np

from .colors import to_rgb_float

DEFAULT_GREY = 0.72


@dataclass
class MeshTexture:
    """UV-mapped texture images of a mesh's faces.

    Attributes:
        uv (np.ndarray): (V, 2) per-vertex texture coordinates, u to the
            right and v up (OBJ / trimesh convention: v = 1 is the image's
            top row); values outside [0, 1] wrap around.
        images (list[np.ndarray]): T uint8 (H, W, 3) RGB images.
        face_image (np.ndarray): (F, ) int64 index into ``images`` per
            face, -1 for faces without a texture (they take the mesh's
            vertex / face colours).
        tints (np.ndarray): (T, 3) float32 in [0, 1], multiplied into each
            image (MTL ``Kd``, glTF ``baseColorFactor``); ones by default.
    """
    uv: np.ndarray
    images: List[np.ndarray]
    face_image: np.ndarray
    tints: Optional[np.ndarray] = field(default=None)

    def __post_init__(self) -> None:
        self.uv = np.asarray(self.uv, np.float64)
        self.face_image = np.asarray(self.face_image, np.int64)
        self.images = [np.asarray(img) for img in self.images]
        if self.uv.ndim != 2 or self.uv.shape[1] != 2:
            raise ValueError(f'texture uv must have shape (V, 2), got '
                             f'{self.uv.shape}')
        if not np.isfinite(self.uv).all():
            raise ValueError('texture uv contain NaN or inf')
        for i, img in enumerate(self.images):
            if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3 \
                    or min(img.shape[:2]) < 1:
                raise ValueError(f'texture image {i} must be uint8 (H, W, '
                                 f'3), got {img.dtype} {img.shape}')
        if self.face_image.ndim != 1 or (self.face_image.size and (
                self.face_image.min() < -1
                or self.face_image.max() >= len(self.images))):
            raise ValueError(
                f'face_image must be (F, ) indices in [-1, '
                f'{len(self.images)}), got shape {self.face_image.shape}')
        if self.tints is None:
            self.tints = np.ones((len(self.images), 3), np.float32)
        self.tints = to_rgb_float(np.asarray(self.tints).reshape(-1, 3),
                                  'texture tints')
        if len(self.tints) != len(self.images):
            raise ValueError(f'{len(self.tints)} texture tints for '
                             f'{len(self.images)} images')

    def check(self, num_vertices: int, num_faces: int) -> None:
        """Raise ValueError unless the texture fits a mesh of this size."""
        if len(self.uv) != num_vertices or len(self.face_image) != num_faces:
            raise ValueError(
                f'texture has {len(self.uv)} uv rows and '
                f'{len(self.face_image)} face_image entries; the mesh has '
                f'{num_vertices} vertices and {num_faces} faces')


def sample_texture(image: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Bilinear texture lookup with wrap-around (repeat) addressing.

    Texel centres sit at ``((i + 0.5) / W, 1 - (j + 0.5) / H)``.

    Args:
        image (np.ndarray): (H, W, 3) uint8 image.
        uv (np.ndarray): (N, 2) texture coordinates.

    Returns:
        np.ndarray: (N, 3) float32 RGB in [0, 1].
    """
    h, w = image.shape[:2]
    x = uv[:, 0] * w - 0.5
    y = (1. - uv[:, 1]) * h - 0.5
    x0, y0 = np.floor(x), np.floor(y)
    # weights pre-scaled to 0..1 output, float32: half the memory traffic
    fx = (x - x0).astype(np.float32)[:, None]
    fy = (y - y0).astype(np.float32)[:, None]
    x0 = x0.astype(np.int64) % w
    y0 = (y0.astype(np.int64) % h) * w
    x1, y1 = (x0 + 1) % w, (y0 + w) % (h * w)
    flat = image.reshape(-1, 3)
    gx = 1. - fx
    top = flat[y0 + x0] * gx + flat[y0 + x1] * fx
    bottom = flat[y1 + x0] * gx + flat[y1 + x1] * fx
    top *= (1. - fy) / 255.
    bottom *= fy / 255.
    top += bottom
    return top


def surface_colors(face_idx: np.ndarray,
                   bary: Optional[np.ndarray],
                   faces: np.ndarray,
                   colors: Optional[np.ndarray] = None,
                   texture: Optional[MeshTexture] = None,
                   num_vertices: Optional[int] = None) -> np.ndarray:
    """Colour of surface points given by face and barycentric weights.

    Args:
        face_idx (np.ndarray): (M, ) face of each point.
        bary (np.ndarray, optional): (M, 3) barycentric weights of the
            face's vertices; needed for vertex colours and textures.
        faces (np.ndarray): (F, 3) int64 faces.
        colors (np.ndarray, optional): Per-vertex (V, 3|4) colours (checked
            first) or per-face (F, 3|4), uint8 0..255 or float 0..1.
        texture (MeshTexture, optional): Textures of (some) faces.
        num_vertices (int, optional): V; defaults to ``faces.max() + 1``.

    Returns:
        np.ndarray: (M, 3) float32 RGB in [0, 1].
    """
    if num_vertices is None:
        num_vertices = int(faces.max()) + 1
    rgb = _base_colors(colors, face_idx, bary, num_vertices, faces)
    if texture is None or not len(face_idx):
        return rgb
    which = texture.face_image[face_idx]
    kinds = np.unique(which)
    for k in kinds[kinds >= 0]:
        # one image on every point (the usual case): no selection copies
        sel = slice(None) if len(kinds) == 1 else np.flatnonzero(which == k)
        corners = faces[face_idx[sel]]  # (S, 3)
        w = bary[sel]
        uv = texture.uv[corners[:, 0]] * w[:, :1]
        uv += texture.uv[corners[:, 1]] * w[:, 1:2]
        uv += texture.uv[corners[:, 2]] * w[:, 2:]
        rgb[sel] = sample_texture(texture.images[k], uv) * texture.tints[k]
    return rgb


def _base_colors(colors: Optional[np.ndarray], face_idx: np.ndarray,
                 bary: Optional[np.ndarray], num_vertices: int,
                 faces: np.ndarray) -> np.ndarray:
    """Vertex / face colours or grey: (M, 3) float32 in [0, 1]."""
    if colors is None:
        return np.full((len(face_idx), 3), DEFAULT_GREY, np.float32)
    colors = np.asarray(colors)
    if colors.ndim != 2 or colors.shape[1] not in (3, 4):
        raise ValueError(f'colors must have shape (N, 3) or (N, 4), got '
                         f'{colors.shape}')
    if len(colors) == num_vertices:
        rgb = to_rgb_float(colors)
        return (rgb[faces[face_idx]] * bary[:, :, None]).sum(1)
    if len(colors) == len(faces):
        if colors.dtype == np.uint8:  # fast path: gather, then convert
            return colors[face_idx, :3].astype(np.float32) / 255.
        return to_rgb_float(colors)[face_idx]
    raise ValueError(f'colors must have one row per vertex ({num_vertices}) '
                     f'or per face ({len(faces)}), got {len(colors)}')


def stack_textures(parts: Sequence[Optional[MeshTexture]],
                   num_vertices: Sequence[int],
                   num_faces: Sequence[int]) -> Optional[MeshTexture]:
    """One texture for meshes concatenated in order (vertex and face
    indices offset as in the concatenation); None if no part has one.

    Args:
        parts (Sequence[MeshTexture | None]): Texture of each part.
        num_vertices (Sequence[int]): Vertices of each part.
        num_faces (Sequence[int]): Faces of each part.

    Returns:
        MeshTexture | None: The stacked texture.
    """
    if all(p is None for p in parts):
        return None
    uv, face_image, images, tints = [], [], [], []
    for part, nv, nf in zip(parts, num_vertices, num_faces):
        if part is None:
            uv.append(np.zeros((nv, 2)))
            face_image.append(np.full(nf, -1, np.int64))
            continue
        part.check(nv, nf)
        uv.append(part.uv)
        face_image.append(
            np.where(part.face_image >= 0, part.face_image + len(images), -1))
        images += part.images
        tints.append(part.tints)
    return MeshTexture(np.concatenate(uv), images,
                       np.concatenate(face_image), np.concatenate(tints))
