"""cg3d_mm/configs: the pure-Python twins of configs/cg3d/, up to date and
resolving to the same configs."""
import glob
import importlib.util
import os
import os.path as osp
import shutil

import pytest
from conftest import REPO
from mmengine.config import Config
from mmengine.config.lazy import LazyAttr, LazyObject

GENERATOR = osp.join(REPO, 'tools', 'misc', 'generate_python_configs.py')
PY_DIR = osp.join(REPO, 'cg3d_mm', 'configs', 'cg3d')
PY_CONFIGS = sorted(
    p for p in glob.glob(osp.join(PY_DIR, '**', '*.py'), recursive=True)
    if not p.endswith('__init__.py'))


def _load_generator():
    spec = importlib.util.spec_from_file_location('generate_python_configs',
                                                  GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def _twin(path: str) -> str:
    """The old-style file a generated config comes from (its header)."""
    with open(path) as f:
        src = f.readline().split('Generated from ')[1].strip()
    return osp.join(REPO, src)


def _registered_as(cls, name: str) -> bool:
    """``name`` builds ``cls`` in some cg3d_mm (or parent) registry."""
    return any(gen._lookup(reg, name) is cls for reg in gen._registries())


def assert_same_config(lazy, old, key=None, path='cfg'):
    """A pure-Python config value against its old-style twin's: equal, the
    imported classes being those the old type names build."""
    if isinstance(lazy, (LazyObject, LazyAttr)):
        cls = lazy.build()
        assert isinstance(old, str) and key in gen.TYPE_KEYS, (path, old)
        assert _registered_as(cls, old), f'{path}: {cls} is not {old!r}'
    elif isinstance(lazy, dict):
        assert isinstance(old, dict), path
        assert sorted(lazy) == sorted(old), (path, sorted(lazy), sorted(old))
        for k in lazy:
            assert_same_config(lazy[k], old[k], k, f'{path}.{k}')
    elif isinstance(lazy, (list, tuple)):
        assert type(lazy) is type(old) and len(lazy) == len(old), path
        for i, (a, b) in enumerate(zip(lazy, old)):
            assert_same_config(a, b, None, f'{path}[{i}]')
    else:
        assert type(lazy) is type(old) and lazy == old, (path, lazy, old)


def test_generated_package_is_up_to_date():
    differ, extra = gen.stale_files(gen.generated_files())
    rel = [osp.relpath(p, REPO) for p in differ + extra]
    assert not rel, ('stale pure-Python configs; run python '
                     f'tools/misc/generate_python_configs.py: {rel}')


def test_every_pretraining_config_has_a_twin():
    leaves = glob.glob(osp.join(REPO, 'configs', 'cg3d', '*.py'))
    assert len(leaves) >= 4
    twins = {_twin(p) for p in PY_CONFIGS}
    assert set(leaves) <= twins
    for name in ('pointmlp_shapenet', 'pointtransformer_shapenet',
                 'pointmlp_synthetic', 'pointtransformer_synthetic'):
        assert osp.isfile(osp.join(PY_DIR, f'{name}.py'))
    # and every file those inherit
    assert set(gen.config_closure(leaves)) == twins


@pytest.mark.parametrize('path', PY_CONFIGS,
                         ids=[osp.relpath(p, PY_DIR) for p in PY_CONFIGS])
def test_python_config_resolves_to_its_twin(path):
    lazy = Config.fromfile(path)
    assert Config._is_lazy_import(path)
    old = Config.fromfile(_twin(path), lazy_import=False)
    assert_same_config(lazy._to_lazy_dict(), old.to_dict())


def test_types_are_classes_where_a_registry_builds_them():
    cfg = Config.fromfile(osp.join(PY_DIR, 'pointnet2_synthetic.py'))
    from mmdet3d.models import PointNet2SASSG

    from cg3d_mm.engine import CG3DOptimWrapperConstructor
    from cg3d_mm.models import CG3D
    assert cfg.model.type is CG3D
    assert cfg.model.backbone.type is PointNet2SASSG
    assert cfg.optim_wrapper.constructor is CG3DOptimWrapperConstructor
    # looked up by name by mmdet3d's SA builder: stays a string
    assert cfg.model.backbone.sa_cfg.type == 'PointSAModule'


def test_comparison_catches_a_difference():
    cfg = Config.fromfile(osp.join(PY_DIR, 'pointmlp_synthetic.py'))
    old = Config.fromfile(osp.join(REPO, 'configs', 'cg3d',
                                   'pointmlp_synthetic.py'))
    lazy = cfg._to_lazy_dict()
    lazy['model']['head']['embed_dim'] += 1
    with pytest.raises(AssertionError, match='embed_dim'):
        assert_same_config(lazy, old.to_dict())
    lazy = cfg._to_lazy_dict()
    lazy['model']['backbone']['type'] = lazy['model']['type']  # CG3D
    with pytest.raises(AssertionError, match='backbone.type'):
        assert_same_config(lazy, old.to_dict())


# Twins that copy a value of synthetic_triplets.py through
# pointmlp_synthetic.py (the colour demo and the configs built on it).
DEPENDS_ON_SYNTHETIC = ('_base_/datasets/synthetic_shards.py',
                        'pointmlp_synthetic_mixture_rgb.py',
                        'pointmlp_synthetic_mixture_shards_rgb.py',
                        'pointmlp_synthetic_rgb.py',
                        'pointmlp_synthetic_shards_rgb.py')


@pytest.mark.slow
def test_an_edited_config_makes_its_twin_and_dependents_stale(tmp_path):
    """Regenerating from an edited copy changes the edited file's twin and
    the twins that copied a value of it; stale_files names them."""
    src = tmp_path / 'configs' / 'cg3d'
    def ignore(folder, names):
        # pretraining configs inherit zeroshot/_base_ (their test sets)
        if osp.basename(folder) == 'zeroshot':
            return [n for n in names if n != '_base_']
        return [n for n in names if n in ('detection', 'finetune')]

    shutil.copytree(osp.join(REPO, 'configs', 'cg3d'), src, ignore=ignore)
    dst = tmp_path / 'pkg' / 'configs' / 'cg3d'
    files = gen.generated_files(str(src), str(dst))
    for path, text in files.items():
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)
    assert gen.stale_files(files, str(dst)) == ([], [])
    synthetic = src / '_base_' / 'datasets' / 'synthetic_triplets.py'
    text = synthetic.read_text()
    assert 'synthetic = dict(seed=0)' in text
    synthetic.write_text(text.replace('synthetic = dict(seed=0)',
                                      'synthetic = dict(seed=7)'))
    differ, extra = gen.stale_files(gen.generated_files(str(src), str(dst)),
                                    str(dst))
    rel = sorted(osp.relpath(p, dst) for p in differ)
    # pointmlp_synthetic copies {{_base_.synthetic}} into its CLIP config,
    # and so do the configs built on it; nothing else changes
    assert rel == sorted([
        '_base_/datasets/synthetic_triplets.py', 'pointmlp_synthetic.py',
        *DEPENDS_ON_SYNTHETIC])
    assert extra == []
    (dst / 'leftover.py').write_text('x = 1\n')
    assert gen.stale_files(files, str(dst))[1] == [str(dst / 'leftover.py')]


