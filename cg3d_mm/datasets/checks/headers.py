"""Cheap per-file checks: headers and sizes, never whole arrays.

Each check takes a path (plus plain keyword settings, so it can run in a
worker process and be cached by its settings) and returns ``None`` for a
good file or ``(kind, message)`` naming the file and what was expected.
"""
import os
import struct
import zipfile
import zlib
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

Issue = Optional[Tuple[str, str]]

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
JPEG_SOI = b'\xff\xd8'
# JPEG start-of-frame markers carry the image size (not DHT/JPG/DAC)
_JPEG_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _missing(path: str, what: str) -> Issue:
    return 'missing', f'{path}: {what} does not exist'


def _npy_header(path: str,
                f) -> Union[Issue, Tuple[tuple, np.dtype, int]]:
    """(shape, dtype, data offset) of the ``.npy`` stream ``f``, or the
    issue that prevents reading them."""
    fmt = np.lib.format
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
    return tuple(shape), dtype, f.tell()


def _array_issue(path: str, shape: tuple, dtype: np.dtype, min_rows: int,
                 min_cols: int) -> Issue:
    """The dtype and shape of a point array, from its header."""
    if dtype.hasobject:
        return 'not_an_array', (f'{path}: holds Python objects (a pickle), '
                                f'expected a float (N, {min_cols}) point '
                                'array')
    if dtype.kind not in 'fiu':
        return 'bad_dtype', (f'{path}: dtype {dtype}, expected float '
                             f'(N, {min_cols}) points')
    if len(shape) != 2 or shape[1] < min_cols:
        return 'bad_shape', (f'{path}: shape {tuple(shape)}, expected '
                             f'(N, >={min_cols}) points')
    if shape[0] < min_rows:
        return 'too_few_points', (f'{path}: {shape[0]} points, fewer than '
                                  f'the {min_rows} the pipeline samples')
    return None


def check_npy(path: str, min_rows: int = 1, min_cols: int = 3) -> Issue:
    """A ``.npy`` point file: magic, header, dtype, shape and byte size.

    The header tells the array's shape and dtype; the file must hold at
    least that many bytes after it (a shorter file is truncated).
    """
    try:
        with open(path, 'rb') as f:
            head = _npy_header(path, f)
            size = os.fstat(f.fileno()).st_size
    except FileNotFoundError:
        return _missing(path, 'point file')
    except OSError as err:
        return 'unreadable', f'{path}: cannot open ({err})'
    if not isinstance(head[1], np.dtype):
        return head
    shape, dtype, offset = head
    if dtype.hasobject:  # no byte count to compare: say what it is
        return _array_issue(path, shape, dtype, min_rows, min_cols)
    needed = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if size < needed:
        return 'truncated', (f'{path}: truncated ({size} bytes; its header '
                             f'declares a {tuple(shape)} {dtype} array, '
                             f'{needed} bytes)')
    return _array_issue(path, shape, dtype, min_rows, min_cols)


def check_npz(path: str, min_rows: int = 1, min_cols: int = 3) -> Issue:
    """A ``.npz`` point file (ULIP-2's ``<uid>_8192.npz``): the zip's
    central directory, the points member (``arr_0`` or the only one) and
    its ``.npy`` header; only the header is decompressed."""
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        return _missing(path, 'point file')
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        # the directory is at the end: a truncated archive has none
        return 'truncated', (f'{path}: not a complete .npz (zip) archive '
                             f'({err}); expected arr_0: (N, {min_cols}) '
                             'points')
    with zf:
        names = zf.namelist()
        member = 'arr_0.npy' if 'arr_0.npy' in names else (
            names[0] if len(names) == 1 else None)
        if member is None:
            return 'bad_format', (f'{path}: no arr_0 among {names[:5]}; '
                                  'expected the points under arr_0 (or a '
                                  'single array)')
        info = zf.getinfo(member)
        try:
            with zf.open(info) as m:
                head = _npy_header(f'{path}:{member}', m)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
            return 'truncated', f'{path}: cannot read {member} ({err})'
    if not isinstance(head[1], np.dtype):
        return head
    shape, dtype, offset = head
    if not dtype.hasobject:
        needed = offset + int(np.prod(shape, dtype=np.int64)) * \
            dtype.itemsize
        if info.file_size != needed:
            return 'truncated', (f'{path}: {member} holds {info.file_size} '
                                 f'bytes, its header declares a {shape} '
                                 f'{dtype} array ({needed} bytes)')
    return _array_issue(f'{path}:{member}', shape, dtype, min_rows, min_cols)


