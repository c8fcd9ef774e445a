"""Load a mesh file into one triangle soup with its surface colours.

trimesh reads every supported format; multi-material files (OBJ + MTL,
glTF) come as scenes of parts, which are flattened with their transforms
and concatenated. Colours, per part, first match wins:

1. vertex colours (PLY / OFF / glTF ``COLOR_0``);
2. face colours (the part's vertices are unmerged so that every face keeps
   its own colour in the per-vertex colour array the renderer interpolates);
3. a texture sampled at the vertices' UV coordinates (trimesh's
   ``uv_to_color``, as in ``TextureVisuals.to_color()``; glTF's base colour
   factor multiplies it, as the glTF spec says);
4. the material's main colour (MTL ``Kd``, glTF ``baseColorFactor``).

Parts without any of these are grey, and a mesh without any colour at all
gets ``colors=None`` (the renderer's own grey).
"""
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

from cg3d_mm.render.mesh_renderer import DEFAULT_GREY

UP_AXES = ('y', 'z')
_GREY_RGB = np.full(3, round(DEFAULT_GREY * 255), np.uint8)


class MeshLoadError(ValueError):
    """A mesh file cannot be used (unreadable, empty, degenerate)."""


@dataclass
class LoadedMesh:
    """A triangle mesh ready to sample and render.

    Attributes:
        vertices (np.ndarray): (V, 3) float64, +y up.
        faces (np.ndarray): (F, 3) int64.
        colors (np.ndarray | None): (V, 3) uint8 per-vertex RGB, or None
            when the file has no colour.
    """
    vertices: np.ndarray
    faces: np.ndarray
    colors: Optional[np.ndarray]


def _rgb(colors) -> np.ndarray:
    """(N, 3|4) colours of any dtype trimesh returns -> (N, 3) uint8."""
    colors = np.asarray(colors)
    if np.issubdtype(colors.dtype, np.floating) and colors.max(initial=0) \
            <= 1.:
        colors = colors * 255.
    return np.clip(np.round(colors[:, :3].astype(np.float64)), 0,
                   255).astype(np.uint8)


def _material_colors(visual, num_vertices: int) -> Optional[np.ndarray]:
    """Colours of a textured / material part (cases 3 and 4 above)."""
    from trimesh.visual.color import uv_to_color
    mat = visual.material
    if mat is None:
        return None
    is_pbr = hasattr(mat, 'baseColorFactor')  # glTF material
    if is_pbr:
        image, main = mat.baseColorTexture, mat.baseColorFactor
    else:
        image, main = getattr(mat, 'image', None), getattr(
            mat, 'main_color', None)
    uv = visual.uv
    if image is not None and uv is not None and len(uv) == num_vertices:
        rgb = _rgb(uv_to_color(uv, image))
        if is_pbr and main is not None:
            factor = _rgb(np.reshape(main, (1, -1))).astype(np.float64)
            rgb = np.round(rgb * factor / 255.).astype(np.uint8)
        return rgb
    if main is None:
        return None
    return np.repeat(_rgb(np.reshape(main, (1, -1))), num_vertices, axis=0)


def _part_arrays(part) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """(vertices, faces, colors or None) of one trimesh.Trimesh."""
    from trimesh.visual.color import ColorVisuals
    vertices = np.asarray(part.vertices, np.float64).reshape(-1, 3)
    faces = np.asarray(part.faces, np.int64).reshape(-1, 3)
    visual = getattr(part, 'visual', None)
    if visual is None or len(faces) == 0:
        return vertices, faces, None
    if isinstance(visual, ColorVisuals):
        if visual.kind == 'vertex':
            colors = np.asarray(visual.vertex_colors)
            if len(colors) == len(vertices):
                return vertices, faces, _rgb(colors)
        elif visual.kind == 'face':
            colors = np.asarray(visual.face_colors)
            if len(colors) == len(faces):
                # unmerge: 3 own vertices per face, all of the face colour
                return (vertices[faces].reshape(-1, 3),
                        np.arange(3 * len(faces)).reshape(-1, 3),
                        np.repeat(_rgb(colors), 3, axis=0))
        return vertices, faces, None
    if hasattr(visual, 'material'):
        return vertices, faces, _material_colors(visual, len(vertices))
    return vertices, faces, None


def _parts(loaded) -> List:
    """The triangle meshes of whatever ``trimesh.load`` returned."""
    import trimesh
    if isinstance(loaded, trimesh.Scene):
        geoms = loaded.dump(concatenate=False) if len(loaded.geometry) \
            else []
    else:
        geoms = [loaded]
    return [g for g in geoms if isinstance(g, trimesh.Trimesh)]


def load_mesh(path: str, up_axis: str = 'y') -> LoadedMesh:
    """Read a mesh file (.obj + .mtl, .off, .ply, .glb, .gltf, .stl).

    Args:
        path (str): Mesh file.
        up_axis (str): The file's up axis, 'y' (ShapeNet, glTF) or 'z'
            (raw ModelNet); z-up meshes are turned to +y up.

    Returns:
        LoadedMesh: vertices, faces and colours (see the module doc).

    Raises:
        MeshLoadError: unreadable file, no triangles, only NaN/inf vertices
            or zero surface area; the message names the file.
    """
    if up_axis not in UP_AXES:
        raise ValueError(f'up_axis must be one of {UP_AXES}, got {up_axis!r}')
    if not osp.isfile(path):
        raise MeshLoadError(f'{path}: mesh file does not exist')
    import trimesh
    try:
        # process=False: no vertex merging (slow on big meshes, not needed)
        parts = _parts(trimesh.load(path, process=False))
    except Exception as err:  # any parser error: name the file, go on
        msg = str(err).strip().splitlines()[0] if str(err).strip() else ''
        raise MeshLoadError(f'{path}: cannot read the mesh '
                            f'({type(err).__name__}: {msg[:200]})') from None
    arrays = [_part_arrays(p) for p in parts]
    arrays = [a for a in arrays if len(a[1])]
    if not arrays:
        raise MeshLoadError(f'{path}: no triangle faces (empty mesh, or a '
                            'point cloud / lines only)')
    offsets = np.cumsum([0] + [len(v) for v, _, _ in arrays])
    vertices = np.concatenate([v for v, _, _ in arrays])
    faces = np.concatenate([f + o for (_, f, _), o in zip(arrays, offsets)])
    colors = None
    if any(c is not None for _, _, c in arrays):
        colors = np.concatenate([
            c if c is not None else np.tile(_GREY_RGB, (len(v), 1))
            for v, _, c in arrays
        ])
    # Drop faces touching NaN / inf vertices instead of failing the mesh.
    bad_vertex = ~np.isfinite(vertices).all(1)
    if bad_vertex.any():
        faces = faces[~bad_vertex[faces].any(1)]
        vertices = np.where(bad_vertex[:, None], 0., vertices)
        if not len(faces):
            raise MeshLoadError(f'{path}: every face has a NaN or inf '
                                'vertex')
    tri = vertices[faces]
    area = np.linalg.norm(
        np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    if not area.sum() > 0:
        raise MeshLoadError(f'{path}: the mesh has zero surface area '
                            f'({len(faces)} degenerate faces)')
    if up_axis == 'z':  # z-up -> y-up: (x, y, z) -> (x, z, -y)
        vertices = np.stack(
            [vertices[:, 0], vertices[:, 2], -vertices[:, 1]], 1)
    return LoadedMesh(vertices, faces, colors)
