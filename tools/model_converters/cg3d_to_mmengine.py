"""Convert the authors' CG3D checkpoints into cg3d_mm checkpoints.

    python tools/model_converters/cg3d_to_mmengine.py \
        pointmlp_cg3d.pth checkpoints/cg3d_pointmlp_slip.pth \
        [--encoder pointmlp|pointtransformer] \
        [--clip checkpoints/slip_vitb16_open_clip.pth] [--trust-pickle]

A pretraining checkpoint of the original code (``base_model``: the point
model with its 512-d ``projection``; ``visual_clip_model``: the prompted
SLIP image tower) becomes a ``CG3D`` checkpoint (``backbone.*``,
``head.proj.*``, ``img_backbone.prompts``, the logit-scale buffers and a
plain ``meta``) that ``tools/test.py`` and ``cg3d_mm.apis.init_model`` load
strictly with ``configs/cg3d/{pointmlp,pointtransformer}_shapenet_slip.py``
or their zero-shot configs. A fine-tuned classifier (``base_model`` with its
classification head, no projection) becomes a ``PointClassifier``
checkpoint (``backbone.*``, ``head.classifier.*``).

The encoder is detected from the keys; ``--encoder`` makes a mismatch an
error. ``--clip`` (the output of ``slip_to_open_clip.py``) checks that the
checkpoint's frozen image tower is that SLIP's and takes the logit scale
from it. Files are loaded weights-only unless ``--trust-pickle``. Unknown,
missing or mis-shaped keys are listed by name, and nothing is written
unless the whole conversion succeeds.
"""
import argparse
import os.path as osp
import sys

from cg3d_mm.models.clip import SLIPConversionError, read_clip_state_dict
from cg3d_mm.models.clip.loading import CLIPCheckpointError
from cg3d_mm.models.converters import (ENCODERS, CheckpointConversionError,
                                       convert_cg3d_checkpoint,
                                       read_source_checkpoint,
                                       write_converted)
from cg3d_mm.models.converters.checkpoint_io import file_sha256
from cg3d_mm.version import __version__

CONFIGS = dict(
    pointmlp='configs/cg3d/pointmlp_shapenet_slip.py',
    pointtransformer='configs/cg3d/pointtransformer_shapenet_slip.py')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('in_file', help="the authors' checkpoint")
    parser.add_argument('out_file', help='cg3d_mm checkpoint to write')
    parser.add_argument('--encoder', choices=ENCODERS, default=None,
                        help='point encoder the file must hold (default: '
                        'detected from its keys)')
    parser.add_argument('--clip', default=None,
                        help='the converted SLIP (slip_to_open_clip.py '
                        'output): checks the frozen image tower, gives the '
                        'logit scale')
    parser.add_argument('--trust-pickle', action='store_true',
                        help='load IN with weights_only=False (trusted '
                        'files only)')
    return parser.parse_args(argv)


def convert(in_file: str, out_file: str, encoder=None, clip=None,
            trust_pickle: bool = False) -> dict:
    """Convert and write; returns the ``meta`` written."""
    clip_sd = None
    if clip is not None:
        try:
            clip_sd = read_clip_state_dict(clip)
        except CLIPCheckpointError as err:
            raise CheckpointConversionError(str(err)) from None
    ckpt = read_source_checkpoint(in_file, trust_pickle)
    state_dict, meta = convert_cg3d_checkpoint(
        ckpt, in_file, encoder, clip_sd, clip or 'the CLIP checkpoint')
    meta.update(converted_from=osp.basename(in_file),
                source_sha256=file_sha256(in_file),
                cg3d_mm_version=__version__)
    write_converted(out_file, state_dict, meta)
    return meta


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        meta = convert(args.in_file, args.out_file, args.encoder, args.clip,
                       args.trust_pickle)
    except (CheckpointConversionError, SLIPConversionError,
            FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    what = (f"CG3D ({meta['encoder']}, {meta['num_prompts']} prompts per "
            f"layer)" if meta['mode'] == 'pretrain' else
            f"PointClassifier ({meta['encoder']}, {meta['num_classes']} "
            'classes)')
    print(f'{args.out_file}: {what} (sha256 '
          f'{file_sha256(args.out_file)[:8]})')
    if meta['mode'] == 'pretrain':
        if not meta['deep_prompts']:
            print('shallow prompts: add --cfg-options '
                  'model.img_backbone.deep=False')
        if meta['num_prompts'] != 5:
            print(f"add --cfg-options model.img_backbone.num_prompts="
                  f"{meta['num_prompts']}")
        enc = meta['encoder']
        print(f'config: {CONFIGS[enc]}\nzero-shot: python tools/test.py '
              f'configs/cg3d/zeroshot/{enc}_slip_modelnet40.py '
              f'{args.out_file}  (and the other {enc}_slip_* configs)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
