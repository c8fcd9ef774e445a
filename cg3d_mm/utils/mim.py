"""Let mmengine resolve ``cg3d_mm::`` config paths.

mmengine only follows ``package::path`` for packages named in its fixed
``MODULE2PACKAGE`` table, and it finds the package through ``pkg_resources``,
which points at site-packages for PEP 660 editable installs. Both are fixed
here for ``cg3d_mm`` only; the configs live in ``cg3d_mm/.mim/configs``.
"""
import os.path as osp

PACKAGE = 'cg3d_mm'
PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


def register_config_package() -> None:
    from mmengine.config import config as config_module
    from mmengine.config import utils as config_utils

    config_utils.MODULE2PACKAGE.setdefault(PACKAGE, PACKAGE)
    original = config_module.get_installed_path
    if getattr(original, '_cg3d_mm', False):
        return

    def get_installed_path(package: str) -> str:
        if package == PACKAGE:
            return PACKAGE_DIR
        return original(package)

    get_installed_path._cg3d_mm = True
    config_module.get_installed_path = get_installed_path
