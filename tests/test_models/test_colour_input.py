"""Point encoders on coloured points (in_channels=6): neighbourhoods and
samples from xyz only, every channel a feature."""
import copy
import os.path as osp

import pytest
import torch
from conftest import REPO
from mmengine.config import Config

import cg3d_mm  # noqa: F401
from cg3d_mm.models.backbones.point_transformer import PointTransformer
from cg3d_mm.models.backbones.pointmlp import PointMLP
from cg3d_mm.models.utils import global_point_feats
from cg3d_mm.models.utils.point_feats import sa_point_channels
from cg3d_mm.ops import group_points
from cg3d_mm.registry import MODELS

CONFIGS = osp.join(REPO, 'configs', 'cg3d')
SMALL_MLP = dict(embed_channels=8, num_anchors=(32, 16, 8, 4),
                 num_neighbors=(6, 6, 4, 4))
SMALL_TRANSFORMER = dict(num_groups=8, group_size=6, encoder_channels=32,
                         encoder_hidden_channels=(16, 32, 32), embed_dims=24,
                         depth=2, num_heads=3, pos_hidden_channels=16)


def coloured(batch=2, num=64, seed=0):
    """(B, N, 6) xyz + RGB, and the same xyz with other colours."""
    g = torch.Generator().manual_seed(seed)
    xyz = torch.rand(batch, num, 3, generator=g) * 2 - 1
    rgb = torch.rand(batch, num, 3, generator=g)
    other = torch.rand(batch, num, 3, generator=g)
    return torch.cat([xyz, rgb], -1), torch.cat([xyz, other], -1)


def test_pointmlp_groups_by_xyz_and_reads_colours():
    model = PointMLP(in_channels=6, **SMALL_MLP).eval()
    pts, recoloured = coloured()
    a, b = model(pts), model(recoloured)
    assert a['global_feat'].shape == (2, 128)
    # the same anchors and neighbourhoods: sampling / kNN use xyz only
    for ia, ib in zip(a['indices'], b['indices']):
        assert torch.equal(ia, ib)
    for xa, xb in zip(a['xyz'], b['xyz']):
        assert torch.equal(xa, xb) and xa.shape[-1] == 3
    # ... and the colours are features
    assert not torch.allclose(a['global_feat'], b['global_feat'])
    assert model.embedding.linear.in_features == 6


def test_point_transformer_groups_by_xyz_and_reads_colours():
    model = PointTransformer(in_channels=6, **SMALL_TRANSFORMER).eval()
    pts, recoloured = coloured()
    a, b = model(pts), model(recoloured)
    assert torch.equal(a['center_indices'], b['center_indices'])
    assert torch.equal(a['neighbor_indices'], b['neighbor_indices'])
    assert not torch.allclose(a['global_feat'], b['global_feat'])
    groups = model.group(pts)
    assert groups['neighborhood'].shape == (2, 8, 6, 6)
    # xyz re-centred on the group centre, colours as they are
    assert torch.equal(groups['neighborhood'][..., 3:],
                       group_points(pts[..., 3:].contiguous(),
                                    groups['neighbor_indices']))
    assert torch.allclose(
        groups['neighborhood'][..., :3] + groups['centers'][:, :, None],
        group_points(pts[..., :3].contiguous(), groups['neighbor_indices']),
        atol=1e-6)


def test_pointnet2_votenet_encoder_takes_colours_on_cpu():
    """The config fragment of pointnet2_synthetic.py with in_channels=6:
    mmdet3d's PointNet2SASSG reads channels 3.. as point features."""
    frag = Config.fromfile(osp.join(CONFIGS, '_base_', 'models',
                                    'pointnet2_votenet_encoder.py'))
    torch.manual_seed(0)
    backbone = MODELS.build(dict(copy.deepcopy(frag.pointnet2_backbone),
                                 in_channels=6)).eval()
    neck = MODELS.build(copy.deepcopy(frag.pointnet2_neck))
    first = backbone.SA_modules[0].mlps[0][0].conv
    assert first.in_channels == 3 + 3  # normalised offsets + RGB
    pts, recoloured = coloured(batch=2, num=600)
    with torch.no_grad():
        a = global_point_feats(backbone, neck, pts)
        b = global_point_feats(backbone, neck, recoloured)
    assert a.shape == (2, 256)
    assert not torch.allclose(a, b)
    # xyz-only points for a colour encoder: said so, before mmcv's ops
    with pytest.raises(ValueError, match=r'PointNet2SASSG was built for '
                       r'points \(B, N, 6\).*got \(2, 600, 3\)'):
        global_point_feats(backbone, neck, pts[..., :3].contiguous())
    assert sa_point_channels(MODELS.build(frag.pointnet2_backbone)) == 3


