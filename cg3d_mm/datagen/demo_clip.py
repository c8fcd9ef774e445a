"""A small CLIP, trained once on the synthetic renders, for the CPU demo.

CG3D assumes a *pretrained* CLIP: with random weights the text tower maps
every caption to nearly the same direction (pairwise cosine close to 1), so
the contrastive targets carry no signal. Real weights cannot be downloaded
here, so the demo trains a tiny open_clip architecture (``cg3d-tiny-vit``)
image-text contrastively on the synthetic world's *training* renders and
their captions (templates x all taxonomy names of the class), saves it as an
ordinary open_clip checkpoint in the cache directory and loads it through
the same local-checkpoint path real users take for ViT-B-16 weights. CG3D
then runs on top of it unchanged. Validation and test shapes are never seen.
"""
import hashlib
import json
import logging
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from filelock import FileLock
from mmengine.logging import print_log
from mmengine.utils import track_iter_progress
from PIL import Image

from cg3d_mm.datasets.shapenet_triplets import read_lines
from cg3d_mm.utils import cache_dir
from cg3d_mm.utils.class_names import readable_class_name
from cg3d_mm.utils.io import atomic_write
from cg3d_mm.utils.templates import PRETRAIN_TEMPLATES, ZEROSHOT_TEMPLATES

# Everything that changes the trained weights, the caption templates
# included, is part of the cache key (a changed setting trains a new CLIP
# instead of reusing a stale one).
DEFAULT_SETTINGS = dict(
    model_name='cg3d-tiny-vit', steps=300, batch_size=128, lr=2e-3,
    weight_decay=0.1, seed=0,
    templates=PRETRAIN_TEMPLATES + ZEROSHOT_TEMPLATES)


def _synonyms(taxonomy_file: str) -> Dict[str, List[str]]:
    with open(taxonomy_file) as f:
        raw = json.load(f)
    if isinstance(raw, list):
        raw = {d['synsetId']: d['name'] for d in raw}
    return {k: [n.strip() for n in v.split(',') if n.strip()]
            for k, v in raw.items()}


def _load_views(shapenet_root: str, image_size: int, split: str = 'train'
                ) -> Tuple[torch.Tensor, np.ndarray, List[str]]:
    """All views of a split as uint8 (V, 3, S, S) + the synset per view."""
    entries = read_lines(osp.join(shapenet_root, f'{split}_img.txt'),
                         'split list')
    images, synsets = [], []
    render_root = osp.join(shapenet_root, 'shapenet_render', 'img')
    for line in entries:
        synset, _, model_id = line[:-4].partition('-')
        view_dir = osp.join(render_root, synset, model_id)
        for name in sorted(os.listdir(view_dir)):
            img = Image.open(osp.join(view_dir, name)).convert('RGB')
            if img.size != (image_size, image_size):
                img = img.resize((image_size, image_size), Image.BICUBIC)
            images.append(np.asarray(img).transpose(2, 0, 1))
            synsets.append(synset)
    return torch.from_numpy(np.stack(images)), np.array(synsets), entries


