"""projects/example_external: another project inherits a CG3D pretraining
config and initialises mmdet3d's VoteNet from CG3D weights, loaded and
built with plain mmengine in fresh processes that never imported cg3d_mm
before, with cg3d_mm installed as users install it (a wheel)."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import textwrap

import pytest
import torch
from conftest import REPO

PROJECT = osp.join(REPO, 'projects', 'example_external')
PRETRAIN = 'configs/cg3d_pointnet2_synthetic_bs16.py'
DETECTOR = 'configs/votenet_cg3d-pointnet2_scannet-3d.py'
FIRST_CONV = 'SA_modules.0.mlps.0.layer0.conv.weight'

# Runs in the project folder: what mmdet3d's tools/train.py does up to the
# training loop, with the demo CLIP (trained on first use) swapped for a
# tiny random checkpoint; then saves the model as a CG3D checkpoint.
PRETRAIN_SCRIPT = textwrap.dedent("""
    import json, sys
    import torch
    from mmengine.config import Config
    from mmengine.runner import Runner

    cfg = Config.fromfile(sys.argv[1])
    parsed_alone = 'cg3d_mm' not in sys.modules
    clip = dict(model_name='cg3d-tiny-vit', checkpoint=sys.argv[2])
    cfg.model.img_backbone.clip = clip
    cfg.model.text_encoder.clip = clip
    runner = Runner.from_cfg(cfg)
    import cg3d_mm
    torch.save(dict(state_dict=runner.model.state_dict(),
                    meta=dict(epoch=40)), cfg.work_dir + '/epoch_40.pth')
    print(json.dumps(dict(
        parsed_alone=parsed_alone, cg3d_mm=cg3d_mm.__file__,
        model=type(runner.model).__name__,
        backbone=type(runner.model.backbone).__name__,
        batch_size=cfg.train_dataloader.batch_size,
        work_dir=cfg.work_dir)))
""")

DETECTOR_SCRIPT = textwrap.dedent("""
    import json, sys
    import torch
    from mmengine.config import Config
    from mmengine.runner import Runner

    assert 'cg3d_mm' not in sys.modules
    cfg = Config.fromfile(sys.argv[1])
    cfg.work_dir = 'work_dirs/votenet'
    runner = Runner.from_cfg(cfg)
    runner.model.init_weights()  # what runner.train() starts with
    import cg3d_mm
    ckpt = torch.load(cfg.model.backbone.init_cfg.checkpoint,
                      weights_only=True)['state_dict']
    got = runner.model.backbone.state_dict()
    first = got[sys.argv[2]]
    pretrained = ckpt['backbone.' + sys.argv[2]]
    print(json.dumps(dict(
        cg3d_mm=cg3d_mm.__file__, model=type(runner.model).__name__,
        scope=cfg.default_scope,
        same=sorted(k for k in got if k != sys.argv[2]
                    and torch.equal(got[k], ckpt['backbone.' + k])),
        keys=sorted(got),
        first_conv_xyz=torch.equal(first[:, :3], pretrained),
        first_conv_height_zero=bool((first[:, 3:] == 0).all()))))
