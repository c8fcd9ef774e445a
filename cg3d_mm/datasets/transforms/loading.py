"""Load point clouds and rendered views into ``results`` dicts."""
import logging
import os.path as osp
from typing import Dict, List, Sequence

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from cg3d_mm.registry import TRANSFORMS


class UnreadableSampleError(IOError):
    """A data file is missing or cannot be decoded (the sample is skipped)."""


def read_points(path: str) -> np.ndarray:
    """Read a point file into a float32 (N, C) array.

    Supported: ``.npy``, ``.npz`` (key ``arr_0`` or the archive's only
    array, as ULIP-2's ``<uid>_8192.npz``), ``.txt`` (comma or whitespace
    separated rows, as in ``modelnet40_normal_resampled``), ``.bin``
    (float32, 6 columns as written by mmdet3d's S3DIS/ScanNet converters;
    use ``LoadPointCloud``'s ``bin_dims`` for others) and ``.ply`` (x, y, z
    [, more vertex props]). Pickled files (OpenShape's per-shape dicts) are
    refused: they run code when loaded (:func:`read_openshape_shape` reads
    them on an explicit opt-in).
    """
    ext = osp.splitext(path)[1].lower()
    try:
        if ext == '.npy':
            pts = np.load(path, allow_pickle=False)
        elif ext == '.npz':
            pts = _npz_points(path)
        elif ext == '.txt':
            with open(path) as f:
                first = f.readline()
            pts = np.loadtxt(path, delimiter=',' if ',' in first else None,
                             dtype=np.float32, ndmin=2)
        elif ext == '.ply':
            from plyfile import PlyData
            vertex = PlyData.read(path)['vertex']
            names = [p.name for p in vertex.properties]
            pts = np.stack([np.asarray(vertex[n], np.float32)
                            for n in names], axis=1)
        elif ext == '.bin':
            pts = np.fromfile(path, dtype=np.float32).reshape(-1, 6)
        else:
            raise UnreadableSampleError(
                f'{path}: unsupported point file type {ext!r} (expected '
                '.npy, .npz, .txt, .bin or .ply)')
    except UnreadableSampleError:
        raise
    except FileNotFoundError:
        raise UnreadableSampleError(f'{path}: point file does not exist')
    except ValueError as err:
        if 'allow_pickle' not in str(err) or not _is_npy(path):
            raise UnreadableSampleError(
                f'{path}: cannot read point file (ValueError: {err})')
        raise UnreadableSampleError(
            f'{path}: holds pickled Python objects, not a point array (an '
            'OpenShape per-shape dict? read it with OpenShapeTriplets and '
            'trust_pickle=True, only for files you trust)') from None
    except Exception as err:  # corrupt file: name it, not numpy's internals
        raise UnreadableSampleError(
            f'{path}: cannot read point file ({type(err).__name__}: {err})')
    pts = np.asarray(pts)
    if pts.ndim != 2 or pts.shape[1] < 3:
        raise UnreadableSampleError(
            f'{path}: expected an (N, >=3) point array, got shape '
            f'{tuple(pts.shape)}')
    return pts.astype(np.float32, copy=False)


def _is_npy(path: str) -> bool:
    """Whether ``path`` starts like a ``.npy`` file (numpy's magic)."""
    with open(path, 'rb') as f:
        return f.read(6) == b'\x93NUMPY'


def _npz_points(path: str) -> np.ndarray:
    with np.load(path, allow_pickle=False) as archive:
        keys = list(archive.keys())
        if 'arr_0' in keys:
            return archive['arr_0']
        if len(keys) == 1:
            return archive[keys[0]]
    raise UnreadableSampleError(
        f'{path}: expected the points under arr_0 (or a single array), '
        f'found the keys {keys}')


# OpenShape's per-shape dict: the text fields of each caption source.
OPENSHAPE_TEXT_SOURCES = ('text', 'caption', 'retrieval_text')


