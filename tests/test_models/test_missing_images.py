"""Samples without a rendered view in a CG3D batch (mixtures of sources)."""
import copy

import numpy as np
import pytest
import torch

import cg3d_mm  # noqa: F401
from cg3d_mm.datasets.transforms import PackCG3DInputs
from cg3d_mm.models.losses import info_nce
from cg3d_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from cg3d_mm.structures import PointDataSample

CLIP = dict(model_name='cg3d-tiny-vit')
TINY_POINTMLP = dict(type='PointMLP', embed_channels=8,
                     num_anchors=(64, 32, 16, 8), num_neighbors=8,
                     pre_blocks=(1, 1, 1, 1), pos_blocks=(1, 1, 1, 1))
OPTIM = dict(
    point_encoder=dict(type='OptimWrapper',
                       optimizer=dict(type='AdamW', lr=1e-3)),
    visual_prompt=dict(type='OptimWrapper',
                       optimizer=dict(type='SGD', lr=0.1, momentum=0.9,
                                      weight_decay=1e-4)))


def build_model():
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='CG3D', backbone=TINY_POINTMLP,
        img_backbone=dict(type='PromptedCLIPViT', clip=CLIP),
        text_encoder=dict(type='CLIPTextEncoder', clip=CLIP),
        head=dict(type='CG3DHead', in_channels=128, embed_dim=256)))


def build_optim(model):
    ctor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='CG3DOptimWrapperConstructor',
        optim_wrapper_cfg=copy.deepcopy(OPTIM)))
    return ctor(model)


def batch(has_img=None, n=6, seed=0):
    """A packed batch; ``has_img`` (list of bool) sets the metainfo flag
    (None: no flag, as pipelines packed before mixtures existed)."""
    g = torch.Generator().manual_seed(seed)
    samples = []
    for i in range(n):
        meta = dict(caption=f'a photo of a c{i % 3}.')
        if has_img is not None:
            meta['has_img'] = has_img[i]
        samples.append(PointDataSample(metainfo=meta))
    imgs = [torch.randint(0, 256, (3, 32, 32), generator=g,
                          dtype=torch.uint8) for _ in range(n)]
    if has_img is not None:  # blank images, as PackCG3DInputs packs them
        imgs = [im if has_img[i] else torch.zeros_like(im)
                for i, im in enumerate(imgs)]
    return dict(inputs=dict(
        points=[torch.randn(128, 3, generator=g) for _ in range(n)],
        imgs=imgs), data_samples=samples)


def embeddings(model, data):
    """Reference: every embedding of the batch, computed separately."""
    data = model.data_preprocessor(copy.deepcopy(data), True)
    with torch.no_grad():
        captions = [s.caption for s in data['data_samples']]
        return (model.encode_points(data['inputs']['points']),
                model.encode_texts(captions),
                model.encode_images(data['inputs']['imgs']))


@pytest.fixture(scope='module')
def model():
    return build_model().eval()  # eval: dropout-free, deterministic


@pytest.mark.parametrize('phase', ['point_encoder', 'visual_prompt',
                                   'joint'])
def test_losses_unchanged_when_every_sample_has_a_view(model, phase):
    inputs = model.data_preprocessor(batch(), True)['inputs']
    captions = [f'a photo of a c{i % 3}.' for i in range(6)]
    flagged = batch(has_img=[True] * 6)
    from cg3d_mm.models.cg3d import _with_image_mask
    prepared = model.data_preprocessor(flagged, True)
    masked_inputs = _with_image_mask(prepared['inputs'],
                                     prepared['data_samples'])
    assert 'img_mask' not in masked_inputs  # the unmasked path itself
    with torch.no_grad():
        plain = model.phase_losses(phase, inputs, captions)
        flag = model.phase_losses(phase, masked_inputs, captions)
        # an explicit all-True mask gives the same numbers too
        forced = model.phase_losses(
            phase, dict(inputs, img_mask=torch.ones(6, dtype=torch.bool)),
            captions)
    assert plain.keys() == flag.keys() == forced.keys()
    for key in plain:
        assert torch.equal(plain[key], flag[key]), key
        assert torch.equal(plain[key], forced[key]), key
    # and they are the reference computation
    points, text, image = embeddings(model, batch())
    scale = model.head.logit_scale
    want = dict(loss_point_text=info_nce(points, text, scale),
                loss_point_image=info_nce(points, image, scale),
                loss_image_text=info_nce(image, text, scale))
    for key, value in plain.items():
        torch.testing.assert_close(value, want[key], rtol=1e-5, atol=1e-6)


