"""Cheap per-file checks: headers and sizes, never whole arrays.

Each check takes a path (plus plain keyword settings, so it can run in a
worker process and be cached by its settings) and returns ``None`` for a
good file or ``(kind, message)`` naming the file and what was expected.
"""
import os
import struct
from typing import Optional, Tuple

import numpy as np

Issue = Optional[Tuple[str, str]]

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
JPEG_SOI = b'\xff\xd8'
# JPEG start-of-frame markers carry the image size (not DHT/JPG/DAC)
_JPEG_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _missing(path: str, what: str) -> Issue:
    return 'missing', f'{path}: {what} does not exist'


def check_npy(path: str, min_rows: int = 1, min_cols: int = 3) -> Issue:
    """A ``.npy`` point file: magic, header, dtype, shape and byte size.

    The header tells the array's shape and dtype; the file must hold at
    least that many bytes after it (a shorter file is truncated).
    """
    fmt = np.lib.format
    try:
        with open(path, 'rb') as f:
            try:
                version = fmt.read_magic(f)
            except ValueError:
                return 'not_an_array', (f'{path}: not a .npy array (no numpy '
                                        'header); expected (N, 3) points')
            try:
                if version == (1, 0):
                    shape, _, dtype = fmt.read_array_header_1_0(f)
                elif version == (2, 0):
                    shape, _, dtype = fmt.read_array_header_2_0(f)
                else:  # 3.0 (utf-8 header): same reader, no public name
                    shape, _, dtype = fmt._read_array_header(f, version)
            except Exception as err:
                return 'bad_header', (f'{path}: unreadable .npy header '
                                      f'({type(err).__name__}: {err})')
            offset = f.tell()
            size = os.fstat(f.fileno()).st_size
    except FileNotFoundError:
        return _missing(path, 'point file')
    except OSError as err:
        return 'unreadable', f'{path}: cannot open ({err})'
    if dtype.hasobject:
        return 'not_an_array', (f'{path}: holds Python objects (a pickle), '
                                'expected a float (N, 3) point array')
    if dtype.kind not in 'fiu':
        return 'bad_dtype', (f'{path}: dtype {dtype}, expected float (N, 3) '
                             'points')
    needed = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if size < needed:
        return 'truncated', (f'{path}: truncated ({size} bytes; its header '
                             f'declares a {tuple(shape)} {dtype} array, '
                             f'{needed} bytes)')
    if len(shape) != 2 or shape[1] < min_cols:
        return 'bad_shape', (f'{path}: shape {tuple(shape)}, expected '
                             f'(N, >={min_cols}) points')
    if shape[0] < min_rows:
        return 'too_few_points', (f'{path}: {shape[0]} points, fewer than '
                                  f'the {min_rows} the pipeline samples')
    return None


def _png_issue(path: str, f, size: int, deep: bool) -> Issue:
    # walk the chunk chain by the lengths in the chunk headers (no inflate):
    # a truncated file ends inside a chunk or before IEND
    pos, first, has_idat = 8, True, False
    while True:
        f.seek(pos)
        head = f.read(8)
        if len(head) < 8:
            return 'truncated', (f'{path}: truncated PNG ({size} bytes, '
                                 'ends before the IEND chunk)')
        length, ctype = struct.unpack('>I4s', head)
        end = pos + 12 + length
        if end > size:
            return 'truncated', (f'{path}: truncated PNG ({size} bytes, '
                                 f'its {ctype.decode("latin1")} chunk needs '
                                 f'{end})')
        if first:
            if ctype != b'IHDR' or length != 13:
                return 'undecodable', f'{path}: PNG without an IHDR chunk'
            width, height = struct.unpack('>II', f.read(8))
            if not width or not height:
                return 'undecodable', f'{path}: PNG of size {width}x{height}'
            first = False
        has_idat |= ctype == b'IDAT'
        pos = end
        if ctype == b'IEND':
            break
    if not has_idat:
        return 'undecodable', f'{path}: PNG without image data (no IDAT)'
    return _decode(path) if deep else None


