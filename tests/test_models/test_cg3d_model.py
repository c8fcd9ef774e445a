"""The CG3D model: alternating steps, caching, zero-shot predict, state."""
import copy

import pytest
import torch

import cg3d_mm  # noqa: F401
from cg3d_mm.registry import HOOKS, MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from cg3d_mm.structures import PointDataSample

CLIP = dict(model_name='cg3d-tiny-vit')
TINY_POINTMLP = dict(type='PointMLP', embed_channels=8,
                     num_anchors=(64, 32, 16, 8), num_neighbors=8,
                     pre_blocks=(1, 1, 1, 1), pos_blocks=(1, 1, 1, 1))
OPTIM = dict(
    point_encoder=dict(type='OptimWrapper',
                       optimizer=dict(type='AdamW', lr=1e-3,
                                      weight_decay=0.1),
                       clip_grad=dict(max_norm=10),
                       paramwise_cfg=dict(norm_decay_mult=0.,
                                          bias_decay_mult=0.)),
    visual_prompt=dict(type='OptimWrapper',
                       optimizer=dict(type='SGD', lr=0.1, momentum=0.9),
                       clip_grad=dict(max_norm=10)))


def build_model(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='CG3D', backbone=TINY_POINTMLP,
               img_backbone=dict(type='PromptedCLIPViT', clip=CLIP),
               text_encoder=dict(type='CLIPTextEncoder', clip=CLIP),
               head=dict(type='CG3DHead', in_channels=128, embed_dim=256))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def build_optim(model):
    ctor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='CG3DOptimWrapperConstructor',
        optim_wrapper_cfg=copy.deepcopy(OPTIM)))
    return ctor(model)


def batch(n=6, classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(
        inputs=dict(
            points=[torch.randn(128, 3, generator=g) for _ in range(n)],
            imgs=[torch.randint(0, 256, (3, 32, 32), generator=g,
                                dtype=torch.uint8) for _ in range(n)]),
        data_samples=[
            PointDataSample(metainfo=dict(
                caption=f'a photo of a c{i % classes}.')).set_gt_label(
                    i % classes) for i in range(n)])


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before, module):
    now = module.state_dict()
    return {k for k, v in before.items() if not torch.equal(v, now[k])}


@pytest.fixture(scope='module')
def model_and_optim():
    model = build_model()
    return model, build_optim(model)


def test_optimizers_own_disjoint_trainable_parameters(model_and_optim):
    model, optim = model_and_optim
    owned = {name: {id(p) for g in w.optimizer.param_groups
                    for p in g['params']} for name, w in optim.items()}
    assert owned['point_encoder'].isdisjoint(owned['visual_prompt'])
    assert owned['visual_prompt'] == {id(model.img_backbone.prompts)}
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert owned['point_encoder'] | owned['visual_prompt'] == trainable


def test_point_step_trains_only_the_point_encoder():
    model = build_model()
    optim = build_optim(model)
    calls = []
    model.img_backbone.register_forward_hook(
        lambda m, i, o: calls.append(o.requires_grad))
    before = snapshot(model)
    model.train_phase = 'point_encoder'
    log = model.train_step(batch(), optim)
    assert set(log) == {'loss', 'loss_point_text', 'loss_point_image'}
    diff = changed(before, model)
    assert any(k.startswith('backbone.') for k in diff)
    assert any(k.startswith('head.proj') for k in diff)
    assert not any(k.startswith(('img_backbone', 'text_encoder'))
                   for k in diff)
    assert calls == [False]  # image targets computed without a graph


def test_prompt_step_trains_only_prompts_and_skips_points():
    model = build_model()
    optim = build_optim(model)
    ran = []
    model.backbone.register_forward_hook(lambda *a: ran.append(1))
    before = snapshot(model)
    model.train_phase = 'visual_prompt'
    log = model.train_step(batch(), optim)
    assert set(log) == {'loss', 'loss_image_text'}
    assert changed(before, model) == {'img_backbone.prompts'}
    assert ran == []  # the point encoder did not run


def test_joint_step_trains_both():
    model = build_model()
    optim = build_optim(model)
    before = snapshot(model)
    model.train_phase = 'joint'
    log = model.train_step(batch(), optim)
    assert set(log) == {'loss', 'loss_point_text', 'loss_point_image',
                        'loss_image_text'}
    diff = changed(before, model)
    assert 'img_backbone.prompts' in diff
    assert any(k.startswith('backbone.') for k in diff)


def test_nan_loss_stops_before_the_update():
    model = build_model()
    optim = build_optim(model)
    data = batch()
    data['inputs']['points'][0][0, 0] = float('nan')
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    model.train_phase = 'point_encoder'
    with pytest.raises(FloatingPointError, match='loss term loss_point'):
        model.train_step(data, optim)
    assert all(torch.equal(v, before[k])
               for k, v in model.named_parameters())  # no update happened


