"""Fine-tuning from CG3D weights: PointClassifier, configs, loud loading."""
import copy
import glob
import os.path as osp
import warnings

import pytest
import torch
from conftest import REPO  # noqa: E402
from mmengine.config import Config
from mmengine.model import BaseModule
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner

import cg3d_mm  # noqa: F401
from cg3d_mm.models.heads.cls_head import original_cls_head_cfg
from cg3d_mm.models.utils import PretrainedKeysWarning
from cg3d_mm.registry import METRICS, MODELS
from cg3d_mm.structures import PointDataSample
from cg3d_mm.utils.publish import publish_checkpoint

FINETUNE = osp.join(REPO, 'configs', 'cg3d', 'finetune')
from data_writers import TINY_POINTMLP, write_tiny_modelnet  # noqa: E402

PAIRS = [(b, d) for b in ('pointmlp', 'pointtransformer')
         for d in ('modelnet40', 'scanobjectnn')]


def cfg_of(name):
    return Config.fromfile(osp.join(FINETUNE, name))


def randomize(module, seed=0):
    """Distinct random values in every parameter and float buffer."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            if t.dtype.is_floating_point:
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            else:
                t.fill_(7)
    return module


def save_cg3d_checkpoint(path, backbone, extra=True, seed=0):
    """A checkpoint shaped like a CG3D pretraining run's (weights-only)."""
    randomize(backbone, seed)
    state = {f'backbone.{k}': v.clone()
             for k, v in backbone.state_dict().items()}
    if extra:  # the rest of a CG3D run's state_dict
        state['head.proj.weight'] = torch.randn(16, 4)
        state['head.proj.bias'] = torch.randn(16)
        state['img_backbone.prompts'] = torch.randn(2, 5, 16)
    torch.save({'state_dict': state, 'meta': dict(epoch=40)}, str(path))
    return {k: v.clone() for k, v in backbone.state_dict().items()}


def assert_same_tensors(module, expected):
    got = module.state_dict()
    assert sorted(got) == sorted(expected)
    different = [k for k in expected if not torch.equal(got[k], expected[k])]
    assert not different, f'not loaded from the checkpoint: {different}'


# ---------------------------------------------------------------- configs
@pytest.mark.parametrize('backbone,dataset', PAIRS)
def test_cg3d_config_is_its_scratch_twin_plus_init(backbone, dataset):
    cg3d = cfg_of(f'{backbone}_cg3d_{dataset}.py')
    scratch = cfg_of(f'{backbone}_scratch_{dataset}.py')
    init = cg3d.model.backbone.pop('init_cfg')
    assert init.type == 'CG3DPretrained' and init.prefix == 'backbone.'
    assert init.strict is True
    assert 'init_cfg' not in scratch.model.backbone
    drop = ('filename', '_base_')
    assert {k: v for k, v in cg3d.to_dict().items() if k not in drop} == \
        {k: v for k, v in scratch.to_dict().items() if k not in drop}


@pytest.mark.parametrize('backbone,dataset', PAIRS)
def test_finetune_recipe(backbone, dataset):
    cfg = cfg_of(f'{backbone}_scratch_{dataset}.py')
    name = dict(pointmlp='PointMLP', pointtransformer='PointTransformer')
    num_classes = dict(modelnet40=40, scanobjectnn=15)[dataset]
    expected = original_cls_head_cfg(name[backbone], num_classes)
    head = cfg.model.head
    for key, value in expected.items():
        got = head[key]
        assert (tuple(got) if isinstance(got, (list, tuple)) else got) == \
            value, key
    assert cfg.model.backbone.type == name[backbone]
    assert cfg.train_cfg.max_epochs == 300
    assert cfg.train_dataloader.batch_size == 32
    for t in cfg.train_dataloader.dataset.pipeline + \
            cfg.test_dataloader.dataset.pipeline:
        if t.type == 'SamplePoints':
            assert t.num_points == 1024
    train_types = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert 'RandomScaleTranslate' in train_types
    assert ('RandomRotatePoints' in train_types) == (dataset ==
                                                     'scanobjectnn')
    if dataset == 'scanobjectnn':
        assert cfg.train_dataloader.dataset.variant == 'PB_T50_RS'
    assert cfg.test_dataloader.dataset.split == 'test'
    assert cfg.test_evaluator.type == 'ClassificationAccuracy'
    opt = cfg.optim_wrapper.optimizer
    if backbone == 'pointmlp':
        assert (opt.type, opt.lr, opt.momentum, opt.nesterov,
                opt.weight_decay) == ('SGD', 0.02, 0.9, True, 2e-4)
        assert head.label_smoothing == 0.2
    else:
        assert (opt.type, opt.lr, opt.weight_decay) == ('AdamW', 2e-4, 0.05)
        warmup, cosine = cfg.param_scheduler
        assert warmup.type == 'LinearLR' and warmup.end == 10
        assert cosine.type == 'CosineAnnealingLR' and cosine.begin == 10


