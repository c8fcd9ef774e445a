"""Grids of images with optional captions (contact sheets)."""
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

_LABEL_HEIGHT = 14


def make_contact_sheet(images: Sequence[np.ndarray],
                       nrow: int = 8,
                       labels: Optional[Sequence[str]] = None,
                       padding: int = 2,
                       background: int = 255) -> np.ndarray:
    """Arrange equally sized images in a grid.

    Args:
        images (Sequence[np.ndarray]): Images, each (H, W, 3) or (H, W)
            uint8, all of the same H and W.
        nrow (int): Number of images per row (as torchvision's
            ``make_grid``).
        labels (Sequence[str], optional): One caption per image, drawn in a
            band under it.
        padding (int): Pixels between tiles.
        background (int): Grey level of the padding and the caption band.

    Returns:
        np.ndarray: (rows * (H + band + padding) + padding,
        nrow' * (W + padding) + padding, 3) uint8 sheet, with
        nrow' = min(nrow, len(images)).
    """
    if len(images) == 0:
        raise ValueError('images must contain at least one image')
    if int(nrow) != nrow or nrow < 1:
        raise ValueError(f'nrow must be a positive integer, got {nrow}')
    if labels is not None and len(labels) != len(images):
        raise ValueError(f'labels must have one entry per image '
                         f'({len(images)}), got {len(labels)}')
    tiles = []
    for i, img in enumerate(images):
        img = np.asarray(img)
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f'images[{i}] must be (H, W, 3) or (H, W) uint8, '
                             f'got shape {img.shape} dtype {img.dtype}')
        if tiles and img.shape != tiles[0].shape:
            raise ValueError(f'images[{i}] has shape {img.shape}, expected '
                             f'{tiles[0].shape} like images[0]')
        tiles.append(img)
    h, w = tiles[0].shape[:2]
    band = _LABEL_HEIGHT if labels is not None else 0
    ncol = min(int(nrow), len(tiles))
    nrows = -(-len(tiles) // ncol)
    sheet = np.full((nrows * (h + band + padding) + padding, ncol *
                     (w + padding) + padding, 3), background, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, ncol)
        y = padding + r * (h + band + padding)
        x = padding + c * (w + padding)
        sheet[y:y + h, x:x + w] = tile
    if labels is not None:
        canvas = Image.fromarray(sheet)
        draw = ImageDraw.Draw(canvas)
        font = ImageFont.load_default()
        for i, text in enumerate(labels):
            r, c = divmod(i, ncol)
            y = padding + r * (h + band + padding) + h + 1
            x = padding + c * (w + padding) + 2
            draw.text((x, y),
                      str(text)[:max(1, w // 6)],
                      fill=(0, 0, 0),
                      font=font)
        sheet = np.asarray(canvas).copy()
    return sheet