""")


def _run(args, cwd, env):
    out = subprocess.run([sys.executable, *args], cwd=cwd, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _ignore_at_root(root):
    skip = {'.git', 'work_dirs', 'build', 'dist', '.pytest_cache'}

    def ignore(folder, names):
        names = set(names)
        out = {n for n in names if n == '__pycache__' or n.endswith(
            '.egg-info')}
        if osp.samefile(folder, root):
            out |= names & skip
        if osp.basename(folder) == 'cg3d_mm' and osp.samefile(
                osp.dirname(folder), root):
            out |= names & {'.mim'}  # setup.py builds it
        return out

    return ignore


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """A site folder holding cg3d_mm as ``pip install`` puts it there: a
    wheel of this working tree. Put first on PYTHONPATH it is the cg3d_mm
    every lookup (import, mmengine's, mim's) finds."""
    tmp = tmp_path_factory.mktemp('install')
    src, dist, site = tmp / 'src', tmp / 'dist', tmp / 'site'
    shutil.copytree(REPO, src, ignore=_ignore_at_root(REPO))
    pip = [sys.executable, '-m', 'pip', '-q', '--disable-pip-version-check']
    build = [*pip, 'wheel', '--no-deps', '--no-build-isolation', '--no-index',
             '-w', str(dist), str(src)]
    out = subprocess.run(build, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    install = [*pip, 'install', '--no-deps', '--no-index', '--target',
               str(site), *map(str, dist.glob('*.whl'))]
    out = subprocess.run(install, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    env = dict(os.environ, PYTHONPATH=str(site))
    return site, env


@pytest.fixture
def tiny_clip(tmp_path):
    from cg3d_mm.models.clip import build_clip
    torch.manual_seed(0)
    path = tmp_path / 'tiny_clip.pth'
    torch.save(build_clip('cg3d-tiny-vit', shared=False).model.state_dict(),
               str(path))
    return str(path)


@pytest.mark.slow
def test_wheel_ships_the_python_configs_and_mim_files(installed):
    site, _ = installed
    pkg = site / 'cg3d_mm'
    for name in ('pointmlp_shapenet', 'pointtransformer_shapenet',
                 'pointmlp_synthetic', 'pointtransformer_synthetic'):
        assert (pkg / 'configs' / 'cg3d' / f'{name}.py').is_file()
    assert (pkg / 'configs' / 'cg3d' / '_base_' / 'models' /
            'cg3d_pointmlp.py').is_file()
    assert (pkg / '.mim' / 'model-index.yml').is_file()
    assert (pkg / '.mim' / 'configs' / 'cg3d' / 'metafile.yml').is_file()
    assert (pkg / '.mim' / 'configs' / 'cg3d' /
            'pointmlp_synthetic.py').is_file()


@pytest.mark.slow
def test_external_project_pretrains_and_inits_votenet_with_plain_mmengine(
        installed, tiny_clip, tmp_path):
    site, env = installed
    project = tmp_path / 'example_external'
    shutil.copytree(PROJECT, project)

    pre = _run(['-c', PRETRAIN_SCRIPT, PRETRAIN, tiny_clip], project, env)
    assert pre['parsed_alone']  # the config was read before any import
    assert pre['cg3d_mm'].startswith(str(site))  # the installed package
    assert (pre['model'], pre['backbone']) == ('CG3D', 'PointNet2SASSG')
    assert pre['batch_size'] == 16  # the project's own change
    ckpt = project / pre['work_dir'] / 'epoch_40.pth'
    assert ckpt.is_file()

    det = _run(['-c', DETECTOR_SCRIPT, DETECTOR, FIRST_CONV], project, env)
    assert det['cg3d_mm'].startswith(str(site))
    assert (det['model'], det['scope']) == ('VoteNet', 'mmdet3d')
    # every backbone tensor is the CG3D checkpoint's, the first conv's
    # xyz channels too, its extra height channel starts at zero
    assert det['same'] == [k for k in det['keys'] if k != FIRST_CONV]
    assert len(det['same']) > 50
    assert det['first_conv_xyz'] and det['first_conv_height_zero']


PURE_PYTHON_CFG = """from mmengine.config import read_base

with read_base():
    from cg3d_mm.configs.cg3d.pointmlp_synthetic import *

train_dataloader.merge(dict(batch_size=16))
"""
OLD_STYLE_CFG = "_base_ = ['cg3d_mm::cg3d/pointmlp_synthetic.py']\n"
LOAD_SCRIPT = textwrap.dedent("""
    import sys
    if sys.argv[2] == 'import':
        import cg3d_mm
    from mmengine.config import Config
    try:
        cfg = Config.fromfile(sys.argv[1])
    except Exception as e:
        print('FAILED', type(e).__name__, str(e).splitlines()[0])
    else:
        print('LOADED', cfg.train_dataloader.batch_size)
""")


def _load(cfg, env, import_first):
    out = subprocess.run(
        [sys.executable, '-c', LOAD_SCRIPT, str(cfg),
         'import' if import_first else 'plain'],
        env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


def _writes(tmp_path):
    pure, old = tmp_path / 'pure.py', tmp_path / 'old.py'
    pure.write_text(PURE_PYTHON_CFG)
    old.write_text(OLD_STYLE_CFG + 'train_dataloader = dict(batch_size=16)\n')
    return pure, old


@pytest.mark.slow
def test_what_a_plain_process_resolves_with_a_regular_install(
        installed, tmp_path):
    """The README's claims: pure-Python inheritance needs no import,
    ``cg3d_mm::`` does (mmengine's fixed package table)."""
    _, env = installed
    pure, old = _writes(tmp_path)
    assert _load(pure, env, import_first=False) == 'LOADED 16'
    plain = _load(old, env, import_first=False)
    assert plain.startswith('FAILED AssertionError') and 'cg3d_mm' in plain
    assert _load(old, env, import_first=True) == 'LOADED 16'


def _editable_install() -> bool:
    """cg3d_mm installed editable (PEP 660): nothing at the dist-info's
    folder, which is where mmengine looks."""
    from importlib.metadata import PackageNotFoundError, distribution
    try:
        dist = distribution('cg3d_mm')
    except PackageNotFoundError:
        return False
    return not osp.isdir(osp.join(str(dist.locate_file('')), 'cg3d_mm'))


@pytest.mark.slow
@pytest.mark.skipif(not _editable_install(),
                    reason='cg3d_mm is not an editable install here')
def test_an_editable_install_needs_the_import(tmp_path):
    """The README's claim for editable installs: mmengine looks in
    site-packages and fails; after ``import cg3d_mm`` both routes load."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    pure, old = _writes(tmp_path)
    plain = _load(pure, env, import_first=False)
    assert plain.startswith('FAILED ConfigParsingError')
    assert 'site-packages' in plain or 'not found' in plain
    assert _load(pure, env, import_first=True) == 'LOADED 16'
    assert _load(old, env, import_first=True) == 'LOADED 16'