def test_synthetic_backbone_matches_the_demo_pretraining():
    """The demo CG3D checkpoint must load strictly into the demo classifier."""
    from cg3d_mm.datagen.synthetic import resolve_categories
    demo = Config.fromfile(osp.join(REPO, 'configs', 'cg3d',
                                    'pointmlp_synthetic.py'))
    for ds in ('modelnet40', 'scanobjectnn'):
        cfg = cfg_of(f'pointmlp_cg3d_synthetic-{ds}.py')
        backbone = copy.deepcopy(cfg.model.backbone)
        init = backbone.pop('init_cfg')
        assert init.checkpoint.startswith('work_dirs/pointmlp_synthetic/')
        assert backbone == demo.model.backbone
        assert cfg.train_dataloader.dataset.synthetic == demo.synthetic
    # the synthetic world's ModelNet40 holds a subset of the 40 classes
    modelnet = [c for c in resolve_categories() if c.modelnet40]
    assert cfg_of('pointmlp_scratch_synthetic-modelnet40.py'
                  ).model.head.num_classes == len(modelnet)


# ------------------------------------------------------------ the model
@pytest.fixture(autouse=True)
def _cg3d_mm_scope():
    """The models here are built outside a Runner: use the scope a Runner
    of a cg3d_mm config sets (CG3DPretrained lives in the cg3d_mm scope)."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('cg3d_mm'):
        yield


def build_tiny_classifier(init_cfg=None, num_classes=3):
    backbone = dict(TINY_POINTMLP)
    if init_cfg is not None:
        backbone['init_cfg'] = init_cfg
    return MODELS.build(dict(
        type='PointClassifier', backbone=backbone,
        head=original_cls_head_cfg('PointMLP', num_classes) | dict(
            in_channels=128)))


def pretrained_tiny_classifier(tmp_path, **init):
    """A tiny classifier whose backbone's init_cfg is CG3DPretrained(**init)
    from a fresh tiny PointMLP checkpoint; returns it (not yet initialised)
    and the checkpoint's backbone tensors."""
    path = tmp_path / 'cg3d.pth'
    expected = save_cg3d_checkpoint(path, MODELS.build(dict(TINY_POINTMLP)))
    model = build_tiny_classifier(dict(type='CG3DPretrained',
                                       checkpoint=str(path), **init))
    return model, expected


def test_synthetic_config_classifier_gets_exact_checkpoint_tensors(tmp_path):
    cfg = cfg_of('pointmlp_cg3d_synthetic-modelnet40.py')
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.pop('init_cfg')
    expected = save_cg3d_checkpoint(
        tmp_path / 'cg3d.pth', MODELS.build(model_cfg.backbone))
    cfg.model.backbone.init_cfg.checkpoint = str(tmp_path / 'cg3d.pth')
    model = MODELS.build(cfg.model)
    head_before = copy.deepcopy(model.head.state_dict())
    model.init_weights()
    assert_same_tensors(model.backbone, expected)
    # the classifier head is not in the checkpoint: it keeps its own init
    assert all(torch.equal(v, model.head.state_dict()[k])
               for k, v in head_before.items())


