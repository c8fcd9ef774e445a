"""Small deterministic file writers shared by the layouts."""
import os
from typing import Sequence

import numpy as np


def makedirs(path: str) -> str:
    """``os.makedirs(path, exist_ok=True)``; returns ``path``."""
    os.makedirs(path, exist_ok=True)
    return path


def write_lines(path: str, lines: Sequence[str]) -> None:
    """Write one entry per line, each terminated by a newline."""
    with open(path, 'w') as f:
        f.write(''.join(f'{line}\n' for line in lines))


def format_csv_6f(values: np.ndarray) -> bytes:
    """Rows of comma-separated ``'%.6f'`` numbers, one line per row.

    Vectorised for |values| < 10 (normalised point clouds): every number is
    laid out in a fixed-width byte field and the unused sign bytes are
    dropped; larger values fall back to Python formatting.

    Args:
        values (np.ndarray): (N, C) finite numbers.

    Returns:
        bytes: the text, ``'\\n'``-terminated lines.
    """
    values = np.asarray(values, np.float64)
    n, c = values.shape
    q = np.rint(np.abs(values) * 1e6).astype(np.int64)
    if n == 0 or q.max() >= 10**7:
        row = ','.join(['%.6f'] * c) + '\n'
        return ''.join(row % tuple(r) for r in values.tolist()).encode()
    field = np.zeros((n, c, 10), np.uint8)  # 0 = dropped byte
    field[..., 0] = np.where(np.signbit(values), ord('-'), 0)
    field[..., 1] = ord('0') + q // 10**6
    field[..., 2] = ord('.')
    frac = q % 10**6
    for k in range(6):
        field[..., 8 - k] = ord('0') + frac % 10
        frac //= 10
    field[..., 9] = ord(',')
    field[:, -1, 9] = ord('\n')
    flat = field.reshape(-1)
    return flat[flat != 0].tobytes()
