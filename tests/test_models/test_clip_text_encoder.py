"""CLIPTextEncoder: equality with open_clip, caption caches, prototypes."""
import math
import os

import pytest
import torch
import torch.nn.functional as F

from cg3d_mm.models.clip import CLIPTextEncoder, build_clip

CAPTIONS = ['a photo of a chair.', 'a rendering of a lamp.', 'a bed',
            'a 3d model of a night stand.', 'a toilet']


def _checkpoint(tmp_path, name, seed, logit_scale=None):
    torch.manual_seed(seed)
    model = build_clip('cg3d-tiny-vit', shared=False).model
    if logit_scale is not None:
        model.logit_scale.data.fill_(logit_scale)
    path = str(tmp_path / name)
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture
def ckpt(tmp_path):
    return _checkpoint(tmp_path, 'tiny_a.pth', seed=0)


def _reference(path, texts):
    """Direct open_clip encode_text of the same weights, normalised."""
    bundle = build_clip('cg3d-tiny-vit', checkpoint=path, shared=False)
    with torch.no_grad():
        return bundle.model.encode_text(
            bundle.tokenizer(texts), normalize=True)


def test_equals_open_clip_encode_text(ckpt):
    enc = CLIPTextEncoder(clip=dict(model_name='cg3d-tiny-vit',
                                    checkpoint=ckpt), batch_size=2)
    with torch.enable_grad():
        emb = enc.encode(CAPTIONS)
    assert emb.shape == (5, enc.embed_dim) == (5, 256)
    assert not emb.requires_grad and emb.dtype == torch.float32
    torch.testing.assert_close(emb.norm(dim=-1), torch.ones(5))
    torch.testing.assert_close(emb, _reference(ckpt, CAPTIONS),
                               rtol=0, atol=1e-5)
    # random weights do not make every caption the same vector
    assert (emb @ emb.T - torch.eye(5)).abs().max() < 1


def test_each_caption_is_encoded_once(ckpt):
    enc = CLIPTextEncoder(clip=dict(model_name='cg3d-tiny-vit',
                                    checkpoint=ckpt))
    first = enc.encode(['a bed', 'a toilet', 'a bed'])
    assert enc.num_encoded == 2
    torch.testing.assert_close(first[0], first[2], rtol=0, atol=0)
    second = enc.encode(['a toilet', 'a lamp', 'a bed', 'a lamp'])
    assert enc.num_encoded == 3 and enc.num_cached == 3
    torch.testing.assert_close(second[[2, 0]], first[:2], rtol=0, atol=0)
    torch.testing.assert_close(second[1], second[3], rtol=0, atol=0)
    for _ in range(3):
        enc.encode(['a lamp', 'a bed'])
    assert enc.num_encoded == 3
    assert enc.encode([]).shape == (0, 256)


def test_disk_cache_hit_and_invalidation(tmp_path, ckpt):
    cache = str(tmp_path / 'text_cache')
    cfg = dict(model_name='cg3d-tiny-vit', checkpoint=ckpt)
    first = CLIPTextEncoder(clip=cfg, cache_dir=cache)
    emb = first.encode(CAPTIONS)
    assert first.num_encoded == 5
    files = os.listdir(cache)
    assert len(files) == 1 and files[0].endswith('.pth')

    # a new run with the same weights: nothing is encoded again
    second = CLIPTextEncoder(clip=cfg, cache_dir=cache)
    torch.testing.assert_close(second.encode(CAPTIONS[::-1]), emb.flip(0),
                               rtol=0, atol=0)
    assert second.num_encoded == 0
    second.encode(CAPTIONS + ['a sofa'])
    assert second.num_encoded == 1
    third = CLIPTextEncoder(clip=cfg, cache_dir=cache)
    third.encode(['a sofa', 'a bed'])
    assert third.num_encoded == 0

    # other weights: other cache key, everything is encoded afresh
    other = _checkpoint(tmp_path, 'tiny_b.pth', seed=1)
    fourth = CLIPTextEncoder(clip=dict(cfg, checkpoint=other),
                             cache_dir=cache)
    new = fourth.encode(CAPTIONS)
    assert fourth.num_encoded == 5
    assert (new - emb).abs().max() > 1e-3
    torch.testing.assert_close(new, _reference(other, CAPTIONS),
                               rtol=0, atol=1e-5)
    assert len(os.listdir(cache)) == 2

    # loading weights into a live encoder voids its caches too
    third.load_state_dict(fourth.state_dict())
    torch.testing.assert_close(third.encode(CAPTIONS), new, rtol=0, atol=0)
    assert third.num_encoded == 0  # found in the disk cache of tiny_b
    third.encode(['a brand new caption'])
    assert third.num_encoded == 1


def test_logit_scale_is_the_frozen_clamped_temperature(tmp_path):
    plain = _checkpoint(tmp_path, 'plain.pth', seed=0,
                        logit_scale=math.log(1 / 0.07))
    hot = _checkpoint(tmp_path, 'hot.pth', seed=0, logit_scale=math.log(200))
    enc = CLIPTextEncoder(clip=dict(model_name='cg3d-tiny-vit',
                                    checkpoint=plain))
    assert enc.logit_scale.item() == pytest.approx(1 / 0.07, rel=1e-5)
    assert not enc.logit_scale.requires_grad
    assert 'logit_scale' in dict(enc.named_buffers())
    enc_hot = CLIPTextEncoder(clip=dict(model_name='cg3d-tiny-vit',
                                        checkpoint=hot))
    assert enc_hot.logit_scale.item() == 100.0


def test_class_prototypes_match_hand_computation(ckpt):
    enc = CLIPTextEncoder(clip=dict(model_name='cg3d-tiny-vit',
                                    checkpoint=ckpt))
    templates = ['a photo of a {}.', 'a 3d model of a {}.', '{}']
    protos = enc.class_prototypes(['night_stand', 'chair'], templates)
    assert protos.shape == (2, 256)
    captions = [t.format(n) for n in ('night stand', 'chair')
                for t in templates]
    ref = _reference(ckpt, captions).view(2, 3, -1).mean(dim=1)
    torch.testing.assert_close(protos, F.normalize(ref, dim=-1),
                               rtol=0, atol=1e-5)
    assert enc.num_encoded == 6
    # one template: the prototype is that caption's embedding
    single = enc.class_prototypes(['chair'], 'a photo of a {}.')
    torch.testing.assert_close(single[0], enc.encode('a photo of a chair.')[0])
    assert enc.num_encoded == 6
    with pytest.raises(ValueError, match=r"'\{\}' slot"):
        enc.class_prototypes(['chair'], ['a photo of a chair'])


def test_frozen_and_registered(ckpt):
    from cg3d_mm.registry import MODELS
    enc = MODELS.build(dict(type='CLIPTextEncoder', clip=dict(
        model_name='cg3d-tiny-vit', checkpoint=ckpt)))
    assert isinstance(enc, CLIPTextEncoder)
    enc.train()
    assert enc.training and not enc.tower.training
    assert not any(p.requires_grad for p in enc.parameters())