def train_demo_clip(shapenet_root: str, out_file: str,
                    model_name: str = 'cg3d-tiny-vit', steps: int = 300,
                    batch_size: int = 128, lr: float = 2e-3,
                    weight_decay: float = 0.1, seed: int = 0,
                    templates: Sequence[str] = PRETRAIN_TEMPLATES +
                    ZEROSHOT_TEMPLATES) -> dict:
    """Train ``model_name`` from scratch on the renders; save its weights.

    The batch's targets are label-aware (every caption of the same class is
    a positive), since a dozen classes repeat many times per batch.

    Returns:
        dict: Training summary (time, final loss, train retrieval accuracy,
        mean pairwise cosine of the class prototypes).
    """
    from cg3d_mm.models.clip import build_clip
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    bundle = build_clip(model_name, shared=False, random_init=True)
    model, tokenizer = bundle.model, bundle.tokenizer
    size = bundle.image_size[0]
    mean = torch.tensor(bundle.mean).view(1, 3, 1, 1)
    std = torch.tensor(bundle.std).view(1, 3, 1, 1)

    start = time.time()
    images, view_synsets, _ = _load_views(shapenet_root, size)
    names = _synonyms(osp.join(shapenet_root, 'taxonomy.json'))
    synsets = sorted(set(view_synsets))
    label_of = {s: i for i, s in enumerate(synsets)}
    labels = torch.tensor([label_of[s] for s in view_synsets])
    # every (template, synonym) caption of every class, tokenised once
    captions = [[t.format(readable_class_name(n)) for n in names[s]
                 for t in templates] for s in synsets]
    tokens = [tokenizer(c) for c in captions]

    model.train()
    optim = torch.optim.AdamW(model.parameters(), lr=lr,
                              weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        optim, max_lr=lr, total_steps=steps, pct_start=0.15)
    print_log(f'demo CLIP: training {model_name} on {len(images)} renders of '
              f'{len(synsets)} classes for {steps} steps', logger='current')
    loss_value = float('nan')
    order = np.empty(0, dtype=np.int64)
    for step in track_iter_progress(range(steps)):
        if len(order) < batch_size:  # reshuffle once an epoch is used up
            order = np.concatenate([order, rng.permutation(len(images))])
        idx, order = torch.from_numpy(order[:batch_size]), order[batch_size:]
        img = images[idx].float() / 255.
        # light augmentation: flips and brightness, renders are clean
        flip = torch.rand(len(idx)) < 0.5
        img[flip] = img[flip].flip(-1)
        img = img * (0.8 + 0.4 * torch.rand(len(idx), 1, 1, 1))
        img = (img.clamp(0, 1) - mean) / std
        lab = labels[idx]
        txt = torch.stack([
            tokens[c][rng.integers(len(tokens[c]))] for c in lab.tolist()
        ])
        img_f = model.encode_image(img, normalize=True)
        txt_f = model.encode_text(txt, normalize=True)
        logits = model.logit_scale.exp() * img_f @ txt_f.t()
        same = (lab[:, None] == lab[None, :]).float()
        target = same / same.sum(dim=1, keepdim=True)
        loss = 0.5 * (torch.sum(-target * F.log_softmax(logits, 1), 1) +
                      torch.sum(-target * F.log_softmax(logits.t(), 1),
                                1)).mean()
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        sched.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, np.log(100))
        loss_value = float(loss.detach())
    model.eval()
    summary = _evaluate(model, tokenizer, images, labels, synsets, names,
                        mean, std)
    val_images, val_synsets, _ = _load_views(shapenet_root, size, 'val')
    val = _evaluate(model, tokenizer, val_images,
                    torch.tensor([label_of[s] for s in val_synsets]),
                    synsets, names, mean, std)
    summary['val_view_acc'] = val['train_view_acc']
    summary.update(seconds=round(time.time() - start, 1),
                   final_loss=loss_value, num_views=len(images),
                   classes=[names[s][0] for s in synsets])
    atomic_write(out_file, lambda f: torch.save(model.state_dict(), f))
    print_log(f'demo CLIP: saved {out_file} ({summary["seconds"]} s, '
              f'render->class accuracy train {summary["train_view_acc"]:.1f} '
              f'% / val {summary["val_view_acc"]:.1f} %, '
              f'mean prototype cosine {summary["prototype_cosine"]:.2f})',
              logger='current')
    return summary


@torch.no_grad()
def _evaluate(model, tokenizer, images, labels, synsets, names, mean,
              std) -> dict:
    protos = F.normalize(model.encode_text(tokenizer(
        [ZEROSHOT_TEMPLATES[0].format(readable_class_name(names[s][0]))
         for s in synsets])), dim=-1)
    cos = protos @ protos.t()
    k = len(synsets)
    off_diag = (cos.sum() - cos.diag().sum()) / max(1, k * (k - 1))
    correct = 0
    for i in range(0, len(images), 256):
        img = (images[i:i + 256].float() / 255. - mean) / std
        feats = F.normalize(model.encode_image(img), dim=-1)
        correct += int(((feats @ protos.t()).argmax(1) ==
                        labels[i:i + 256]).sum())
    return dict(train_view_acc=100. * correct / len(images),
                prototype_cosine=float(off_diag))


def ensure_demo_clip(synthetic: Optional[dict] = None, **settings) -> str:
    """Path of the demo CLIP checkpoint, training it on first use.

    Args:
        synthetic (dict, optional): Settings of the synthetic world the
            CLIP is trained on (``ensure_synthetic_data`` arguments).
        **settings: Overrides of :data:`DEFAULT_SETTINGS`.

    Returns:
        str: An open_clip state-dict file for ``settings['model_name']``.
    """
    from cg3d_mm.datagen.synthetic import ensure_synthetic_data
    cfg = dict(DEFAULT_SETTINGS, **settings)
    synthetic = dict(synthetic or {})
    root = str(ensure_synthetic_data(**synthetic))
    key = hashlib.sha256(json.dumps(
        dict(cfg, synthetic=synthetic, root=root),
        sort_keys=True, default=str).encode()).hexdigest()[:12]
    out_dir = cache_dir('demo_clip')
    os.makedirs(out_dir, exist_ok=True)
    path = osp.join(out_dir, f'{cfg["model_name"]}-{key}.pth')
    # one process trains, the others (DDP ranks) wait for its file
    with FileLock(path + '.lock'):
        if osp.isfile(path):
            return path
        print_log(f'demo CLIP: {path} not found, training it once (CG3D '
                  'needs a pretrained CLIP; real weights cannot be downloaded '
                  'here)', logger='current', level=logging.INFO)
        summary = train_demo_clip(osp.join(root, 'ShapeNet55'), path, **cfg)
        with open(path[:-4] + '.json', 'w') as f:
            json.dump(summary, f, indent=1)
    return path
