"""build_clip: arch registration, local checkpoints, tags, sharing."""
import gc
import os.path as osp

import open_clip
import pytest
import torch

from cg3d_mm.models.backbones.prompted_clip_vit import PromptedCLIPViT
from cg3d_mm.models.clip import (CLIPCheckpointError, CLIPTextEncoder,
                                 build_clip, loading, register_clip_arch)

OTHER_ARCH = dict(
    embed_dim=32,
    vision_cfg=dict(image_size=32, patch_size=8, width=64, layers=2,
                    head_width=32),
    text_cfg=dict(context_length=77, vocab_size=49408, width=64, heads=2,
                  layers=2),
)


def _save_random_tiny(path, seed=0, wrap=None):
    torch.manual_seed(seed)
    model = build_clip('cg3d-tiny-vit', shared=False).model
    sd = model.state_dict()
    if wrap == 'module':
        sd = {'module.' + k: v for k, v in sd.items()}
    if wrap == 'state_dict':
        sd = {'state_dict': sd, 'meta': {'epoch': 3}}
    torch.save(sd, path)
    return model


def _probe(model):
    g = torch.Generator().manual_seed(0)
    images = torch.randn(2, 3, 64, 64, generator=g)
    tokens = open_clip.get_tokenizer('cg3d-tiny-vit')(['a chair', 'a lamp'])
    with torch.no_grad():
        return model.encode_image(images), model.encode_text(tokens)


def test_tiny_arch_is_registered_in_open_clip():
    assert 'cg3d-tiny-vit' in open_clip.list_models()
    bundle = build_clip('cg3d-tiny-vit', shared=False)
    visual = bundle.model.visual
    assert bundle.image_size == (64, 64)
    assert (visual.patch_size, visual.transformer.width) == ((16, 16), 192)
    assert len(visual.transformer.resblocks) == 4
    assert bundle.model.transformer.width == 128
    assert bundle.mean == tuple(open_clip.OPENAI_DATASET_MEAN)
    assert bundle.tokenizer(['a chair']).shape == (1, 20)


def test_register_clip_arch():
    register_clip_arch('cg3d-test-other', OTHER_ARCH)
    register_clip_arch('cg3d-test-other', OTHER_ARCH)  # same cfg: no-op
    model = open_clip.create_model('cg3d-test-other')
    assert model.visual.output_dim == 32
    changed = dict(OTHER_ARCH, embed_dim=16)
    with pytest.raises(ValueError, match='already has a different'):
        register_clip_arch('cg3d-test-other', changed)
    with pytest.raises(ValueError, match='text_cfg'):
        register_clip_arch('cg3d-test-bad', dict(embed_dim=8, vision_cfg={}))


