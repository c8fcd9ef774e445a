"""Load a mesh file into one triangle soup with its surface colours.

trimesh reads every supported format; multi-material files (OBJ + MTL,
glTF) come as scenes of parts, which are flattened with their transforms
and concatenated. Colours, per part, first match wins:

1. a texture image with UV coordinates (MTL ``map_Kd`` times ``Kd``, glTF
   ``baseColorTexture`` times ``baseColorFactor``, a PLY's
   ``TextureFile``), kept as a :class:`~cg3d_mm.render.MeshTexture` that
   the renderer and the point sampler look up per pixel / point;
2. vertex colours (PLY / OFF / glTF ``COLOR_0``);
3. face colours (the part's vertices are unmerged so that every face keeps
   its own colour in the per-vertex colour array the renderer interpolates);
4. the material's main colour (MTL ``Kd``, glTF ``baseColorFactor``).

Asset names are resolved by :class:`.AssetResolver` (Windows paths, case
differences, spaces, ShapeNet's ``../images/``). A texture that cannot be
found or read is left out with one warning per mesh: its faces take the
material colour. Parts without any colour are grey, and a mesh without
any colour at all gets ``colors=None`` (the renderer's own grey).
"""
import logging
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, NamedTuple, Optional

import numpy as np
from mmengine.logging import print_log

from cg3d_mm.render import MeshTexture, stack_textures
from cg3d_mm.render.texture import DEFAULT_GREY

UP_AXES = ('y', 'z')
# Larger textures are box-filtered down to this side: less memory per
# worker and less aliasing in 224-pixel views.
MAX_TEXTURE_SIZE = 1024
_GREY_RGB = np.full(3, round(DEFAULT_GREY * 255), np.uint8)


class MeshLoadError(ValueError):
    """A mesh file cannot be used (unreadable, empty, degenerate)."""


@dataclass
class LoadedMesh:
    """A triangle mesh ready to sample and render.

    Attributes:
        vertices (np.ndarray): (V, 3) float64, +y up.
        faces (np.ndarray): (F, 3) int64.
        colors (np.ndarray | None): (V, 3) uint8 per-vertex RGB (the
            material colour on textured faces), or None when the file has
            no colour.
        texture (MeshTexture | None): UVs and images of the textured faces.
        warning (str): What did not fail the mesh but was left out
            (missing or unreadable textures), naming the file; '' if none.
    """
    vertices: np.ndarray
    faces: np.ndarray
    colors: Optional[np.ndarray]
    texture: Optional[MeshTexture] = None
    warning: str = ''


class _Part(NamedTuple):
    vertices: np.ndarray
    faces: np.ndarray
    colors: Optional[np.ndarray]
    texture: Optional[MeshTexture] = None


def _rgb(colors) -> np.ndarray:
    """(N, 3|4) colours of any dtype trimesh returns -> (N, 3) uint8."""
    colors = np.asarray(colors)
    if np.issubdtype(colors.dtype, np.floating) and colors.max(initial=0) \
            <= 1.:
        colors = colors * 255.
    return np.clip(np.round(colors[:, :3].astype(np.float64)), 0,
                   255).astype(np.uint8)


def _is_placeholder(mat) -> bool:
    """trimesh's stand-in material of UVs without one (a grey 2 x 2
    image): not a colour of the file."""
    from trimesh.visual.material import color_image
    image = getattr(mat, 'image', None)
    return (image is not None and image.size == (2, 2) and np.array_equal(
                np.asarray(image), np.asarray(color_image())))


def _texture_array(image) -> np.ndarray:
    """PIL texture -> (H, W, 3) uint8, at most ``MAX_TEXTURE_SIZE`` wide."""
    from PIL import Image
    image = image.convert('RGB')  # decodes: raises on a corrupt file
    scale = MAX_TEXTURE_SIZE / max(image.size)
    if scale < 1:
        size = tuple(max(1, round(s * scale)) for s in image.size)
        image = image.resize(size, Image.BOX)
    return np.asarray(image, np.uint8)


