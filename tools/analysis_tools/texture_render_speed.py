"""Renderer speed with and without textures, old and new code side by side.

Renders the same meshes (5 views, 224 px, the ``prepare_triplets``
setting) with the renderer of an older commit (``--old``, loaded from git
into a temporary package) and with the working tree's, alternating runs so
both see the same machine load, and reports meshes/s:

* untextured meshes (grey, vertex colours, face colours): old vs new;
* the same meshes with a 512 x 512 texture: new only (the old renderer
  had no textures);
* ``prepare_triplets`` end to end (load + points + renders + PNGs) on a
  folder of textured OBJ + MTL, GLB and PLY files, one worker.

Example::

    python tools/analysis_tools/texture_render_speed.py --old 55ba314
"""
import argparse
import importlib
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_old_renderer(rev: str, tmp: str):
    """``cg3d_mm.render`` as of git revision ``rev``, as package
    ``render_<rev>``."""
    names = subprocess.run(
        ['git', 'ls-tree', '--name-only', rev, 'cg3d_mm/render/'],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    pkg = f'render_{rev}'
    os.makedirs(osp.join(tmp, pkg))
    for name in names:
        if name.endswith('.py'):
            src = subprocess.run(['git', 'show', f'{rev}:{name}'], cwd=ROOT,
                                 check=True, capture_output=True,
                                 text=True).stdout
            with open(osp.join(tmp, pkg, osp.basename(name)), 'w') as f:
                f.write(src)
    sys.path.insert(0, tmp)
    return importlib.import_module(pkg)


def meshes() -> List[Dict]:
    """Untextured test meshes with the colour kind each one has."""
    import trimesh
    out = []
    shapes = [('sphere 5k', trimesh.creation.icosphere(4)),
              ('sphere 20k', trimesh.creation.icosphere(5)),
              ('torus', trimesh.creation.torus(0.6, 0.25, 64, 32)),
              ('cylinder', trimesh.creation.cylinder(0.4, 1.2,
                                                     sections=64)),
              ('box', trimesh.creation.box((0.8, 0.5, 0.3)))]
    rng = np.random.default_rng(0)
    for i, (name, m) in enumerate(shapes):
        v, f = np.asarray(m.vertices), np.asarray(m.faces)
        kind = ('grey', 'vertex', 'face')[i % 3]
        colors = None if kind == 'grey' else rng.integers(
            0, 256, (len(v) if kind == 'vertex' else len(f), 3)).astype(
                np.uint8)
        out.append(dict(name=f'{name} ({kind})', v=v, f=f, colors=colors))
    return out


def spherical_uv(v: np.ndarray) -> np.ndarray:
    c = v - v.mean(0)
    r = np.linalg.norm(c, axis=1).clip(1e-9)
    return np.stack([np.arctan2(c[:, 0], c[:, 2]) / (2 * np.pi) + .5,
                     np.arccos((c[:, 1] / r).clip(-1, 1)) / np.pi], 1)


def time_meshes(render: Callable, items: List[Dict], views, repeats: int):
    """Best-of-``repeats`` seconds to render every item's views."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for it in items:
            for view in views:
                render(it, view)
        best = min(best, time.perf_counter() - start)
    return best


def prepare_folder(root: str) -> int:
    """Textured OBJ + MTL, GLB and PLY files under ``root``/<class>/."""
    import trimesh
    from PIL import Image
    from trimesh.visual.material import PBRMaterial
    rng = np.random.default_rng(1)
    count = 0
    for i, m in enumerate([trimesh.creation.icosphere(3),
                           trimesh.creation.torus(0.6, 0.25, 48, 24),
                           trimesh.creation.cylinder(0.4, 1.2, sections=48),
                           trimesh.creation.capsule(1., 0.4)] * 3):
        tex = Image.fromarray(rng.integers(0, 256, (8, 8, 3)).astype(
            np.uint8).repeat(64, 0).repeat(64, 1))
        uv = spherical_uv(np.asarray(m.vertices))
        fmt = ('obj', 'glb', 'ply')[i % 3]
        mat = PBRMaterial(baseColorTexture=tex) if fmt == 'glb' else None
        mesh = trimesh.Trimesh(m.vertices, m.faces, process=False)
        mesh.visual = trimesh.visual.TextureVisuals(uv=uv, image=tex,
                                                    material=mat)
        folder = osp.join(root, f'class{i % 2}', f'm{i}')
        os.makedirs(folder)
        if fmt == 'ply':  # trimesh writes no TextureFile: add it
            tex.save(osp.join(folder, 'tex.png'))
            data = mesh.export(file_type='ply', encoding='ascii')
            data = data.replace(b'ply\nformat ascii 1.0\n',
                                b'ply\nformat ascii 1.0\n'
                                b'comment TextureFile tex.png\n', 1)
            with open(osp.join(folder, 'mesh.ply'), 'wb') as f:
                f.write(data)
        else:
            mesh.export(osp.join(folder, f'mesh.{fmt}'))
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--old', default='55ba314',
                        help='git revision of the renderer before textures')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--image-size', type=int, default=224)
    args = parser.parse_args()
    sys.path.insert(0, ROOT)
    from cg3d_mm.datagen.triplets import prepare_triplets
    from cg3d_mm.render import MeshTexture, camera_views, render_mesh

    tmp = tempfile.mkdtemp()
    old = load_old_renderer(args.old, tmp)
    items = meshes()
    views = camera_views(5)
    size = args.image_size
    texture_img = np.random.default_rng(2).integers(
        0, 256, (16, 16, 3)).astype(np.uint8).repeat(32, 0).repeat(32, 1)
    for it in items:
        it['texture'] = MeshTexture(spherical_uv(it['v']), [texture_img],
                                    np.zeros(len(it['f']), np.int64))

    def run_old(it, view):
        old.render_mesh(it['v'], it['f'], it['colors'], view=view,
                        image_size=size)

    def run_new(it, view):
        render_mesh(it['v'], it['f'], it['colors'], view=view,
                    image_size=size)

    def run_textured(it, view):
        render_mesh(it['v'], it['f'], it['colors'], view=view,
                    image_size=size, texture=it['texture'])

    for it in items:  # same pictures: the untextured path is unchanged
        a = old.render_mesh(it['v'], it['f'], it['colors'], image_size=64)
        b = render_mesh(it['v'], it['f'], it['colors'], image_size=64)
        it['same'] = bool(np.array_equal(a, b))
    t_old, t_new, t_tex = [], [], []
    for it in items:
        one = [it]
        run_old(it, views[0]), run_new(it, views[0])  # warm up
        times = {k: np.inf for k in ('old', 'new', 'tex')}
        for _ in range(args.repeats):  # alternate: same machine load
            for key, fn in (('old', run_old), ('new', run_new),
                            ('tex', run_textured)):
                times[key] = min(times[key],
                                 time_meshes(fn, one, views, 1))
        t_old.append(times['old'])
        t_new.append(times['new'])
        t_tex.append(times['tex'])
        print(f'{it["name"]:24s} {len(it["f"]):6d} faces  old '
              f'{1 / times["old"]:6.2f}  new {1 / times["new"]:6.2f}  '
              f'textured {1 / times["tex"]:6.2f} meshes/s  (new/old time '
              f'{times["new"] / times["old"]:.2f}, same image: '
              f'{it["same"]})')
    n = len(items)
    print(f'all {n} meshes, 5 views of {size} px: untextured old '
          f'{n / sum(t_old):.2f} meshes/s, new {n / sum(t_new):.2f} '
          f'meshes/s (new/old time {sum(t_new) / sum(t_old):.2f}); '
          f'textured {n / sum(t_tex):.2f} meshes/s')

    root = osp.join(tmp, 'meshes')
    count = prepare_folder(root)
    summary = prepare_triplets(root, osp.join(tmp, 'out'), 'folder',
                               workers=1, image_size=size, progress=False)
    print(f'prepare_triplets, {count} textured OBJ/GLB/PLY meshes, 1 '
          f'worker, 5 views of {size} px, 8192 points: '
          f'{summary.written} written, {len(summary.failed)} failed, '
          f'{summary.meshes_per_second:.2f} meshes/s')


if __name__ == '__main__':
    main()
