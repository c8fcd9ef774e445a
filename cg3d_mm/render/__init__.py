"""The project's renderer: meshes (colours, textures), point clouds, contact
sheets."""
from .camera import Camera, camera_views, normalize_to_unit_sphere
from .contact_sheet import make_contact_sheet
from .mesh_renderer import RENDER_MODES, depth_to_grey, render_mesh
from .point_renderer import render_points, splat_points
from .rasterizer import Fragments, rasterize
from .texture import (MeshTexture, sample_texture, stack_textures,
                      surface_colors)
from .visibility import visible_points

__all__ = [
    'Camera', 'camera_views', 'normalize_to_unit_sphere', 'render_mesh',
    'depth_to_grey', 'RENDER_MODES', 'render_points', 'splat_points',
    'make_contact_sheet', 'rasterize', 'Fragments', 'visible_points',
    'MeshTexture', 'sample_texture', 'stack_textures', 'surface_colors'
]
