"""tools/model_converters: the authors' files -> cg3d_mm, proven equal.

Checkpoints are written here in the original code's key layout and shapes
(PointMLP ``pointMLPProject``, Point-BERT ``PointTransformerProject`` +
``dvae.Encoder``, the VPT-deep timm ViT, SLIP's ``CLIP``), with random
weights. After conversion and ``init_model``, the point, image and text
embeddings must equal reference computations of the original models: the
point models written with functional ops on the ORIGINAL keys, the image
tower as timm's ViT with the VPT fork's prompt insertion, the text tower as
open_clip's own QuickGELU CLIP.
"""
import argparse
import importlib.util
import os.path as osp

import open_clip
import pytest
import timm
import torch
import torch.nn.functional as F
from conftest import REPO
from test_models.test_slip import randomize_, timm_vpt_reference

from cg3d_mm.apis.inference import init_model
from cg3d_mm.models.clip.slip import register_slip_arch, slip_arch_cfg
from cg3d_mm.ops import furthest_point_sample, knn

TINY_SLIP = 'cg3d-test-slip'
SLIP = slip_arch_cfg(embed_dim=512, image_size=32, patch_size=8,
                     vision_width=64, vision_layers=3, vision_heads=2,
                     text_width=64, text_heads=2, text_layers=2)
NUM_PROMPTS = 5


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        f'tool_{name}', osp.join(REPO, 'tools', 'model_converters',
                                 f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------- the original layouts, random
class _Random:

    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)
        self.sd = {}

    def t(self, key, *shape, scale=None, offset=0.):
        fan_in = shape[1] * (shape[2] if len(shape) > 2 else 1) \
            if len(shape) > 1 else 1
        scale = fan_in**-0.5 if scale is None else scale
        self.sd[key] = offset + scale * torch.randn(*shape, generator=self.g)

    def bn(self, prefix, c):
        self.t(prefix + 'weight', c, scale=0.1, offset=1.)
        self.t(prefix + 'bias', c, scale=0.1)
        self.t(prefix + 'running_mean', c, scale=0.1)
        self.sd[prefix + 'running_var'] = 0.5 + torch.rand(c, generator=self.g)
        self.sd[prefix + 'num_batches_tracked'] = torch.tensor(100)

    def ln(self, prefix, c):
        self.t(prefix + 'weight', c, scale=0.1, offset=1.)
        self.t(prefix + 'bias', c, scale=0.1)


def original_pointmlp(seed, classifier=None):
    """pointMLPProject (or pointMLP with a ``classifier`` of that many
    classes): kernel-1 Conv1d without bias, BN1d, 4-D affine params."""
    r = _Random(seed)

    def conv_bn(seq, cin, cout):  # an nn.Sequential(Conv1d, BN1d, ...)
        r.t(seq + '0.weight', cout, cin, 1)
        r.bn(seq + '1.', cout)

    conv_bn('embedding.net.', 3, 64)
    c = 64
    for i in range(4):
        r.t(f'local_grouper_list.{i}.affine_alpha', 1, 1, 1, c, scale=0.1,
            offset=1.)
        r.t(f'local_grouper_list.{i}.affine_beta', 1, 1, 1, c, scale=0.1)
        conv_bn(f'pre_blocks_list.{i}.transfer.net.', 2 * c, 2 * c)
        c *= 2
        for part in ('pre', 'pos'):
            for j in range(2):
                for net in ('net1', 'net2'):
                    conv_bn(f'{part}_blocks_list.{i}.operation.{j}.{net}.', c,
                            c)
    if classifier is None:
        r.t('projection.weight', 512, 1024, 1)
        r.t('projection.bias', 512, scale=0.1)
    else:
        for i, (cin, cout) in zip((0, 4, 8), ((1024, 512), (512, 256),
                                              (256, classifier))):
            r.t(f'classifier.{i}.weight', cout, cin)
            r.t(f'classifier.{i}.bias', cout, scale=0.1)
            if i < 8:
                r.bn(f'classifier.{i + 1}.', cout)
    return r.sd


