"""PromptedCLIPViT: plain-CLIP equivalence, prompt semantics, freezing."""
import math

import open_clip
import pytest
import torch
from open_clip.transformer import VisionTransformer

from cg3d_mm.models.backbones.prompted_clip_vit import (
    PromptedCLIPViT, _plain_block, residual_attention_block, vpt_init_range)
from cg3d_mm.models.clip import build_clip


@pytest.fixture(scope='module')
def vitb16():
    torch.manual_seed(0)
    return build_clip('ViT-B-16', shared=False)


@pytest.fixture(scope='module')
def tiny():
    torch.manual_seed(0)
    return build_clip('cg3d-tiny-vit', shared=False)


def _images(bundle, batch, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, *bundle.image_size, generator=g)


def test_no_prompts_equals_open_clip_vitb16(vitb16):
    model = PromptedCLIPViT(visual=vitb16.model.visual, num_prompts=0)
    x = _images(vitb16, 2)
    with torch.no_grad():
        ours = model(x)
        ref = vitb16.model.encode_image(x)
    assert ours.shape == (2, 512)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-5)


def test_vitb16_deep_prompt_shapes_and_init(vitb16):
    model = PromptedCLIPViT(visual=vitb16.model.visual)  # 5 deep prompts
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == ['prompts']
    assert model.prompts.numel() == 12 * 5 * 768
    v = vpt_init_range(16, 768)
    assert v == pytest.approx(math.sqrt(6 / (3 * 16 + 768)))
    assert v == pytest.approx(0.0857, abs=1e-4)
    # uniform(-v, v): inside the range and filling it
    assert model.prompts.abs().max() <= v
    assert model.prompts.abs().max() > 0.99 * v
    assert abs(model.prompts.mean().item()) < 0.01
    assert (model.out_channels, model.embed_dim) == (512, 512)
    assert model.image_size == (224, 224)
    assert len(model.mean) == len(model.std) == 3


def test_no_prompts_equals_open_clip_tiny(tiny):
    model = PromptedCLIPViT(visual=tiny.model.visual, num_prompts=0)
    assert model.prompts is None
    x = _images(tiny, 4)
    with torch.no_grad():
        torch.testing.assert_close(
            model(x), tiny.model.encode_image(x), rtol=0, atol=1e-5)


def test_prompts_change_output(tiny):
    plain = PromptedCLIPViT(visual=tiny.model.visual, num_prompts=0)
    prompted = PromptedCLIPViT(visual=tiny.model.visual, num_prompts=5)
    x = _images(tiny, 2)
    with torch.no_grad():
        a, b = plain(x), prompted(x)
    assert a.shape == b.shape
    assert (a - b).abs().max() > 1e-3


def _deep_prompts_by_hand(model, visual, images):
    """Deep prompts written out with open_clip's own blocks: every block sees
    [CLS, its own prompts, patches], where CLS and patches are the previous
    block's outputs and the previous prompts' outputs are dropped."""
    num_p = model.num_prompts
    x = visual._embeds(images)
    for i, block in enumerate(visual.transformer.resblocks):
        prompts = model.prompts[i].expand(x.shape[0], -1, -1)
        patches = x[:, 1:] if i == 0 else x[:, 1 + num_p:]
        x = block(torch.cat([x[:, :1], prompts, patches], dim=1))
    if visual.pool_type == 'tok':
        pooled = visual.ln_post(x[:, 0])
    else:
        pooled = visual.ln_post(x[:, 1 + num_p:]).mean(dim=1)
    return pooled @ visual.proj


@pytest.mark.parametrize('pool_type', ['tok', 'avg'])
@pytest.mark.parametrize('cls_only', [True, False])
def test_deep_prompts_match_open_clip_blocks(pool_type, cls_only):
    """Outputs and prompt gradients equal the hand computation with
    open_clip's own block forward (ours writes the blocks out and, for a
    CLS-pooled tower, runs the last block for CLS only)."""
    torch.manual_seed(0)
    visual = VisionTransformer(
        image_size=32, patch_size=8, width=64, layers=3, heads=4,
        mlp_ratio=2.0, output_dim=48, pool_type=pool_type).eval()
    model = PromptedCLIPViT(visual=visual, num_prompts=3,
                            last_block_cls_only=cls_only)
    images = torch.randn(2, 3, 32, 32)
    ours = model(images)
    ours.square().sum().backward()
    grad = model.prompts.grad.clone()
    model.prompts.grad = None
    ref = _deep_prompts_by_hand(model, visual, images)
    ref.square().sum().backward()
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grad, model.prompts.grad, rtol=1e-4,
                               atol=1e-5)
    assert grad[-1].abs().sum() > 0  # the last block's prompts matter


