"""The virtual cameras shared by every renderer of the project.

A camera sits on a sphere around the origin and looks at it. Objects are
expected in the ShapeNetCore v2 frame (+y up, the object's front facing -z);
scenes (S3DIS) are z-up, which ``up_axis='z'`` handles by the usual
y-up -> z-up map ``(x, y, z) -> (x, -z, y)``.
"""
from dataclasses import dataclass
from functools import cached_property
from typing import List, Sequence, Tuple

import numpy as np

PROJECTIONS = ('perspective', 'orthographic')
UP_AXES = ('y', 'z')

# y-up -> z-up: rotation of +90 degrees about x.
_Y_TO_Z_UP = np.array([[1., 0., 0.], [0., 0., -1.], [0., 1., 0.]])


def _check_choice(value: str, choices: Sequence[str], name: str) -> None:
    if value not in choices:
        raise ValueError(f'{name} must be one of {tuple(choices)}, '
                         f'got {value!r}')


@dataclass(frozen=True)
class Camera:
    """A camera on a sphere of radius ``distance`` looking at the origin.

    Azimuth 0 with elevation 0 looks at the object's front; the azimuth
    turns the camera towards +x, the elevation lifts it towards +up.

    Args:
        azimuth (float): Azimuth in degrees.
        elevation (float): Elevation in degrees, in [-90, 90].
        distance (float): Distance to the origin, in world units. The
            default frames the unit sphere with a small margin.
        fov (float): Vertical = horizontal field of view in degrees
            (perspective projection only).
        projection (str): 'perspective' or 'orthographic'.
        ortho_extent (float): Half the image side in world units
            (orthographic projection only).
        up_axis (str): World up axis, 'y' (ShapeNet, ModelNet) or 'z'
            (S3DIS, ScanNet).
    """
    azimuth: float = 0.
    elevation: float = 0.
    distance: float = 2.7
    fov: float = 45.
    projection: str = 'perspective'
    ortho_extent: float = 1.05
    up_axis: str = 'y'

    def __post_init__(self) -> None:
        _check_choice(self.projection, PROJECTIONS, 'projection')
        _check_choice(self.up_axis, UP_AXES, 'up_axis')
        if not -90. <= float(self.elevation) <= 90.:
            raise ValueError('elevation must be in [-90, 90] degrees, got '
                             f'{self.elevation}')
        if not self.distance > 0:
            raise ValueError(f'distance must be > 0, got {self.distance}')
        if not 0. < self.fov < 180.:
            raise ValueError(
                f'fov must be in (0, 180) degrees, got {self.fov}')

    @cached_property
    def rotation(self) -> np.ndarray:
        """World -> camera rotation, rows (right, up, forward): (3, 3)."""
        az, el = np.deg2rad(self.azimuth), np.deg2rad(self.elevation)
        # In the y-up frame; the up vector is d(position)/d(elevation), which
        # stays defined straight above the object.
        forward = -np.array(
            [np.cos(el) * np.sin(az),
             np.sin(el), -np.cos(el) * np.cos(az)])
        up = np.array(
            [-np.sin(el) * np.sin(az),
             np.cos(el),
             np.sin(el) * np.cos(az)])
        right = np.cross(forward, up)
        rot = np.stack([right, up, forward])
        if self.up_axis == 'z':
            rot = rot @ _Y_TO_Z_UP.T
        return rot

    @cached_property
    def position(self) -> np.ndarray:
        """Camera centre in world coordinates: (3, )."""
        return -self.distance * self.rotation[2]

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (N, 3) -> camera frame (N, 3): x right, y up,
        z = depth along the viewing direction."""
        return (np.asarray(points, np.float64) - self.position) @ \
            self.rotation.T

    def focal(self, image_size: int) -> float:
        """Pixels per unit of x/z (perspective) or of x (orthographic)."""
        if self.projection == 'perspective':
            return image_size / 2. / np.tan(np.deg2rad(self.fov) / 2.)
        return image_size / 2. / self.ortho_extent

    def project(self, points: np.ndarray,
                image_size: int) -> Tuple[np.ndarray, np.ndarray]:
        """Project world points to pixel coordinates.

        Args:
            points (np.ndarray): World points, (N, 3).
            image_size (int): Square image side in pixels.

        Returns:
            tuple[np.ndarray, np.ndarray]: Pixel coordinates (N, 2) as
            (column, row) with pixel centres at half-integers, and depth
            (N, ) along the viewing direction.
        """
        cam = self.to_camera(points)
        depth = cam[:, 2]
        f = self.focal(image_size)
        if self.projection == 'perspective':
            safe = np.where(depth > 1e-9, depth, 1e-9)
            x, y = cam[:, 0] / safe, cam[:, 1] / safe
        else:
            x, y = cam[:, 0], cam[:, 1]
        uv = np.stack([image_size / 2. + f * x, image_size / 2. - f * y], 1)
        return uv, depth


def camera_views(n_views: int = 5,
                 elevation: float = 25.,
                 start_azimuth: float = 30.) -> List[Tuple[float, float]]:
    """The fixed camera set used for every multi-view rendering.

    Args:
        n_views (int): Number of views (>= 1).
        elevation (float): Elevation of every view in degrees.
        start_azimuth (float): Azimuth of the first view in degrees; the
            others follow evenly spaced around the object.

    Returns:
        list[tuple[float, float]]: ``n_views`` (azimuth, elevation) pairs.
    """
    if int(n_views) != n_views or n_views < 1:
        raise ValueError(f'n_views must be a positive integer, got {n_views}')
    step = 360. / n_views
    return [((start_azimuth + i * step) % 360., float(elevation))
            for i in range(int(n_views))]


def normalize_to_unit_sphere(
        points: np.ndarray) -> Tuple[np.ndarray, np.ndarray, float]:
    """Centre points on their bounding-box centre and scale the farthest one
    to radius 1.

    Args:
        points (np.ndarray): (N, 3) points.

    Returns:
        tuple: normalised points (N, 3) float64, centre (3, ), scale (the
        factor the centred points were multiplied by).
    """
    points = np.asarray(points, np.float64)
    centre = (points.min(0) + points.max(0)) / 2.
    radius = np.linalg.norm(points - centre, axis=1).max()
    scale = 1. / radius if radius > 0 else 1.
    return (points - centre) * scale, centre, scale