def original_pointtransformer(seed):
    """PointTransformerProject: dvae.Encoder(256), 12 blocks of width 384,
    projection 768 -> 512 and the unused 55-class head."""
    r = _Random(seed)
    for name, (cin, mid, cout) in (('first_conv', (3, 128, 256)),
                                   ('second_conv', (512, 512, 256))):
        r.t(f'encoder.{name}.0.weight', mid, cin, 1)
        r.t(f'encoder.{name}.0.bias', mid, scale=0.1)
        r.bn(f'encoder.{name}.1.', mid)
        r.t(f'encoder.{name}.3.weight', cout, mid, 1)
        r.t(f'encoder.{name}.3.bias', cout, scale=0.1)
    r.t('reduce_dim.weight', 384, 256)
    r.t('reduce_dim.bias', 384, scale=0.1)
    r.t('cls_token', 1, 1, 384, scale=0.5)
    r.t('cls_pos', 1, 1, 384, scale=0.5)
    r.t('pos_embed.0.weight', 128, 3)
    r.t('pos_embed.0.bias', 128, scale=0.1)
    r.t('pos_embed.2.weight', 384, 128)
    r.t('pos_embed.2.bias', 384, scale=0.1)
    for i in range(12):
        p = f'blocks.blocks.{i}.'
        r.ln(p + 'norm1.', 384)
        r.t(p + 'attn.qkv.weight', 1152, 384)
        r.t(p + 'attn.proj.weight', 384, 384)
        r.t(p + 'attn.proj.bias', 384, scale=0.1)
        r.ln(p + 'norm2.', 384)
        r.t(p + 'mlp.fc1.weight', 1536, 384)
        r.t(p + 'mlp.fc1.bias', 1536, scale=0.1)
        r.t(p + 'mlp.fc2.weight', 384, 1536)
        r.t(p + 'mlp.fc2.bias', 384, scale=0.1)
    r.ln('norm.', 384)
    r.t('projection.weight', 512, 768)
    r.t('projection.bias', 512, scale=0.1)
    r.t('cls_head_finetune.0.weight', 256, 768)
    r.t('cls_head_finetune.0.bias', 256, scale=0.1)
    r.t('cls_head_finetune.3.weight', 55, 256)
    r.t('cls_head_finetune.3.bias', 55, scale=0.1)
    return r.sd


def num_params(sd):
    return sum(v.numel() for k, v in sd.items()
               if not k.endswith(('running_mean', 'running_var',
                                  'num_batches_tracked')))


# ------------------------------ the original forwards, on original keys
def _bn(sd, p, x):
    return F.batch_norm(x, sd[p + 'running_mean'], sd[p + 'running_var'],
                        sd[p + 'weight'], sd[p + 'bias'], False, 0., 1e-5)


def _take(t, idx):
    """t (B, N, C), idx (B, ...) -> (B, ..., C)."""
    batch = torch.arange(t.shape[0]).view(-1, *([1] * (idx.dim() - 1)))
    return t[batch, idx]


