"""The README's picture of textured renders: each row is one mesh file
(OBJ + MTL with a Windows texture path, GLB with a baseColorTexture, PLY
with texture coordinates), showing its texture image, two of the views
``prepare_triplets`` writes, and its coloured surface points.

Example::

    python tools/analysis_tools/texture_renders_figure.py \\
        docs/textured_renders.png
"""
import argparse
import os
import os.path as osp
import sys
import tempfile

import numpy as np
from PIL import Image

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TILE = 160


def bricks(size=256) -> np.ndarray:
    """Red bricks with light mortar, 8 courses."""
    img = np.empty((size, size, 3), np.uint8)
    img[:] = (225, 215, 195)
    h, w = size // 8, size // 4
    rng = np.random.default_rng(0)
    for r in range(8):
        shift = w // 2 if r % 2 else 0
        for c in range(-1, 5):
            x0, y0 = c * w + shift + 3, r * h + 3
            tone = int(rng.integers(-30, 30))
            img[y0:y0 + h - 6, max(x0, 0):max(min(x0 + w - 6, size), 0)] = (
                175 + tone, 60 + tone // 2, 40)
    return img


def logo(size=256) -> np.ndarray:
    """Blue / white / green bands and a yellow disc."""
    y, x = np.mgrid[:size, :size] / size
    img = np.empty((size, size, 3), np.uint8)
    img[:] = (245, 245, 245)
    img[y < 1 / 3] = (30, 80, 200)
    img[y > 2 / 3] = (40, 170, 70)
    img[(x - .5)**2 + (y - .5)**2 < .04] = (250, 200, 30)
    return img


def checker(size=256, cells=8) -> np.ndarray:
    """Orange / purple checkerboard."""
    y, x = np.mgrid[:size, :size] * cells // size
    img = np.where(((x + y) % 2 == 0)[..., None], [240, 130, 20],
                   [110, 40, 170])
    return img.astype(np.uint8)


def seamless(vertices: np.ndarray, faces: np.ndarray, uv_of,
             periodic=(True, True)):
    """Unmerged vertices (3 per face) and their UVs from ``uv_of(points)``
    with periodic coordinates made continuous inside each face (u + 1 is
    the same texel under wrap-around sampling)."""
    v = vertices[faces].reshape(-1, 3)
    uv = uv_of(v).reshape(-1, 3, 2)
    jump = (np.ptp(uv, axis=1, keepdims=True) > .5) & np.array(periodic)
    uv = np.where(jump & (uv < .5), uv + 1., uv)
    return v, np.arange(len(v)).reshape(-1, 3), uv.reshape(-1, 2)


def box_uv(vertices: np.ndarray, faces: np.ndarray):
    """Each box side mapped onto the whole texture (planar per side)."""
    v = vertices[faces]  # (F, 3, 3)
    n = np.abs(np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0]))
    axis = n.argmax(1)
    lo, ext = vertices.min(0), np.ptp(vertices, 0)
    uv = np.empty((len(faces), 3, 2))
    for k, (a, b) in enumerate(((2, 1), (0, 2), (0, 1))):
        sel = axis == k
        uv[sel, :, 0] = (v[sel, :, a] - lo[a]) / ext[a]
        uv[sel, :, 1] = (v[sel, :, b] - lo[b]) / ext[b]
    return (v.reshape(-1, 3), np.arange(3 * len(faces)).reshape(-1, 3),
            uv.reshape(-1, 2))