def test_mixed_batch_image_losses_use_the_samples_with_views(model,
                                                             monkeypatch):
    has_img = [True, False, True, True, False, True]
    data = batch(has_img=has_img)
    points, text, image = embeddings(model, data)
    keep = torch.tensor(has_img)
    scale = model.head.logit_scale
    encoded = []
    original = model.encode_images

    def spy(imgs):
        encoded.append(len(imgs))
        return original(imgs)

    monkeypatch.setattr(model, 'encode_images', spy)
    from cg3d_mm.models.cg3d import _with_image_mask
    prepared = model.data_preprocessor(data, True)
    inputs = _with_image_mask(prepared['inputs'], prepared['data_samples'])
    captions = [s.caption for s in prepared['data_samples']]
    with torch.no_grad():
        losses = model.phase_losses('joint', inputs, captions)
    assert encoded == [4]  # the blank images are not encoded
    torch.testing.assert_close(losses['loss_point_text'],
                               info_nce(points, text, scale))
    torch.testing.assert_close(losses['loss_point_image'],
                               info_nce(points[keep], image[keep], scale))
    torch.testing.assert_close(losses['loss_image_text'],
                               info_nce(image[keep], text[keep], scale))
    # not the unmasked numbers
    assert not torch.allclose(losses['loss_point_image'],
                              info_nce(points, image, scale))


def test_prompt_step_without_any_view_is_skipped():
    model = build_model()
    optim = build_optim(model)
    model.train_phase = 'visual_prompt'
    prompts = {k: v.detach().clone()
               for k, v in model.img_backbone.named_parameters()
               if v.requires_grad}
    log = model.train_step(batch(has_img=[False] * 6), optim)
    assert log == {}
    assert model.skipped_prompt_steps == 1
    for k, v in model.img_backbone.named_parameters():
        if k in prompts:
            assert torch.equal(v, prompts[k]), k  # no momentum / decay step
    assert not optim['visual_prompt'].optimizer.state
    # a batch with views trains the prompts again
    log = model.train_step(batch(has_img=[False] * 4 + [True] * 2), optim)
    assert set(log) == {'loss', 'loss_image_text'}
    assert any(not torch.equal(v, prompts[k])
               for k, v in model.img_backbone.named_parameters()
               if k in prompts)


def test_point_step_without_any_view_trains_point_text_only():
    model = build_model()
    optim = build_optim(model)
    model.train_phase = 'point_encoder'
    before = {k: v.detach().clone() for k, v in model.backbone.state_dict()
              .items()}
    log = model.train_step(batch(has_img=[False] * 6), optim)
    assert set(log) == {'loss', 'loss_point_text'}
    assert any(not torch.equal(v, before[k])
               for k, v in model.backbone.state_dict().items())