def pointmlp_reference(sd, points):
    """pointMLPProject.forward, functionally: (B, N, 3) -> (B, 512)."""

    def cbr(seq, x, act=True):  # Conv1d, BN1d (, ReLU)
        x = _bn(sd, seq + '1.', F.conv1d(x, sd[seq + '0.weight']))
        return F.relu(x) if act else x

    def res(p, x):
        return F.relu(cbr(p + 'net2.', cbr(p + 'net1.', x), False) + x)

    xyz, x = points, cbr('embedding.net.', points.transpose(1, 2))
    for i, anchors in enumerate((512, 256, 128, 64)):
        feats = x.transpose(1, 2)  # (B, N, C)
        centre = furthest_point_sample(xyz, anchors)  # pointnet2: from 0
        new_xyz, new_feats = _take(xyz, centre), _take(feats, centre)
        grouped = _take(feats, knn(24, xyz, new_xyz))  # (B, S, k, C)
        mean = new_feats.unsqueeze(2)
        std = (grouped - mean).reshape(len(xyz), -1).std(dim=-1)
        grouped = (grouped - mean) / (std.view(-1, 1, 1, 1) + 1e-5)
        grouped = (sd[f'local_grouper_list.{i}.affine_alpha'] * grouped +
                   sd[f'local_grouper_list.{i}.affine_beta'])
        grouped = torch.cat(
            [grouped, mean.expand(-1, -1, grouped.shape[2], -1)], dim=-1)
        b, s, k, d = grouped.shape
        y = grouped.permute(0, 1, 3, 2).reshape(-1, d, k)
        y = cbr(f'pre_blocks_list.{i}.transfer.net.', y)
        for j in range(2):
            y = res(f'pre_blocks_list.{i}.operation.{j}.', y)
        y = y.amax(dim=-1).reshape(b, s, -1).permute(0, 2, 1)
        for j in range(2):
            y = res(f'pos_blocks_list.{i}.operation.{j}.', y)
        xyz, x = new_xyz, y
    x = x.amax(dim=-1, keepdim=True)
    return F.conv1d(x, sd['projection.weight'],
                    sd['projection.bias']).squeeze(-1)