@pytest.mark.parametrize('wrap', [None, 'module', 'state_dict'])
def test_local_checkpoint_round_trip(tmp_path, wrap):
    path = str(tmp_path / 'tiny.pth')
    saved = _save_random_tiny(path, seed=1, wrap=wrap)
    loaded = build_clip('cg3d-tiny-vit', checkpoint=path, shared=False)
    assert loaded.checkpoint == osp.abspath(path)
    assert not loaded.model.training
    for k, v in saved.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[k], v), k
    for a, b in zip(_probe(saved), _probe(loaded.model)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_wrong_arch_checkpoint_names_file_arch_and_keys(tmp_path):
    register_clip_arch('cg3d-test-other', OTHER_ARCH)
    path = str(tmp_path / 'other_arch.pth')
    torch.save(open_clip.create_model('cg3d-test-other').state_dict(), path)
    with pytest.raises(CLIPCheckpointError) as info:
        build_clip('cg3d-tiny-vit', checkpoint=path, shared=False)
    msg = str(info.value)
    assert path in msg and "'cg3d-tiny-vit'" in msg
    assert 'missing keys: visual.transformer.resblocks.2.' in msg
    assert 'shape mismatches: ' in msg and 'visual.' in msg

    # a truncated file of the right arch: only missing keys reported
    sd = open_clip.create_model('cg3d-tiny-vit').state_dict()
    sd.pop('visual.proj')
    sd['extra.weight'] = torch.zeros(1)
    torch.save(sd, path)
    with pytest.raises(CLIPCheckpointError,
                       match=r'missing keys: visual\.proj; unexpected keys: '
                             r'extra\.weight$'):
        build_clip('cg3d-tiny-vit', checkpoint=path, shared=False)


def test_missing_file_and_bad_arguments(tmp_path):
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        build_clip('cg3d-tiny-vit', checkpoint=missing)
    with pytest.raises(ValueError, match='not both'):
        build_clip('cg3d-tiny-vit', pretrained='openai', checkpoint=missing)
    with pytest.raises(ValueError, match='ViT-B-16'):
        build_clip('ViT-B-61')  # typo: close matches are suggested
    with pytest.raises(ValueError, match="known tags: .*'openai'"):
        build_clip('ViT-B-16', pretrained='not-a-tag')


class _RunsCode:
    """Unpickling this would run code: weights_only must refuse it."""
    ran = False

    def __reduce__(self):
        return (_mark_ran, ())


def _mark_ran():
    _RunsCode.ran = True


def test_checkpoint_is_read_weights_only(tmp_path):
    path = str(tmp_path / 'evil.pth')
    sd = open_clip.create_model('cg3d-tiny-vit').state_dict()
    torch.save({'state_dict': sd, 'payload': _RunsCode()}, path)
    with pytest.raises(CLIPCheckpointError, match='weights_only=True'):
        build_clip('cg3d-tiny-vit', checkpoint=path, shared=False)
    assert not _RunsCode.ran


def test_pretrained_tag_goes_through_open_clip_download(tmp_path, monkeypatch):
    """A tag is resolved and downloaded by open_clip itself (the download is
    faked: no network here) and its preprocessing config is reported."""
    path = str(tmp_path / 'downloaded.pth')
    saved = _save_random_tiny(path, seed=2)
    monkeypatch.setitem(
        open_clip.pretrained._PRETRAINED, 'cg3d-tiny-vit',
        {'unit_test': open_clip.pretrained._pcfg(
            url='https://example.invalid/tiny.pt', mean=(0.5, 0.5, 0.5),
            std=(0.25, 0.25, 0.25))})
    requested = []

    def fake_download(cfg, *args, **kwargs):
        requested.append(cfg['url'])
        return path

    monkeypatch.setattr(open_clip.factory, 'download_pretrained',
                        fake_download)
    bundle = build_clip('cg3d-tiny-vit', pretrained='unit_test', shared=False)
    assert requested == ['https://example.invalid/tiny.pt']
    assert bundle.mean == (0.5, 0.5, 0.5) and bundle.std == (0.25,) * 3
    for a, b in zip(_probe(saved), _probe(bundle.model)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_towers_share_one_loaded_clip(tmp_path, monkeypatch):
    path = str(tmp_path / 'tiny.pth')
    _save_random_tiny(path, seed=3)
    reads = []
    real_read = loading.read_clip_state_dict
    monkeypatch.setattr(loading, 'read_clip_state_dict',
                        lambda p: reads.append(p) or real_read(p))
    cfg = dict(model_name='cg3d-tiny-vit', checkpoint=path)
    image = PromptedCLIPViT(clip=cfg)
    text = CLIPTextEncoder(clip=cfg)
    assert len(reads) == 1
    bundle = build_clip(**cfg)
    assert image.visual is bundle.model.visual
    assert text.tower.token_embedding is bundle.model.token_embedding
    # the text side does not carry the image tower in its state dict
    assert not any(k.startswith('visual') for k in text.state_dict())

    # the cache is weak: once no tower holds the CLIP, it is read again
    del image, text, bundle
    gc.collect()
    build_clip(**cfg)
    assert len(reads) == 2


def test_quick_gelu_tag_needs_a_quick_gelu_arch(tmp_path, monkeypatch):
    """A tag trained with QuickGELU (as OpenAI's) on a GELU arch is refused
    with the '-quickgelu' name (open_clip itself only warns), and the
    '-quickgelu' arch (or force_quick_gelu) builds QuickGELU towers."""
    register_clip_arch('cg3d-test-qg', OTHER_ARCH)
    register_clip_arch('cg3d-test-qg-quickgelu',
                       dict(OTHER_ARCH, quick_gelu=True))
    path = str(tmp_path / 'weights.pth')
    torch.save(open_clip.create_model('cg3d-test-qg').state_dict(), path)
    monkeypatch.setattr(open_clip.factory, 'download_pretrained',
                        lambda cfg, *args, **kwargs: path)
    tag = {'openai_like': open_clip.pretrained._pcfg(
        url='https://example.invalid/qg.pt', quick_gelu=True),
        'gelu_tag': open_clip.pretrained._pcfg(
            url='https://example.invalid/g.pt')}
    for name in ('cg3d-test-qg', 'cg3d-test-qg-quickgelu'):
        monkeypatch.setitem(open_clip.pretrained._PRETRAINED, name, tag)

    with pytest.raises(ValueError, match="trained with QuickGELU.*Use "
                       "model_name='cg3d-test-qg-quickgelu'"):
        build_clip('cg3d-test-qg', pretrained='openai_like', shared=False)

    def activations(model):
        blocks = list(model.visual.transformer.resblocks) + list(
            model.transformer.resblocks)
        return {type(b.mlp.gelu).__name__ for b in blocks}

    for kwargs in (dict(model_name='cg3d-test-qg-quickgelu'),
                   dict(model_name='cg3d-test-qg', force_quick_gelu=True)):
        bundle = build_clip(pretrained='openai_like', shared=False, **kwargs)
        assert activations(bundle.model) == {'QuickGELU'}
    assert activations(build_clip('cg3d-test-qg', pretrained='gelu_tag',
                                  shared=False).model) == {'GELU'}
    with pytest.raises(ValueError, match="trained with GELU.*Use "
                       "model_name='cg3d-test-qg'"):
        build_clip('cg3d-test-qg-quickgelu', pretrained='gelu_tag',
                   shared=False)