def write_meshes(folder: str):
    """(mesh file, texture) of the three examples."""
    import trimesh
    from trimesh.visual.material import PBRMaterial
    out = []
    # OBJ + MTL: a box, planar UVs per side, a Windows texture path
    box = trimesh.creation.box((1., .7, .6))
    v, f, uv = box_uv(np.asarray(box.vertices), np.asarray(box.faces))
    lines = ['mtllib house.mtl']
    lines += [f'v {x} {y} {z}' for x, y, z in v]
    lines += [f'vt {s} {t}' for s, t in uv]
    lines += ['usemtl wall']
    lines += [f'f {a}/{a} {b}/{b} {c}/{c}' for a, b, c in f + 1]
    with open(osp.join(folder, 'house.obj'), 'w') as fh:
        fh.write('\n'.join(lines) + '\n')
    with open(osp.join(folder, 'house.mtl'), 'w') as fh:
        fh.write('newmtl wall\nKd 1 1 1\nmap_Kd .\\Bricks.JPG\n')
    Image.fromarray(bricks()).save(osp.join(folder, 'bricks.jpg'),
                                   quality=92)
    out.append((osp.join(folder, 'house.obj'), bricks()))
    # GLB: an upright cylinder with a baseColorTexture
    cyl = trimesh.creation.cylinder(.45, 1.1, sections=64)
    cyl.apply_transform(trimesh.transformations.rotation_matrix(
        -np.pi / 2, [1, 0, 0]))  # z-up -> y-up

    def around_y(p):
        # v kept off 0 and 1, which wrap-around sampling blends: the caps
        # take the top and bottom rows' colours
        return np.stack([np.arctan2(p[:, 0], p[:, 2]) / (2 * np.pi) + .5,
                         (p[:, 1] + .55) / 1.1 * .96 + .02], 1)

    v, f, uv = seamless(np.asarray(cyl.vertices), np.asarray(cyl.faces),
                        around_y, periodic=(True, False))
    mesh = trimesh.Trimesh(v, f, process=False)
    mesh.visual = trimesh.visual.TextureVisuals(
        uv=uv,
        material=PBRMaterial(baseColorTexture=Image.fromarray(logo()),
                             baseColorFactor=[255, 255, 255, 255]))
    mesh.export(osp.join(folder, 'can.glb'))
    out.append((osp.join(folder, 'can.glb'), logo()))
    # PLY with texture coordinates and a TextureFile comment
    torus = trimesh.creation.torus(.6, .25, 64, 32)
    torus.apply_transform(trimesh.transformations.rotation_matrix(
        -np.pi / 2, [1, 0, 0]))  # ring around y

    def ring_tube(p):
        ring = np.arctan2(p[:, 0], p[:, 2]) / (2 * np.pi) + .5
        tube = np.arctan2(p[:, 1], np.hypot(p[:, 0], p[:, 2]) - .6)
        return np.stack([ring, tube / (2 * np.pi) + .5], 1)

    v, f, uv = seamless(np.asarray(torus.vertices), np.asarray(torus.faces),
                        ring_tube)
    uv[:, 0] *= 2  # the checkerboard twice around the ring
    Image.fromarray(checker()).save(osp.join(folder, 'checker.png'))
    ply = ['ply', 'format ascii 1.0', 'comment TextureFile checker.png',
           f'element vertex {len(v)}', 'property float x',
           'property float y', 'property float z', 'property float s',
           'property float t', f'element face {len(f)}',
           'property list uchar int vertex_indices', 'end_header']
    ply += [f'{x:.6f} {y:.6f} {z:.6f} {s:.6f} {t:.6f}'
            for (x, y, z), (s, t) in zip(v, uv)]
    ply += [f'3 {a} {b} {c}' for a, b, c in f]
    with open(osp.join(folder, 'ring.ply'), 'w') as f:
        f.write('\n'.join(ply) + '\n')
    out.append((osp.join(folder, 'ring.ply'), checker()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out', help='PNG to write')
    args = parser.parse_args()
    sys.path.insert(0, ROOT)
    from cg3d_mm.datagen.triplets.mesh_loading import load_mesh
    from cg3d_mm.datagen.triplets.sample_writer import (SampleSettings,
                                                        render_views,
                                                        surface_points)
    from cg3d_mm.render import make_contact_sheet, render_points

    settings = SampleSettings(num_points=8192, num_views=5,
                              image_size=TILE)
    tiles, labels = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for path, texture in write_meshes(tmp):
            mesh = load_mesh(path)
            views = render_views(mesh, settings)
            points, rgb = surface_points(mesh, settings,
                                         np.random.default_rng(0))
            cloud = render_points(points, rgb, image_size=TILE,
                                  point_size=2)
            name = osp.basename(path)
            tiles += [np.asarray(Image.fromarray(texture).resize(
                (TILE, TILE), Image.BILINEAR))] + [
                    np.asarray(views[k]) for k in (0, 2)] + [cloud]
            labels += [f'{name}: texture', 'view 0', 'view 2',
                       'coloured points']
    sheet = make_contact_sheet(tiles, nrow=4, labels=labels)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    Image.fromarray(sheet).save(args.out, optimize=True)
    print(f'{args.out}: {sheet.shape[1]} x {sheet.shape[0]}, '
          f'{osp.getsize(args.out) / 1024:.0f} KB')


if __name__ == '__main__':
    main()
