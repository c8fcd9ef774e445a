"""Language scene querying (CG3D paper, section 3.4.2 and appendix A).

A scene is split into segments without any training on scenes:

1. floor and ceiling are removed (:func:`remove_floor_ceiling`), as is
   standard for S3DIS segmentation and done by the paper;
2. the remaining points are clustered with seeded k-means on xyz,
   optionally with colour or normals (:func:`cluster_scene`);
3. every cluster is turned from the scene's z-up frame into the model's
   frame, sampled and normalised like a single object by the model's own
   test pipeline, and encoded by the point encoder;
4. clusters are scored by cosine similarity with the text query (class
   names go through the model's zero-shot templates) and the best
   cluster(s) are selected: top-k, or every cluster within ``margin`` of
   the best score.

:func:`write_query_outputs` writes a coloured PLY (selected clusters in
red), a PNG (input / clusters / result, rendered with the project's
renderer) and a JSON of cluster scores; :func:`evaluate_scene_queries`
measures IoU against ground-truth classes with ``SceneQueryIoU``.
"""
import colorsys
import logging
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.logging import print_log
from torch import nn
from tqdm import tqdm

from cg3d_mm.apis.inference import (encode_point_clouds, encode_texts,
                                    model_pipeline, model_up_axis,
                                    pipeline_num_points)
from cg3d_mm.datasets.scenes import Scene, default_query_classes, load_scene
from cg3d_mm.evaluation.metrics.scene_query_iou import SceneQueryIoU
from cg3d_mm.utils.io import atomic_write, atomic_write_json

FEATURES = ('xyz', 'xyz+rgb', 'xyz+normal')
HIGHLIGHT = np.array([230, 30, 30], np.uint8)
REMOVED_GREY = np.array([185, 185, 185], np.uint8)


# ----------------------------------------------------------------------
# floor / ceiling
def _plane_peak(z: np.ndarray, xy: np.ndarray, lo: float, hi: float,
                bin_size: float, min_fraction: float, peak_ratio: float,
                min_extent: float, scene_area: float) -> Optional[float]:
    """Height of a horizontal plane in [lo, hi], or None.

    A floor or ceiling is a spike of the height histogram (walls and
    objects spread over many bins) that holds at least ``min_fraction`` of
    the points, is ``peak_ratio`` times the median bin of the window and spans
    at least ``min_extent`` of the scene's xy bounding box (a table top
    does not).
    """
    sel = (z >= lo) & (z <= hi)
    if sel.sum() == 0:
        return None
    edges = np.arange(lo, hi + bin_size, bin_size)
    if len(edges) < 2:
        edges = np.array([lo, lo + bin_size])
    counts, edges = np.histogram(z[sel], bins=edges)
    best = int(np.argmax(counts))
    # empty bins count: above a bare floor there may be nothing but air
    if counts[best] < min_fraction * len(z) or \
            counts[best] < peak_ratio * np.median(counts):
        return None
    # refine on the peak bin and its neighbours
    a, b = edges[max(best - 1, 0)], edges[min(best + 2, len(edges) - 1)]
    band = (z >= a) & (z <= b)
    peak = (z >= edges[best]) & (z <= edges[best + 1])
    span = xy[peak].max(0) - xy[peak].min(0)
    if scene_area > 0 and span.prod() < min_extent * scene_area:
        return None
    return float(np.median(z[band]))