def pointtransformer_reference(sd, points, heads=6):
    """PointTransformerProject.forward's projected feature, functionally."""
    centres = _take(points, furthest_point_sample(points, 64))
    groups = _take(points, knn(32, points, centres)) - centres.unsqueeze(2)
    b, g, k, _ = groups.shape

    def conv_mlp(p, x):
        x = F.conv1d(x, sd[p + '0.weight'], sd[p + '0.bias'])
        x = F.relu(_bn(sd, p + '1.', x))
        return F.conv1d(x, sd[p + '3.weight'], sd[p + '3.bias'])

    f = conv_mlp('encoder.first_conv.', groups.reshape(b * g, k, 3).mT)
    f = torch.cat([f.amax(-1, keepdim=True).expand(-1, -1, k), f], dim=1)
    f = conv_mlp('encoder.second_conv.', f).amax(-1).reshape(b, g, -1)
    x = torch.cat([sd['cls_token'].expand(b, -1, -1),
                   F.linear(f, sd['reduce_dim.weight'],
                            sd['reduce_dim.bias'])], dim=1)
    pos = F.linear(F.gelu(F.linear(centres, sd['pos_embed.0.weight'],
                                   sd['pos_embed.0.bias'])),
                   sd['pos_embed.2.weight'], sd['pos_embed.2.bias'])
    pos = torch.cat([sd['cls_pos'].expand(b, -1, -1), pos], dim=1)
    length, width = x.shape[1], x.shape[2]

    def ln(p, t):
        return F.layer_norm(t, (width, ), sd[p + 'weight'], sd[p + 'bias'])

    for i in range(12):
        p = f'blocks.blocks.{i}.'
        x = x + pos
        q, kk, v = F.linear(ln(p + 'norm1.', x), sd[p + 'attn.qkv.weight']) \
            .reshape(b, length, 3, heads, -1).permute(2, 0, 3, 1, 4)
        att = ((q @ kk.mT) * (width // heads)**-0.5).softmax(dim=-1)
        out = (att @ v).transpose(1, 2).reshape(b, length, width)
        x = x + F.linear(out, sd[p + 'attn.proj.weight'],
                         sd[p + 'attn.proj.bias'])
        h = F.gelu(F.linear(ln(p + 'norm2.', x), sd[p + 'mlp.fc1.weight'],
                            sd[p + 'mlp.fc1.bias']))
        x = x + F.linear(h, sd[p + 'mlp.fc2.weight'], sd[p + 'mlp.fc2.bias'])
    x = ln('norm.', x)
    feat = torch.cat([x[:, 0], x[:, 1:].amax(dim=1)], dim=-1)
    return F.linear(feat, sd['projection.weight'], sd['projection.bias'])


# ----------------------------------------------------------- fixtures
@pytest.fixture(scope='module')
def originals(tmp_path_factory):
    """SLIP and CG3D files as the original code writes them."""
    register_slip_arch(TINY_SLIP, SLIP, force=True)
    root = tmp_path_factory.mktemp('originals')
    torch.manual_seed(0)
    vit = randomize_(timm.models.VisionTransformer(
        img_size=32, patch_size=8, embed_dim=64, depth=3, num_heads=2,
        num_classes=0), 5).eval()
    # open_clip's own QuickGELU CLIP: SLIP's text tower has its keys
    ref_clip = open_clip.model.CLIP(
        512, dict(image_size=32, patch_size=8, width=64, layers=1,
                  head_width=32), SLIP['text_cfg'], quick_gelu=True).eval()
    randomize_(ref_clip, 6)
    g = torch.Generator().manual_seed(7)
    proj = torch.randn(64, 512, generator=g) / 8
    text = {k: v for k, v in ref_clip.state_dict().items()
            if not k.startswith('visual.')}
    slip = {f'module.visual.{k}': v for k, v in vit.state_dict().items()}
    slip.update({f'module.{k}': v for k, v in text.items()})
    slip['module.image_projection'] = proj
    for i, (cin, cout) in enumerate(((64, 32), (32, 32), (32, 16))):
        slip[f'module.image_mlp.layer{i + 1}.weight'] = torch.randn(cout, cin)
    torch.save(dict(epoch=100, state_dict=slip,
                    args=argparse.Namespace(model='SLIP_VITB16')),
               root / 'slip_base_100ep.pt')

    visual = dict(vit.state_dict())
    visual['prompt_embeddings'] = 0.1 * torch.randn(1, NUM_PROMPTS, 64,
                                                    generator=g)
    visual['deep_prompt_embeddings'] = 0.1 * torch.randn(2, NUM_PROMPTS, 64,
                                                         generator=g)
    mlp = {f'module.{k}': v for k, v in original_pointmlp(8).items()}
    pt = original_pointtransformer(9)
    for name, base in (('pointmlp', mlp), ('pointtransformer', pt)):
        torch.save(dict(base_model=base, visual_clip_model=visual, epoch=99,
                        metrics=dict(acc=61.5)),
                   root / f'{name}_cg3d.pth')
    return dict(root=root, vit=vit, proj=proj, ref_clip=ref_clip,
                visual=visual, pointmlp=original_pointmlp(8),
                pointtransformer=pt)


def test_original_layouts_have_the_papers_parameter_counts():
    """reference.md: 13,095,360 (pointMLPProject with its projection) and
    22,463,543 (PointTransformerProject with its unused 55-class head)."""
    assert num_params(original_pointmlp(0)) == 13_095_360
    assert num_params(original_pointtransformer(0)) == 22_463_543


def _clouds(seed, n=2):
    g = torch.Generator().manual_seed(seed)
    pts = torch.rand(n, 1024, 3, generator=g) * 2 - 1
    assert ((pts**2).sum(-1) > 1e-3).all()  # nothing the FPS rule skips
    return pts


@pytest.mark.slow
@pytest.mark.parametrize('encoder', ['pointmlp', 'pointtransformer'])
def test_converted_checkpoints_give_the_original_embeddings(
        originals, encoder, capsys):
    root = originals['root']
    slip_out, out = str(root / 'slip.pth'), str(root / f'{encoder}_mm.pth')
    if not osp.isfile(slip_out):
        assert load_tool('slip_to_open_clip').main(
            [str(root / 'slip_base_100ep.pt'), slip_out, '--arch', TINY_SLIP,
             '--trust-pickle']) == 0
    assert load_tool('cg3d_to_mmengine').main(
        [str(root / f'{encoder}_cg3d.pth'), out, '--encoder', encoder,
         '--clip', slip_out]) == 0
    printed = capsys.readouterr().out
    assert f'{encoder}_shapenet_slip.py' in printed
    assert f'zeroshot/{encoder}_slip_modelnet40.py {out}' in printed

    clip = dict(model_name=TINY_SLIP, checkpoint=slip_out)
    model = init_model(
        osp.join(REPO, f'configs/cg3d/{encoder}_shapenet_slip.py'), out,
        device='cpu', cfg_options={'model.img_backbone.clip': clip,
                                   'model.text_encoder.clip': clip})
    points = _clouds(1)
    g = torch.Generator().manual_seed(2)
    images = torch.randn(2, 3, 32, 32, generator=g)
    captions = ['This is a chair', 'This is a lamp']
    reference = dict(pointmlp=pointmlp_reference,
                     pointtransformer=pointtransformer_reference)[encoder]
    visual = originals['visual']
    with torch.no_grad():
        ref_points = F.normalize(
            reference(originals[encoder], points), dim=-1)
        ref_images = F.normalize(timm_vpt_reference(
            originals['vit'], images, visual['prompt_embeddings'],
            visual['deep_prompt_embeddings']) @ originals['proj'], dim=-1)
        tokens = open_clip.get_tokenizer(TINY_SLIP)(captions)
        ref_texts = F.normalize(originals['ref_clip'].encode_text(tokens),
                                dim=-1)
        got = (model.encode_points(points), model.encode_images(images),
               model.encode_texts(captions))
    for name, ours, ref in zip(('point', 'image', 'text'), got,
                               (ref_points, ref_images, ref_texts)):
        diff = (ours - ref).abs().max().item()
        print(f'{encoder} {name} embeddings: max |diff| {diff:.1e}')
        assert diff < 1e-4, f'{name} embeddings differ by {diff}'
    assert model.text_encoder.logit_scale == pytest.approx(
        originals['ref_clip'].logit_scale.exp().clamp(max=100).item())
    assert model.img_backbone.mean == (0.485, 0.456, 0.406)


# ------------------------------------------------------- bad inputs
@pytest.fixture
def small_files(tmp_path):
    """Small stand-ins: the errors come before any weight is used."""
    slip = {'module.visual.cls_token': torch.zeros(1, 1, 8),
            'module.image_projection': torch.zeros(8, 4),
            'module.token_embedding.weight': torch.zeros(10, 8)}
    torch.save(dict(epoch=1, state_dict=slip), tmp_path / 'slip.pt')
    pt = dict(base_model={'module.blocks.blocks.0.attn.qkv.weight':
                          torch.zeros(3, 1)}, visual_clip_model={})
    torch.save(pt, tmp_path / 'pt.pth')
    full = tmp_path / 'mlp.pth'
    torch.save(dict(base_model=original_pointmlp(0)), full)
    data = full.read_bytes()
    (tmp_path / 'truncated.pth').write_bytes(data[:len(data) // 2])
    return tmp_path


@pytest.mark.parametrize('name,args,needles', [
    ('slip.pt', [], ['no \'base_model\'', 'slip_to_open_clip.py']),
    ('truncated.pth', [], ['cannot be read as a torch checkpoint']),
    ('pt.pth', ['--encoder', 'pointmlp'],
     ['holds a PointTransformer', 'blocks.blocks.0', 'not a PointMLP']),
    ('missing.pth', [], ['no such file']),
])
def test_bad_inputs_give_one_clear_error_and_write_nothing(
        small_files, capsys, name, args, needles):
    src, out = str(small_files / name), str(small_files / 'out.pth')
    assert load_tool('cg3d_to_mmengine').main([src, out] + args) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and err.count('\n') == 1, err
    assert src in err
    for needle in needles:
        assert needle in err
    assert not osp.exists(out)
    assert not list(small_files.glob('*.tmp'))


def test_pickled_files_need_trust_and_keys_are_listed_by_name(
        tmp_path, capsys):
    tool = load_tool('cg3d_to_mmengine')
    base = original_pointmlp(0)
    src, out = str(tmp_path / 'in.pth'), str(tmp_path / 'out.pth')
    torch.save(dict(base_model=base, args=argparse.Namespace(lr=1)), src)
    assert tool.main([src, out]) == 1
    assert '--trust-pickle' in capsys.readouterr().err
    base = dict(base)
    base.pop('pos_blocks_list.3.operation.1.net2.0.weight')
    base['pre_blocks_list.0.transfer.net.0.weight'] = torch.zeros(128, 64, 3)
    base['lm_head.weight'] = torch.zeros(2)
    torch.save(dict(base_model=base, args=argparse.Namespace(lr=1)), src)
    assert tool.main([src, out, '--trust-pickle']) == 1
    err = capsys.readouterr().err
    assert 'unknown keys: lm_head.weight' in err
    assert 'missing keys: anchor_mlps.3.1.mlp2.linear.weight' in err
    assert 'mis-shaped keys: pre_blocks_list.0.transfer.net.0.weight ' \
           '(128, 64, 3)' in err
    assert not osp.exists(out)


def test_slip_converter_errors(small_files, capsys):
    tool = load_tool('slip_to_open_clip')
    out = str(small_files / 'out.pth')
    assert tool.main([str(small_files / 'pt.pth'), out]) == 1
    assert 'cg3d_to_mmengine.py' in capsys.readouterr().err
    assert tool.main([str(small_files / 'slip.pt'), out]) == 1
    err = capsys.readouterr().err
    assert 'slip.pt' in err and 'missing key' in err
    assert not osp.exists(out)


def original_pointtransformer_classifier(seed, num_classes):
    """Point-BERT's PointTransformer classifier: no projection, its
    ``cls_head_finetune`` 768 -> 256 -> classes."""
    sd = original_pointtransformer(seed)
    for k in ('projection.weight', 'projection.bias',
              'cls_head_finetune.3.weight', 'cls_head_finetune.3.bias'):
        sd.pop(k)
    sd['cls_head_finetune.3.weight'] = torch.randn(num_classes, 256)
    sd['cls_head_finetune.3.bias'] = torch.randn(num_classes)
    return sd


@pytest.mark.parametrize('encoder', ['pointmlp', 'pointtransformer'])
def test_classifier_checkpoint_converts_to_point_classifier(tmp_path,
                                                            encoder):
    from mmengine.registry import init_default_scope

    from cg3d_mm.registry import MODELS
    init_default_scope('cg3d_mm')
    src, out = str(tmp_path / 'cls.pth'), str(tmp_path / 'cls_mm.pth')
    if encoder == 'pointmlp':
        base, last = original_pointmlp(3, classifier=40), 'classifier.8'
        head = dict(in_channels=1024, mid_channels=(512, 256),
                    norm_cfg=dict(type='BN1d'))
    else:
        base = original_pointtransformer_classifier(3, 40)
        last = 'cls_head_finetune.3'
        head = dict(in_channels=768, mid_channels=(256, ), norm_cfg=None)
    torch.save(dict(base_model=base, epoch=300), src)
    assert load_tool('cg3d_to_mmengine').main([src, out]) == 0
    ckpt = torch.load(out, weights_only=True)
    assert ckpt['meta']['mode'] == 'classifier'
    assert ckpt['meta']['num_classes'] == 40
    model = MODELS.build(dict(
        type='PointClassifier',
        backbone=dict(type=dict(pointmlp='PointMLP',
                                pointtransformer='PointTransformer')[encoder]),
        head=dict(type='PointClsHead', dropout_ratio=0.5, num_classes=40,
                  **head)))
    model.load_state_dict(ckpt['state_dict'], strict=True)
    torch.testing.assert_close(model.head.classifier[-1].weight,
                               base[last + '.weight'])