def test_colour_demo_model_builds_and_encodes_six_channels():
    """pointmlp_synthetic_rgb.py's model (random tiny CLIP) on (B, N, 6)."""
    cfg = Config.fromfile(osp.join(CONFIGS, 'pointmlp_synthetic_rgb.py'))
    clip = dict(model_name='cg3d-tiny-vit', pretrained=None)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.img_backbone.clip = clip
    model_cfg.text_encoder.clip = clip
    torch.manual_seed(0)
    model = MODELS.build(model_cfg).eval()
    assert model.backbone.in_channels == 6
    pts, recoloured = coloured(batch=2, num=cfg.num_points)
    with torch.no_grad():
        a, b = model.encode_points(pts), model.encode_points(recoloured)
    assert a.shape == (2, 256) and not torch.allclose(a, b)
    with pytest.raises(ValueError, match=r'\(B, N, 6\)'):
        model.encode_points(pts[..., :3].contiguous())


def test_colour_finetune_configs_load_the_colour_demo_encoder():
    from cg3d_mm.datagen.synthetic import resolve_categories
    finetune = osp.join(CONFIGS, 'finetune')
    cg3d = Config.fromfile(osp.join(
        finetune, 'pointmlp_cg3d_synthetic-shapenet55_rgb.py'))
    scratch = Config.fromfile(osp.join(
        finetune, 'pointmlp_scratch_synthetic-shapenet55_rgb.py'))
    demo = Config.fromfile(osp.join(CONFIGS, 'pointmlp_synthetic_rgb.py'))
    backbone = copy.deepcopy(cg3d.model.backbone)
    init = backbone.pop('init_cfg')
    assert init.checkpoint.startswith('work_dirs/pointmlp_synthetic_rgb/')
    assert (init.prefix, init.strict) == ('backbone.', True)
    # the demo checkpoint's encoder loads strictly: the same backbone
    assert backbone == demo.model.backbone and backbone.in_channels == 6
    assert backbone == scratch.model.backbone
    drop = ('filename', '_base_', 'model')
    assert {k: v for k, v in cg3d.to_dict().items() if k not in drop} == \
        {k: v for k, v in scratch.to_dict().items() if k not in drop}
    shapenet = [c for c in resolve_categories() if c.in_shapenet]
    assert cg3d.model.head.num_classes == len(shapenet)
    for split in ('train', 'val', 'test'):
        ds = cg3d[f'{split}_dataloader'].dataset
        assert ds.pc_dir == 'shapenet_pc_rgb'
        assert ds.synthetic == demo.synthetic
        assert ds.pipeline[0].use_dims == (0, 1, 2, 3, 4, 5)
    assert cg3d.val_dataloader.dataset.ann_file == 'val_img.txt'
    assert cg3d.test_dataloader.dataset.ann_file == 'test_img.txt'


def test_classifier_trains_on_coloured_points():
    from mmengine.optim import OptimWrapper

    from cg3d_mm.structures import PointDataSample
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='PointClassifier',
        backbone=dict(type='PointMLP', in_channels=6, **SMALL_MLP),
        head=dict(type='PointClsHead', in_channels=128, num_classes=3,
                  mid_channels=(32, ))))
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.05))
    pts, _ = coloured(batch=6, num=64)
    labels = [i % 3 for i in range(6)]
    for i, label in enumerate(labels):  # the class is in the colour alone
        pts[i, :, 3:] = torch.eye(3)[label]
    batch = dict(inputs=dict(points=list(pts)),
                 data_samples=[PointDataSample().set_gt_label(label)
                               for label in labels])
    model.train()
    first = float(model.train_step(batch, optim)['loss'].detach())
    for _ in range(15):
        last = float(model.train_step(batch, optim)['loss'].detach())
    assert last < first
