"""Decode rendered views held in memory (streamed shards) into ``img``."""
import logging

import mmcv
import numpy as np
from mmengine.logging import print_log

from cg3d_mm.registry import TRANSFORMS

from .loading import LoadTripletImage, UnreadableSampleError


def decode_view(data: bytes, name: str) -> np.ndarray:
    """Decode encoded image bytes into uint8 (H, W, 3) RGB.

    Raises:
        UnreadableSampleError: Undecodable or not an image (named).
    """
    try:
        img = mmcv.imfrombytes(data, flag='color', channel_order='rgb',
                               backend='pillow')
    except Exception as err:
        raise UnreadableSampleError(
            f'{name}: cannot decode image ({type(err).__name__}: {err})')
    if img is None or img.ndim != 3 or img.shape[2] != 3:
        raise UnreadableSampleError(
            f'{name}: expected an RGB image, got '
            f'{None if img is None else img.shape}')
    return img


@TRANSFORMS.register_module()
class DecodeTripletImage(LoadTripletImage):
    """``LoadTripletImage`` for views held in memory.

    With ``results['imgs_bytes']`` (encoded views in view order, as
    ``ShardedTriplets`` yields them; ``img_names`` name them in messages)
    one view is decoded, with the same choice and fallbacks as
    ``LoadTripletImage``; without it, the views are read from
    ``img_paths`` exactly as ``LoadTripletImage`` does, so one pipeline
    serves shards and folder layouts.

    Required keys: ``imgs_bytes`` (list of bytes) or ``img_paths``. Added
    keys: ``img`` (uint8 (H, W, 3) RGB), ``img_path`` (the view's name),
    ``view_idx``, and ``view_fallback`` when the chosen view was unreadable.

    Args:
        view (str | int): ``'random'`` (a view per call) or a view index.
    """

    def transform(self, results: dict) -> dict:
        views = results.get('imgs_bytes')
        if views is None:
            return super().transform(results)
        if not views:
            raise UnreadableSampleError(
                f'{results.get("pts_path", "sample")}: no view to decode')
        names = results.get('img_names') or [f'view {i}'
                                             for i in range(len(views))]
        idx = self._chosen(len(views))
        failed = []
        for idx in [idx] + self._fallbacks(idx, len(views)):
            try:
                img = decode_view(views[idx], names[idx])
                break
            except UnreadableSampleError as err:
                failed.append(dict(path=names[idx], error=str(err)))
        else:
            raise UnreadableSampleError(
                f'no decodable view among {len(views)}: ' +
                '; '.join(f['error'] for f in failed))
        if failed:
            print_log('; '.join(f['error'] for f in failed) +
                      f'; using view {idx} ({names[idx]}) of the same '
                      'object instead', logger='current',
                      level=logging.WARNING)
            results['view_fallback'] = failed
        results['img'] = img
        results['img_path'] = names[idx]
        results['view_idx'] = idx
        return results
