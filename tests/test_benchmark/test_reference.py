"""ReferenceCG3D: the original's per-step work, on CG3D's weights."""
import os.path as osp

import pytest
import torch
from conftest import REPO
from mmengine.config import Config

from cg3d_mm.benchmark import (ReferenceCG3D, build_model, build_optim,
                               encode_uncached, make_pretrain_batch,
                               small_model_cfg, weights_fingerprint)
from cg3d_mm.models import CG3D

SCHEDULE = osp.join(REPO,
                    'configs/cg3d/_base_/schedules/cg3d_alternating_100e.py')


@pytest.fixture(scope='module')
def optim_cfg():
    return Config.fromfile(SCHEDULE).optim_wrapper.to_dict()


def build(mode):
    return build_model(small_model_cfg(), mode, 'cpu', seed=0)


def batch(model, n=6, seed=1):
    size = int(model.img_backbone.image_size[0])
    return make_pretrain_batch(n, 128, size, seed)


def train(model, optim_cfg, phases, data=None):
    optim = build_optim(model, optim_cfg)
    logs = []
    for phase in phases:
        model.train_phase = phase
        logs.append(model.train_step(data or batch(model), optim))
    return logs


def test_modes_build_the_same_weights_in_different_classes():
    alt, ref, frozen = (build(m) for m in ('alternate', 'reference',
                                           'reference_frozen'))
    assert type(alt) is CG3D
    assert isinstance(ref, ReferenceCG3D) and ref.frozen_clip_grads
    assert isinstance(frozen, ReferenceCG3D) and not frozen.frozen_clip_grads
    assert len({weights_fingerprint(m) for m in (alt, ref, frozen)}) == 1
    with pytest.raises(ValueError, match='benchmark mode must be one of'):
        build('fast')


def test_encode_uncached_equals_the_cache_and_leaves_it_alone():
    encoder = build('alternate').text_encoder
    captions = ['a photo of a chair.', 'a photo of a lamp.',
                'a photo of a chair.']
    direct = encode_uncached(encoder, captions)
    assert encoder.num_encoded == 0 and encoder.num_cached == 0
    assert torch.allclose(direct, encoder.encode(captions), atol=1e-6)
    assert torch.allclose(direct.norm(dim=-1), torch.ones(3))


def test_reference_reruns_the_text_tower_every_step(optim_cfg):
    ref, cached = build('reference'), build('alternate')
    data = batch(cached)
    distinct = len({s.caption for s in data['data_samples']})
    train(ref, optim_cfg, ('point_encoder', 'visual_prompt'), data)
    train(cached, optim_cfg,
          ('point_encoder', 'visual_prompt', 'point_encoder'), data)
    # the plugin encodes each distinct caption once, ever
    assert cached.text_encoder.num_encoded == distinct
    assert ref.text_encoder.num_encoded == 0  # the reference never caches


def test_first_point_step_losses_match_the_plugin(optim_cfg):
    fast, ref = build('alternate'), build('reference')
    data = batch(fast)
    log_fast, = train(fast, optim_cfg, ('point_encoder', ), data)
    log_ref, = train(ref, optim_cfg, ('point_encoder', ), data)
    assert set(log_ref) == {'loss', 'loss_point_text', 'loss_point_image'}
    for k in ('loss_point_text', 'loss_point_image'):
        assert float(log_fast[k].detach()) == pytest.approx(
            float(log_ref[k].detach()), rel=1e-5)


def test_each_phase_steps_on_its_own_loss_and_joint_on_both(optim_cfg):
    logs = train(build('reference'), optim_cfg,
                 ('visual_prompt', 'joint'))
    assert set(logs[0]) == {'loss', 'loss_image_text'}
    assert set(logs[1]) == {'loss', 'loss_point_text', 'loss_point_image',
                            'loss_image_text'}


def _record_autograd(model):
    """Whether the text tower's output and the first image block's weight
    took part in autograd, at their first forward."""
    seen = {}

    def record(key, value):
        seen.setdefault(key, value)  # returns None: outputs unchanged

    model.text_encoder.tower.register_forward_hook(
        lambda m, i, o: record('text', o.requires_grad))
    fc = model.img_backbone.visual.transformer.resblocks[0].mlp.c_fc
    fc.register_forward_hook(
        lambda m, i, o: record('image', m.weight.requires_grad))
    return seen


def test_reference_runs_the_frozen_towers_with_gradients(optim_cfg):
    model = build('reference')
    first = next(model.text_encoder.tower.parameters())
    seen = _record_autograd(model)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    train(model, optim_cfg, ('visual_prompt', ))
    # autograd ran through the frozen weights, as in the original ...
    assert seen == {'text': True, 'image': True}
    # and the last image block over every token (the plugin: CLS only)
    assert not model.img_backbone.last_block_cls_only
    assert build('alternate').img_backbone.last_block_cls_only
    # ... which stay frozen, untouched and without leftover gradients
    assert {k for k, v in model.named_parameters()
            if not torch.equal(v, before[k])} == {'img_backbone.prompts'}
    assert not first.requires_grad and first.grad is None
    assert all(p.grad is None for p in model.parameters())


def test_reference_frozen_keeps_the_frozen_towers_out_of_autograd(
        optim_cfg):
    model = build('reference_frozen')
    seen = _record_autograd(model)
    train(model, optim_cfg, ('visual_prompt', ))
    assert seen == {'text': False, 'image': False}