def test_written_out_block_equals_open_clip_block(tiny):
    block = tiny.model.visual.transformer.resblocks[0]
    assert _plain_block(block)
    x = torch.randn(2, 7, block.ln_1.normalized_shape[0], requires_grad=True)
    with torch.no_grad():
        ref = block(x)  # the no-grad fast path of nn.MultiheadAttention
    torch.testing.assert_close(residual_attention_block(block, x), ref,
                               rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(residual_attention_block(block, x, True),
                               ref[:, :1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('pool_type', ['tok', 'avg'])
def test_shallow_prompts_match_hand_computation(pool_type):
    """Shallow prompts == open_clip's own transformer run on the sequence
    [CLS, prompts, patches] built after _embeds (prompts get no position)."""
    torch.manual_seed(0)
    visual = VisionTransformer(
        image_size=32, patch_size=8, width=64, layers=3, heads=4,
        mlp_ratio=2.0, output_dim=48, pool_type=pool_type).eval()
    model = PromptedCLIPViT(visual=visual, num_prompts=2, deep=False)
    assert model.prompts.shape == (1, 2, 64)
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        ours = model(x)
        seq = visual._embeds(x)
        seq = torch.cat(
            [seq[:, :1], model.prompts[0].expand(3, -1, -1), seq[:, 1:]], 1)
        seq = visual.ln_post(visual.transformer(seq))
        pooled = seq[:, 0] if pool_type == 'tok' else seq[:, 3:].mean(1)
        ref = pooled @ visual.proj
        # and with no prompts it is open_clip's forward (avg pooling too)
        plain = PromptedCLIPViT(visual=visual, num_prompts=0)(x)
        torch.testing.assert_close(plain, visual(x), rtol=0, atol=1e-5)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-5)


def test_prompts_have_no_position(tiny):
    """Without positions, permuting every layer's prompts leaves CLS alone."""
    model = PromptedCLIPViT(visual=tiny.model.visual, num_prompts=4)
    x = _images(tiny, 2)
    with torch.no_grad():
        a = model(x)
        model.prompts.copy_(model.prompts[:, [2, 0, 3, 1]])
        b = model(x)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_only_prompts_train(tiny):
    model = PromptedCLIPViT(visual=tiny.model.visual, num_prompts=5)
    model.train()
    assert model.training
    assert not any(m.training for m in model.visual.modules())
    frozen = {k: v.clone() for k, v in model.visual.state_dict().items()}
    before = model.prompts.detach().clone()
    opt = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.1,
        momentum=0.9, weight_decay=1e-4)
    target = torch.randn(2, model.out_channels)
    loss = (model(_images(tiny, 2)) - target).pow(2).mean()
    loss.backward()
    assert all(p.grad is None for p in model.visual.parameters())
    # every layer's prompts influence the output
    assert (model.prompts.grad.abs().sum(dim=(1, 2)) > 0).all()
    opt.step()
    assert not torch.equal(model.prompts.detach(), before)
    for k, v in model.visual.state_dict().items():
        assert torch.equal(v, frozen[k]), k


def test_gradient_checkpointing_is_exact(tiny):
    torch.manual_seed(3)
    plain = PromptedCLIPViT(visual=tiny.model.visual, num_prompts=5)
    cp = PromptedCLIPViT(visual=tiny.model.visual, num_prompts=5, with_cp=True)
    cp.load_state_dict(plain.state_dict())
    x = _images(tiny, 2)
    out_plain, out_cp = plain(x), cp(x)
    torch.testing.assert_close(out_cp, out_plain, rtol=0, atol=1e-6)
    out_plain.square().sum().backward()
    out_cp.square().sum().backward()
    torch.testing.assert_close(
        cp.prompts.grad, plain.prompts.grad, rtol=1e-5, atol=1e-7)


def test_built_from_config_through_registry(tiny):
    from cg3d_mm.registry import MODELS
    model = MODELS.build(dict(
        type='PromptedCLIPViT', clip=dict(model_name='cg3d-tiny-vit'),
        num_prompts=2))
    from cg3d_mm.models.clip.archs import CG3D_TINY_VIT
    vision = CG3D_TINY_VIT['vision_cfg']
    assert isinstance(model, PromptedCLIPViT)
    # one prompt set per transformer layer of the named architecture
    assert model.prompts.shape == (vision['layers'], 2, vision['width'])
    assert model.image_size == (64, 64)
    assert model.mean == tuple(open_clip.OPENAI_DATASET_MEAN)
    out = model(torch.randn(1, 3, 64, 64))
    assert out.shape == (1, model.out_channels) == (1, 256)


def test_unsupported_towers_fail_clearly():
    pooler = VisionTransformer(
        image_size=32, patch_size=8, width=64, layers=1, heads=4,
        mlp_ratio=2.0, output_dim=32, attentional_pool=True,
        attn_pooler_queries=4, attn_pooler_heads=4)
    with pytest.raises(NotImplementedError, match='attentional pooler'):
        PromptedCLIPViT(visual=pooler)
    with pytest.raises(TypeError, match='VisionTransformer'):
        PromptedCLIPViT(visual=torch.nn.Linear(3, 3))
    with pytest.raises(ValueError, match='exactly one'):
        PromptedCLIPViT()
