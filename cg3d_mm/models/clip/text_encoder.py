"""Frozen CLIP text encoder with a caption -> embedding cache.

CG3D's captions come from a finite set (templates x class names) and the text
tower never changes, so each distinct caption is encoded once: later lookups
only gather rows of an in-memory table. Optionally the table is also kept on
disk, in a file named after a fingerprint of the text-tower weights (and
tokenizer), so a second run with the same weights encodes nothing and a run
with other weights does not see stale rows.
"""
import hashlib
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from open_clip.transformer import text_global_pool
from torch import Tensor, nn

from cg3d_mm.registry import MODELS
from cg3d_mm.utils.class_names import readable_class_name
from cg3d_mm.utils.io import atomic_write

from .loading import build_clip_from_cfg


class FlatTextTower(nn.Module):
    """The text tower of an open_clip ``CLIP``, as a module of its own.

    ``open_clip.CLIP`` keeps its text parts at top level, next to ``visual``;
    this module references (does not copy) them, so the text encoder does not
    carry the image tower. Its forward is ``CLIP.encode_text`` without the
    normalisation.

    Args:
        clip (nn.Module): An ``open_clip.CLIP``.
    """

    def __init__(self, clip: nn.Module) -> None:
        super().__init__()
        self.token_embedding = clip.token_embedding
        self.positional_embedding = clip.positional_embedding
        self.transformer = clip.transformer
        self.ln_final = clip.ln_final
        self.text_projection = clip.text_projection
        self.register_buffer('attn_mask', clip.attn_mask, persistent=False)
        self.pool_type = clip.text_pool_type
        self.eos_id = getattr(clip, 'text_eos_id', None)
        proj = clip.text_projection
        self.output_dim = (
            proj.out_features if isinstance(proj, nn.Linear) else
            proj.shape[1] if proj is not None else clip.transformer.width)

    def forward(self, tokens: Tensor) -> Tensor:
        """Args: tokens (LongTensor): (T, context_length).

        Returns:
            Tensor: (T, output_dim) unnormalised text features.
        """
        cast_dtype = self.transformer.get_cast_dtype()
        x = self.token_embedding(tokens).to(cast_dtype)
        x = x + self.positional_embedding.to(cast_dtype)
        x = self.transformer(x, attn_mask=self.attn_mask)
        x = self.ln_final(x)
        x = text_global_pool(
            x, tokens, self.pool_type, eos_token_id=self.eos_id)
        if isinstance(self.text_projection, nn.Linear):
            x = self.text_projection(x)
        elif self.text_projection is not None:
            x = x @ self.text_projection
        return x


def _reset_after_load(module: 'CLIPTextEncoder', incompatible_keys) -> None:
    module._reset_cache()


