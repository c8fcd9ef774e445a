"""Seeded k-means over a scene's points: the segments a scene query
scores. Features are xyz, optionally with colour or (unsigned) normals."""
from typing import Optional

import numpy as np
from scipy.spatial import cKDTree

FEATURES = ('xyz', 'xyz+rgb', 'xyz+normal')


def estimate_normals(xyz: np.ndarray, k: int = 16) -> np.ndarray:
    """Unit normals by PCA of each point's ``k`` nearest neighbours.

    Returns:
        np.ndarray: (N, 3) float32; the sign is arbitrary (use absolute
        values as clustering features).
    """
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
        nn_fit = cKDTree(xyz[fit]).query(xyz[idx], k=1)[1]
        labels[idx] = fit_labels[nn_fit]
    # renumber by decreasing size, dropping empty clusters
    counts = np.bincount(labels[idx], minlength=len(centres))
    order = [c for c in np.argsort(-counts, kind='stable') if counts[c] > 0]
    remap = np.full(len(centres), -1, np.int64)
    remap[order] = np.arange(len(order))
    labels[idx] = remap[labels[idx]]
    return labels
