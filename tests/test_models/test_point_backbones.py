"""Point encoders, global pooling neck and classification head."""
import pytest
import torch
from torch import nn

from cg3d_mm.models.backbones.point_transformer import PointTransformer
from cg3d_mm.models.backbones.pointmlp import AnchorGrouper, PointMLP
from cg3d_mm.models.heads.cls_head import PointClsHead, original_cls_head_cfg
from cg3d_mm.models.necks.global_pool import GlobalPoolNeck
from cg3d_mm.ops import gather_points, mmcv_point_ops_cpu_fallback
from cg3d_mm.registry import MODELS

SMALL_MLP = dict(
    embed_channels=8,
    num_anchors=(32, 16, 8, 4),
    num_neighbors=(6, 6, 4, 4))
SMALL_TRANSFORMER = dict(
    num_groups=8,
    group_size=6,
    encoder_channels=32,
    encoder_hidden_channels=(16, 32, 32),
    embed_dims=24,
    depth=2,
    num_heads=3,
    pos_hidden_channels=16)


def num_params(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


def points(batch, num, channels=3, seed=0):
    return torch.rand(
        batch, num, channels, generator=torch.Generator().manual_seed(seed))


# ------------------------------------------------- original parameter counts


def test_pointmlp_parameter_counts_equal_the_original():
    backbone = PointMLP()
    assert backbone.out_channels == 1024
    assert num_params(backbone) == 12_570_560
    # pretraining encoder = backbone + CG3D projection to 512
    assert num_params(backbone, nn.Linear(1024, 512)) == 13_095_360
    head = MODELS.build(original_cls_head_cfg('PointMLP', 40))
    assert num_params(backbone, head) == 13_238_504


def test_point_transformer_parameter_counts_equal_the_original():
    backbone = PointTransformer()
    assert backbone.out_channels == 768
    assert num_params(backbone) == 21_858_816
    projection = nn.Linear(768, 512)
    assert num_params(backbone, projection) == 22_252_544
    unused_55_class_head = nn.Sequential(
        nn.Linear(768, 256), nn.Linear(256, 55))
    assert num_params(backbone, projection,
                      unused_55_class_head) == 22_463_543
    head = MODELS.build(original_cls_head_cfg('PointTransformer', 40))
    assert num_params(backbone, head) == 22_065_960


@pytest.mark.parametrize('cls', [PointMLP, PointTransformer])
def test_full_size_backbones_encode_1024_points(cls):
    model = MODELS.build(dict(type=cls.__name__)).eval()
    with torch.no_grad():
        out = model(points(2, 1024))
    assert out['global_feat'].shape == (2, model.out_channels)
    assert torch.isfinite(out['global_feat']).all()


# ---------------------------------------------------------------- PointMLP


@pytest.mark.parametrize('num', [32, 100, 257])
def test_pointmlp_stage_outputs_for_several_cloud_sizes(num):
    model = PointMLP(**SMALL_MLP)
    cloud = points(2, num)
    out = model(cloud)
    sizes = [num, 32, 16, 8, 4]
    channels = [8, 16, 32, 64, 128]
    assert model.out_channels == 128
    assert out['global_feat'].shape == (2, 128)
    for xyz, feat, idx, n, c in zip(out['xyz'], out['features'],
                                    out['indices'], sizes, channels):
        assert xyz.shape == (2, n, 3) and feat.shape == (2, c, n)
        # each stage's points are input points, found via `indices`
        assert torch.equal(xyz, gather_points(cloud, idx))
    assert torch.equal(out['global_feat'], out['features'][-1].amax(-1))


def test_anchor_grouper_normalises_offsets_and_appends_anchor_features():
    grouper = AnchorGrouper(channels=5, num_anchors=6, num_neighbors=4)
    xyz, feats = points(2, 20), torch.randn(2, 20, 5)
    anchor_xyz, grouped, anchor_idx = grouper(xyz, feats)
    assert grouped.shape == (2, 6, 4, 10)
    anchor_feats = gather_points(feats, anchor_idx)
    assert torch.equal(grouped[..., 5:], anchor_feats[:, :, None].expand(
        -1, -1, 4, -1))
    # alpha=1, beta=0: offsets divided by their per-cloud std
    normalised = grouped[..., :5].flatten(1)
    assert torch.allclose(normalised.std(dim=1), torch.ones(2), atol=1e-3)
    # each anchor is its own nearest neighbour: zero offset in slot 0
    assert torch.allclose(grouped[:, :, 0, :5], torch.zeros(2, 6, 5))


def test_pointmlp_backward_reaches_every_parameter():
    model = PointMLP(**SMALL_MLP)
    out = model(points(3, 64))
    (out['global_feat'].square().mean() +
     out['features'][1].mean()).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_pointmlp_extra_channels_and_errors():
    model = PointMLP(in_channels=6, **SMALL_MLP)
    assert model(points(2, 40, 6))['global_feat'].shape == (2, 128)
    with pytest.raises(ValueError, match=r'\(B, N, 6\)'):
        model(points(2, 40, 3))
    with pytest.raises(ValueError, match=r'\(B, N, 6\)'):
        model(points(1, 40, 6)[0])
    with pytest.raises(ValueError, match='at least 32 points.*got 31'):
        model(points(2, 31, 6))
    with pytest.raises(ValueError, match='stage 1'):
        PointMLP(num_anchors=(16, 32), num_neighbors=4,
                 dim_expansion=(2, 2), pre_blocks=(1, 1), pos_blocks=(1, 1))


# -------------------------------------------------------- PointTransformer


@pytest.mark.parametrize('num', [8, 100, 257])
def test_point_transformer_outputs_for_several_cloud_sizes(num):
    model = PointTransformer(**SMALL_TRANSFORMER)
    cloud = points(2, num)
    out = model(cloud)
    assert model.out_channels == 48
    assert out['global_feat'].shape == (2, 48)
    assert out['tokens'].shape == (2, 8, 24)
    assert out['centers'].shape == (2, 8, 3)
    assert out['neighbor_indices'].shape == (2, 8, 6)
    assert torch.equal(out['centers'],
                       gather_points(cloud, out['center_indices']))
    # groups are the centres' nearest neighbours, the centre first
    assert torch.equal(out['neighbor_indices'][..., 0], out['center_indices'])
    assert torch.equal(
        out['global_feat'],
        torch.cat([out['cls_feat'], out['tokens'].amax(1)], dim=-1))


def test_point_transformer_is_deterministic_in_eval_and_uses_positions():
    model = PointTransformer(**SMALL_TRANSFORMER).eval()
    cloud = points(2, 64)
    first, second = model(cloud), model(cloud)
    assert torch.equal(first['global_feat'], second['global_feat'])
    # translating the cloud keeps the groups but moves the positional input
    shifted = model(cloud + 0.5)
    assert torch.equal(shifted['center_indices'], first['center_indices'])
    assert not torch.allclose(shifted['global_feat'], first['global_feat'])


def test_point_transformer_backward_reaches_every_parameter():
    model = PointTransformer(**SMALL_TRANSFORMER)
    model.init_weights()
    model(points(3, 40))['global_feat'].square().mean().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_point_transformer_extra_channels_and_errors():
    model = PointTransformer(in_channels=4, **SMALL_TRANSFORMER)
    assert model(points(2, 30, 4))['global_feat'].shape == (2, 48)
    with pytest.raises(ValueError, match=r'\(B, N, 4\)'):
        model(points(2, 30, 3))
    with pytest.raises(ValueError, match='at least 8 points.*got 7'):
        model(points(2, 7, 4))
    with pytest.raises(ValueError, match='divisible'):
        PointTransformer(embed_dims=20, num_heads=3)


# --------------------------------------------------------- GlobalPoolNeck


@pytest.fixture
def pointnet2():
    return MODELS.build(
        dict(
            type='PointNet2SASSG',
            in_channels=4,
            num_points=(32, 16),
            radius=(0.3, 0.6),
            num_samples=(8, 8),
            sa_channels=((16, 16, 32), (32, 32, 64)),
            fp_channels=((32, 32), )))


@pytest.mark.filterwarnings('ignore:The torch.cuda')
def test_global_pool_neck_on_pointnet2_ssg_output_on_cpu(pointnet2):
    cloud = points(2, 128, 4)
    with pytest.raises(RuntimeError):  # mmcv's point ops are CUDA-only
        pointnet2(cloud)
    with mmcv_point_ops_cpu_fallback():
        out = pointnet2(cloud)
    deepest = out['sa_features'][-1]
    assert deepest.shape == (2, 64, 16)
    assert out['fp_features'][-1].shape == (2, 32, 32)
    for pool, expected in [('max', deepest.amax(-1)),
                           ('avg', deepest.mean(-1)),
                           ('maxavg',
                            torch.cat([deepest.amax(-1),
                                       deepest.mean(-1)], -1))]:
        neck = MODELS.build(
            dict(type='GlobalPoolNeck', pool=pool, in_channels=64))
        feat = neck(out)
        assert torch.equal(feat, expected)
        assert feat.shape == (2, neck.out_channels)
    feat.sum().backward()
    assert pointnet2.SA_modules[0].mlps[0][0].conv.weight.grad.abs().sum() > 0


def test_global_pool_neck_inputs():
    neck = GlobalPoolNeck()
    global_feat = torch.randn(2, 7)
    assert neck(dict(global_feat=global_feat, features=[None])) is \
        global_feat
    feats = torch.randn(2, 7, 5)
    assert torch.equal(neck(dict(features=[feats[..., :3], feats])),
                       feats.amax(-1))
    assert torch.equal(neck(feats), feats.amax(-1))
    with pytest.raises(ValueError, match='sa_features'):
        neck(dict(sa_features=[None]))
    with pytest.raises(ValueError, match='pool'):
        GlobalPoolNeck(pool='sum')


# ------------------------------------------------------------ PointClsHead


def test_cls_head_logits_loss_and_label_smoothing():
    head = PointClsHead(in_channels=16, num_classes=5, mid_channels=(8, ),
                        label_smoothing=0.2).eval()
    feat = torch.randn(4, 16)
    logits = head(feat)
    assert logits.shape == (4, 5)
    labels = torch.tensor([0, 1, 4, 4])
    losses = head.loss(logits, labels)
    # PointMLP's smoothing: 1 - eps on the label, eps / (C - 1) elsewhere
    target = torch.full((4, 5), 0.2 / 4).scatter(1, labels[:, None], 0.8)
    expected = -(target * logits.log_softmax(-1)).sum(-1).mean()
    assert torch.allclose(losses['loss_cls'], expected)
    acc = (logits.argmax(1) == labels).float().mean() * 100
    assert torch.allclose(losses['acc_cls'], acc)
    assert torch.allclose(head.predict(feat).sum(-1), torch.ones(4))
    with pytest.raises(ValueError, match=r'\(B, 16\)'):
        head(torch.randn(4, 15))


def test_backbone_head_fine_tuning_step_reduces_the_loss():
    torch.manual_seed(0)
    backbone = PointTransformer(**SMALL_TRANSFORMER, drop_path_rate=0.)
    head = PointClsHead(48, 3, mid_channels=(16, ), norm_cfg=None,
                        dropout_ratio=0.)
    params = list(backbone.parameters()) + list(head.parameters())
    optim = torch.optim.Adam(params, lr=1e-3)
    cloud, labels = points(6, 32), torch.tensor([0, 1, 2, 0, 1, 2])
    losses = []
    for _ in range(8):
        loss = head.loss(head(backbone(cloud)['global_feat']),
                         labels)['loss_cls']
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


@pytest.mark.parametrize('extra', [
    dict(), dict(use_xyz=True), dict(bias=True, in_channels=6),
    dict(num_neighbors=(8, 4, 4, 2), res_expansion=0.5)])
def test_pointmlp_equals_the_legacy_implementation(extra):
    """The fast path (transfer split per point / per anchor, no grouped
    concat) computes the legacy PointMLP's function: equal in float64,
    and in float32 no further from float64 than the legacy code."""
    from cg3d_mm.benchmark.encoders import build_pair, compare_outputs
    cfg = dict(SMALL_MLP, **extra)
    models = build_pair(cfg, 'cpu', seed=1)
    cloud = points(3, 96, cfg.get('in_channels', 3))
    check = compare_outputs(models, cloud)
    assert check['equal'], check
    assert check['fp64_grad_rel_diff'] < 1e-9
    for model in models.values():  # eval mode (running statistics) too
        model.eval()
    with torch.no_grad():
        new, old = (models[k](cloud) for k in ('new', 'old'))
    assert torch.allclose(new['global_feat'], old['global_feat'],
                          rtol=1e-4, atol=1e-5)
    for a, b in zip(new['indices'], old['indices']):
        assert torch.equal(a, b)


def test_pointmlp_state_dict_loads_into_the_legacy_class():
    from cg3d_mm.benchmark.legacy_pointmlp import LegacyPointMLP
    new, old = PointMLP(**SMALL_MLP), LegacyPointMLP(**SMALL_MLP)
    assert list(new.state_dict()) == list(old.state_dict())


@pytest.mark.parametrize('in_channels', [3, 6])
def test_point_transformer_equals_the_legacy_group_encoder(in_channels):
    """The split group-max convolution computes the legacy function."""
    from cg3d_mm.benchmark.encoders import build_pair, compare_outputs
    cfg = dict(SMALL_TRANSFORMER, type='PointTransformer',
               in_channels=in_channels)
    models = build_pair(cfg, 'cpu', seed=2)
    assert type(models['old'].encoder).__name__ == 'LegacyMiniPointNet'
    check = compare_outputs(models, points(2, 64, in_channels))
    assert check['equal'], check
    assert check['fp64_out_rel_diff'] < 1e-9
    assert check['fp64_grad_rel_diff'] < 1e-9


def test_pointmlp_eval_folds_norms_and_chunks_at_equal_outputs():
    """Eval mode folds each batch norm into its linear layer and encodes
    CPU batches in chunks: the same function as the legacy code's (which
    does neither), with non-trivial running statistics."""
    from cg3d_mm.benchmark.legacy_pointmlp import LegacyPointMLP
    torch.manual_seed(3)
    new = PointMLP(**SMALL_MLP, cpu_eval_chunk=2)
    g = torch.Generator().manual_seed(4)
    with torch.no_grad():
        for module in new.modules():
            if isinstance(module, nn.BatchNorm1d):
                module.running_mean.uniform_(-1, 1, generator=g)
                module.running_var.uniform_(0.2, 3, generator=g)
                module.weight.uniform_(0.5, 1.5, generator=g)
                module.bias.uniform_(-0.5, 0.5, generator=g)
    old = LegacyPointMLP(**SMALL_MLP)
    old.load_state_dict(new.state_dict())
    whole = PointMLP(**SMALL_MLP, cpu_eval_chunk=None)
    whole.load_state_dict(new.state_dict())
    for model in (new, old, whole):
        model.eval()
    assert new.embedding.folded_linear() is not None
    cloud = points(5, 96, seed=5)  # 5 clouds: chunks of 2, 2, 1
    with torch.no_grad():
        outs = [model(cloud) for model in (new, old, whole)]
    for other in outs[1:]:
        assert torch.allclose(outs[0]['global_feat'], other['global_feat'],
                              rtol=1e-4, atol=1e-5)
        for key in ('xyz', 'features', 'indices'):
            assert len(outs[0][key]) == len(other[key])
            for a, b in zip(outs[0][key], other[key]):
                assert a.shape == b.shape
                assert torch.allclose(a.float(), b.float(), rtol=1e-4,
                                      atol=1e-5), key
    # in training the norms normalise with batch statistics: no folding
    new.train()
    assert new.embedding.folded_linear() is None
    with pytest.raises(ValueError, match='cpu_eval_chunk'):
        PointMLP(**SMALL_MLP, cpu_eval_chunk=0)
