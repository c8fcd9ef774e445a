"""The symmetric InfoNCE loss of CLIP, written once for all CG3D pairs."""
from typing import Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor


def gather_with_grad(x: Tensor) -> Tuple[Tensor, int]:
    """All-gather ``x`` (B, D) from every rank, keeping the autograd graph.

    Returns the (world * B, D) tensor and this rank's row offset. The
    backward of ``torch.distributed.nn.all_gather`` sums the gradients of
    every rank's copy, so with DDP's gradient averaging the update equals
    that of one process holding the global batch.
    """
    if not (dist.is_available() and dist.is_initialized()) or \
            dist.get_world_size() == 1:
        return x, 0
    from torch.distributed.nn.functional import all_gather
    sizes = [torch.zeros(1, dtype=torch.long, device=x.device)
             for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, torch.tensor([len(x)], device=x.device))
    if len({int(s) for s in sizes}) != 1:
        raise ValueError('gather_with_grad: every rank needs the same batch '
                         f'size, got {[int(s) for s in sizes]} (use '
                         'drop_last=True in the train dataloader)')
    parts = all_gather(x)
    return torch.cat(parts, dim=0), dist.get_rank() * len(x)


def info_nce(a: Tensor, b: Tensor, logit_scale: Tensor,
             gather: bool = False) -> Tensor:
    """Symmetric InfoNCE between paired embeddings.

    Args:
        a (Tensor): (B, D) L2-normalised embeddings of one modality.
        b (Tensor): (B, D) L2-normalised embeddings of the other; row i of
            ``a`` and of ``b`` are the positive pair, every other row of the
            (global) batch is a negative, same class or not.
        logit_scale (Tensor): Scalar multiplier of the cosine similarities
            (CLIP's exp(learned log-scale), <= 100).
        gather (bool): Use the negatives of all ranks (global batch).

    Returns:
        Tensor: Scalar fp32, (CE(a->b) + CE(b->a)) / 2, computed in fp32
        even under autocast.
    """
    if a.shape != b.shape or a.dim() != 2:
        raise ValueError(f'info_nce: expected two (B, D) tensors of the same '
                         f'shape, got {tuple(a.shape)} and {tuple(b.shape)}')
    if gather:
        a, _ = gather_with_grad(a)
        b, _ = gather_with_grad(b)
    # fp32 logits and loss under autocast: bf16 keeps ~3 significant digits,
    # too few for scaled cosine similarities of up to 100
    with torch.autocast(device_type=a.device.type, enabled=False):
        logits = logit_scale.float() * a.float() @ b.float().t()
        target = torch.arange(len(a), device=a.device)
        return 0.5 * (F.cross_entropy(logits, target) +
                      F.cross_entropy(logits.t(), target))
