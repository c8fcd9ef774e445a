"""Frozen-feature extraction (tools/extract_features.py) and the probe."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import REPO  # noqa: E402
from data_writers import TINY_POINTMLP, write_tiny_modelnet

import cg3d_mm  # noqa: F401
from cg3d_mm.evaluation.linear_probe import (build_feature_extractor,
                                             build_probe_dataset, linear_probe)
from cg3d_mm.registry import MODELS

NUM_POINTS = 128
TINY_CFG = f"""
_base_ = ['cg3d_mm::cg3d/_base_/default_runtime.py']
model = dict(
    type='CG3D',
    backbone={TINY_POINTMLP!r},
    head=dict(type='CG3DHead', in_channels=128, embed_dim=16))
test_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadPointCloud'),
    dict(type='SamplePoints', num_points={NUM_POINTS}, method='fps'),
    dict(type='NormalizePoints'),
    dict(type='PackCG3DInputs', keys=('points', )),
]))
"""


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'extract_features', osp.join(REPO, 'tools', 'extract_features.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def blobs(n_per_class, num_classes, dim, spread, seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(num_classes, dim)) * 3
    labels = np.repeat(np.arange(num_classes), n_per_class)
    feats = centres[labels] + rng.normal(size=(len(labels), dim)) * spread
    return feats.astype(np.float32), labels


# ------------------------------------------------------------ the probe
def test_probe_separates_separable_features():
    x, y = blobs(60, 5, 32, 0.5, seed=0)
    xt, yt = blobs(40, 5, 32, 0.5, seed=0)  # same centres, new noise
    xt = xt + np.random.default_rng(1).normal(size=xt.shape) * 0.1
    out = linear_probe(x, y, xt, yt)
    assert out['train_acc'] > 99 and out['test_acc'] > 95
    assert out['test_class_mean'] > 95
    assert (out['num_train'], out['num_test']) == (300, 200)


def test_probe_on_random_labels_is_at_chance():
    rng = np.random.default_rng(0)
    num_classes = 4
    x = rng.normal(size=(400, 16)).astype(np.float32)
    xt = rng.normal(size=(2000, 16)).astype(np.float32)
    y = rng.integers(num_classes, size=400)
    yt = rng.integers(num_classes, size=2000)
    out = linear_probe(x, y, xt, yt)
    chance = 100 / num_classes
    assert abs(out['test_acc'] - chance) < 5
    # the train split alone is fitted above chance (it memorises noise)
    assert out['train_acc'] > chance + 5


def test_c_is_selected_on_train_only():
    x, y = blobs(30, 3, 8, 2.0, seed=0)
    xt, yt = blobs(30, 3, 8, 2.0, seed=1)
    grid = (0.001, 0.1, 10.0)
    a = linear_probe(x, y, xt, yt, C=grid)
    shuffled = np.random.default_rng(0).permutation(yt)
    b = linear_probe(x, y, xt, shuffled, C=grid)
    assert set(a['cv_acc']) == set(grid)
    assert a['C'] == b['C'] and a['cv_acc'] == b['cv_acc']
    assert a['test_acc'] != b['test_acc']


def test_probe_input_errors():
    x, y = blobs(5, 2, 4, 0.1, seed=0)
    with pytest.raises(ValueError, match='do not match'):
        linear_probe(x, y[:-1], x, y)
    with pytest.raises(ValueError, match='single class'):
        linear_probe(x, np.zeros_like(y), x, y)
    with pytest.raises(ValueError, match='4-d, test features 3-d'):
        linear_probe(x, y, x[:, :3], y)


# -------------------------------------------------------- extraction
@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('probe')
    data_root = write_tiny_modelnet(tmp / 'data', per_split=(4, 3),
                                    rows=300)
    cfg_path = tmp / 'tiny_cg3d.py'
    cfg_path.write_text(TINY_CFG)
    torch.manual_seed(3)
    backbone = MODELS.build(dict(TINY_POINTMLP))
    with torch.no_grad():  # weights no fresh build has (features stay sane)
        for p in backbone.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    proj = torch.nn.Linear(128, 16)
    state.update({'head.proj.weight': proj.weight.detach(),
                  'head.proj.bias': proj.bias.detach(),
                  'head.log_logit_scale': torch.tensor(2.0),
                  'img_backbone.prompts': torch.zeros(1)})
    ckpt = tmp / 'cg3d.pth'
    torch.save({'state_dict': state, 'meta': {}}, str(ckpt))
    return dict(tmp=tmp, data_root=data_root, cfg=str(cfg_path),
                ckpt=str(ckpt), backbone=backbone, proj=proj)


def test_extract_features_writes_the_expected_arrays(setup):
    tool = load_tool()
    out = setup['tmp'] / 'feats.npz'
    result = tool.main([
        setup['cfg'], setup['ckpt'], '--data-root', setup['data_root'],
        '--out', str(out), '--linear-probe', '--num-workers', '0',
        '--no-progress'
    ])
    with np.load(str(out)) as z:  # no pickles inside
        arrays = {k: z[k] for k in z.files}
    assert {'train_feats', 'train_labels', 'test_feats', 'test_labels',
            'classes', 'feature', 'checkpoint'} <= set(arrays)
    assert arrays['train_feats'].shape == (12, 128)
    assert arrays['test_feats'].shape == (9, 128)
    assert arrays['train_feats'].dtype == np.float32
    assert list(arrays['classes']) == ['cone', 'plate', 'rod']
    assert str(arrays['feature']) == 'global'

    # rows are the dataset's items in order, encoded by the checkpoint's
    # backbone on the evaluation pipeline
    dataset = build_probe_dataset(setup['cfg'], 'modelnet40', 'test',
                                  setup['data_root'])
    labels = [int(dataset[i]['data_samples'].gt_label) for i in range(9)]
    assert arrays['test_labels'].tolist() == labels
    points = torch.stack([dataset[i]['inputs']['points'] for i in (0, 5)])
    assert points.shape == (2, NUM_POINTS, 3)
    backbone = setup['backbone'].eval()
    with torch.no_grad():
        expected = backbone(points)['global_feat'].numpy()
    np.testing.assert_allclose(arrays['test_feats'][[0, 5]], expected,
                               rtol=1e-4, atol=1e-5)
    assert set(result) >= {'train_acc', 'test_acc', 'C'}


def test_embed_features_and_npy_output(setup):
    tool = load_tool()
    out = setup['tmp'] / 'embed_test.npy'
    tool.main([
        setup['cfg'], setup['ckpt'], '--data-root', setup['data_root'],
        '--split', 'test', '--feature', 'embed', '--out', str(out),
        '--num-workers', '0', '--no-progress'
    ])
    feats = np.load(str(out))
    labels = np.load(str(out)[:-4] + '_labels.npy')
    assert feats.shape == (9, 16) and labels.shape == (9, )
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1, rtol=1e-5)
    extractor = build_feature_extractor(setup['cfg'], setup['ckpt'],
                                        'embed')
    assert torch.equal(extractor.proj.weight, setup['proj'].weight)


def test_extraction_refuses_a_checkpoint_of_another_encoder(setup):
    other = MODELS.build(dict(TINY_POINTMLP, embed_channels=16))
    path = setup['tmp'] / 'other.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in
                               other.state_dict().items()}}, str(path))
    with pytest.raises(ValueError, match='strict=True'):
        build_feature_extractor(setup['cfg'], str(path))


def test_cli_argument_errors(setup):
    tool = load_tool()
    with pytest.raises(SystemExit):
        tool.parse_args([setup['cfg'], setup['ckpt'], '--split', 'test',
                         '--linear-probe'])
    with pytest.raises(SystemExit):
        tool.parse_args([setup['cfg'], setup['ckpt']])