def test_point_transformer_config_gets_exact_checkpoint_tensors(tmp_path):
    cfg = cfg_of('pointtransformer_cg3d_modelnet40.py')
    small = dict(num_groups=16, group_size=8, encoder_channels=32,
                 encoder_hidden_channels=(16, 32, 64), embed_dims=24,
                 depth=2, num_heads=2, pos_hidden_channels=16)
    cfg.model.backbone.update(small)
    cfg.model.head.in_channels = 48
    src = MODELS.build(dict(type='PointTransformer', **small))
    expected = save_cg3d_checkpoint(tmp_path / 'pt.pth', src)
    cfg.model.backbone.init_cfg.checkpoint = str(tmp_path / 'pt.pth')
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert_same_tensors(model.backbone, expected)


def test_published_slim_checkpoints_load(tmp_path):
    src = MODELS.build(dict(TINY_POINTMLP))
    expected = save_cg3d_checkpoint(tmp_path / 'run.pth', src)
    kept = publish_checkpoint(str(tmp_path / 'run.pth'),
                              str(tmp_path / 'kept.pth'),
                              keep_prefix=['backbone.'])
    model = build_tiny_classifier(dict(type='CG3DPretrained',
                                       checkpoint=kept, prefix='backbone.',
                                       strict=True))
    model.init_weights()
    assert_same_tensors(model.backbone, expected)

    stripped = publish_checkpoint(str(tmp_path / 'run.pth'),
                                  str(tmp_path / 'stripped.pth'),
                                  keep_prefix=['backbone.'],
                                  strip_prefix='backbone.')
    model = build_tiny_classifier(dict(type='CG3DPretrained',
                                       checkpoint=stripped, strict=True))
    model.init_weights()
    assert_same_tensors(model.backbone, expected)
    # the config's prefix on a stripped checkpoint: told to drop it
    model = build_tiny_classifier(dict(type='CG3DPretrained',
                                       checkpoint=stripped,
                                       prefix='backbone.'))
    with pytest.raises(KeyError, match='prefix=None'):
        model.init_weights()


# ------------------------------------------------------- loud loading
def test_wrong_prefix_lists_the_available_prefixes(tmp_path):
    model, _ = pretrained_tiny_classifier(tmp_path, prefix='point_encoder.')
    with pytest.raises(KeyError) as err:
        model.init_weights()
    msg = str(err.value)
    assert "'point_encoder.'" in msg
    for prefix in ('backbone.', 'head.', 'img_backbone.'):
        assert prefix in msg


def test_pointnet2_classifier_runs_on_cpu():
    """mmdet3d's PointNet2SASSG + GlobalPoolNeck (mmcv ops on CPU)."""
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='PointClassifier',
        backbone=dict(type='PointNet2SASSG', in_channels=3,
                      num_points=(32, 16), radius=(0.4, 0.8),
                      num_samples=(8, 8),
                      sa_channels=((16, 16, 32), (32, 32, 64)),
                      fp_channels=()),
        neck=dict(type='GlobalPoolNeck', in_channels=64),
        head=dict(type='PointClsHead', in_channels=64, num_classes=3,
                  mid_channels=(32, ))))
    model.train()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    log = model.train_step(make_batch(n=4, num_points=64), optim)
    assert torch.isfinite(log['loss'])
    model.eval()
    data = model.data_preprocessor(make_batch(n=2, num_points=64), False)
    assert model(data['inputs'], mode='tensor').shape == (2, 3)


def test_prefix_of_another_module_fails_instead_of_loading_nothing(
        tmp_path):
    model, _ = pretrained_tiny_classifier(tmp_path, prefix='head.')
    with pytest.raises(ValueError,
                       match=r'cg3d.pth \[head\.\]: none of its 2 weights '
                       r'fit PointMLP'):
        model.init_weights()