def read_openshape_shape(path: str, trust_pickle: bool = False) -> dict:
    """Read one OpenShape per-shape file (a pickled dict in a ``.npy``).

    Keys used: ``xyz`` (N, 3), ``rgb`` (N, 3) in [0, 1], ``text`` (list of
    str), ``blip_caption`` / ``msft_caption`` (str), ``retrieval_text``
    (list of str). The precomputed CLIP features (``*_feat``) are ignored.

    Args:
        path (str): The ``.npy`` file.
        trust_pickle (bool): Must be True: unpickling runs code from the
            file, so only files from a source you trust may be read.

    Returns:
        dict: ``points`` float32 (N, 6) (xyz + rgb) and the text fields.

    Raises:
        PermissionError: ``trust_pickle`` is not True.
        UnreadableSampleError: Missing, corrupt or not such a dict.
    """
    if trust_pickle is not True:
        raise PermissionError(
            f'{path}: OpenShape files are pickled Python objects and '
            'unpickling runs code from the file; pass trust_pickle=True '
            '(only for data from a source you trust)')
    try:
        data = np.load(path, allow_pickle=True)
        data = data.item() if data.dtype == object and data.ndim == 0 \
            else data
    except FileNotFoundError:
        raise UnreadableSampleError(f'{path}: shape file does not exist')
    except Exception as err:
        raise UnreadableSampleError(
            f'{path}: cannot read OpenShape shape file '
            f'({type(err).__name__}: {err})')
    if not isinstance(data, dict) or 'xyz' not in data:
        raise UnreadableSampleError(
            f'{path}: expected a pickled dict with xyz, rgb and text '
            f'fields (OpenShape), got {type(data).__name__}' +
            (f' with keys {sorted(data)}' if isinstance(data, dict) else ''))
    xyz = np.asarray(data['xyz'], dtype=np.float32)
    rgb = data.get('rgb')
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise UnreadableSampleError(
            f'{path}: xyz has shape {tuple(xyz.shape)}, expected (N, 3)')
    if rgb is None:
        raise UnreadableSampleError(f'{path}: no rgb field (N, 3)')
    rgb = np.asarray(rgb, dtype=np.float32)
    if rgb.shape != xyz.shape:
        raise UnreadableSampleError(
            f'{path}: rgb has shape {tuple(rgb.shape)}, expected '
            f'{tuple(xyz.shape)} like xyz')
    out = dict(data)
    out['points'] = np.concatenate([xyz, rgb], axis=1)
    return out


def openshape_caption_groups(shape: dict, dataset: str,
                             sources: Sequence[str] = OPENSHAPE_TEXT_SOURCES
                             ) -> Dict[str, List[str]]:
    """The caption candidates of an OpenShape shape, by source.

    As OpenShape's loader: ``text`` gives the first entry for Objaverse
    shapes (the object's name) and any entry for the others (class names),
    ``caption`` one of the BLIP / Microsoft captions, ``retrieval_text`` any
    retrieved text; empty sources are left out (a shape may have none).
    """
    unknown = set(sources) - set(OPENSHAPE_TEXT_SOURCES)
    if unknown:
        raise ValueError(f'unknown OpenShape text sources {sorted(unknown)};'
                         f' expected some of {OPENSHAPE_TEXT_SOURCES}')

    def texts(value) -> List[str]:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        return [str(t).strip() for t in value if str(t).strip()]

    groups = {}
    if 'text' in sources:
        text = texts(shape.get('text'))
        groups['text'] = text[:1] if dataset == 'Objaverse' else text
    if 'caption' in sources:
        groups['caption'] = texts(shape.get('blip_caption')) + texts(
            shape.get('msft_caption'))
    if 'retrieval_text' in sources:
        groups['retrieval_text'] = texts(shape.get('retrieval_text'))
    return {k: v for k, v in groups.items() if v}


@TRANSFORMS.register_module()
class LoadOpenShapeShape(BaseTransform):
    """Load an OpenShape per-shape file: points and caption candidates.

    Required keys: ``pts_path`` (the pickled-dict ``.npy``), ``dataset``
    (OpenShape's source name: ``Objaverse``, ``ShapeNet``, ...) and
    ``trust_pickle`` (set by :class:`~cg3d_mm.datasets.OpenShapeTriplets`
    from its own argument: the opt-in lives with the dataset). Added keys:
    ``points`` (float32 (N, 6), xyz + rgb) and ``caption_groups`` (source
    name -> candidates, see :func:`openshape_caption_groups`), read by
    ``SampleSourceCaption``. ``LoadPointCloud`` then selects the columns.

    Args:
        text_sources (Sequence[str]): OpenShape's ``text_source``. Defaults
            to all three (its training config).
    """

    def __init__(self, text_sources: Sequence[str] = OPENSHAPE_TEXT_SOURCES
                 ) -> None:
        openshape_caption_groups({}, '', text_sources)  # validate
        self.text_sources = tuple(text_sources)

    def transform(self, results: dict) -> dict:
        shape = read_openshape_shape(results['pts_path'],
                                     results.get('trust_pickle', False))
        results['points'] = shape['points']
        results['caption_groups'] = openshape_caption_groups(
            shape, results.get('dataset', ''), self.text_sources)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(text_sources={self.text_sources})'


