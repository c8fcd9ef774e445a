"""VoteNet (mmdet3d's own config) initialised from a CG3D PointNet2SASSG."""
import copy
import os.path as osp

import pytest
import torch
from conftest import REPO  # noqa: E402
from mmengine.config import Config

import cg3d_mm  # noqa: F401
from cg3d_mm.models.utils import global_point_feats
from cg3d_mm.ops import mmcv_point_ops_cpu_fallback
from cg3d_mm.registry import MODELS

CG3D_DIR = osp.join(REPO, 'configs', 'cg3d')
VOTENET = osp.join(CG3D_DIR, 'detection',
                   'votenet_cg3d-pointnet2_8xb8_scannet-3d.py')
FIRST_CONV = 'SA_modules.0.mlps.0.layer0.conv.weight'


@pytest.fixture(scope='module')
def pretrain_cfg():
    return Config.fromfile(osp.join(CG3D_DIR, 'pointnet2_synthetic.py'))


@pytest.fixture(scope='module')
def cg3d_checkpoint(tmp_path_factory, pretrain_cfg):
    """A CG3D checkpoint of the PointNet2 encoder with distinct values."""
    backbone = MODELS.build(copy.deepcopy(pretrain_cfg.model.backbone))
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, t in backbone.state_dict(keep_vars=True).items():
            if t.dtype.is_floating_point:
                # positive variances, the rest centred
                shift = 0.5 if 'running_var' in name else -0.5
                t.copy_(torch.rand(t.shape, generator=g) + shift)
    state = {f'backbone.{k}': v.clone()
             for k, v in backbone.state_dict().items()}
    state.update({'head.proj.weight': torch.randn(256, 256),
                  'head.proj.bias': torch.randn(256)})
    path = tmp_path_factory.mktemp('ckpt') / 'cg3d_pointnet2.pth'
    torch.save({'state_dict': state, 'meta': dict(epoch=40)}, str(path))
    return str(path), backbone


def votenet_cfg(checkpoint, **init):
    """VoteNet's config; its scope (mmdet3d) becomes the default, as a
    Runner would make it, so ``cg3d_mm.CG3DPretrained`` resolves through
    mmdet3d's registry (conftest restores the scope after the test)."""
    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(VOTENET)
    init_default_scope(cfg.default_scope)
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    cfg.model.backbone.init_cfg.update(init)
    return cfg


def test_config_is_mmdet3ds_votenet_plus_init_cfg():
    cfg = Config.fromfile(VOTENET)
    base = Config.fromstring(
        "_base_ = ['mmdet3d::votenet/votenet_8xb8_scannet-3d.py']\n", '.py')
    assert cfg.model.type == 'VoteNet'
    assert cfg.model.backbone.type == 'PointNet2SASSG'
    assert cfg.model.backbone.in_channels == 4  # xyz + height, unchanged
    init = cfg.model.backbone.pop('init_cfg')
    assert init.type == 'cg3d_mm.CG3DPretrained' and init.strict is True
    assert list(init.zero_pad_in_channels) == [FIRST_CONV]
    assert cfg.model.to_dict() == base.model.to_dict()
    for key in ('train_dataloader', 'optim_wrapper', 'param_scheduler'):
        assert cfg[key] == base[key], key
    assert 'cg3d_mm' in cfg.custom_imports['imports']


def test_pretraining_backbone_has_votenets_weight_shapes(pretrain_cfg):
    shapenet = Config.fromfile(osp.join(CG3D_DIR, 'pointnet2_shapenet.py'))
    assert shapenet.model.backbone == pretrain_cfg.model.backbone
    assert shapenet.model.neck == pretrain_cfg.model.neck
    ours = MODELS.build(copy.deepcopy(pretrain_cfg.model.backbone))
    vote_cfg = Config.fromfile(VOTENET).model.backbone
    vote_cfg.pop('init_cfg')
    theirs = MODELS.build(vote_cfg).state_dict()
    shapes = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    assert sorted(shapes) == sorted(theirs)
    diff = {k for k in shapes if shapes[k] != tuple(theirs[k].shape)}
    assert diff == {FIRST_CONV}  # only the input channels: 3 vs 4
    assert shapes[FIRST_CONV][1] == 3 and theirs[FIRST_CONV].shape[1] == 4


def test_pretraining_encoder_trains_every_backbone_weight(pretrain_cfg):
    """The neck pools the FP output: no backbone weight is left unused."""
    torch.manual_seed(0)
    backbone = MODELS.build(copy.deepcopy(pretrain_cfg.model.backbone))
    neck = MODELS.build(copy.deepcopy(pretrain_cfg.model.neck))
    feats = global_point_feats(backbone, neck, torch.rand(2, 1024, 3) - .5)
    assert feats.shape == (2, pretrain_cfg.model.head.in_channels)
    feats.square().sum().backward()
    unused = [k for k, p in backbone.named_parameters()
              if p.grad is None or not p.grad.abs().sum()]
    assert not unused


def test_votenet_backbone_gets_exactly_the_checkpoint_tensors(
        cg3d_checkpoint):
    path, src = cg3d_checkpoint
    expected = src.state_dict()
    model = MODELS.build(votenet_cfg(path).model)
    head_before = copy.deepcopy(model.bbox_head.state_dict())
    model.init_weights()
    got = model.backbone.state_dict()
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        if key == FIRST_CONV:
            # xyz channels copied, the height channel starts at zero
            assert torch.equal(got[key][:, :3], value)
            assert torch.all(got[key][:, 3:] == 0)
        else:
            assert torch.equal(got[key], value), key
    # the detection head is VoteNet's own initialisation
    assert all(torch.equal(v, model.bbox_head.state_dict()[k])
               for k, v in head_before.items())


def test_zero_padded_height_channel_is_ignored_at_init(cg3d_checkpoint):
    path, _ = cg3d_checkpoint
    model = MODELS.build(votenet_cfg(path).model)
    model.init_weights()
    model.eval()
    g = torch.Generator().manual_seed(1)
    xyz = torch.rand(1, 2048, 3, generator=g) * 4
    height = torch.rand(1, 2048, 1, generator=g) * 2
    outs = []
    for h in (height, torch.zeros_like(height)):
        # same sampled points for both runs: only the height differs
        torch.manual_seed(0)
        with torch.no_grad(), mmcv_point_ops_cpu_fallback():
            outs.append(model.backbone(torch.cat([xyz, h], -1)))
    for a, b in zip(outs[0]['fp_features'], outs[1]['fp_features']):
        assert torch.allclose(a, b, atol=1e-5)


def test_channel_mismatch_is_an_error_without_padding(cg3d_checkpoint):
    path, _ = cg3d_checkpoint
    model = MODELS.build(votenet_cfg(path, zero_pad_in_channels=[]).model)
    with pytest.raises(ValueError, match=r'other shapes.*layer0\.conv'):
        model.init_weights()


def test_pad_key_typo_is_an_error(cg3d_checkpoint):
    path, _ = cg3d_checkpoint
    model = MODELS.build(votenet_cfg(
        path, zero_pad_in_channels=['SA_modules.0.conv.weight']).model)
    with pytest.raises(ValueError, match='not keys of PointNet2SASSG'):
        model.init_weights()


def test_wrong_prefix_names_the_available_ones(cg3d_checkpoint):
    path, _ = cg3d_checkpoint
    model = MODELS.build(votenet_cfg(path, prefix='point_encoder.').model)
    with pytest.raises(KeyError, match=r'backbone\. \(\d+\).*head\. \(2\)'):
        model.init_weights()