def test_missing_and_unexpected_keys_are_reported(tmp_path):
    src = MODELS.build(dict(TINY_POINTMLP))
    expected = save_cg3d_checkpoint(tmp_path / 'full.pth', src)
    state = torch.load(str(tmp_path / 'full.pth'))['state_dict']
    # a checkpoint of a PointMLP without its last stage's anchor MLPs
    dropped = sorted(k for k in state
                     if k.startswith('backbone.anchor_mlps.3.'))
    assert dropped
    for k in dropped:
        del state[k]
    state['backbone.extra_layer.weight'] = torch.zeros(3)
    torch.save({'state_dict': state}, str(tmp_path / 'partial.pth'))
    init = dict(type='CG3DPretrained', checkpoint=str(tmp_path /
                                                      'partial.pth'),
                prefix='backbone.')

    model = build_tiny_classifier(init)
    with pytest.warns(PretrainedKeysWarning) as record:
        model.init_weights()
    msg = str(record[0].message)
    assert f'{len(dropped)} missing' in msg
    assert dropped[0][len('backbone.'):] in msg
    assert 'extra_layer.weight' in msg
    # what was there did load
    got = model.backbone.state_dict()
    kept = [k for k in expected if f'backbone.{k}' not in dropped]
    assert kept and all(torch.equal(got[k], expected[k]) for k in kept)

    with pytest.raises(ValueError, match='strict=True') as err:
        build_tiny_classifier(dict(init, strict=True)).init_weights()
    assert dropped[0][len('backbone.'):] in str(err.value)


def test_shape_mismatch_is_reported_not_loaded(tmp_path):
    wider = dict(TINY_POINTMLP, embed_channels=16)
    save_cg3d_checkpoint(tmp_path / 'wide.pth', MODELS.build(wider))
    init = dict(type='CG3DPretrained', checkpoint=str(tmp_path / 'wide.pth'),
                prefix='backbone.', strict=True)
    with pytest.raises(ValueError, match='other shapes'):
        build_tiny_classifier(init).init_weights()


def test_complete_load_is_silent(tmp_path):
    model, _ = pretrained_tiny_classifier(tmp_path, prefix='backbone.')
    with warnings.catch_warnings():
        warnings.simplefilter('error', PretrainedKeysWarning)
        model.init_weights()


class _Child(BaseModule):
    """A submodule with its own init_cfg, run by BaseModule.init_weights."""

    def __init__(self):
        super().__init__(init_cfg=dict(type='Constant', layer='Linear',
                                       val=0.25, bias=0.))
        self.a = torch.nn.Linear(4, 4)
        self.b = torch.nn.Linear(4, 4)


class _Net(BaseModule):

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        from mmcv.cnn import ConvModule
        self.conv = ConvModule(3, 4, 1)  # re-draws itself in init_weights
        self.child = _Child()


def test_children_init_weights_do_not_overwrite_loaded_tensors(tmp_path):
    src = randomize(_Net())
    state = {k: v.clone() for k, v in src.state_dict().items()}
    del state['child.b.weight'], state['child.b.bias']  # partly loaded
    torch.save({'state_dict': state}, str(tmp_path / 'net.pth'))

    # without loading, the children's own initialisation changes the values
    plain = randomize(_Net())
    plain.init_weights()
    assert not torch.equal(plain.conv.conv.weight, src.conv.conv.weight)
    assert torch.all(plain.child.a.weight == 0.25)

    net = _Net(dict(type='CG3DPretrained', checkpoint=str(tmp_path /
                                                          'net.pth')))
    with pytest.warns(PretrainedKeysWarning, match='child.b.weight'):
        net.init_weights()
    for key, value in state.items():
        assert torch.equal(net.state_dict()[key], value), key
    # the part not in the checkpoint got the child's own init
    assert torch.all(net.child.b.weight == 0.25)


def test_pretrained_init_must_come_last(tmp_path):
    torch.save({'state_dict': randomize(_Net()).state_dict()},
               str(tmp_path / 'net.pth'))
    net = _Net([dict(type='CG3DPretrained', checkpoint=str(tmp_path /
                                                           'net.pth')),
                dict(type='Constant', layer='Conv2d', val=1.)])
    with pytest.raises(ValueError, match='last'):
        net.init_weights()