@MODELS.register_module()
class CLIPTextEncoder(BaseModule):
    """Frozen open_clip text tower returning cached, L2-normalised embeddings.

    Args:
        clip (dict): CLIP config for :func:`cg3d_mm.models.clip.build_clip`,
            e.g. ``dict(model_name='ViT-B-16-quickgelu',
            pretrained='openai')`` (OpenAI's weights need the QuickGELU
            arch) or the original CG3D's ``dict(model_name='SLIP-ViT-B-16',
            checkpoint=...)``. Built from the same dict as the image
            backbone, the loaded CLIP is shared (the checkpoint is read
            once).
        cache_dir (str, optional): Folder for the on-disk embedding cache.
            None keeps the cache in memory only. Defaults to None.
        batch_size (int): Captions per forward pass when encoding new
            captions. Defaults to 256.
        init_cfg (dict, optional): mmengine init config. Defaults to None.

    Attributes:
        logit_scale (Tensor): Scalar buffer, the CLIP temperature
            ``exp(logit_scale)`` clamped to <= 100 (frozen).
        num_encoded (int): Captions actually run through the text tower
            (cache hits, memory or disk, do not count).
        embed_dim (int): Embedding size D.
    """

    def __init__(self,
                 clip: dict,
                 cache_dir: Optional[str] = None,
                 batch_size: int = 256,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self._clip_bundle = build_clip_from_cfg(clip)
        model = self._clip_bundle.model
        self.tokenizer = self._clip_bundle.tokenizer
        # CustomTextCLIP keeps a text module; CLIP keeps the parts flat
        self.tower = (model.text if hasattr(model, 'text') else
                      FlatTextTower(model))
        self.tower.requires_grad_(False)
        self.tower.eval()
        self.embed_dim = self.out_channels = self.tower.output_dim
        scale = model.logit_scale.detach().float().exp().clamp(max=100.0)
        self.register_buffer('logit_scale', scale.reshape(()))

        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.num_encoded = 0
        self._reset_cache()
        # new weights (e.g. a checkpoint loaded by the runner) void the cache
        self.register_load_state_dict_post_hook(_reset_after_load)

    def _reset_cache(self) -> None:
        self._rows: Dict[str, int] = {}
        self._bank: Optional[Tensor] = None  # (num_cached, D) float32
        self._fingerprint: Optional[str] = None
        self._disk_checked = False

    def train(self, mode: bool = True) -> 'CLIPTextEncoder':
        """Keep the frozen tower in eval mode whatever the module's mode."""
        super().train(mode)
        self.tower.eval()
        return self

    @property
    def device(self) -> torch.device:
        return self.logit_scale.device

    @property
    def num_cached(self) -> int:
        """Number of distinct captions held in memory."""
        return len(self._rows)

    def weights_fingerprint(self) -> str:
        """sha256 of the text-tower weights and the tokenizer setup."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            ctx = getattr(self.tokenizer, 'context_length', None)
            h.update(f'{type(self.tokenizer).__name__}:{ctx};'.encode())
            for name, t in sorted(self.tower.state_dict().items()):
                t = t.detach().to('cpu').contiguous().reshape(-1)
                h.update(f'{name}:{t.dtype}:{t.numel()};'.encode())
                h.update(t.view(torch.uint8).numpy())
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    @torch.no_grad()
    def encode(self, texts: Union[str, Sequence[str]]) -> Tensor:
        """Embeddings of captions, computed once per distinct caption.

        Args:
            texts (str | list[str]): T captions (repeats allowed).

        Returns:
            Tensor: (T, D) float32, L2-normalised, no grad, on the module's
            device.
        """
        if isinstance(texts, str):
            texts = [texts]
        if len(texts) == 0:
            return self.logit_scale.new_zeros((0, self.embed_dim))
        new = [t for t in dict.fromkeys(texts) if t not in self._rows]
        if new:
            self._add(new)
        device = self.device
        if self._bank.device != device:
            self._bank = self._bank.to(device)
        idx = torch.tensor([self._rows[t] for t in texts],
                           dtype=torch.long, device=device)
        return self._bank.index_select(0, idx)

    forward = encode

    def class_prototypes(self, class_names: Sequence[str],
                         templates: Union[str, Sequence[str]]) -> Tensor:
        """Template-ensembled class embeddings for zero-shot classification.

        Per class: the mean of its L2-normalised template embeddings,
        renormalised.

        Args:
            class_names (list[str]): K class names; underscores become spaces.
            templates (str | list[str]): M templates with a ``{}`` slot for
                the class name, e.g. ``'a photo of a {}.'``.

        Returns:
            Tensor: (K, D) L2-normalised prototypes.
        """
        if isinstance(templates, str):
            templates = [templates]
        bad = [t for t in templates if '{}' not in t]
        if bad or not templates:
            raise ValueError(
                "Every template needs a '{}' slot for the class name; "
                f'got {bad or templates}.')
        names = [readable_class_name(c) for c in class_names]
        captions = [t.replace('{}', n) for n in names for t in templates]
        emb = self.encode(captions).view(len(names), len(templates), -1)
        return F.normalize(emb.mean(dim=1), dim=-1)

    # -- cache internals -------------------------------------------------

    def _add(self, texts: List[str]) -> None:
        """Put ``texts`` (all new, distinct) into the memory table."""
        if self.cache_dir is not None and not self._disk_checked:
            self._disk_checked = True
            self._load_disk()
            texts = [t for t in texts if t not in self._rows]
            if not texts:
                return
        self._append(texts, self._run_tower(texts))
        self.num_encoded += len(texts)
        if self.cache_dir is not None:
            self._save_disk()

    def _run_tower(self, texts: List[str]) -> Tensor:
        device = next(self.tower.parameters()).device
        out = []
        # cached rows outlive the caller's autocast region: compute them at
        # the tower's own precision
        with torch.autocast(device.type, enabled=False):
            for i in range(0, len(texts), self.batch_size):
                tokens = self.tokenizer(texts[i:i + self.batch_size])
                feats = self.tower(tokens.to(device))
                if isinstance(feats, tuple):  # towers with output_tokens
                    feats = feats[0]
                out.append(F.normalize(feats.float(), dim=-1))
        return torch.cat(out)

    def _append(self, texts: List[str], emb: Tensor) -> None:
        start = len(self._rows)
        self._rows.update((t, start + i) for i, t in enumerate(texts))
        emb = emb.to(self.device, torch.float32)
        self._bank = emb if self._bank is None else torch.cat(
            [self._bank.to(emb.device), emb])

    def _cache_file(self) -> str:
        return osp.join(self.cache_dir,
                        f'clip_text_emb_{self.weights_fingerprint()[:20]}.pth')

    def _load_disk(self) -> None:
        path = self._cache_file()
        if not osp.isfile(path):
            return
        data = torch.load(path, map_location='cpu', weights_only=True)
        if data.get('fingerprint') != self.weights_fingerprint():
            return  # prefix collision or foreign file: ignore it
        captions = data['captions']
        keep = [i for i, t in enumerate(captions) if t not in self._rows]
        if keep:
            self._append([captions[i] for i in keep],
                         data['embeddings'][keep])

    def _save_disk(self) -> None:
        os.makedirs(self.cache_dir, exist_ok=True)
        data = dict(
            fingerprint=self.weights_fingerprint(),
            captions=list(self._rows),  # insertion order == row order
            embeddings=self._bank.detach().to('cpu'))
        # readers (other ranks, later runs) never see a half-written file
        atomic_write(self._cache_file(), lambda f: torch.save(data, f))
