"""One checkpoint -> model policy for every entry point.

``init_model``, the zero-shot runner (``load_point_encoder``), the linear
probe's ``build_feature_extractor`` and the ``CG3DPretrained`` initializer
all load through ``load_model_checkpoint``: the same checkpoint defect is
reported the same way (by key name) whichever of them reads it.
"""
import re
import warnings

import pytest
import torch
from conftest import TINY_MODEL_CFG
from mmengine.config import Config

import cg3d_mm  # noqa: F401
from cg3d_mm.apis.inference import init_model
from cg3d_mm.apis.zeroshot import build_zeroshot_model, load_point_encoder
from cg3d_mm.evaluation.linear_probe import build_feature_extractor
from cg3d_mm.models.utils import PretrainedKeysWarning, load_model_checkpoint
from cg3d_mm.registry import MODELS
from cg3d_mm.utils import UnsafeCheckpointError


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('policy')
    config = tmp / 'tiny_cg3d.py'
    config.write_text(TINY_MODEL_CFG)
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(config)).model)
    state = model.state_dict()
    return dict(tmp=tmp, config=str(config), state=state)


def _save(files, name, state, **extra):
    path = str(files['tmp'] / name)
    torch.save(dict(state_dict=state, **extra), path)
    return path


def _problems(err) -> str:
    """The key listing of a strict-load error (after the file / target)."""
    return str(err.value).split('(strict=True): ', 1)[1]


def _errors(files, path):
    """The error each entry point raises for the checkpoint ``path``."""
    out = {}
    with pytest.raises(ValueError) as err:
        init_model(files['config'], path, device='cpu')
    out['init_model'] = err
    with pytest.raises(ValueError) as err:
        build_zeroshot_model(files['config'], path)
    out['zeroshot'] = err
    with pytest.raises(ValueError) as err:
        build_feature_extractor(files['config'], path)
    out['linear_probe'] = err
    backbone = MODELS.build(Config.fromfile(files['config']).model.backbone)
    with pytest.raises(ValueError) as err:
        load_model_checkpoint(backbone, path, prefix='backbone.')
    out['prefix_loader'] = err
    return out


def test_unexpected_key_is_reported_the_same_way_everywhere(files):
    state = dict(files['state'])
    state['backbone.extra_layer.weight'] = torch.zeros(3)
    path = _save(files, 'unexpected.pth', state)
    errors = _errors(files, path)
    for name, err in errors.items():
        assert str(err.value).startswith(path), name
    whole = '1 unexpected (not in the module): backbone.extra_layer.weight'
    assert _problems(errors['init_model']) == whole
    assert _problems(errors['zeroshot']) == whole
    # the point-encoder parts see the keys relative to their prefix
    part = '1 unexpected (not in the module): extra_layer.weight'
    assert _problems(errors['linear_probe']) == part
    assert _problems(errors['prefix_loader']) == part


def test_misshaped_tensor_is_reported_the_same_way_everywhere(files):
    state = dict(files['state'])
    key = 'backbone.embedding.linear.weight'
    shape = tuple(state[key].shape)
    state[key] = torch.zeros(shape[0] + 1, *shape[1:])
    path = _save(files, 'misshaped.pth', state)
    errors = _errors(files, path)
    rel = key[len('backbone.'):]
    bad = (shape[0] + 1, ) + shape[1:]
    expected = (f'1 with other shapes (checkpoint vs module, not loaded): '
                f'{key} {bad} vs {shape}')
    assert _problems(errors['init_model']) == expected
    assert _problems(errors['zeroshot']) == expected
    assert _problems(errors['linear_probe']) == expected.replace(key, rel)
    assert _problems(errors['prefix_loader']) == expected.replace(key, rel)


