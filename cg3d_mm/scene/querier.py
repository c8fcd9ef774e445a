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

:func:`~cg3d_mm.scene.outputs.write_query_outputs` writes a coloured PLY
(selected clusters in red), a PNG (input / clusters / result, rendered with
the project's renderer) and a JSON of cluster scores;
:func:`~cg3d_mm.scene.evaluation.evaluate_scene_queries` measures IoU
against ground-truth classes with ``SceneQueryIoU``.
"""
import logging
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.logging import print_log
from torch import nn

from cg3d_mm.apis.inference import (encode_point_clouds, encode_texts,
                                    model_pipeline, model_up_axis,
                                    pipeline_num_points)
from cg3d_mm.datasets.scenes import Scene, load_scene

from .clustering import FEATURES, cluster_scene
from .planes import remove_floor_ceiling


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
        num_points = pipeline_num_points(model_pipeline(self.model))
        if num_points is None:  # a checkpoint is specific to its count
            raise ValueError(
                "the model's test pipeline has no SamplePoints: cannot tell "
                'how many points a cluster must give the encoder')
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
