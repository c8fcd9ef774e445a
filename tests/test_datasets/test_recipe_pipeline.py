"""The pretraining recipe against the original (issue 16): FPS in training,
drop as a removal, caption templates, weight decay of the point encoders."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import DefaultOptimWrapperConstructor

import cg3d_mm  # noqa: F401
from cg3d_mm.datasets.transforms import RandomDropPoints, SampleCaption
from cg3d_mm.datasets.utils import build_transforms
from cg3d_mm.models.backbones import PointMLP, PointTransformer
from cg3d_mm.utils.templates import PRETRAIN_TEMPLATES, check_templates

CONFIGS = osp.join(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))), 'configs', 'cg3d')
PRETRAIN_CONFIGS = ('pointmlp_shapenet.py', 'pointtransformer_shapenet.py',
                    'pointmlp_synthetic.py', 'pointtransformer_synthetic.py')


def _train_pipeline(name):
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    return cfg, [dict(t) for t in cfg.train_dataloader.dataset.pipeline]


def _min_gap(pts):
    d = torch.cdist(torch.from_numpy(pts), torch.from_numpy(pts))
    d.fill_diagonal_(float('inf'))
    return float(d.min())


@pytest.mark.parametrize('name', PRETRAIN_CONFIGS)
def test_training_samples_like_the_original(name):
    """Normalise, augment (drop removes points), FPS, then scale/translate:
    the only sampler of the training points is FPS, as at evaluation."""
    cfg, pipeline = _train_pipeline(name)
    types = [t['type'] for t in pipeline]
    samplers = [t for t in pipeline if t['type'] == 'SamplePoints']
    assert [t['method'] for t in samplers] == ['fps']
    assert samplers[0]['num_points'] == cfg.num_points
    fps = types.index('SamplePoints')
    assert types.index('NormalizePoints') < types.index('RandomDropPoints') \
        < fps < types.index('RandomScaleTranslate')
    drop = pipeline[types.index('RandomDropPoints')]
    assert drop.get('min_points') == cfg.num_points
    test_samplers = [t for t in cfg.test_dataloader.dataset.pipeline
                     if t['type'] == 'SamplePoints']
    assert [(t['method'], t['num_points']) for t in test_samplers] == \
        [('fps', cfg.num_points)]


def test_training_points_have_the_fps_density():
    """The points part of the real train pipeline gives an evenly spread
    FPS-like subset (large nearest-neighbour gaps), not a random one."""
    _, pipeline = _train_pipeline('pointmlp_synthetic.py')
    keep = ('NormalizePoints', 'RandomRotatePoints', 'PerturbRotation',
            'JitterPoints', 'RandomDropPoints', 'SamplePoints',
            'RandomScaleTranslate')
    points_part = build_transforms([t for t in pipeline
                                    if t['type'] in keep])
    rng = np.random.default_rng(0)
    cloud = rng.uniform(-1, 1, (8192, 3)).astype(np.float32)
    random_gaps, out_gaps = [], []
    for seed in range(3):
        np.random.seed(seed)
        out = dict(points=cloud.copy())
        for t in points_part:
            out = t(out)
        assert out['points'].shape == (512, 3)
        out_gaps.append(_min_gap(out['points']))
        random_gaps.append(_min_gap(cloud[rng.permutation(8192)[:512]]))
    # FPS keeps every pair apart (the scale augmentation shrinks by <= 2/3);
    # a random subset of the same size has near-coincident pairs
    assert min(out_gaps) > 4 * max(random_gaps)


def test_drop_removes_points():
    pts = np.random.default_rng(0).normal(size=(2000, 3)).astype(np.float32)
    np.random.seed(0)
    out = RandomDropPoints(max_ratio=0.5, prob=1.0)(dict(points=pts))
    kept = out['points']
    assert 1000 <= len(kept) < 2000  # removed, not replaced
    assert len(np.unique(kept, axis=0)) == len(kept)  # no duplicates
    rows = {tuple(p) for p in pts}
    assert all(tuple(p) in rows for p in kept)
    # never below min_points, and prob=0 leaves the cloud alone
    np.random.seed(0)
    few = RandomDropPoints(max_ratio=0.9, prob=1.0, min_points=1900)(
        dict(points=pts))['points']
    assert len(few) == 1900
    same = RandomDropPoints(prob=0.)(dict(points=pts))['points']
    assert same is pts
    with pytest.raises(ValueError, match='min_points'):
        RandomDropPoints(min_points=0)


def test_caption_templates_at_least_the_originals_64():
    assert len(PRETRAIN_TEMPLATES) >= 64
    assert len(set(PRETRAIN_TEMPLATES)) == len(PRETRAIN_TEMPLATES)
    check_templates(PRETRAIN_TEMPLATES, 'PRETRAIN_TEMPLATES')
    np.random.seed(0)
    captions = {SampleCaption()(dict(class_name='chair'))['caption']
                for _ in range(2000)}
    assert len(captions) == len(PRETRAIN_TEMPLATES)


def _decay_of(name, model):
    """Weight decay of every named parameter under the config's
    point-encoder paramwise_cfg (mmengine's default constructor)."""
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    enc = cfg.optim_wrapper.point_encoder
    constructor = DefaultOptimWrapperConstructor(
        dict(type='OptimWrapper', optimizer=dict(enc.optimizer)),
        dict(enc.paramwise_cfg))
    groups = []
    constructor.add_params(groups, model)
    wd = enc.optimizer.weight_decay  # groups without a key use the default
    by_param = {id(g['params'][0]): g.get('weight_decay', wd)
                for g in groups}
    return {n: by_param[id(p)] for n, p in model.named_parameters()}, wd


@pytest.mark.parametrize('name', ('pointmlp_shapenet.py',
                                  'pointmlp_synthetic.py'))
def test_pointmlp_decay_matches_the_original(name):
    """The original decays everything but 1-D params, biases and tokens;
    its affine_alpha / beta are 4-D, so they are decayed."""
    model = PointMLP(embed_channels=8, num_anchors=(32, 16, 8, 4),
                     num_neighbors=4, pre_blocks=(1, 1, 1, 1),
                     pos_blocks=(1, 1, 1, 1))
    decay, wd = _decay_of(name, model)
    affine = [n for n in decay if 'affine_' in n]
    assert affine and all(decay[n] == wd for n in affine)
    norms = [n for n, m in model.named_modules()
             if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert norms and all(decay[f'{n}.weight'] == 0 for n in norms)
    weights = [n for n, p in model.named_parameters()
               if p.ndim > 1 and 'affine_' not in n]
    assert weights and all(decay[n] == wd for n in weights)


@pytest.mark.parametrize('name', ('pointtransformer_shapenet.py',
                                  'pointtransformer_synthetic.py'))
def test_pointtransformer_decay_matches_the_original(name):
    """The original skips names with 'token' (cls_token), not cls_pos."""
    model = PointTransformer(num_groups=8, group_size=4, encoder_channels=16,
                             encoder_hidden_channels=(8, 16, 32),
                             embed_dims=16, depth=1, num_heads=2,
                             pos_hidden_channels=8)
    decay, wd = _decay_of(name, model)
    assert decay['cls_token'] == 0
    assert decay['cls_pos'] == wd
    assert decay['reduce_dim.weight'] == wd
    assert decay['reduce_dim.bias'] == 0
    assert decay['norm.weight'] == 0
