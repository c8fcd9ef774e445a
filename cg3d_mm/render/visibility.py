"""Which surface points a camera sees (simulated partial scans)."""
import numpy as np

from .camera import Camera
from .rasterizer import rasterize


def visible_points(points: np.ndarray,
                   vertices: np.ndarray,
                   faces: np.ndarray,
                   camera: Camera,
                   image_size: int = 256,
                   tolerance: float = 0.02) -> np.ndarray:
    """Mask of the points not hidden by the mesh from ``camera``.

    The mesh is rasterised into a depth buffer; a point is visible when it
    projects into the image and is no deeper than the buffer plus
    ``tolerance`` (points sampled on the mesh itself lie on the buffer).

    Args:
        points (np.ndarray): (N, 3) points, usually sampled on the mesh.
        vertices (np.ndarray): (V, 3) mesh vertices (same frame as points).
        faces (np.ndarray): (F, 3) mesh faces.
        camera (Camera): The scanning camera.
        image_size (int): Depth-buffer resolution; coarser buffers make
            thin occluders leak.
        tolerance (float): Depth slack in world units.

    Returns:
        np.ndarray: (N, ) bool mask.
    """
    points = np.asarray(points, np.float64)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f'points must have shape (N, 3), got {points.shape}')
    size = int(image_size)
    depth = rasterize(vertices, faces, camera, size, with_bary=False).depth
    uv, z = camera.project(points, size)
    col = np.floor(uv[:, 0]).astype(np.int64)
    row = np.floor(uv[:, 1]).astype(np.int64)
    inside = (col >= 0) & (col < size) & (row >= 0) & (row < size) & (z > 0)
    visible = np.zeros(len(points), bool)
    buf = depth[row[inside], col[inside]]
    visible[inside] = z[inside] <= buf + tolerance
    return visible