def remove_floor_ceiling(xyz: np.ndarray,
                         bin_size: float = 0.02,
                         margin: float = 0.04,
                         search_fraction: float = 0.25,
                         min_plane_fraction: float = 0.03,
                         peak_ratio: float = 4.0,
                         min_extent: float = 0.25,
                         up_axis: int = 2) -> Tuple[np.ndarray, dict]:
    """Find the floor and ceiling by a height histogram and drop them.

    The floor is searched in the lowest, the ceiling in the highest
    ``search_fraction`` of the height range (robust 0.5 / 99.5 percentiles);
    see :func:`_plane_peak` for what counts as a plane. Points up to
    ``margin`` above the floor (or below the ceiling), and everything beyond
    them, are removed. A missing plane (e.g. ScanNet scans have no ceiling)
    removes nothing. Assumes a gravity-aligned scene in metres (S3DIS,
    ScanNet); a tilted floor would need RANSAC instead.

    Args:
        xyz (np.ndarray): (N, 3) points.
        bin_size (float): Histogram bin in scene units (metres).
        margin (float): Thickness kept off each plane.
        search_fraction (float): Part of the height range searched.
        min_plane_fraction (float): Minimum share of the points in a plane.
        peak_ratio (float): Minimum peak / median-bin ratio.
        min_extent (float): Minimum xy-extent of a plane, as a fraction of
            the scene's xy bounding-box area.
        up_axis (int): Index of the up axis.

    Returns:
        tuple: ``keep`` (N, ) bool and ``dict(floor_height=...,
        ceiling_height=...)`` (None for a plane not found).
    """
    xyz = np.asarray(xyz, np.float64)
    if xyz.ndim != 2 or xyz.shape[1] < 3 or len(xyz) == 0:
        raise ValueError(f'expected (N, 3) points with N > 0, got '
                         f'{xyz.shape}')
    z = xyz[:, up_axis]
    xy = np.delete(xyz[:, :3], up_axis, axis=1)
    lo, hi = np.percentile(z, [0.5, 99.5])
    height = hi - lo
    keep = np.ones(len(z), bool)
    info = dict(floor_height=None, ceiling_height=None)
    if height <= 2 * margin:
        return keep, info
    span = xy.max(0) - xy.min(0)
    args = (bin_size, min_plane_fraction, peak_ratio, min_extent,
            float(span.prod()))
    floor = _plane_peak(z, xy, z.min(), lo + search_fraction * height, *args)
    ceiling = _plane_peak(z, xy, hi - search_fraction * height, z.max(),
                          *args)
    if floor is not None:
        keep &= z > floor + margin
        info['floor_height'] = floor
    if ceiling is not None:
        keep &= z < ceiling - margin
        info['ceiling_height'] = ceiling
    return keep, info


# ----------------------------------------------------------------------
# clustering
def estimate_normals(xyz: np.ndarray, k: int = 16) -> np.ndarray:
    """Unit normals by PCA of each point's ``k`` nearest neighbours.

    Returns:
        np.ndarray: (N, 3) float32; the sign is arbitrary (use absolute
        values as clustering features).
    """
    from scipy.spatial import cKDTree
    xyz = np.asarray(xyz, np.float64)
    k = int(min(k, len(xyz)))
    if k < 3:
        return np.tile(np.float32([0, 0, 1]), (len(xyz), 1))
    _, nbr = cKDTree(xyz).query(xyz, k=k)
    local = xyz[nbr] - xyz[nbr].mean(axis=1, keepdims=True)
    cov = np.einsum('nki,nkj->nij', local, local)
    _, vecs = np.linalg.eigh(cov)
    return vecs[:, :, 0].astype(np.float32)  # smallest eigenvalue


def cluster_features(xyz: np.ndarray,
                     rgb: Optional[np.ndarray] = None,
                     features: str = 'xyz',
                     color_weight: float = 1.0,
                     normal_weight: float = 1.0,
                     normal_neighbors: int = 16,
                     source: str = 'scene') -> np.ndarray:
    """k-means features: xyz (scene units), plus rgb in [0, 1] times
    ``color_weight`` or |normal| components times ``normal_weight``."""
    if features not in FEATURES:
        raise ValueError(f'features must be one of {FEATURES}, got '
                         f'{features!r}')
    feats = [np.asarray(xyz, np.float32)]
    if features == 'xyz+rgb':
        if rgb is None:
            raise ValueError(f"{source}: features='xyz+rgb' but the scene "
                             'has no colours')
        feats.append(np.asarray(rgb, np.float32) / 255. * color_weight)
    elif features == 'xyz+normal':
        feats.append(np.abs(estimate_normals(xyz, normal_neighbors)) *
                     normal_weight)
    return np.ascontiguousarray(np.concatenate(feats, axis=1),
                                dtype=np.float32)


