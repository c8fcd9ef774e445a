"""CG3D's losses against a plain reference computation."""
import math

import pytest
import torch
import torch.nn.functional as F

from cg3d_mm.models.heads.cg3d_head import CG3DHead
from cg3d_mm.models.losses import info_nce


def reference_info_nce(a, b, scale):
    """Textbook symmetric InfoNCE, in float64 with explicit loops."""
    a, b = a.double(), b.double()
    n = len(a)
    total_ab = total_ba = 0.0
    for i in range(n):
        row = [scale * float(a[i] @ b[j]) for j in range(n)]
        col = [scale * float(b[i] @ a[j]) for j in range(n)]
        total_ab += -row[i] + math.log(sum(math.exp(v) for v in row))
        total_ba += -col[i] + math.log(sum(math.exp(v) for v in col))
    return 0.5 * (total_ab + total_ba) / n


def _unit(n, d, seed):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, d, generator=g), dim=-1)


@pytest.mark.parametrize('scale', [1.0, 14.285, 100.0])
def test_info_nce_equals_reference(scale):
    a, b = _unit(6, 8, 0), _unit(6, 8, 1)
    got = info_nce(a, b, torch.tensor(scale))
    assert float(got) == pytest.approx(reference_info_nce(a, b, scale),
                                       rel=1e-5)


def test_info_nce_is_minimal_for_matching_pairs():
    a = _unit(5, 16, 2)
    aligned = info_nce(a, a, torch.tensor(50.))
    shuffled = info_nce(a, a[torch.tensor([1, 2, 3, 4, 0])],
                        torch.tensor(50.))
    assert aligned < 0.01 < shuffled


def test_info_nce_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match='same shape'):
        info_nce(_unit(4, 8, 0), _unit(3, 8, 0), torch.tensor(1.))


def test_head_losses_use_clip_logit_scale_and_weights():
    head = CG3DHead(in_channels=12, embed_dim=8,
                    loss_weights=dict(point_image=0.5))
    head.set_logit_scale(20.0)  # as taken from the CLIP checkpoint
    assert float(head.logit_scale) == pytest.approx(20.0)
    assert not head.log_logit_scale.requires_grad
    feats = torch.randn(6, 12)
    points = head(feats)
    assert torch.allclose(points.norm(dim=-1), torch.ones(6), atol=1e-6)
    text, image = _unit(6, 8, 3), _unit(6, 8, 4)
    losses = head.loss_point(points, text, image)
    assert float(losses['loss_point_text']) == pytest.approx(
        reference_info_nce(points.detach(), text, 20.0), rel=1e-5)
    assert float(losses['loss_point_image']) == pytest.approx(
        0.5 * reference_info_nce(points.detach(), image, 20.0), rel=1e-5)
    prompt = head.loss_prompt(image, text)
    assert float(prompt['loss_image_text']) == pytest.approx(
        reference_info_nce(image, text, 20.0), rel=1e-5)


def test_head_explicit_logit_scale_is_kept():
    head = CG3DHead(in_channels=4, embed_dim=4, logit_scale=10.0)
    head.set_logit_scale(50.0)
    assert float(head.logit_scale) == pytest.approx(10.0)
    with pytest.raises(ValueError, match='unknown loss weights'):
        CG3DHead(in_channels=4, embed_dim=4, loss_weights=dict(pt=1.0))


def test_info_nce_is_fp32_under_bf16_autocast():
    a, b = _unit(6, 32, 3), _unit(6, 32, 4)
    scale = torch.tensor(100.)
    with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
        got = info_nce(a.bfloat16(), b, scale)
        # what the loss would be with the product left to autocast
        bf16_logits = scale * a.bfloat16() @ b.t()
    assert got.dtype == torch.float32
    assert bf16_logits.dtype == torch.bfloat16  # autocast was on
    # equals the fp32 loss of the bf16-rounded inputs, to fp32 accuracy
    want = reference_info_nce(a.bfloat16().float(), b, 100.)
    assert float(got) == pytest.approx(want, rel=1e-5)


def test_head_embeddings_and_losses_are_fp32_under_autocast():
    torch.manual_seed(0)
    head = CG3DHead(in_channels=16, embed_dim=8, logit_scale=50.)
    feats = torch.randn(4, 16)
    with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
        embeds = head(feats)
        losses = head.loss_point(embeds, _unit(4, 8, 5), _unit(4, 8, 6))
    assert embeds.dtype == torch.float32
    assert torch.allclose(embeds.norm(dim=-1), torch.ones(4), atol=1e-6)
    assert all(v.dtype == torch.float32 for v in losses.values())
