"""Colour end to end: the colour demo config (pointmlp_synthetic_rgb.py)
pretrains a few iterations on a small coloured synthetic world through
mmengine's Runner; its checkpoint then classifies coloured points zero-shot
(and ModelNet40 with a constant grey), encodes coloured clouds, indexes
them for retrieval and initialises the colour fine-tuning config."""
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import REPO
from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner

import cg3d_mm  # noqa: F401
from cg3d_mm.apis import (build_zeroshot_model, encode_point_clouds,
                          evaluate_zeroshot, init_model)
from cg3d_mm.datagen.synthetic import generate
from cg3d_mm.datasets import ShapeNetTriplets
from cg3d_mm.datasets.transforms import UnreadableSampleError

pytestmark = pytest.mark.slow  # end-to-end: a Runner run

CLASSES = ('chair', 'table', 'lamp', 'bottle')


def tiny_rgb_cfg(data_root: str, work_dir: str) -> Config:
    """pointmlp_synthetic_rgb.py on ``data_root``: its pipelines, a tiny
    PointMLP (6 input channels) and an untrained tiny CLIP, 1 epoch."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cg3d',
                                   'pointmlp_synthetic_rgb.py'))
    clip = ConfigDict(model_name='cg3d-tiny-vit', pretrained=None)
    cfg.model.img_backbone.clip = clip
    cfg.model.text_encoder.clip = clip
    cfg.model.backbone.update(embed_channels=8, num_anchors=(64, 32, 16, 8),
                              num_neighbors=8)
    cfg.model.head.in_channels = 128
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=4, num_workers=0, persistent_workers=False)
        # (serialize_data: mmengine's gc.collect per dataset costs seconds)
        loader.dataset.update(data_root=data_root, synthetic=None,
                              num_views=2, serialize_data=False)
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.param_scheduler.point_encoder[0].T_max = 1
    cfg.param_scheduler.visual_prompt[0].T_max = 1
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.update(interval=1, save_best=None)
    cfg.work_dir = work_dir
    return cfg


def test_colour_pretraining_then_zeroshot_on_coloured_points(tmp_path):
    world = generate(tmp_path / 'world', seed=0, shapes_per_class=5,
                     layouts='shapenet,modelnet', classes=CLASSES,
                     image_size=32,
                     num_views=2, workers=1, progress=False)
    root = str(world / 'ShapeNet55')
    cfg = tiny_rgb_cfg(root, str(tmp_path / 'run'))
    torch.manual_seed(0)
    np.random.seed(0)
    runner = Runner.from_cfg(cfg)
    runner.train()
    ckpt = osp.join(cfg.work_dir, 'epoch_1.pth')
    state = torch.load(ckpt, map_location='cpu')['state_dict']
    # the trained encoder reads 6 channels
    assert state['backbone.embedding.linear.weight'].shape == (8, 6)
    del runner

    # zero-shot on the coloured test split, as tools/test.py would
    model = build_zeroshot_model(cfg, ckpt)
    test = ShapeNetTriplets(
        data_root=root, ann_file='test_img.txt', num_views=2,
        pc_dir='shapenet_pc_rgb', test_mode=True,
        pipeline=cfg.test_dataloader.dataset.pipeline)
    assert tuple(test[0]['inputs']['points'].shape) == (cfg.num_points, 6)
    summary = evaluate_zeroshot(model, test, model.templates,
                                batch_size=4, progress=False)
    assert summary['num_samples'] == len(test) >= len(CLASSES)
    assert sorted(summary['classes']) == sorted(CLASSES)
    assert 0 <= summary['top1'] <= 100
    # ... and on a benchmark without colours (ModelNet40): OpenShape's grey
    zs_cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'cg3d', 'zeroshot',
        'pointmlp_synthetic_rgb_modelnet40.py'))
    zs_ds = dict(zs_cfg.test_dataloader.dataset,
                 data_root=str(world / 'modelnet40_normal_resampled'),
                 synthetic=None)
    from cg3d_mm.registry import DATASETS
    modelnet = DATASETS.build(zs_ds)
    points = modelnet[0]['inputs']['points']
    assert tuple(points.shape) == (cfg.num_points, 6)
    assert bool((points[:, 3:] == 0.4).all())
    summary = evaluate_zeroshot(model, modelnet, model.templates,
                                batch_size=4, progress=False)
    assert summary['num_samples'] == len(modelnet) > 0

    # the inference API: coloured files and arrays through the config's
    # test pipeline; the colours change the embedding
    model = init_model(cfg, ckpt)
    pc_file = test.get_data_info(0)['pts_path']
    assert osp.basename(osp.dirname(pc_file)) == 'shapenet_pc_rgb'
    cloud = np.load(pc_file)
    grey = cloud.copy()
    grey[:, 3:] = 0.4
    emb = encode_point_clouds(model, [pc_file, cloud, grey], progress=False)
    assert emb.shape == (3, 256)
    assert np.allclose(emb[0], emb[1], atol=1e-5)
    assert not np.allclose(emb[1], emb[2], atol=1e-3)
    # an xyz-only cloud for a colour model: a clear error, not a crash
    with pytest.raises(UnreadableSampleError, match=r'expected \(N, >5\)'):
        encode_point_clouds(model, [cloud[:, :3]], progress=False)

    # retrieval over the coloured test split: the model's test pipeline
    # reads the colours; a cloud finds its own file first
    from cg3d_mm.retrieval import EmbeddingIndex
    index = EmbeddingIndex.build(model, 'test_dataloader', progress=False)
    assert len(index) == len(test)
    _, idx = index.search(emb[0], topk=1)
    assert index.items[int(idx[0, 0])]['path'] == osp.abspath(pc_file)

    # fine-tuning from the colour checkpoint on the coloured ShapeNet55
    # classes (the colour fine-tune config with the tiny encoder)
    ft = Config.fromfile(osp.join(
        REPO, 'configs', 'cg3d', 'finetune',
        'pointmlp_cg3d_synthetic-shapenet55_rgb.py'))
    ft.model.backbone.update(cfg.model.backbone)
    ft.model.backbone.init_cfg.checkpoint = ckpt
    ft.model.head.update(in_channels=128, num_classes=len(CLASSES))
    for split in ('train', 'val', 'test'):
        loader = ft[f'{split}_dataloader']
        loader.update(batch_size=4, num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=root, synthetic=None,
                              serialize_data=False)
    ft.train_cfg.update(max_epochs=1, val_interval=2)
    ft.param_scheduler[0].T_max = 1
    ft.work_dir = str(tmp_path / 'finetune')
    runner = Runner.from_cfg(ft)
    runner.model.init_weights()
    assert torch.equal(runner.model.backbone.embedding.linear.weight,
                       state['backbone.embedding.linear.weight'])
    runner.train()
    metrics = runner.test()
    assert 0 <= metrics['accuracy/top1'] <= 100