def kmeans(feats: np.ndarray, k: int, seed: int = 0, iters: int = 30,
           backend: str = 'auto') -> np.ndarray:
    """Seeded k-means; returns (k, F) centres.

    ``backend``: 'faiss', 'sklearn' or 'auto' (faiss if importable).
    """
    feats = np.ascontiguousarray(feats, dtype=np.float32)
    if backend not in ('auto', 'faiss', 'sklearn'):
        raise ValueError(f"kmeans backend must be 'auto', 'faiss' or "
                         f"'sklearn', got {backend!r}")
    if backend in ('auto', 'faiss'):
        try:
            import faiss
        except ImportError:
            if backend == 'faiss':
                raise ImportError('k-means backend faiss is not installed '
                                  '(pip install faiss-cpu)') from None
            backend = 'sklearn'
        else:
            km = faiss.Kmeans(feats.shape[1], int(k), niter=int(iters),
                              seed=int(seed), nredo=1, verbose=False,
                              min_points_per_centroid=1,
                              max_points_per_centroid=1 << 20)
            km.train(feats)
            return km.centroids
    from sklearn.cluster import KMeans
    km = KMeans(n_clusters=int(k), n_init=1, max_iter=int(iters),
                random_state=int(seed)).fit(feats)
    return km.cluster_centers_.astype(np.float32)


def _nearest(centres: np.ndarray, feats: np.ndarray) -> np.ndarray:
    from scipy.spatial import cKDTree
    return cKDTree(centres).query(feats, k=1)[1].astype(np.int64)


def cluster_scene(xyz: np.ndarray,
                  keep: np.ndarray,
                  num_clusters: int,
                  rgb: Optional[np.ndarray] = None,
                  features: str = 'xyz',
                  seed: int = 0,
                  max_fit_points: int = 60_000,
                  backend: str = 'auto',
                  color_weight: float = 1.0,
                  normal_weight: float = 1.0,
                  source: str = 'scene') -> np.ndarray:
    """k-means labels of the kept points.

    k-means is fitted on at most ``max_fit_points`` kept points (a seeded
    random subset); with xyz-only features every point then goes to the
    nearest centre, otherwise to the cluster of its nearest fitted point
    (so normals are only estimated on the subset). Empty clusters are
    dropped and the ids renumbered 0..K'-1 by decreasing size.

    Returns:
        np.ndarray: (N, ) int64 cluster id, -1 for removed points.
    """
    if int(num_clusters) != num_clusters or num_clusters < 1:
        raise ValueError(f'num_clusters must be a positive integer, got '
                         f'{num_clusters}')
    idx = np.nonzero(keep)[0]
    if len(idx) < num_clusters:
        raise ValueError(f'{source}: {len(idx)} points left after removing '
                         f'floor and ceiling, fewer than the {num_clusters} '
                         'clusters requested')
    rng = np.random.default_rng(seed)
    fit = idx if len(idx) <= max_fit_points else np.sort(
        rng.choice(idx, max_fit_points, replace=False))
    fit_rgb = None if rgb is None else rgb[fit]
    feats = cluster_features(xyz[fit], fit_rgb, features, color_weight,
                             normal_weight, source=source)
    centres = kmeans(feats, num_clusters, seed, backend=backend)
    fit_labels = _nearest(centres, feats)
    labels = np.full(len(xyz), -1, np.int64)
    if len(fit) == len(idx):
        labels[idx] = fit_labels
    elif features == 'xyz':
        labels[idx] = _nearest(centres, np.asarray(xyz[idx], np.float32))
    else:
        from scipy.spatial import cKDTree
        nn_fit = cKDTree(xyz[fit]).query(xyz[idx], k=1)[1]
        labels[idx] = fit_labels[nn_fit]
    # renumber by decreasing size, dropping empty clusters
    counts = np.bincount(labels[idx], minlength=len(centres))
    order = [c for c in np.argsort(-counts, kind='stable') if counts[c] > 0]
    remap = np.full(len(centres), -1, np.int64)
    remap[order] = np.arange(len(order))
    labels[idx] = remap[labels[idx]]
    return labels


# ----------------------------------------------------------------------
# encoding and selection
def to_model_frame(xyz: np.ndarray, scene_up: str = 'z',
                   model_up: str = 'y') -> np.ndarray:
    """Rotate points from the scene's up axis to the model's.

    z-up (S3DIS, ScanNet) -> y-up (ShapeNet): ``(x, y, z) -> (x, z, -y)``,
    the inverse of the renderer's y-up -> z-up map.
    """
    if scene_up == model_up:
        return xyz
    if (scene_up, model_up) == ('z', 'y'):
        return np.stack([xyz[:, 0], xyz[:, 2], -xyz[:, 1]], axis=1)
    if (scene_up, model_up) == ('y', 'z'):
        return np.stack([xyz[:, 0], -xyz[:, 2], xyz[:, 1]], axis=1)
    raise ValueError(f'unsupported up axes scene={scene_up!r}, '
                     f'model={model_up!r} (expected y or z)')


