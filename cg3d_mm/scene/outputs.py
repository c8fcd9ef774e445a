"""What a scene query leaves on disk: a coloured PLY (selected clusters in
red), a PNG of input / clusters / result and a JSON of cluster scores."""
import colorsys
import os
import os.path as osp
from typing import Dict, Optional, Tuple

import numpy as np

from cg3d_mm.datasets.scenes import Scene
from cg3d_mm.render import make_contact_sheet, render_points
from cg3d_mm.utils.io import atomic_write, atomic_write_json

from .querier import QueryResult

HIGHLIGHT = np.array([230, 30, 30], np.uint8)
REMOVED_GREY = np.array([185, 185, 185], np.uint8)


def cluster_palette(k: int) -> np.ndarray:
    """(k, 3) uint8 distinct colours (golden-ratio hues)."""
    hues = (np.arange(k) * 0.618033988749895) % 1.0
    rgb = np.array([colorsys.hsv_to_rgb(h, 0.65, 0.9) for h in hues])
    return (rgb.reshape(-1, 3) * 255).round().astype(np.uint8)


def query_colors(scene: Scene, result: QueryResult) -> np.ndarray:
    """(N, 3) uint8: selected clusters red, other points greyed."""
    base = scene.rgb if scene.rgb is not None else np.full(
        (scene.num_points, 3), 150, np.uint8)
    grey = base.astype(np.float32).mean(axis=1, keepdims=True)
    colors = (0.45 * base + 0.55 * (0.5 * grey + 100)).astype(np.uint8)
    colors[result.segmentation.labels < 0] = REMOVED_GREY
    colors[result.mask] = HIGHLIGHT
    return colors


def _write_ply(path: str, scene: Scene, colors: np.ndarray,
               labels: np.ndarray, selected: np.ndarray) -> None:
    from plyfile import PlyData, PlyElement
    vertex = np.empty(scene.num_points, dtype=[
        ('x', 'f4'), ('y', 'f4'), ('z', 'f4'), ('red', 'u1'),
        ('green', 'u1'), ('blue', 'u1'), ('cluster', 'i4'),
        ('selected', 'u1')])
    for i, a in enumerate('xyz'):
        vertex[a] = scene.xyz[:, i]
    for i, c in enumerate(('red', 'green', 'blue')):
        vertex[c] = colors[:, i]
    vertex['cluster'] = labels
    vertex['selected'] = selected
    ply = PlyData([PlyElement.describe(vertex, 'vertex')], text=False)
    atomic_write(path, ply.write)


def render_query(scene: Scene, result: QueryResult, image_size: int = 384,
                 view: Tuple[float, float] = (30., 60.), point_size: int = 2,
                 max_points: int = 200_000, seed: int = 0) -> np.ndarray:
    """Input / clusters / result panels of a query as one uint8 image.

    The ceiling is left out so that the room can be seen from above.
    """
    seg = result.segmentation
    show = np.ones(scene.num_points, bool)
    if seg.ceiling_height is not None:
        show &= scene.xyz[:, 2] < seg.ceiling_height - 0.1
    idx = np.nonzero(show)[0]
    if len(idx) > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(
            idx, max_points, replace=False))
    labels = seg.labels[idx]
    base = scene.rgb[idx] if scene.rgb is not None else np.full(
        (len(idx), 3), 150, np.uint8)
    palette = cluster_palette(max(seg.num_clusters, 1))
    clusters = np.where(labels[:, None] >= 0, palette[np.maximum(labels, 0)],
                        REMOVED_GREY)
    result_colors = query_colors(scene, result)[idx]
    panels = [render_points(scene.xyz[idx], c, view=view,
                            image_size=image_size, point_size=point_size,
                            up_axis='z')
              for c in (base, clusters, result_colors)]
    best = result.selected[0] if result.selected else None
    score = '' if best is None else f' {result.scores[best]:.2f}'
    return make_contact_sheet(
        panels, nrow=3,
        labels=['input', f'{seg.num_clusters} clusters',
                f'"{result.query}"{score}'])


def write_query_outputs(scene: Scene, result: QueryResult, out_prefix: str,
                        extra: Optional[dict] = None,
                        image_size: int = 384) -> Dict[str, str]:
    """Write ``<prefix>.ply``, ``<prefix>.png`` and ``<prefix>.json``.

    Returns:
        dict: Paths by kind ('ply', 'png', 'json').
    """
    from PIL import Image
    paths = dict(ply=out_prefix + '.ply', png=out_prefix + '.png',
                 json=out_prefix + '.json')
    os.makedirs(osp.dirname(osp.abspath(out_prefix)), exist_ok=True)
    mask = result.mask
    _write_ply(paths['ply'], scene, query_colors(scene, result),
               result.segmentation.labels, mask.astype(np.uint8))
    image = Image.fromarray(render_query(scene, result, image_size))
    atomic_write(paths['png'], lambda f: image.save(f, format='PNG'))
    info = dict(scene=scene.name, scene_path=scene.path, **result.to_dict())
    info.update(extra or {})
    info['outputs'] = paths
    atomic_write_json(paths['json'], info)
    return paths