# ----------------------------------------------------------- training
def make_batch(n=6, num_points=128, num_classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    points = []
    for i in range(n):
        pts = torch.randn(num_points, 3, generator=g)
        pts[:, i % num_classes] *= 4  # class = elongated axis
        points.append(pts)
    return dict(inputs=dict(points=points),
                data_samples=[PointDataSample().set_gt_label(i % num_classes)
                              for i in range(n)])


def test_finetune_step_and_inference_modes(tmp_path):
    torch.manual_seed(0)
    model, expected = pretrained_tiny_classifier(tmp_path, prefix='backbone.',
                                                 strict=True)
    model.init_weights()
    assert_same_tensors(model.backbone, expected)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01,
                                         momentum=0.9, nesterov=True))
    model.train()
    log = model.train_step(make_batch(), optim)
    assert set(log) >= {'loss', 'loss_cls', 'acc_cls'}
    assert torch.isfinite(log['loss'])
    # the backbone is fine-tuned, not frozen
    changed = [k for k, v in model.backbone.named_parameters()
               if not torch.equal(v, expected[k])]
    assert changed

    model.eval()
    data = model.data_preprocessor(make_batch(seed=1), False)
    samples = model(**data, mode='predict')
    scores = torch.stack([s.pred_score for s in samples])
    assert scores.shape == (6, 3)
    assert torch.allclose(scores.sum(1), torch.ones(6), atol=1e-5)
    labels = torch.cat([s.pred_label for s in samples])
    assert torch.equal(labels, scores.argmax(1))
    logits = model(data['inputs'], mode='tensor')
    assert torch.equal(logits.argmax(1), labels)
    with pytest.raises(ValueError, match='gt_label'):
        model.loss(data['inputs'], [PointDataSample() for _ in range(6)])


def test_classification_accuracy_metric():
    metric = METRICS.build(dict(type='ClassificationAccuracy'))
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    scores = torch.eye(3)[[0, 1, 2, 0, 0, 1]]  # predictions
    labels = [0, 1, 2, 1, 2, 1]  # 4 of 6 right; per class 1, 2/3, 1/2
    metric.process(None, [dict(pred_score=s, gt_label=torch.tensor([y]))
                          for s, y in zip(scores, labels)])
    out = metric.evaluate(6)
    assert out['accuracy/top1'] == pytest.approx(400 / 6)
    assert out['accuracy/class_mean'] == pytest.approx(
        (100 + 200 / 3 + 50) / 3)


# --------------------------------------------- config through the Runner
@pytest.mark.slow
def test_synthetic_finetune_config_trains_and_tests_with_runner(tmp_path):
    data_root = write_tiny_modelnet(tmp_path / 'data')
    cfg = cfg_of('pointmlp_cg3d_synthetic-modelnet40.py')
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.pop('init_cfg')
    expected = save_cg3d_checkpoint(tmp_path / 'cg3d.pth',
                                    MODELS.build(model_cfg.backbone))
    cfg.model.backbone.init_cfg.checkpoint = str(tmp_path / 'cg3d.pth')
    cfg.model.head.num_classes = 3
    root = osp.join(data_root, 'modelnet40_normal_resampled')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.update(data_root=root, synthetic=None)
        cfg[loader].update(num_workers=0, persistent_workers=False,
                           batch_size=4)
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.param_scheduler[0].T_max = 1
    cfg.work_dir = str(tmp_path / 'work')
    cfg.default_hooks.logger.interval = 1

    runner = Runner.from_cfg(cfg)
    seen = {}

    def record(module, args):  # backbone weights at the first forward
        if not seen:
            seen.update({k: v.detach().clone()
                         for k, v in module.state_dict().items()})

    runner.model.backbone.register_forward_pre_hook(record)
    runner.train()
    assert_same_tensors_dict(seen, expected)
    metrics = runner.test()
    assert set(metrics) == {'accuracy/top1', 'accuracy/class_mean'}
    assert 0 <= metrics['accuracy/top1'] <= 100
    assert glob.glob(osp.join(cfg.work_dir, 'epoch_1.pth'))


def assert_same_tensors_dict(got, expected):
    assert sorted(got) == sorted(expected)
    assert all(torch.equal(got[k], expected[k]) for k in expected)