def select_clusters(scores: np.ndarray, top_k: int = 1,
                    margin: Optional[float] = None) -> List[int]:
    """Selected cluster ids, best first.

    Args:
        scores (np.ndarray): (K, ) scores, NaN for clusters not scored.
        top_k (int): Clusters kept when ``margin`` is None.
        margin (float, optional): Keep every cluster scoring at least
            ``best - margin`` instead.
    """
    scores = np.asarray(scores, np.float64)
    valid = np.nonzero(np.isfinite(scores))[0]
    if len(valid) == 0:
        return []
    order = valid[np.argsort(-scores[valid], kind='stable')]
    if margin is not None:
        if margin < 0:
            raise ValueError(f'margin must be >= 0, got {margin}')
        best = scores[order[0]]
        return [int(c) for c in order if scores[c] >= best - margin]
    if int(top_k) != top_k or top_k < 1:
        raise ValueError(f'top_k must be a positive integer, got {top_k}')
    return [int(c) for c in order[:int(top_k)]]


@dataclass
class SceneSegmentation:
    """Clusters of one scene.

    Attributes:
        labels (np.ndarray): (N, ) cluster id per point, -1 = removed.
        floor_height, ceiling_height (float, optional): Removed planes.
        sizes (np.ndarray): (K, ) points per cluster.
        centroids (np.ndarray): (K, 3) cluster centroids (scene frame).
    """
    labels: np.ndarray
    floor_height: Optional[float] = None
    ceiling_height: Optional[float] = None
    sizes: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    centroids: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))

    @property
    def num_clusters(self) -> int:
        return len(self.sizes)


@dataclass
class QueryResult:
    """Scores of every cluster for one query and the selection."""
    query: str
    scores: np.ndarray  # (K, ), NaN = not scored (too small)
    selected: List[int]
    segmentation: SceneSegmentation

    @property
    def mask(self) -> np.ndarray:
        """(N, ) bool: points of the selected clusters."""
        return np.isin(self.segmentation.labels, self.selected)

    def to_dict(self) -> dict:
        seg = self.segmentation
        rank = {c: r for r, c in enumerate(np.argsort(
            -np.nan_to_num(self.scores, nan=-np.inf), kind='stable'))}
        clusters = [dict(id=c, size=int(seg.sizes[c]),
                         centroid=[round(float(v), 4)
                                   for v in seg.centroids[c]],
                         score=None if not np.isfinite(self.scores[c])
                         else round(float(self.scores[c]), 6),
                         rank=int(rank[c]) if np.isfinite(self.scores[c])
                         else None,
                         selected=c in self.selected)
                    for c in range(seg.num_clusters)]
        return dict(query=self.query, selected=list(self.selected),
                    floor_height=seg.floor_height,
                    ceiling_height=seg.ceiling_height,
                    num_points=int(len(seg.labels)),
                    num_removed=int((seg.labels < 0).sum()),
                    num_selected_points=int(self.mask.sum()),
                    clusters=clusters)


