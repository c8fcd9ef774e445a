"""Writers of small datasets in the real on-disk layouts, shared by tests
(numpy, PIL and h5py only)."""
import os
import os.path as osp
import pickle

import numpy as np

from cg3d_mm.datasets.scanobjectnn import VARIANTS


def write_tiny_shapenet(root, classes=('chair', 'table', 'lamp', 'mug'),
                        per_class=4, num_points=256, image_size=32, views=2,
                        seed=0):
    """A small ShapeNet/CG3D layout written with numpy + PIL only.

    Each class is a distinct point distribution (so a model can tell them
    apart) and each view a distinct flat colour.
    """
    import json

    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(seed)
    root = str(root)
    os.makedirs(osp.join(root, 'shapenet_pc'), exist_ok=True)
    synsets = {c: f'{i:08d}' for i, c in enumerate(classes)}
    splits = {'train': [], 'val': [], 'test': []}
    for ci, c in enumerate(classes):
        for j in range(per_class):
            model_id = f'm{ci}{j:03d}'
            name = f'{synsets[c]}-{model_id}'
            pts = rng.normal(size=(num_points, 3)).astype(np.float32)
            pts[:, ci % 3] *= 3.0 + ci  # class-specific elongation
            np.save(osp.join(root, 'shapenet_pc', name + '.npy'), pts)
            view_dir = osp.join(root, 'shapenet_render', 'img', synsets[c],
                                model_id)
            os.makedirs(view_dir, exist_ok=True)
            for v in range(views):
                img = np.full((image_size, image_size, 3),
                              (40 * ci + 10 * v) % 255, np.uint8)
                img[::4] = 255 - img[::4]
                Image.fromarray(img).save(osp.join(view_dir, f'{v:03d}.png'))
            split = ('train' if j < per_class - 2 else
                     'val' if j == per_class - 2 else 'test')
            splits[split].append(name + '.npy')
    for split, lines in splits.items():
        with open(osp.join(root, f'{split}_img.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    with open(osp.join(root, 'shape_names.txt'), 'w') as f:
        f.write('\n'.join(classes) + '\n')
    with open(osp.join(root, 'taxonomy.json'), 'w') as f:
        json.dump({s: f'{c},{c}s' for c, s in synsets.items()}, f)
    return root


MN40 = ('airplane', 'bed', 'chair', 'flower_pot', 'night_stand', 'toilet')
MN10 = ('bed', 'chair', 'night_stand', 'toilet')


def _cloud(rng, label, n, cols=6):
    pts = rng.normal(size=(n, cols)).astype(np.float32)
    pts[:, label % 3] *= 2.0 + label  # class-specific elongation
    return pts


def write_modelnet(root, classes=MN40, classes10=MN10, train=1, test=2,
                   rows=1200, seed=0):
    """modelnet40_normal_resampled with ``%.6f`` comma rows, as released."""
    rng = np.random.default_rng(seed)
    root = str(root)
    os.makedirs(root, exist_ok=True)
    ids = {'train': [], 'test': []}
    for ci, c in enumerate(classes):
        os.makedirs(osp.join(root, c), exist_ok=True)
        for i in range(train + test):
            shape_id = f'{c}_{i + 1:04d}'
            np.savetxt(osp.join(root, c, shape_id + '.txt'),
                       _cloud(rng, ci, rows), fmt='%.6f', delimiter=',')
            ids['train' if i < train else 'test'].append(shape_id)
    for prefix, names in (('modelnet40', classes), ('modelnet10',
                                                    classes10)):
        with open(osp.join(root, f'{prefix}_shape_names.txt'), 'w') as f:
            f.write('\n'.join(names) + '\n')
        for split, lines in ids.items():
            keep = [s for s in lines if s.rpartition('_')[0] in names]
            with open(osp.join(root, f'{prefix}_{split}.txt'), 'w') as f:
                f.write('\n'.join(keep) + '\n')
    return root


def write_modelnet_dat(path, num=5, num_classes=len(MN40), rows=300, seed=1,
                       protocol=4):
    """A Point-BERT style ``.dat``: [list of (N, 6) arrays, labels]."""
    rng = np.random.default_rng(seed)
    labels = [np.array([i % num_classes], np.int32) for i in range(num)]
    points = [_cloud(rng, int(lab[0]), rows) for lab in labels]
    with open(path, 'wb') as f:
        pickle.dump([points, labels], f, protocol=protocol)
    return points, labels


def write_scanobjectnn(root, sizes=None, points=512, seed=0):
    """The six h5 files; ``sizes`` maps (variant, split) -> N (0: absent)."""
    import h5py
    rng = np.random.default_rng(seed)
    sizes = sizes or {}
    written = {}
    for variant, (folder, pattern) in VARIANTS.items():
        for split, name in (('train', 'training'), ('test', 'test')):
            n = sizes.get((variant, split), 6 if split == 'test' else 3)
            if not n:
                continue
            labels = rng.integers(0, 15, n)
            data = np.stack([_cloud(rng, int(lab), points, 3)
                             for lab in labels])
            os.makedirs(osp.join(str(root), folder), exist_ok=True)
            path = osp.join(str(root), folder, pattern.format(split=name))
            with h5py.File(path, 'w') as f:
                f.create_dataset('data', data=data)
                f.create_dataset('label', data=labels.astype(np.uint8))
            written[(variant, split)] = (data, labels)
    return written


TINY_POINTMLP = dict(type='PointMLP', embed_channels=8,
                     num_anchors=(64, 32, 16, 8), num_neighbors=8,
                     pre_blocks=(1, 1, 1, 1), pos_blocks=(1, 1, 1, 1))


def write_tiny_modelnet(root, classes=('cone', 'plate', 'rod'), per_split=(
        4, 2), rows=1100, seed=0):
    """A tiny ModelNet40 text layout whose classes differ in shape."""
    rng = np.random.default_rng(seed)
    base = osp.join(str(root), 'modelnet40_normal_resampled')
    os.makedirs(base, exist_ok=True)
    lists = dict(train=[], test=[])
    n = 0
    for ci, c in enumerate(classes):
        os.makedirs(osp.join(base, c), exist_ok=True)
        for split, count in zip(('train', 'test'), per_split):
            for _ in range(count):
                n += 1
                xyz = rng.normal(size=(rows, 3))
                xyz[:, ci] *= 5  # elongated along the class's axis
                pts = np.concatenate([xyz, np.zeros((rows, 3))], 1)
                name = f'{c}_{n:04d}'
                np.savetxt(osp.join(base, c, f'{name}.txt'), pts, fmt='%.4f',
                           delimiter=',')
                lists[split].append(name)
    for split, names in lists.items():
        with open(osp.join(base, f'modelnet40_{split}.txt'), 'w') as f:
            f.write('\n'.join(names) + '\n')
    with open(osp.join(base, 'modelnet40_shape_names.txt'), 'w') as f:
        f.write('\n'.join(classes) + '\n')
    return str(root)


class RunsCode:
    """Pickles to a call of ``os.system`` that touches ``marker``: what a
    malicious checkpoint or data file does when it is unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))
