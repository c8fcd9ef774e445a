"""Install cg3d_mm as an OpenMMLab plugin.

The configs are shipped inside the package twice: as ``cg3d_mm/.mim/configs``
(the OpenMMLab "mim" layout, with ``model-index.yml`` and the tools; read
by mim and by ``_base_ = ['cg3d_mm::cg3d/<file>.py']`` after ``import
cg3d_mm``) and as the generated pure-Python package ``cg3d_mm/configs``
(``with read_base(): from cg3d_mm.configs.cg3d.<name> import *``, any
process). Editable installs link ``.mim`` to the repository's folders;
wheels and sdists get a copy. mmengine and mim locate both through the
dist-info's folder, which holds neither for an editable install: there they
need ``import cg3d_mm`` (mmengine) or do not work (mim), see README.
"""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'cg3d_mm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def read_requirements(name: str) -> list:
    reqs = []
    with open(osp.join(HERE, 'requirements', name)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                reqs.append(line)
    return reqs


def add_mim_extension() -> None:
    """Populate ``cg3d_mm/.mim`` with configs, tools and model-index.yml."""
    editable = any(a in ('develop', 'editable_wheel') for a in sys.argv)
    mim_dir = osp.join(HERE, 'cg3d_mm', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src = osp.join(HERE, name)
        dst = osp.join(mim_dir, name)
        if not osp.exists(src):
            continue
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if editable:
            os.symlink(osp.relpath(src, mim_dir), dst)
        elif osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='cg3d_mm',
        version=read_version(),
        description='CG3D (CLIP goes 3D) as an mmengine / mmdet3d plugin',
        long_description=open(osp.join(HERE, 'README.md')).read()
        if osp.exists(osp.join(HERE, 'README.md')) else '',
        long_description_content_type='text/markdown',
        license='Apache-2.0',
        python_requires='>=3.9',
        packages=find_packages(include=['cg3d_mm', 'cg3d_mm.*']),
        include_package_data=True,
        package_data={'cg3d_mm': [
            '.mim/model-index.yml', '.mim/configs/**/*.py',
            '.mim/configs/**/*.yml', '.mim/tools/*'
        ]},
        # The OpenMMLab stack is pinned and installed by tools/install.sh
        # (mmcv needs a compiled build); only the pure-Python needs go here.
        install_requires=read_requirements('runtime.txt'),
        extras_require={'tests': read_requirements('tests.txt')},
        zip_safe=False,
    )