class SceneQuerier:
    """Cluster a scene once, encode its clusters, answer text queries.

    Args:
        model (nn.Module): CG3D model (from :func:`init_model`).
        num_clusters (int): k of k-means. Defaults to 20.
        features (str): 'xyz', 'xyz+rgb' or 'xyz+normal'.
        seed (int): Seed of the k-means subset, init and padding.
        top_k (int): Clusters selected per query (if ``margin`` is None).
        margin (float, optional): Select all clusters within ``margin`` of
            the best cosine score instead.
        min_cluster_points (int): Smaller clusters are not scored.
        remove_planes (bool): Remove floor and ceiling first.
        plane_cfg (dict, optional): Arguments of
            :func:`remove_floor_ceiling`.
        templates (Sequence[str], optional): Prompt templates for queries;
            defaults to the model's zero-shot templates. ``()`` encodes the
            query text as given.
        kmeans_backend (str): 'auto', 'faiss' or 'sklearn'.
        max_fit_points (int): Points k-means is fitted on.
        color_weight, normal_weight (float): Feature weights.
        scene_up (str): Up axis of the scenes ('z' for S3DIS / ScanNet).
        batch_size (int): Clusters per forward pass.
        progress (bool): Progress bars.
    """

    def __init__(self,
                 model: nn.Module,
                 num_clusters: int = 20,
                 features: str = 'xyz',
                 seed: int = 0,
                 top_k: int = 1,
                 margin: Optional[float] = None,
                 min_cluster_points: int = 50,
                 remove_planes: bool = True,
                 plane_cfg: Optional[dict] = None,
                 templates: Optional[Sequence[str]] = None,
                 kmeans_backend: str = 'auto',
                 max_fit_points: int = 60_000,
                 color_weight: float = 1.0,
                 normal_weight: float = 1.0,
                 scene_up: str = 'z',
                 batch_size: int = 16,
                 progress: bool = True) -> None:
        if features not in FEATURES:
            raise ValueError(f'features must be one of {FEATURES}, got '
                             f'{features!r}')
        self.model = model
        self.num_clusters = int(num_clusters)
        self.features = features
        self.seed = int(seed)
        self.top_k = top_k
        self.margin = margin
        self.min_cluster_points = int(min_cluster_points)
        self.remove_planes = remove_planes
        self.plane_cfg = dict(plane_cfg or {})
        self.templates = (getattr(model, 'templates', None)
                          if templates is None else tuple(templates))
        self.kmeans_backend = kmeans_backend
        self.max_fit_points = int(max_fit_points)
        self.color_weight = color_weight
        self.normal_weight = normal_weight
        self.scene_up = scene_up
        self.batch_size = batch_size
        self.progress = progress

    # -- steps ---------------------------------------------------------
    def segment(self, scene: Scene) -> SceneSegmentation:
        """Remove floor / ceiling and cluster the rest."""
        if scene.num_points == 0:
            raise ValueError(f'{scene.path}: the scene has no points')
        if self.remove_planes:
            keep, planes = remove_floor_ceiling(scene.xyz, **self.plane_cfg)
        else:
            keep = np.ones(scene.num_points, bool)
            planes = dict(floor_height=None, ceiling_height=None)
        labels = cluster_scene(
            scene.xyz, keep, self.num_clusters, scene.rgb, self.features,
            self.seed, self.max_fit_points, self.kmeans_backend,
            self.color_weight, self.normal_weight, source=scene.path)
        k = int(labels.max()) + 1
        kept = labels >= 0
        sizes = np.bincount(labels[kept], minlength=k)
        sums = np.stack([np.bincount(labels[kept], scene.xyz[kept, d], k)
                         for d in range(3)], axis=1)
        return SceneSegmentation(labels=labels, sizes=sizes,
                                 centroids=sums / sizes[:, None], **planes)

    def cluster_clouds(self, scene: Scene, seg: SceneSegmentation
                       ) -> Tuple[List[int], List[np.ndarray]]:
        """Scored cluster ids and their points in the model's frame, with
        at least the model's point count (small clusters repeat points,
        large ones are randomly thinned to 16x before the pipeline's FPS)."""
        num_points = pipeline_num_points(model_pipeline(self.model)) or 1024
        rng = np.random.default_rng(self.seed)
        model_up = model_up_axis(self.model)
        ids, clouds = [], []
        order = np.argsort(seg.labels, kind='stable')
        bounds = np.searchsorted(seg.labels[order],
                                 np.arange(seg.num_clusters + 1))
        for c in range(seg.num_clusters):
            if seg.sizes[c] < self.min_cluster_points:
                continue
            pts = scene.xyz[order[bounds[c]:bounds[c + 1]]]
            if len(pts) < num_points:
                extra = rng.integers(len(pts), size=num_points - len(pts))
                pts = np.concatenate([pts, pts[extra]])
            elif len(pts) > 16 * num_points:
                pts = pts[np.sort(rng.choice(len(pts), 16 * num_points,
                                             replace=False))]
            ids.append(c)
            clouds.append(to_model_frame(pts, self.scene_up, model_up))
        return ids, clouds

    def embed_clusters(self, scene: Scene, seg: SceneSegmentation
                       ) -> np.ndarray:
        """(K, D) cluster embeddings, NaN rows for unscored clusters."""
        ids, clouds = self.cluster_clouds(scene, seg)
        dim = self.model.head.proj.out_features
        out = np.full((seg.num_clusters, dim), np.nan, np.float32)
        if ids:
            out[ids] = encode_point_clouds(self.model, clouds,
                                           batch_size=self.batch_size,
                                           progress=self.progress)
        return out

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        """(Q, D) text embeddings of the queries."""
        return encode_texts(self.model, list(queries), self.templates)

    def run(self, scene: Union[Scene, str],
            queries: Union[str, Sequence[str]]) -> List[QueryResult]:
        """Segment ``scene`` once and answer every query.

        Returns:
            list[QueryResult]: One per query, in order.
        """
        if isinstance(scene, str):
            scene = load_scene(scene)
        if isinstance(queries, str):
            queries = [queries]
        if not queries:
            raise ValueError('no query given')
        seg = self.segment(scene)
        clusters = self.embed_clusters(scene, seg)
        texts = self.embed_queries(queries)
        if not np.isfinite(clusters).all(axis=1).any():
            print_log(f'{scene.path}: no cluster has {self.min_cluster_points}'
                      ' points; nothing can be selected', logger='current',
                      level=logging.WARNING)
        results = []
        for query, text in zip(queries, texts):
            scores = clusters @ text  # cosine: both L2-normalised
            results.append(QueryResult(
                query=query, scores=scores,
                selected=select_clusters(scores, self.top_k, self.margin),
                segmentation=seg))
        return results

    def settings(self) -> dict:
        return dict(num_clusters=self.num_clusters, features=self.features,
                    seed=self.seed, top_k=self.top_k, margin=self.margin,
                    min_cluster_points=self.min_cluster_points,
                    remove_planes=self.remove_planes,
                    plane_cfg=self.plane_cfg,
                    templates=list(self.templates or []),
                    checkpoint=getattr(self.model, 'checkpoint_path', None))


