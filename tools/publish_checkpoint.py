"""Write a slim, weights-only checkpoint with its sha256 in the file name.

    python tools/publish_checkpoint.py IN.pth OUT.pth [--keep-prefix backbone.]

Keeps ``state_dict`` (optionally only the keys under some prefixes) and a
``meta`` of plain values; drops optimizer states, schedulers and the message
hub. The output is named ``OUT-<first 8 hex digits of its sha256>.pth`` as in
OpenMMLab's model zoo, and loads with ``torch.load(weights_only=True)``.

``--trust-pickle`` loads IN with ``weights_only=False``: only for a file whose
origin you trust (it can run code); the output is then safe to share.
"""
import argparse

from cg3d_mm.utils.publish import publish_checkpoint


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('in_file', help='input checkpoint')
    parser.add_argument('out_file', help='output name; the hash is appended')
    parser.add_argument('--keep-prefix', nargs='+', default=None,
                        help='keep only state_dict keys with these prefixes')
    parser.add_argument('--strip-prefix', default=None,
                        help='remove this prefix from the kept keys')
    parser.add_argument('--trust-pickle', action='store_true',
                        help='load IN with weights_only=False (trusted files '
                        'only)')
    return parser.parse_args()


def main():
    args = parse_args()
    final = publish_checkpoint(args.in_file, args.out_file,
                               args.keep_prefix, args.strip_prefix,
                               args.trust_pickle)
    print(final)


if __name__ == '__main__':
    main()
