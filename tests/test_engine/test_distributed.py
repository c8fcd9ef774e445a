"""Two gloo processes train like one process holding the global batch."""
import copy
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

CLIP = dict(model_name='cg3d-tiny-vit')
# GroupNorm in the group encoder: BatchNorm statistics are per process by
# design (use --sync_bn), this test is about the contrastive negatives.
MODEL = dict(
    type='CG3D',
    backbone=dict(type='PointTransformer', num_groups=8, group_size=8,
                  encoder_channels=32, encoder_hidden_channels=(16, 32, 64),
                  embed_dims=32, depth=2, num_heads=2, pos_hidden_channels=16,
                  drop_path_rate=0.,
                  encoder_norm_cfg=dict(type='GN', num_groups=4)),
    img_backbone=dict(type='PromptedCLIPViT', clip=CLIP),
    text_encoder=dict(type='CLIPTextEncoder', clip=CLIP),
    head=dict(type='CG3DHead', in_channels=64, embed_dim=256,
              gather_across_ranks=True))
OPTIM = dict(
    point_encoder=dict(type='OptimWrapper',
                       optimizer=dict(type='SGD', lr=0.5)),
    visual_prompt=dict(type='OptimWrapper',
                       optimizer=dict(type='SGD', lr=0.5)))
GLOBAL_BATCH = 8


def make_batch(lo, hi):
    from cg3d_mm.structures import PointDataSample
    g = torch.Generator().manual_seed(123)
    pts = torch.randn(GLOBAL_BATCH, 96, 3, generator=g)
    imgs = torch.randint(0, 256, (GLOBAL_BATCH, 3, 32, 32), generator=g,
                         dtype=torch.uint8)
    return dict(
        inputs=dict(points=list(pts[lo:hi]), imgs=list(imgs[lo:hi])),
        data_samples=[
            PointDataSample(metainfo=dict(caption=f'a photo of a c{i % 3}.'))
            for i in range(lo, hi)
        ])


def train_two_steps(model, optim, data):
    """A point step then a prompt step; returns losses and trainables."""
    logs = []
    for phase in ('point_encoder', 'visual_prompt'):
        inner = getattr(model, 'module', model)
        inner.train_phase = phase
        log = model.train_step(copy.deepcopy(data), optim)
        logs.append({k: float(v.detach()) for k, v in log.items()})
    inner = getattr(model, 'module', model)
    params = {k.replace('.module.', '.'): v.detach().clone()
              for k, v in inner.named_parameters() if v.requires_grad}
    return logs, params


def build(seed=0):
    import cg3d_mm  # noqa: F401
    from cg3d_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
    torch.manual_seed(seed)
    model = MODELS.build(copy.deepcopy(MODEL))
    ctor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='CG3DOptimWrapperConstructor',
        optim_wrapper_cfg=copy.deepcopy(OPTIM)))
    return model, ctor


def _worker(rank, world, init_file, out_dir):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    from mmengine.model import MMSeparateDistributedDataParallel
    model, ctor = build()
    wrapped = MMSeparateDistributedDataParallel(model)
    optim = ctor(model)
    per = GLOBAL_BATCH // world
    logs, params = train_two_steps(wrapped, optim,
                                   make_batch(rank * per, (rank + 1) * per))
    torch.save(dict(logs=logs, params=params),
               os.path.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_two_process_gloo_matches_single_process_global_batch(tmp_path):
    mp.spawn(_worker, args=(2, str(tmp_path / 'init'), str(tmp_path)),
             nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f'rank{r}.pth', weights_only=True)
             for r in range(2)]

    model, ctor = build()
    logs, params = train_two_steps(model, ctor(model),
                                   make_batch(0, GLOBAL_BATCH))
    for r in ranks:
        # every rank reports the global-batch loss of both steps
        for got, want in zip(r['logs'], logs):
            assert got == pytest.approx(want, rel=1e-4, abs=1e-5)
        # and ends with the single-process weights
        assert set(r['params']) == set(params)
        for k, v in params.items():
            assert torch.allclose(r['params'][k], v, rtol=1e-4, atol=1e-5), k

    # without gathering, each rank would only see its local negatives
    local = build()[0]
    local.head.gather_across_ranks = False
    local.train_phase = 'point_encoder'
    half = local.train_step(make_batch(0, GLOBAL_BATCH // 2),
                            build()[1](local))
    assert float(half['loss_point_text'].detach()) != pytest.approx(
        logs[0]['loss_point_text'], rel=1e-3)