def check_points_file(path: str, min_rows: int = 1, min_cols: int = 3,
                      deep: bool = False) -> Issue:
    """A ``.npy`` / ``.npz`` point file from its header; with ``deep`` the
    array is read as ``LoadPointCloud`` reads it (no pickles) and the
    columns the pipeline keeps must be finite."""
    check = check_npz if path.endswith('.npz') else check_npy
    issue = check(path, min_rows=min_rows, min_cols=min_cols)
    if issue or not deep:
        return issue
    try:
        if path.endswith('.npz'):
            with np.load(path, allow_pickle=False) as archive:
                key = 'arr_0' if 'arr_0' in archive.files else \
                    archive.files[0]
                pts = archive[key]
        else:
            pts = np.load(path, allow_pickle=False)
    except Exception as err:  # e.g. a corrupt deflate stream
        return 'undecodable', (f'{path}: cannot read the points '
                               f'({type(err).__name__}: {err})')
    bad = int((~np.isfinite(pts[:, :min_cols])).any(axis=1).sum())
    if bad:
        return 'not_finite', (f'{path}: {bad} of {len(pts)} points are NaN '
                              'or inf; expected finite coordinates')
    return None


# Modules a pickled numpy file may name: what np.save writes for object
# arrays and dicts of arrays. Anything else (os, subprocess, ...) is code.
_PICKLE_MODULES = ('numpy', 'copyreg', '_codecs', 'builtins',
                   'collections', '__builtin__')
_PICKLE_STRINGS = ('SHORT_BINUNICODE', 'BINUNICODE', 'BINUNICODE8',
                   'UNICODE', 'SHORT_BINSTRING', 'BINSTRING', 'STRING')


def scan_pickle(data: bytes) -> Tuple[bool, List[str]]:
    """Walk a pickle's opcodes without running it (``pickletools``).

    Returns:
        tuple: Whether the opcode stream is complete (ends with STOP) and
        the ``module.name`` globals it would import.
    """
    import pickletools
    found, pushed, memo = [], [], {}
    try:
        for op, arg, _ in pickletools.genops(data):
            name = op.name
            if name == 'GLOBAL':
                found.append(str(arg).replace(' ', '.'))
            elif name == 'STACK_GLOBAL':
                module, attr = (pushed[-2:] if len(pushed) >= 2 else
                                ['?', '?'])
                found.append(f'{module}.{attr}')
            elif name == 'MEMOIZE':
                memo[len(memo)] = pushed[-1] if pushed else None
            elif name in ('BINPUT', 'LONG_BINPUT', 'PUT'):
                memo[arg] = pushed[-1] if pushed else None
            elif name in ('BINGET', 'LONG_BINGET', 'GET'):
                pushed.append(memo.get(arg, '?'))
            elif name in _PICKLE_STRINGS:
                pushed.append(str(arg))
            elif name != 'PROTO' and name != 'FRAME':
                pushed.append('?')  # any other value: not a name string
    except Exception:  # exhausted before STOP, or a bad opcode
        return False, found
    return True, found


def check_pickled_npy(path: str, shape: Optional[Sequence[int]] = None,
                      scan: bool = False) -> Issue:
    """A pickled ``.npy`` (OpenShape's files) without unpickling it.

    Shallow: numpy header of an object array (of ``shape`` if given), a
    pickle after it that ends with its STOP opcode. With ``scan`` the whole
    opcode stream is walked (``pickletools``, nothing is executed): it must
    be complete and import only numpy / builtins names.
    """
    expected = 'a pickled object array' + (
        f' of shape {tuple(shape)}' if shape is not None else '')
    try:
        with open(path, 'rb') as f:
            head = _npy_header(path, f)
            size = os.fstat(f.fileno()).st_size
            if isinstance(head[1], np.dtype):
                f.seek(max(head[2], size - 1))
                last = f.read(1)
                data = None
                if scan:
                    f.seek(head[2])
                    data = f.read()
    except FileNotFoundError:
        return _missing(path, 'shape file')
    except OSError as err:
        return 'unreadable', f'{path}: cannot open ({err})'
    if not isinstance(head[1], np.dtype):
        kind, message = head
        return kind, message.replace('expected (N, 3) points', 'expected '
                                     + expected)
    got_shape, dtype, offset = head
    if not dtype.hasobject:
        return 'bad_format', (f'{path}: a {dtype} array of shape '
                              f'{got_shape}, expected {expected}')
    if shape is not None and tuple(got_shape) != tuple(shape):
        return 'bad_shape', (f'{path}: object array of shape {got_shape}, '
                             f'expected {tuple(shape)}')
    if size <= offset or last != b'.':  # every pickle ends with STOP '.'
        return 'truncated', (f'{path}: truncated ({size} bytes; the pickle '
                             'after the header does not end with its STOP '
                             'opcode)')
    if scan:
        complete, names = scan_pickle(data)
        if not complete:
            return 'truncated', (f'{path}: the pickle after the header is '
                                 'incomplete or corrupt (opcode walk)')
        unsafe = sorted({n for n in names
                         if n.split('.')[0] not in _PICKLE_MODULES})
        if unsafe:
            return 'unsafe_pickle', (f'{path}: the pickle imports '
                                     f'{", ".join(unsafe[:5])} (unpickling '
                                     'would run it); a data file needs '
                                     'numpy names only')
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
