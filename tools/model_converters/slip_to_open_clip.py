"""Convert SLIP's checkpoint (the CLIP of the original CG3D) for open_clip.

    python tools/model_converters/slip_to_open_clip.py \
        slip_base_100ep.pt checkpoints/slip_vitb16_open_clip.pth --trust-pickle

IN is SLIP's release (``state_dict`` with ``module.`` prefixes): a timm ViT
image tower + ``image_projection``, CLIP's text tower and SLIP's
self-supervised head ``image_mlp.*`` (dropped). OUT holds the open_clip
state dict of the architecture ``--arch`` (default ``SLIP-ViT-B-16``,
registered by cg3d_mm: no ``ln_pre``, LayerNorm eps 1e-6, GELU image MLPs,
QuickGELU text MLPs, ImageNet mean/std), checked key by key against it, and
loads with ``dict(model_name='SLIP-ViT-B-16', checkpoint=OUT)``. timm's
patch-embedding bias is folded into the positional embedding (exact).

SLIP's file also pickles its ``argparse.Namespace``: it only loads with
``--trust-pickle`` (weights_only=False), for a file you downloaded from its
official link. OUT is weights-only and safe to share. Nothing is written
unless the whole conversion succeeds.
"""
import argparse
import os.path as osp
import sys

import open_clip
import torch

from cg3d_mm.models.clip import (SLIP_VIT_B_16, SLIPConversionError,
                                 apply_arch_extras, slip_to_open_clip)
from cg3d_mm.models.converters import (CheckpointConversionError,
                                       read_source_checkpoint,
                                       write_converted)
from cg3d_mm.models.converters.checkpoint_io import file_sha256
from cg3d_mm.version import __version__


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('in_file', help="SLIP's checkpoint")
    parser.add_argument('out_file', help='converted open_clip checkpoint')
    parser.add_argument('--arch', default=SLIP_VIT_B_16,
                        help='registered open_clip architecture to check '
                        'against (default: %(default)s)')
    parser.add_argument('--trust-pickle', action='store_true',
                        help='load IN with weights_only=False (trusted '
                        'files only)')
    return parser.parse_args(argv)


def convert(in_file: str, out_file: str, arch: str = SLIP_VIT_B_16,
            trust_pickle: bool = False) -> dict:
    """Convert and write; returns the converted state dict."""
    ckpt = read_source_checkpoint(in_file, trust_pickle)
    if isinstance(ckpt, dict) and 'base_model' in ckpt:
        raise CheckpointConversionError(
            f'{in_file}: a CG3D checkpoint, not SLIP: convert it with '
            'tools/model_converters/cg3d_to_mmengine.py')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not state or not all(
            torch.is_tensor(v) for v in state.values()):
        raise CheckpointConversionError(
            f'{in_file}: expected a SLIP checkpoint ({{"state_dict": '
            '{...tensors}}); got ' + (f'keys {sorted(ckpt)[:5]}' if
                                      isinstance(ckpt, dict) else
                                      type(ckpt).__name__))
    converted = slip_to_open_clip(state, where=in_file)
    model = apply_arch_extras(open_clip.create_model(arch), arch)
    try:
        model.load_state_dict(converted, strict=True)
    except RuntimeError as err:
        raise CheckpointConversionError(
            f'{in_file}: the converted weights do not fit the open_clip '
            f'architecture {arch!r}: {err}') from None
    meta = dict(arch=arch, converted_from=osp.basename(in_file),
                source_sha256=file_sha256(in_file),
                cg3d_mm_version=__version__)
    write_converted(out_file, converted, meta)
    return converted


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        converted = convert(args.in_file, args.out_file, args.arch,
                            args.trust_pickle)
    except (CheckpointConversionError, SLIPConversionError,
            FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(f'{args.out_file}: {len(converted)} open_clip weights of '
          f'{args.arch!r} (sha256 {file_sha256(args.out_file)[:8]}); use '
          f"clip=dict(model_name='{args.arch}', "
          f"checkpoint='{args.out_file}')")
    return 0


if __name__ == '__main__':
    sys.exit(main())