def _jpeg_issue(path: str, f, size: int, deep: bool) -> Issue:
    pos, seen_sof = 2, False
    while True:
        f.seek(pos)
        head = f.read(4)
        if len(head) < 4 or head[0] != 0xFF:
            return 'truncated', (f'{path}: truncated or corrupt JPEG (no '
                                 f'marker at byte {pos} of {size})')
        marker = head[1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = struct.unpack('>H', head[2:])[0]
        if marker in _JPEG_SOF:
            seen_sof = True
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        pos += 2 + length
    if not seen_sof:
        return 'undecodable', f'{path}: JPEG without a frame header'
    f.seek(max(0, size - 64))
    tail = f.read().rstrip(b'\x00')
    if not tail.endswith(b'\xff\xd9'):
        return 'truncated', (f'{path}: truncated JPEG ({size} bytes, no '
                             'end-of-image marker)')
    return _decode(path) if deep else None


def _decode(path: str) -> Issue:
    from PIL import Image
    try:
        with Image.open(path) as img:
            img.convert('RGB').load()
    except Exception as err:
        return 'undecodable', (f'{path}: cannot decode image '
                               f'({type(err).__name__}: {err})')
    return None


def check_image(path: str, deep: bool = False) -> Issue:
    """A rendered view: PNG chunk chain complete up to IEND, or a JPEG's
    markers up to the scan and its end-of-image marker.

    Args:
        deep (bool): Also decode every pixel with PIL (slower).
    """
    try:
        with open(path, 'rb') as f:
            size = os.fstat(f.fileno()).st_size
            magic = f.read(8)
            if magic == PNG_SIGNATURE:
                return _png_issue(path, f, size, deep)
            if magic[:2] == JPEG_SOI:
                return _jpeg_issue(path, f, size, deep)
    except FileNotFoundError:
        return _missing(path, 'rendered view')
    except OSError as err:
        return 'unreadable', f'{path}: cannot open ({err})'
    what = 'an empty file' if size == 0 else f'starts with {magic[:4]!r}'
    return 'undecodable', f'{path}: not a PNG or JPEG image ({what})'


def _fields(line: bytes) -> Optional[list]:
    """The row's numbers as text, or None when one does not parse."""
    text = line.decode('latin1').strip()
    values = text.split(',') if ',' in text else text.split()
    try:
        [float(v) for v in values]
    except ValueError:
        return None
    return values


def _decimals(values: list) -> set:
    return {len(v.partition('.')[2]) for v in values}


def check_txt_points(path: str, columns: int = 6,
                     min_rows: int = 1) -> Issue:
    """A text point file: the first and last rows parse to ``columns``
    numbers, and the size holds at least ``min_rows`` rows of the first
    row's length (the file is not read in between)."""
    try:
        with open(path, 'rb') as f:
            size = os.fstat(f.fileno()).st_size
            first = f.readline(4096)
            f.seek(max(0, size - 4096))
            tail = f.read()
    except FileNotFoundError:
        return _missing(path, 'point file')
    except OSError as err:
        return 'unreadable', f'{path}: cannot open ({err})'
    expected = f'rows of {columns} comma-separated numbers (x,y,z,nx,ny,nz)'
    if size == 0:
        return 'empty', f'{path}: empty file, expected {expected}'
    head = _fields(first)
    if head is None or len(head) != columns:
        return 'bad_format', (f'{path}: first row {first[:80]!r} is not '
                              f'{columns} numbers; expected {expected}')
    last = tail.rstrip().rsplit(b'\n', 1)[-1]
    tail_fields = _fields(last)
    # rows written with a fixed format ('%.6f' in the releases): a file cut
    # inside its last number leaves that number with fewer decimals
    fixed = len(_decimals(head)) == 1
    if tail_fields is None or len(tail_fields) != columns or (
            fixed and _decimals(tail_fields) != _decimals(head)):
        return 'truncated', (f'{path}: last row {last[-80:]!r} is not '
                             f'{columns} numbers like the first row '
                             f'(truncated?); expected {expected}')
    rows = size / max(len(first), 1)
    if rows < min_rows:
        return 'too_few_points', (f'{path}: about {int(rows)} rows, fewer '
                                  f'than the {min_rows} the pipeline '
                                  'samples')
    return None


def check_bin(path: str, dims: int = 6, min_rows: int = 1) -> Issue:
    """An mmdet3d ``.bin`` point file: whole float32 rows of ``dims``."""
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        return _missing(path, 'point file')
    row = 4 * dims
    if size == 0 or size % row:
        return 'truncated', (f'{path}: {size} bytes is not a whole number of '
                             f'float32 rows of {dims} values')
    if size // row < min_rows:
        return 'too_few_points', (f'{path}: {size // row} points, fewer than '
                                  f'{min_rows}')
    return None