def test_zero_shot_predict(model_and_optim):
    model, _ = model_and_optim
    model.eval()
    with pytest.raises(ValueError, match='empty class list'):
        model.set_class_names([])
    model.set_class_names(['c0', 'c1', 'c2'], templates=['a {}.', 'the {}'])
    data = model.data_preprocessor(batch(4), False)
    with torch.no_grad():
        out = model.predict(data['inputs'], data['data_samples'])
        expect = model.encode_points(data['inputs']['points']) @ \
            model.text_encoder.class_prototypes(
                ['c0', 'c1', 'c2'], ['a {}.', 'the {}']).t()
    assert out[0].pred_score.shape == (3, )
    assert torch.allclose(out[0].pred_score.sum(), torch.tensor(1.))
    assert [int(s.pred_label) for s in out] == expect.argmax(1).tolist()
    assert torch.allclose(out[0].point_embed.norm(), torch.tensor(1.))


def test_zero_shot_logits_stay_fp32_under_autocast(model_and_optim):
    """A bf16 test loop (``--amp``) encodes under autocast, but the
    point-prototype logits are fp32: scores equal the fp32 product of the
    very embeddings predict returns."""
    model, _ = model_and_optim
    model.eval()
    model.set_class_names(['c0', 'c1', 'c2'])
    data = model.data_preprocessor(batch(4), False)
    with torch.no_grad(), torch.autocast('cpu', torch.bfloat16):
        out = model.predict(data['inputs'], data['data_samples'])
    embeds = torch.stack([s.point_embed for s in out]).float()
    expect = (model._head.logit_scale * (
        embeds @ model.class_prototypes.float().t())).softmax(-1)
    scores = torch.stack([s.pred_score for s in out])
    assert scores.dtype == torch.float32
    assert torch.allclose(scores, expect, rtol=1e-5, atol=1e-6)


def test_checkpoint_state_skips_frozen_clip_and_round_trips():
    model = build_model()
    state = model.state_dict()
    assert 'img_backbone.prompts' in state
    assert not any(k.startswith('img_backbone.visual.') for k in state)
    assert not any(k.startswith('text_encoder.tower.') for k in state)
    other = build_model()
    torch.nn.init.zeros_(other.img_backbone.prompts)
    result = other.load_state_dict(state, strict=True)  # nothing missing
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(other.img_backbone.prompts,
                       model.img_backbone.prompts)
    full = build_model(save_frozen_clip=True).state_dict()
    assert any(k.startswith('img_backbone.visual.') for k in full)


def test_only_the_plugin_schedule_trains():
    with pytest.raises(ValueError, match='ReferenceCG3D'):
        build_model(train_cfg=dict(mode='reference'))


def test_unknown_phase_is_reported(model_and_optim):
    model, optim = model_and_optim
    model.train_phase = 'both'
    with pytest.raises(ValueError, match="unknown train_phase 'both'"):
        model.train_step(batch(), optim)
    model.train_phase = 'joint'


def test_embed_dim_mismatch_is_reported():
    with pytest.raises(ValueError, match='embed_dim=512 must equal'):
        build_model(head=dict(type='CG3DHead', in_channels=128,
                              embed_dim=512))


def test_alternating_hook_schedule():
    hook = HOOKS.build(dict(type='AlternatingOptimizerHook',
                            schedule=('point_encoder', 'point_encoder',
                                      'visual_prompt')))
    assert [hook.phase_of(i) for i in range(6)] == [
        'point_encoder', 'point_encoder', 'visual_prompt'] * 2
    joint = HOOKS.build(dict(type='AlternatingOptimizerHook', mode='joint'))
    assert joint.phase_of(3) == 'joint'


def test_constructor_rejects_unowned_trainable_parameters():
    model = build_model()
    ctor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='CG3DOptimWrapperConstructor',
        optim_wrapper_cfg=dict(
            copy.deepcopy(OPTIM),
            parts=dict(point_encoder=('backbone', ),
                       visual_prompt=('img_backbone', )))))
    with pytest.raises(ValueError, match='owned by no optimizer.*head.proj'):
        ctor(model)


def test_cpu_autocast_optim_wrapper_runs_the_step_in_bfloat16():
    model = build_model()
    cfg = copy.deepcopy(OPTIM)
    for wrapper in cfg.values():
        wrapper['type'] = 'CPUAutocastOptimWrapper'
    optim = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='CG3DOptimWrapperConstructor', optim_wrapper_cfg=cfg))(model)
    dtypes = []
    model.head.proj.register_forward_hook(
        lambda m, i, o: dtypes.append(o.dtype))
    before = snapshot(model)
    model.train_phase = 'point_encoder'
    log = model.train_step(batch(), optim)
    assert dtypes == [torch.bfloat16]
    assert torch.isfinite(log['loss'])
    assert any(k.startswith('backbone.') for k in changed(before, model))
    assert model.head.proj.weight.dtype == torch.float32  # fp32 master