def _material_part(visual, vertices: np.ndarray, faces: np.ndarray,
                   warnings: List[str], images: Dict) -> _Part:
    """A part with a material (cases 1 and 4 of the module doc);
    ``images`` caches converted textures shared by several materials."""
    mat = visual.material
    if mat is None or _is_placeholder(mat):
        return _Part(vertices, faces, None)
    if hasattr(mat, 'baseColorFactor'):  # glTF PBR material
        image, main = mat.baseColorTexture, mat.baseColorFactor
    else:  # MTL: Kd only when the file gives it (trimesh's default is 0.4)
        image = getattr(mat, 'image', None)
        kd = getattr(mat, 'kwargs', {}).get('kd')
        main = None if kd is None else np.resize(
            np.clip(np.asarray(kd, float), 0., 1.), 3)
    main_rgb = None if main is None else np.repeat(
        _rgb(np.reshape(main, (1, -1))), len(vertices), axis=0)
    uv = visual.uv
    if image is None:
        return _Part(vertices, faces, main_rgb)
    name = getattr(mat, 'name', None) or 'texture'
    if uv is None or np.shape(uv) != (len(vertices), 2) or \
            not np.isfinite(uv).all():
        warnings.append(f'material {name!r} has a texture but no valid UV '
                        'coordinates')
        return _Part(vertices, faces, main_rgb)
    key = image.info.get('file_path') or id(image)
    try:
        if key not in images:
            images[key] = _texture_array(image)
        pixels = images[key]
    except Exception as err:  # noqa: B902 - any decoder error: fall back
        warnings.append(f'texture of material {name!r} is unreadable '
                        f'({type(err).__name__}: {err})')
        return _Part(vertices, faces, main_rgb)
    tints = None if main is None else _rgb(np.reshape(main, (1, -1)))
    texture = MeshTexture(uv, [pixels], np.zeros(len(faces), np.int64),
                          tints)
    if main_rgb is None:
        main_rgb = np.tile(_GREY_RGB, (len(vertices), 1))
    return _Part(vertices, faces, main_rgb, texture)


def _part_arrays(part, warnings: List[str], images: Dict) -> _Part:
    """Arrays of one trimesh.Trimesh (see the module doc)."""
    from trimesh.visual.color import ColorVisuals
    vertices = np.asarray(part.vertices, np.float64).reshape(-1, 3)
    faces = np.asarray(part.faces, np.int64).reshape(-1, 3)
    visual = getattr(part, 'visual', None)
    if visual is None or len(faces) == 0:
        return _Part(vertices, faces, None)
    if isinstance(visual, ColorVisuals):
        if visual.kind == 'vertex':
            colors = np.asarray(visual.vertex_colors)
            if len(colors) == len(vertices):
                return _Part(vertices, faces, _rgb(colors))
        elif visual.kind == 'face':
            colors = np.asarray(visual.face_colors)
            if len(colors) == len(faces):
                # unmerge: 3 own vertices per face, all of the face colour
                return _Part(vertices[faces].reshape(-1, 3),
                             np.arange(3 * len(faces)).reshape(-1, 3),
                             np.repeat(_rgb(colors), 3, axis=0))
        return _Part(vertices, faces, None)
    if hasattr(visual, 'material'):
        return _material_part(visual, vertices, faces, warnings, images)
    return _Part(vertices, faces, None)


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

    from .asset_resolver import AssetResolver  # imports trimesh
    resolver = AssetResolver(path)
    trimesh_log = logging.getLogger('trimesh')
    level = trimesh_log.level
    # trimesh logs a traceback per missing texture; one warning of ours
    # below names them all
    trimesh_log.setLevel(logging.ERROR)
    try:
        # process=False: no vertex merging (slow on big meshes, not needed)
        parts = _parts(trimesh.load(path, process=False, resolver=resolver))
    except Exception as err:  # any parser error: name the file, go on
        msg = str(err).strip().splitlines()[0] if str(err).strip() else ''
        raise MeshLoadError(f'{path}: cannot read the mesh '
                            f'({type(err).__name__}: {msg[:200]})') from None
    finally:
        trimesh_log.setLevel(level)
    warnings: List[str] = []
    images: Dict = {}
    arrays = [_part_arrays(p, warnings, images) for p in parts]
    arrays = [a for a in arrays if len(a.faces)]
    if not arrays:
        raise MeshLoadError(f'{path}: no triangle faces (empty mesh, or a '
                            'point cloud / lines only)')
    offsets = np.cumsum([0] + [len(a.vertices) for a in arrays])
    vertices = np.concatenate([a.vertices for a in arrays])
    faces = np.concatenate([a.faces + o for a, o in zip(arrays, offsets)])
    colors = None
    if any(a.colors is not None for a in arrays):
        colors = np.concatenate([
            a.colors if a.colors is not None else np.tile(
                _GREY_RGB, (len(a.vertices), 1)) for a in arrays
        ])
    texture = stack_textures([a.texture for a in arrays],
                             [len(a.vertices) for a in arrays],
                             [len(a.faces) for a in arrays])
    # Drop faces touching NaN / inf vertices instead of failing the mesh.
    bad_vertex = ~np.isfinite(vertices).all(1)
    if bad_vertex.any():
        good = ~bad_vertex[faces].any(1)
        faces = faces[good]
        if texture is not None:
            texture.face_image = texture.face_image[good]
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
    if resolver.unreadable:
        warnings.insert(0, 'unreadable: ' + ', '.join(resolver.unreadable))
    if resolver.missing:
        warnings.insert(0, 'not found: ' + ', '.join(resolver.missing))
    warning = ''
    if warnings:  # once per mesh
        warning = (f'{path}: ' + '; '.join(warnings) +
                   ' (those faces use the material colour)')
        print_log(warning, logger='current', level=30)
    return LoadedMesh(vertices, faces, colors, texture, warning)
