"""ShapeNet55 layout (Point-BERT points + CG3D renders).

::

    ShapeNet55/
      shapenet_pc/<synset>-<id>.npy            8192 x 3 float32
      shapenet_pc_rgb/<synset>-<id>.npy        8192 x 6 float32: the same
                                               xyz + RGB in [0, 1]
      shapenet_render/img/<synset>/<id>/000.png .. (num_views - 1) PNGs,
                                               RGB image_size^2
      train_img.txt, val_img.txt, test_img.txt lines '<synset>-<id>.npy'
      shape_names.txt                          class names, by synset
      taxonomy.json                            synset -> 'name1,name2,...'

Only categories that ShapeNetCore has (``in_shapenet``) are written.
Points use ShapeNetCore v2's normalisation (bounding-box centre at the
origin, unit diagonal). ``shapenet_pc_rgb`` is the coloured twin that
``tools/prepare_triplets.py`` writes for real meshes (same folder name and
format): each point's colour is the colour of the face it was sampled on,
the face colour the renderer paints.
"""
import json
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Sequence

import numpy as np
from PIL import Image

from cg3d_mm.render import camera_views, render_mesh

from .categories import CategoryInfo
from .fileio import makedirs, write_lines
from .sampling import normalize_shapenet, sample_surface
from .seeding import model_id, object_rng, split_indices
from .shapes import build_shape

SHAPENET_DIR = 'ShapeNet55'
PC_DIR = 'shapenet_pc'
PC_RGB_DIR = 'shapenet_pc_rgb'
POINTS_PER_SHAPE = 8192
SPLIT_FRACTIONS = {'train': 0.7, 'val': 0.1, 'test': 0.2}
# PNG zlib level: deterministic at any level; 1 (fastest) trades a little
# file size for much less compression time than the default 6.
PNG_COMPRESS_LEVEL = 1


@dataclass(frozen=True)
class ShapeNetTask:
    """One ShapeNet object to write."""
    category: str
    synset: str
    index: int
    model_id: str


def shapenet_tasks(categories: Sequence[CategoryInfo], shapes_per_class: int,
                   seed: int) -> List[ShapeNetTask]:
    """All objects of the layout (ShapeNetCore categories only)."""
    return [
        ShapeNetTask(c.name, c.synset, i, model_id(seed, c.name, i))
        for c in categories if c.in_shapenet for i in range(shapes_per_class)
    ]


def write_shapenet_object(root: str, task: ShapeNetTask, seed: int,
                          image_size: int, num_views: int) -> None:
    """Build one object, write its point clouds (xyz, xyz + RGB) and its
    renders."""
    base = osp.join(root, SHAPENET_DIR)
    rng = object_rng(seed, 'shapenet', task.category, task.index)
    vertices, faces, colors = build_shape(task.category, rng).to_mesh()
    points, _, face = sample_surface(vertices, faces, POINTS_PER_SHAPE, rng)
    xyz = normalize_shapenet(points).astype(np.float32)
    name = f'{task.synset}-{task.model_id}.npy'
    np.save(osp.join(base, PC_DIR, name), xyz)
    np.save(osp.join(base, PC_RGB_DIR, name),
            np.concatenate([xyz, face_rgb(colors, face)], 1))
    img_dir = osp.join(base, 'shapenet_render', 'img', task.synset,
                       task.model_id)
    makedirs(img_dir)
    for k, view in enumerate(camera_views(num_views)):
        img = render_mesh(
            vertices,
            faces,
            colors,
            view=view,
            image_size=image_size,
            cull_backfaces=True)
        Image.fromarray(img).save(
            osp.join(img_dir, f'{k:03d}.png'),
            compress_level=PNG_COMPRESS_LEVEL)


def face_rgb(colors: np.ndarray, face: np.ndarray) -> np.ndarray:
    """RGB in [0, 1] of points sampled on ``face``: (M, 3) float32.

    Args:
        colors (np.ndarray): (F, 3) uint8 face colours (``Shape.to_mesh``).
        face (np.ndarray): (M, ) face of each point (``sample_surface``).
    """
    # the renderer's conversion of uint8 face colours (surface_colors)
    return colors[face, :3].astype(np.float32) / np.float32(255.)


def prepare_shapenet(root: str) -> None:
    """Create the layout's directories."""
    base = osp.join(root, SHAPENET_DIR)
    makedirs(osp.join(base, PC_DIR))
    makedirs(osp.join(base, PC_RGB_DIR))
    makedirs(osp.join(base, 'shapenet_render', 'img'))


def write_shapenet_index(root: str, categories: Sequence[CategoryInfo],
                         tasks: Sequence[ShapeNetTask], seed: int) -> None:
    """Write the split lists, shape_names.txt and taxonomy.json."""
    base = osp.join(root, SHAPENET_DIR)
    cats = sorted((c for c in categories if c.in_shapenet),
                  key=lambda c: c.synset)
    by_cat: Dict[str, List[ShapeNetTask]] = {}
    for t in tasks:
        by_cat.setdefault(t.category, []).append(t)
    lines: Dict[str, List[str]] = {name: [] for name in SPLIT_FRACTIONS}
    for c in cats:
        items = sorted(by_cat[c.name], key=lambda t: t.index)
        parts = split_indices(len(items), SPLIT_FRACTIONS, seed, c.name)
        for name, idx in parts.items():
            lines[name] += [
                f'{items[i].synset}-{items[i].model_id}.npy' for i in idx
            ]
    for name, entries in lines.items():
        write_lines(osp.join(base, f'{name}_img.txt'), sorted(entries))
    write_lines(osp.join(base, 'shape_names.txt'), [c.name for c in cats])
    with open(osp.join(base, 'taxonomy.json'), 'w') as f:
        json.dump({c.synset: c.taxonomy for c in cats}, f, indent=2)
        f.write('\n')