# ----------------------------------------------------------------------
# outputs
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
    from cg3d_mm.render import make_contact_sheet, render_points
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


# ----------------------------------------------------------------------
# evaluation
def best_cluster_iou(labels: np.ndarray, gt_mask: np.ndarray) -> float:
    """IoU of the single best cluster with ``gt_mask`` (an upper bound of
    top-1 selection given the clustering)."""
    kept = labels >= 0
    k = int(labels.max()) + 1 if kept.any() else 0
    if k == 0 or not gt_mask.any():
        return 0.0
    sizes = np.bincount(labels[kept], minlength=k)
    inter = np.bincount(labels[kept & gt_mask], minlength=k)
    union = sizes + gt_mask.sum() - inter
    return float((inter / union).max())


def evaluate_scene_queries(querier: SceneQuerier,
                           scene_paths: Sequence[str],
                           classes: Optional[Sequence[str]] = None,
                           min_gt_points: int = 50,
                           progress: bool = True) -> dict:
    """IoU of class queries over scenes (``SceneQueryIoU``).

    Each scene is clustered once; every class of ``classes`` (default: the
    dataset's object classes, e.g. table / chair / sofa / bookcase for
    S3DIS) with at least ``min_gt_points`` ground-truth points in the
    scene is queried by its name.

    Returns:
        dict: ``metrics`` (mIoU, per-class IoU, oracle mIoU in percent),
        ``queries`` (one entry per scene and class), ``num_scenes``.
    """
    metric = SceneQueryIoU()
    inner, querier.progress = querier.progress, False  # one bar: scenes
    try:
        _evaluate_scenes(querier, scene_paths, classes, min_gt_points,
                         progress, metric)
    finally:
        querier.progress = inner
    if not metric.results:
        raise ValueError(f'no scene had any of the classes {classes} with '
                         f'>= {min_gt_points} points')
    used = len({r['scene'] for r in metric.results})
    metric.evaluate(len(metric.results))
    summary = dict(metric.last_summary)
    summary['num_scenes'] = used
    summary['settings'] = querier.settings()
    return summary


def _evaluate_scenes(querier: SceneQuerier, scene_paths: Sequence[str],
                     classes: Optional[Sequence[str]], min_gt_points: int,
                     progress: bool, metric: SceneQueryIoU) -> None:
    for path in tqdm(scene_paths, desc='scenes', unit='scene',
                     disable=not progress):
        scene = load_scene(path)
        if scene.semantic is None:
            raise ValueError(f'{path}: evaluation needs the semantic mask '
                             '(semantic_mask/<scene>.bin next to points/)')
        wanted = list(classes) if classes else default_query_classes(
            scene.dataset)
        present = set(scene.classes_present(min_gt_points))
        queries = [c for c in wanted if c in present]
        if not queries:
            continue
        for c, res in zip(queries, querier.run(scene, queries)):
            gt = scene.class_mask(c)
            metric.process(None, [dict(
                scene=scene.name, query=c, pred_mask=res.mask, gt_mask=gt,
                oracle_iou=best_cluster_iou(res.segmentation.labels, gt))])