def test_external_pure_python_config_after_import(tmp_path):
    """In a process that imported cg3d_mm (any install, editable too, see
    cg3d_mm/utils/mim.py) another project inherits a twin by module."""
    import cg3d_mm  # noqa: F401
    external = tmp_path / 'my_cfg.py'
    external.write_text(
        'from mmengine.config import read_base\n\n'
        'with read_base():\n'
        '    from cg3d_mm.configs.cg3d.pointmlp_shapenet import *\n\n'
        'train_dataloader.merge(dict(batch_size=16))\n')
    cfg = Config.fromfile(str(external))
    old = Config.fromfile(osp.join(REPO, 'configs', 'cg3d',
                                   'pointmlp_shapenet.py'))
    assert cfg.train_dataloader.batch_size == 16
    old.train_dataloader.batch_size = 16
    assert_same_config(cfg._to_lazy_dict(), old.to_dict())


@pytest.mark.parametrize('name', ['pointmlp_synthetic',
                                  'pointtransformer_synthetic',
                                  'pointnet2_synthetic'])
def test_python_config_builds_the_same_model_and_pipeline(name):
    """Built from either file (a random tiny CLIP in place of the demo's),
    with the same seed: the same modules and weights, the same transforms.
    The pure-Python one builds in another project's scope (mmdet3d): its
    types are classes; the old-style one needs the cg3d_mm scope."""
    import torch
    from mmcv.transforms import Compose
    from mmengine.registry import MODELS, DefaultScope

    from cg3d_mm.models.clip import clear_clip_cache
    built = []
    for path, scope in ((osp.join(PY_DIR, f'{name}.py'), 'mmdet3d'),
                        (osp.join(REPO, 'configs', 'cg3d', f'{name}.py'),
                         'cg3d_mm')):
        cfg = Config.fromfile(path)
        clip = dict(model_name='cg3d-tiny-vit')
        cfg.model.img_backbone.clip = clip
        cfg.model.text_encoder.clip = clip
        clear_clip_cache()  # each build creates its CLIP from the seed
        with DefaultScope.overwrite_default_scope(scope):
            torch.manual_seed(0)
            built.append((MODELS.build(cfg.model),
                          Compose(cfg.train_pipeline)))
    (new, new_pipe), (old, old_pipe) = built
    assert type(new).__name__ == 'CG3D' and repr(new) == repr(old)
    new_state, old_state = new.state_dict(), old.state_dict()
    assert list(new_state) == list(old_state)
    differ = [k for k in old_state
              if not torch.equal(new_state[k], old_state[k])]
    assert not differ
    assert len(new_pipe.transforms) > 5
    assert [_transform_state(t) for t in new_pipe.transforms] == \
        [_transform_state(t) for t in old_pipe.transforms]


def _transform_state(transform):
    return type(transform), {k: repr(v) for k, v in vars(transform).items()}


def test_unportable_or_unknown_values_are_errors_naming_the_file(tmp_path):
    src = tmp_path / 'configs' / 'cg3d'
    src.mkdir(parents=True)
    bad = src / 'bad.py'
    bad.write_text("work_dir = '{{fileDirname}}/work'\n")
    with pytest.raises(ValueError, match=r'configs/cg3d/bad\.py.*path'):
        gen.render_config(str(bad), str(src))
    bad.write_text("model = dict(type='NoSuchModel')\n")
    with pytest.raises(KeyError, match=r'bad\.py.*NoSuchModel'):
        gen.render_config(str(bad), str(src))
    (src / 'a-b.py').write_text('x = 1\n')
    (src / 'a_b.py').write_text('x = 2\n')
    bad.unlink()
    with pytest.raises(ValueError, match='module name is taken'):
        gen.generated_files(str(src), str(tmp_path / 'out'))