def test_pack_blank_image_for_a_source_without_views():
    pts = np.random.rand(16, 6).astype(np.float32)
    packed = PackCG3DInputs(keys=('points', 'img'), blank_img_size=8)(
        dict(points=pts, caption='a chair', pts_path='x/shape.npy'))
    assert packed['inputs']['imgs'].shape == (3, 8, 8)
    assert packed['inputs']['imgs'].dtype == torch.uint8
    assert not packed['inputs']['imgs'].any()
    assert packed['data_samples'].has_img is False
    img = np.full((8, 8, 3), 7, np.uint8)
    packed = PackCG3DInputs(keys=('points', 'img'), blank_img_size=8)(
        dict(points=pts, img=img, caption='a chair'))
    assert packed['data_samples'].has_img is True
    assert int(packed['inputs']['imgs'].max()) == 7
    with pytest.raises(KeyError, match='x/shape.npy.*blank_img_size'):
        PackCG3DInputs(keys=('points', 'img'))(
            dict(points=pts, caption='a chair', pts_path='x/shape.npy'))
    with pytest.raises(ValueError, match='blank_img_size'):
        PackCG3DInputs(blank_img_size=0)


# Two gloo processes, one of which holds no view at all: the masked,
# gathered image losses and the updates equal one process holding the
# global batch (GroupNorm: no per-process batch statistics).
DIST_MODEL = dict(
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
DIST_OPTIM = dict(
    point_encoder=dict(type='OptimWrapper',
                       optimizer=dict(type='SGD', lr=0.5)),
    visual_prompt=dict(type='OptimWrapper',
                       optimizer=dict(type='SGD', lr=0.5)))
# rank 0 has no view, rank 1 three of four
GLOBAL_FLAGS = [False, False, False, False, True, False, True, True]


def _dist_batch(lo, hi):
    g = torch.Generator().manual_seed(123)
    n = len(GLOBAL_FLAGS)
    pts = torch.randn(n, 96, 3, generator=g)
    imgs = torch.randint(0, 256, (n, 3, 32, 32), generator=g,
                         dtype=torch.uint8)
    imgs[~torch.tensor(GLOBAL_FLAGS)] = 0  # blank images
    return dict(
        inputs=dict(points=list(pts[lo:hi]), imgs=list(imgs[lo:hi])),
        data_samples=[PointDataSample(metainfo=dict(
            caption=f'a photo of a c{i % 3}.', has_img=GLOBAL_FLAGS[i]))
            for i in range(lo, hi)])


def _dist_build():
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(DIST_MODEL))
    ctor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='CG3DOptimWrapperConstructor',
        optim_wrapper_cfg=copy.deepcopy(DIST_OPTIM)))
    return model, ctor


def _two_steps(model, optim, data):
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


def _dist_worker(rank, world, init_file, out_dir):
    import os.path as osp

    import torch.distributed as dist
    from mmengine.model import MMSeparateDistributedDataParallel
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    model, ctor = _dist_build()
    wrapped = MMSeparateDistributedDataParallel(model)
    per = len(GLOBAL_FLAGS) // world
    logs, params = _two_steps(wrapped, ctor(model),
                              _dist_batch(rank * per, (rank + 1) * per))
    torch.save(dict(logs=logs, params=params),
               osp.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


@pytest.mark.slow  # two processes
@pytest.mark.timeout(600)
def test_two_processes_one_without_views_match_one_process(tmp_path):
    import torch.multiprocessing as mp
    mp.spawn(_dist_worker, args=(2, str(tmp_path / 'init'), str(tmp_path)),
             nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f'rank{r}.pth', weights_only=True)
             for r in range(2)]
    model, ctor = _dist_build()
    logs, params = _two_steps(model, ctor(model),
                              _dist_batch(0, len(GLOBAL_FLAGS)))
    assert set(logs[0]) == {'loss', 'loss_point_text', 'loss_point_image'}
    assert set(logs[1]) == {'loss', 'loss_image_text'}
    for r in ranks:
        for got, want in zip(r['logs'], logs):
            assert got.keys() == want.keys()
            for k in want:
                assert got[k] == pytest.approx(want[k], rel=1e-4,
                                               abs=1e-5), k
        for k, v in params.items():
            assert torch.allclose(r['params'][k], v, rtol=1e-4,
                                  atol=1e-5), k
