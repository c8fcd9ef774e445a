"""SLIP ViT-B/16 in open_clip: the arch, the timm -> open_clip mapping, and
equality with timm's own ViT (without and with CG3D's deep prompts)."""
import pytest
import timm
import torch
from open_clip.transformer import QuickGELU
from torch import nn

from cg3d_mm.models.backbones.prompted_clip_vit import PromptedCLIPViT
from cg3d_mm.models.clip import (SLIP_VIT_B_16, SLIPConversionError,
                                 build_clip, slip_to_open_clip,
                                 timm_vit_to_open_clip)
from cg3d_mm.models.clip.slip import IMAGENET_MEAN, IMAGENET_STD


def randomize_(module: nn.Module, seed: int) -> nn.Module:
    """Random norms and biases (timm initialises them to 1 / 0; its weights
    are random already), so that every part, the patch bias included,
    matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith('bias') or 'norm' in name or p.dim() == 3:
                p.add_(0.1 * torch.randn(p.shape, generator=g))
    return module


def timm_vpt_reference(vit, images, shallow=None, deep=None):
    """The VPT fork's forward, written with timm's own modules: prompts after
    the positional embedding and after CLS, replaced before every later
    block, final norm, CLS token."""
    x = vit._pos_embed(vit.patch_embed(images))
    batch, num_p = x.shape[0], 0 if shallow is None else shallow.shape[1]
    if num_p:
        x = torch.cat([x[:, :1], shallow.expand(batch, -1, -1), x[:, 1:]], 1)
    x = vit.norm_pre(x)
    for i, block in enumerate(vit.blocks):
        if num_p and i > 0:
            x = torch.cat(
                [x[:, :1], deep[i - 1].expand(batch, -1, -1),
                 x[:, 1 + num_p:]], 1)
        x = block(x)
    return vit.norm(x)[:, 0]


@pytest.fixture(scope='module')
def vitb16_pair():
    """timm vit_base_patch16_224 (num_classes=0) + a 768x512 projection,
    and the same weights converted into open_clip's SLIP-ViT-B-16 tower."""
    torch.manual_seed(0)
    vit = randomize_(timm.create_model('vit_base_patch16_224',
                                       pretrained=False, num_classes=0), 1)
    vit.eval()
    proj = torch.randn(768, 512, generator=torch.Generator().manual_seed(2))
    proj /= 768**0.5
    converted, rest = timm_vit_to_open_clip(vit.state_dict(), proj)
    assert rest == {}
    bundle = build_clip(SLIP_VIT_B_16, shared=False)
    bundle.model.visual.load_state_dict(converted, strict=True)
    return vit, proj, bundle


def test_slip_arch_facts():
    bundle = build_clip(SLIP_VIT_B_16, shared=False)
    visual, model = bundle.model.visual, bundle.model
    assert isinstance(visual.ln_pre, nn.Identity)
    assert visual.conv1.bias is None
    norms = [m for m in visual.modules() if isinstance(m, nn.LayerNorm)]
    assert len(norms) == 2 * 12 + 1 and all(m.eps == 1e-6 for m in norms)
    assert all(type(b.mlp.gelu) is nn.GELU
               for b in visual.transformer.resblocks)
    assert all(type(b.mlp.gelu) is QuickGELU
               for b in model.transformer.resblocks)
    assert model.ln_final.eps == 1e-5
    assert (bundle.mean, bundle.std) == (IMAGENET_MEAN, IMAGENET_STD)
    assert bundle.image_size == (224, 224)
    assert visual.proj.shape == (768, 512)


@pytest.mark.parametrize('num_prompts', [0, 5])
def test_converted_timm_vitb16_equals_prompted_clip_vit(vitb16_pair,
                                                        num_prompts):
    vit, proj, bundle = vitb16_pair
    g = torch.Generator().manual_seed(3)
    images = torch.randn(1, 3, 224, 224, generator=g)
    ours = PromptedCLIPViT(visual=bundle.model.visual,
                           num_prompts=num_prompts)
    shallow = deep = None
    if num_prompts:
        # the original's layout: (1, P, 768) + (11, P, 768)
        shallow = 0.1 * torch.randn(1, num_prompts, 768, generator=g)
        deep = 0.1 * torch.randn(11, num_prompts, 768, generator=g)
        with torch.no_grad():
            ours.prompts.copy_(torch.cat([shallow, deep]))
    with torch.no_grad():
        # without prompts the reference is timm's own forward
        ref = (timm_vpt_reference(vit, images, shallow, deep) if num_prompts
               else vit(images)) @ proj
        out = ours(images)
    assert out.shape == (1, 512)
    assert (out - ref).abs().max() < 1e-4
    if not num_prompts:
        return
    # the fold of timm's patch bias is what makes this exact
    with torch.no_grad():
        pos = bundle.model.visual.positional_embedding
        saved = pos.clone()
        pos[1:] -= vit.patch_embed.proj.bias
        try:
            assert (ours(images) - ref).abs().max() > 1e-2
        finally:
            pos.copy_(saved)


def test_slip_state_dict_conversion_and_its_errors():
    from cg3d_mm.models.clip.slip import slip_arch_cfg
    cfg = slip_arch_cfg(embed_dim=16, image_size=16, patch_size=8,
                        vision_width=32, vision_layers=1, vision_heads=2,
                        text_width=32, text_heads=2, text_layers=1)
    vit = timm.models.VisionTransformer(
        img_size=16, patch_size=8, embed_dim=32, depth=1, num_heads=2,
        num_classes=0)
    sd = {f'module.visual.{k}': v for k, v in vit.state_dict().items()}
    sd['module.image_projection'] = torch.zeros(32, 16)
    sd['module.image_mlp.layer1.weight'] = torch.zeros(4, 32)  # dropped
    text = {'token_embedding.weight': torch.zeros(49408, 32),
            'positional_embedding': torch.zeros(77, 32),
            'ln_final.weight': torch.ones(32),
            'ln_final.bias': torch.zeros(32),
            'text_projection': torch.zeros(32, 16),
            'logit_scale': torch.tensor(4.6052)}
    sd.update({f'module.{k}': v for k, v in text.items()})
    out = slip_to_open_clip(sd)
    assert 'visual.proj' in out and 'visual.class_embedding' in out
    assert not any(k.startswith(('image_mlp', 'module.')) for k in out)
    assert cfg['vision_cfg']['no_ln_pre']

    bad = dict(sd, **{'module.classifier.weight': torch.zeros(1)})
    with pytest.raises(SLIPConversionError, match='classifier.weight'):
        slip_to_open_clip(bad, where='x.pt')
    bad = {k: v for k, v in sd.items() if k != 'module.image_projection'}
    with pytest.raises(SLIPConversionError, match="x.pt: missing key "
                                                  "'image_projection'"):
        slip_to_open_clip(bad, where='x.pt')
