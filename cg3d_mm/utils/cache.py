"""Where cg3d_mm keeps generated data, demo weights and feature caches."""
import os
import os.path as osp


def cache_dir(*parts: str) -> str:
    """``$CG3D_CACHE`` (default ``~/.cache/cg3d_mm``) joined with ``parts``."""
    root = os.environ.get('CG3D_CACHE') or osp.join(
        osp.expanduser('~'), '.cache', 'cg3d_mm')
    return osp.join(root, *parts)