def test_missing_key_is_reported_the_same_way_everywhere(files):
    state = dict(files['state'])
    del state['head.proj.bias']
    path = _save(files, 'missing.pth', state)
    msg = '1 missing in the checkpoint: head.proj.bias'
    with pytest.raises(ValueError) as err:
        init_model(files['config'], path, device='cpu')
    assert _problems(err) == msg
    with pytest.raises(ValueError) as err:
        build_zeroshot_model(files['config'], path)
    assert _problems(err) == msg
    with pytest.raises(ValueError) as err:
        build_feature_extractor(files['config'], path, feature='embed')
    assert _problems(err) == '1 missing in the checkpoint: proj.bias'


def test_cg3d_pretrained_reports_with_the_same_words(files):
    """The initializer warns by default but lists the keys as the strict
    loaders do."""
    from mmengine.registry import init_default_scope
    init_default_scope('cg3d_mm')  # as a Runner would
    state = dict(files['state'])
    state['backbone.extra_layer.weight'] = torch.zeros(3)
    path = _save(files, 'unexpected_init.pth', state)
    cfg = Config.fromfile(files['config']).model.backbone
    cfg.init_cfg = dict(type='CG3DPretrained', checkpoint=path,
                        prefix='backbone.')
    with pytest.warns(PretrainedKeysWarning,
                      match=re.escape('1 unexpected (not in the module): '
                                      'extra_layer.weight')):
        MODELS.build(cfg).init_weights()
    cfg.init_cfg['strict'] = True
    with pytest.raises(ValueError) as err:
        MODELS.build(cfg).init_weights()
    assert _problems(err) == ('1 unexpected (not in the module): '
                              'extra_layer.weight')


def test_frozen_clip_is_expected_missing(files):
    model = MODELS.build(Config.fromfile(files['config']).model)
    frozen = [k for k, p in model.named_parameters() if not p.requires_grad
              and k.startswith(('img_backbone.', 'text_encoder.'))]
    assert frozen and not set(frozen) & set(files['state'])
    path = _save(files, 'cg3d.pth', files['state'],
                 meta=dict(dataset_meta=dict(classes=['chair'])))
    with warnings.catch_warnings():
        warnings.simplefilter('error', PretrainedKeysWarning)
        loaded = init_model(files['config'], path, device='cpu')
    assert loaded.dataset_meta == dict(classes=['chair'])
    for key, value in files['state'].items():
        assert torch.equal(loaded.state_dict()[key], value), key
    # a checkpoint that does hold frozen tensors sets them
    full = dict(files['state'])
    full[frozen[0]] = torch.full_like(dict(model.named_parameters())[
        frozen[0]], 0.5)
    path = _save(files, 'with_clip.pth', full)
    report = load_point_encoder(model, path)
    assert report == dict(missing=[], unexpected=[])
    assert torch.all(dict(model.named_parameters())[frozen[0]] == 0.5)


def test_ddp_prefix_is_stripped_everywhere(files):
    path = _save(files, 'ddp.pth', {f'module.{k}': v
                                    for k, v in files['state'].items()})
    model = init_model(files['config'], path, device='cpu')
    key = 'head.proj.weight'
    assert torch.equal(model.state_dict()[key], files['state'][key])
    model = build_zeroshot_model(files['config'], path)
    assert torch.equal(model.state_dict()[key], files['state'][key])
    extractor = build_feature_extractor(files['config'], path, 'embed')
    assert torch.equal(extractor.proj.weight, files['state'][key])


def test_every_entry_point_reads_weights_only(files):
    """A pickled object that is not weights (here an argparse.Namespace, as
    old training scripts saved) is refused by all of them, naming the file
    and the object."""
    import argparse
    path = _save(files, 'legacy.pth', files['state'],
                 meta=dict(args=argparse.Namespace(lr=0.1)))
    for load in (lambda: init_model(files['config'], path, device='cpu'),
                 lambda: build_zeroshot_model(files['config'], path),
                 lambda: build_feature_extractor(files['config'], path)):
        with pytest.raises(UnsafeCheckpointError,
                           match=r'legacy.pth.*argparse.Namespace'):
            load()
