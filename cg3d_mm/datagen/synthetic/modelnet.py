"""ModelNet40 / ModelNet10 layout (PointNet++'s normal-resampled release).

::

    modelnet40_normal_resampled/
      <class>/<class>_XXXX.txt      10,000 lines 'x,y,z,nx,ny,nz' ('%.6f')
      modelnet40_shape_names.txt    generated ModelNet40 classes, sorted
      modelnet40_train.txt / modelnet40_test.txt    ids like 'chair_0001'
      modelnet10_shape_names.txt / modelnet10_train.txt / modelnet10_test.txt
                                    the generated ModelNet10 classes
      filelist.txt                  '<class>/<class>_XXXX.txt' for all files

Shape-name lists contain only the classes that were generated (a subset of
the real 40 / 10), so label indices follow the generated list. Train ids come
first (0001..), test ids follow, as in the real release. Points are centred
on their centroid and scaled into the unit sphere; normals are unit face
normals.
"""
import os.path as osp
from dataclasses import dataclass
from typing import List, Sequence

import numpy as np

from .categories import MODELNET10_CLASSES, CategoryInfo
from .fileio import format_csv_6f, makedirs, write_lines
from .sampling import normalize_unit_sphere, sample_surface
from .seeding import object_rng
from .shapes import build_shape

MODELNET_DIR = 'modelnet40_normal_resampled'
POINTS_PER_SHAPE = 10000
TEST_FRACTION = 0.2


@dataclass(frozen=True)
class ModelNetTask:
    """One ModelNet object to write."""
    category: str
    modelnet_class: str
    index: int  # 1-based, as in the file names
    split: str


def modelnet_tasks(categories: Sequence[CategoryInfo],
                   shapes_per_class: int) -> List[ModelNetTask]:
    """All objects of the layout (categories with a ModelNet40 name)."""
    n_test = max(1, int(round(TEST_FRACTION * shapes_per_class)))
    n_train = shapes_per_class - n_test
    return [
        ModelNetTask(c.name, c.modelnet40, i + 1,
                     'train' if i < n_train else 'test') for c in categories
        if c.modelnet40 for i in range(shapes_per_class)
    ]


def shape_id(task: ModelNetTask) -> str:
    """'<class>_XXXX' id of an object."""
    return f'{task.modelnet_class}_{task.index:04d}'


def write_modelnet_object(root: str, task: ModelNetTask, seed: int) -> None:
    """Build one object and write its 10,000 x 6 text file."""
    rng = object_rng(seed, 'modelnet', task.category, task.index)
    vertices, faces, _ = build_shape(task.category, rng).to_mesh()
    points, normals, _ = sample_surface(vertices, faces, POINTS_PER_SHAPE, rng)
    data = np.concatenate([normalize_unit_sphere(points), normals], 1)
    path = osp.join(root, MODELNET_DIR, task.modelnet_class,
                    f'{shape_id(task)}.txt')
    with open(path, 'wb') as f:
        f.write(format_csv_6f(data))


def prepare_modelnet(root: str, tasks: Sequence[ModelNetTask]) -> None:
    """Create the class directories."""
    for cls in sorted({t.modelnet_class for t in tasks}):
        makedirs(osp.join(root, MODELNET_DIR, cls))


def write_modelnet_index(root: str, tasks: Sequence[ModelNetTask]) -> None:
    """Write the shape-name and split lists of ModelNet40 and ModelNet10."""
    base = osp.join(root, MODELNET_DIR)
    ordered = sorted(tasks, key=lambda t: (t.modelnet_class, t.index))
    classes40 = sorted({t.modelnet_class for t in tasks})
    classes10 = [c for c in classes40 if c in MODELNET10_CLASSES]
    for prefix, classes in (('modelnet40', classes40), ('modelnet10',
                                                        classes10)):
        write_lines(osp.join(base, f'{prefix}_shape_names.txt'), classes)
        for split in ('train', 'test'):
            write_lines(
                osp.join(base, f'{prefix}_{split}.txt'), [
                    shape_id(t) for t in ordered
                    if t.split == split and t.modelnet_class in classes
                ])
    write_lines(
        osp.join(base, 'filelist.txt'),
        [f'{t.modelnet_class}/{shape_id(t)}.txt' for t in ordered])
