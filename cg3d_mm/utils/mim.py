"""Let mmengine find cg3d_mm's configs once ``cg3d_mm`` is imported.

mmengine only follows ``package::path`` for packages named in its fixed
``MODULE2PACKAGE`` table, and it finds a package's files through
``pkg_resources``, which points at site-packages for PEP 660 editable
installs (only the dist-info and an import hook live there). Both are fixed
here for ``cg3d_mm`` only: ``cg3d_mm::cg3d/x.py`` resolves into
``cg3d_mm/.mim/configs``, and the pure-Python configs' ``with read_base():
from cg3d_mm.configs... import *`` into the sources of an editable install
(a regular install needs no patch for those; see README, "Inheriting the
configs from another project").
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