@TRANSFORMS.register_module()
class LoadPointCloud(BaseTransform):
    """Load ``results['pts_path']`` (or keep ``results['points']``).

    Required keys: ``pts_path`` or ``points``. Added keys: ``points``
    (float32 (N, len(use_dims))).

    Args:
        use_dims (Sequence[int]): Columns to keep, xyz first. Defaults to
            (0, 1, 2).
        bin_dims (int): Columns of ``.bin`` files. Defaults to 6.
    """

    def __init__(self, use_dims: Sequence[int] = (0, 1, 2),
                 bin_dims: int = 6) -> None:
        self.use_dims = list(use_dims)
        self.bin_dims = bin_dims

    def transform(self, results: dict) -> dict:
        if results.get('points') is not None:
            pts = np.asarray(results['points'], dtype=np.float32)
            source = results.get('pts_path', 'in-memory points')
        else:
            source = results['pts_path']
            if source.endswith('.bin') and self.bin_dims != 6:
                pts = np.fromfile(source, np.float32).reshape(
                    -1, self.bin_dims)
            else:
                pts = read_points(source)
        if pts.ndim != 2 or pts.shape[1] <= max(self.use_dims):
            raise UnreadableSampleError(
                f'{source}: expected (N, >{max(self.use_dims)}) points, got '
                f'{tuple(pts.shape)}')
        pts = pts[:, self.use_dims]
        if not np.isfinite(pts).all():
            bad = int((~np.isfinite(pts)).any(axis=1).sum())
            raise UnreadableSampleError(
                f'{source}: {bad} of {len(pts)} points are NaN or inf')
        results['points'] = np.ascontiguousarray(pts)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(use_dims={self.use_dims})'


def read_view(path: str) -> np.ndarray:
    """Decode a rendered view into uint8 (H, W, 3) RGB.

    Raises:
        UnreadableSampleError: Missing, undecodable or not an image.
    """
    try:
        with open(path, 'rb') as f:
            img = mmcv.imfrombytes(f.read(), flag='color',
                                   channel_order='rgb', backend='pillow')
    except FileNotFoundError:
        raise UnreadableSampleError(f'{path}: rendered view is missing')
    except Exception as err:
        raise UnreadableSampleError(
            f'{path}: cannot decode image ({type(err).__name__}: {err})')
    if img is None or img.ndim != 3 or img.shape[2] != 3:
        raise UnreadableSampleError(
            f'{path}: expected an RGB image, got '
            f'{None if img is None else img.shape}')
    return img


@TRANSFORMS.register_module()
class LoadTripletImage(BaseTransform):
    """Load one rendered view of the object.

    When the chosen view cannot be read, the other views of the same object
    are tried (in random order for ``'random'``, in view order otherwise);
    the fallback is logged and recorded in ``view_fallback`` so that the
    run's accounting (``SampleAccountingHook``) lists it. Only when no view
    is readable does the sample fail.

    Required keys: ``img_paths`` (list of view files). Added keys: ``img``
    (uint8 (H, W, 3) RGB), ``img_path``, ``view_idx``, and
    ``view_fallback`` (list of ``dict(path, error)``) when the chosen view
    was unreadable.

    Args:
        view (str | int): ``'random'`` samples a view on every call (the
            original fixed one view per object once; sampling per iteration
            uses all renders), an int always takes that view.
    """

    def __init__(self, view='random') -> None:
        if view != 'random' and not isinstance(view, int):
            raise ValueError(f"view must be 'random' or an int, got {view!r}")
        self.view = view

    def _chosen(self, num: int) -> int:
        if self.view == 'random':
            return int(np.random.randint(num))
        if not -num <= self.view < num:
            raise ValueError(f'view {self.view} requested but the object '
                             f'has {num} views')
        return self.view % num

    def _fallbacks(self, first: int, num: int) -> list:
        rest = [i for i in range(num) if i != first]
        if self.view == 'random':
            np.random.shuffle(rest)
        return rest

    def transform(self, results: dict) -> dict:
        paths = results['img_paths']
        idx = self._chosen(len(paths))
        failed = []
        try:
            img = read_view(paths[idx])
        except UnreadableSampleError as err:
            failed.append(dict(path=paths[idx], error=str(err)))
            for idx in self._fallbacks(idx, len(paths)):
                try:
                    img = read_view(paths[idx])
                    break
                except UnreadableSampleError as err:
                    failed.append(dict(path=paths[idx], error=str(err)))
            else:
                raise UnreadableSampleError(
                    f'no readable view among {len(paths)}: ' +
                    '; '.join(f['error'] for f in failed)) from None
        if failed:
            print_log('; '.join(f['error'] for f in failed) +
                      f'; using view {idx} '
                      f'({paths[idx]}) of the same object instead',
                      logger='current', level=logging.WARNING)
            results['view_fallback'] = failed
        results['img'] = img
        results['img_path'] = paths[idx]
        results['view_idx'] = idx
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(view={self.view!r})'


@TRANSFORMS.register_module()
class ResizeImage(BaseTransform):
    """Resize ``results['img']`` to a square ``size`` (bicubic, as CLIP).

    Renders are square; other images are resized on the short side and
    centre-cropped, like CLIP's own preprocessing.
    """

    def __init__(self, size: int) -> None:
        self.size = int(size)

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        if (h, w) != (self.size, self.size):
            scale = self.size / min(h, w)
            nh, nw = max(self.size, round(h * scale)), max(self.size,
                                                           round(w * scale))
            img = mmcv.imresize(img, (nw, nh), interpolation='bicubic',
                                backend='pillow')
            top, left = (nh - self.size) // 2, (nw - self.size) // 2
            img = img[top:top + self.size, left:left + self.size]
        results['img'] = np.ascontiguousarray(img)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(size={self.size})'
