"""Cross-modal retrieval: an on-disk index of point-cloud embeddings.

An :class:`EmbeddingIndex` is built once over a database of point clouds
(a dataset, a dataset config or a folder of point files) and saved as::

    <dir>/embeddings.npy   (N, D) float32, L2-normalised
    <dir>/index.json       items (id, path, label, class name, views) and
                           provenance (checkpoint sha256, config, points)

so later text / image / point queries only encode the query. An index
built with another checkpoint (or point count) is refused on load. Search
is exact or faiss (:mod:`cg3d_mm.retrieval.search`); a trained faiss IVF
index is cached next to a saved index.
"""
import datetime
import hashlib
import json
import os
import os.path as osp
from typing import List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from torch import nn

from cg3d_mm.apis.inference import (encode_dataset, encode_point_clouds,
                                    model_pipeline, pipeline_num_points)
from cg3d_mm.registry import DATASETS
from cg3d_mm.utils.io import atomic_write, atomic_write_json

from .database import database_from_config, dataset_items, point_files
from .search import (BACKENDS, IVF_MIN_ITEMS, build_faiss_index,
                     drop_excluded, exact_search, has_faiss)

INDEX_FORMAT = 'cg3d_mm.EmbeddingIndex'
INDEX_VERSION = 1
META_FILE = 'index.json'
EMBED_FILE = 'embeddings.npy'


class IndexMismatchError(ValueError):
    """A saved index does not belong to the model it is used with."""


def _array_sha256(arr: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()


def is_index_dir(path: str) -> bool:
    return osp.isfile(osp.join(path, META_FILE)) and osp.isfile(
        osp.join(path, EMBED_FILE))


class EmbeddingIndex:
    """Point-cloud embeddings of a database, searchable by cosine score.

    Args:
        embeddings (np.ndarray): (N, D) L2-normalised embeddings.
        items (list[dict]): One dict per row: ``id``, ``path``, ``label``
            (int or None), ``class_name``, ``views`` (rendered images).
        meta (dict): Provenance: ``checkpoint``, ``checkpoint_sha256``,
            ``config``, ``num_points``, ``classes``, ``source``.
    """

    def __init__(self, embeddings: np.ndarray, items: List[dict],
                 meta: Optional[dict] = None) -> None:
        embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or len(embeddings) != len(items):
            raise ValueError(f'embeddings {embeddings.shape} must be (N, D) '
                             f'with one row per item ({len(items)})')
        if len(items) == 0:
            raise ValueError('an EmbeddingIndex needs at least one item')
        self.embeddings = embeddings
        self.items = list(items)
        self.meta = dict(meta or {})
        self._torch = torch.from_numpy(embeddings)
        self._faiss = None
        self.directory: Optional[str] = None  # set by save / load

    def __len__(self) -> int:
        return len(self.items)

    @property
    def embed_dim(self) -> int:
        return self.embeddings.shape[1]

    @property
    def labels(self) -> Optional[np.ndarray]:
        """(N, ) int64 labels, or None when any item is unlabelled."""
        labels = [it.get('label') for it in self.items]
        if any(lab is None for lab in labels):
            return None
        return np.asarray(labels, dtype=np.int64)

    @property
    def classes(self) -> List[str]:
        return list(self.meta.get('classes') or [])

    # ------------------------------------------------------------------
    @classmethod
    def build(cls, model: nn.Module, database, batch_size: int = 32,
              num_workers: int = 0, progress: bool = True) -> 'EmbeddingIndex':
        """Encode a database with ``model``.

        Args:
            model (nn.Module): From :func:`init_model`.
            database: A dataset object, a dataset config dict, a config key
                of ``model.cfg`` (e.g. 'test_dataloader') or a folder of
                point files (labels from class subfolders, if any).
        """
        cfg = getattr(model, 'cfg', None)
        pipeline = model_pipeline(model)
        if isinstance(database, str) and osp.isdir(database):
            pairs = point_files(database)
            classes = sorted({c for _, c in pairs if c is not None})
            items = [dict(id=osp.relpath(p, database), path=osp.abspath(p),
                          label=None if c is None else classes.index(c),
                          class_name=c, views=[]) for p, c in pairs]
            embeds = encode_point_clouds(model, [p for p, _ in pairs],
                                         pipeline, batch_size, progress)
            source = dict(kind='folder', path=osp.abspath(database))
        else:
            if isinstance(database, str):
                if cfg is None:
                    raise ValueError(f'database {database!r} is neither a '
                                     'folder nor usable without model.cfg')
                source = dict(kind='config', key=database)
                database = database_from_config(cfg, database)
            else:
                source = dict(kind='dataset')
            if isinstance(database, dict):
                dataset = DATASETS.build(database)
            elif isinstance(database, BaseDataset) or hasattr(
                    database, 'get_data_info'):
                dataset = database
            else:
                raise TypeError(f'unsupported database {type(database)}: '
                                'expected a dataset, a dataset config, a '
                                'config key or a folder')
            source['dataset'] = type(dataset).__name__
            source['data_root'] = getattr(dataset, 'data_root', None)
            source['ann_file'] = getattr(dataset, 'ann_file', None)
            items, classes = dataset_items(dataset)
            embeds = encode_dataset(model, dataset, batch_size, num_workers,
                                    progress)
        meta = dict(
            checkpoint=getattr(model, 'checkpoint_path', None),
            checkpoint_sha256=getattr(model, 'checkpoint_sha256', None),
            config=getattr(cfg, 'filename', None),
            num_points=pipeline_num_points(pipeline),
            classes=classes, source=source)
        return cls(embeds, items, meta)

    # ------------------------------------------------------------------
    def save(self, out_dir: str) -> str:
        """Write ``embeddings.npy`` and ``index.json`` (each atomically; the
        JSON, written last, holds the embeddings' sha256)."""
        os.makedirs(out_dir, exist_ok=True)
        atomic_write(osp.join(out_dir, EMBED_FILE),
                     lambda f: np.save(f, self.embeddings))
        meta = dict(self.meta)
        meta.update(
            format=INDEX_FORMAT, version=INDEX_VERSION,
            num_items=len(self), embed_dim=self.embed_dim,
            embeddings_sha256=_array_sha256(self.embeddings),
            created=datetime.datetime.now().isoformat(timespec='seconds'),
            items=self.items)
        atomic_write_json(osp.join(out_dir, META_FILE), meta)
        self.directory = out_dir
        return out_dir

    @classmethod
    def load(cls, index_dir: str, model: Optional[nn.Module] = None
             ) -> 'EmbeddingIndex':
        """Read a saved index; with ``model``, refuse a foreign index.

        Raises:
            FileNotFoundError: ``index_dir`` holds no index.
            ValueError: The files are not a consistent index.
            IndexMismatchError: Built with another checkpoint, point count
                or embedding size than ``model``'s.
        """
        meta_path = osp.join(index_dir, META_FILE)
        embed_path = osp.join(index_dir, EMBED_FILE)
        for path in (meta_path, embed_path):
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'{index_dir}: not a saved index ({osp.basename(path)} '
                    f'missing; expected {META_FILE} and {EMBED_FILE})')
        try:
            with open(meta_path) as f:
                meta = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{meta_path}: not valid JSON ({err})') from None
        if not isinstance(meta, dict) or meta.get('format') != INDEX_FORMAT:
            raise ValueError(f'{meta_path}: not a {INDEX_FORMAT} file')
        if meta.get('version') != INDEX_VERSION:
            raise ValueError(f'{meta_path}: index version '
                             f'{meta.get("version")}, this code reads '
                             f'{INDEX_VERSION}: rebuild the index')
        embeddings = np.load(embed_path, allow_pickle=False)
        if _array_sha256(np.ascontiguousarray(
                embeddings, np.float32)) != meta.get('embeddings_sha256'):
            raise ValueError(f'{embed_path} does not match {meta_path} '
                             '(embeddings sha256 differs): the index was '
                             'modified or partly rewritten; rebuild it')
        items = meta.pop('items')
        index = cls(embeddings, items, meta)
        index.directory = index_dir
        if model is not None:
            index.check_model(model, index_dir)
        return index

    def check_model(self, model: nn.Module, where: str = 'index') -> None:
        """Raise :class:`IndexMismatchError` if the index was not built by
        this model (checkpoint sha256, point count, embedding size)."""
        mine = self.meta.get('checkpoint_sha256')
        theirs = getattr(model, 'checkpoint_sha256', None)
        if mine != theirs:
            raise IndexMismatchError(
                f'{where} was built with checkpoint '
                f'{self.meta.get("checkpoint")} (sha256 {str(mine)[:16]}...) '
                f'but the model has {getattr(model, "checkpoint_path", None)} '
                f'(sha256 {str(theirs)[:16]}...): its embeddings do not live '
                'in this model\'s space; rebuild it (tools/retrieve.py --db '
                '<database> --index-dir <dir> --rebuild)')
        num_points = pipeline_num_points(model_pipeline(model))
        if self.meta.get('num_points') != num_points:
            raise IndexMismatchError(
                f'{where} was built with {self.meta.get("num_points")} points '
                f'per cloud but the model samples {num_points}; rebuild it')
        dim = model.head.proj.out_features
        if dim != self.embed_dim:
            raise IndexMismatchError(f'{where} holds {self.embed_dim}-d '
                                     f'embeddings, the model makes {dim}-d')

    # ------------------------------------------------------------------
    def search(self, queries: Union[np.ndarray, torch.Tensor], topk: int = 5,
               backend: str = 'auto', exclude: Optional[np.ndarray] = None,
               **faiss_kwargs) -> Tuple[np.ndarray, np.ndarray]:
        """Top-k items by cosine similarity.

        Args:
            queries: (Q, D) or (D, ) query embeddings (normalised here).
            topk (int): Results per query (capped at the database size).
            backend (str): 'exact', 'faiss' or 'auto'.
            exclude (np.ndarray, optional): (Q, ) item index to leave out
                per query (-1 = none), e.g. the query itself.
            **faiss_kwargs: ``ivf_min_items``, ``nlist``, ``nprobe`` of
                :func:`build_faiss_index`.

        Returns:
            tuple[np.ndarray, np.ndarray]: (Q, k) scores and item indices,
            best first.
        """
        if backend not in BACKENDS:
            raise ValueError(f'backend must be one of {BACKENDS}, got '
                             f'{backend!r}')
        q = torch.as_tensor(np.asarray(queries, np.float32))
        if q.ndim == 1:
            q = q[None]
        if q.ndim != 2 or q.shape[1] != self.embed_dim:
            raise ValueError(f'queries must be (Q, {self.embed_dim}), got '
                             f'{tuple(q.shape)}')
        q = torch.nn.functional.normalize(q, dim=1)
        if int(topk) != topk or topk < 1:
            raise ValueError(f'topk must be a positive integer, got {topk}')
        extra = 0 if exclude is None else 1
        k = min(int(topk) + extra, len(self))
        if backend == 'auto':
            backend = 'faiss' if len(self) >= IVF_MIN_ITEMS and \
                has_faiss() else 'exact'
        if backend == 'exact':
            scores, idx = exact_search(self._torch, q, k)
        else:
            if self._faiss is None or faiss_kwargs:
                self._faiss = self._faiss_index(**faiss_kwargs)
            scores, idx = self._faiss.search(q.numpy(), k)
        if exclude is not None:
            scores, idx = drop_excluded(scores, idx, exclude,
                                        min(int(topk), len(self) - 1))
        return scores, idx

    def _faiss_index(self, **kwargs):
        """A faiss index; a trained IVF index is cached in the directory
        the index was loaded from / saved to (training is the slow part)."""
        import faiss
        ivf = len(self) >= kwargs.get('ivf_min_items', IVF_MIN_ITEMS)
        cache = None
        if ivf and self.directory:
            tag = _array_sha256(self.embeddings)[:12]
            name = f"faiss_ivf_{tag}_{kwargs.get('nlist') or 'auto'}.index"
            cache = osp.join(self.directory, name)
            if osp.isfile(cache):
                index = faiss.read_index(cache)
                if kwargs.get('nprobe'):
                    index.nprobe = int(kwargs['nprobe'])
                return index
        index = build_faiss_index(self.embeddings, **kwargs)
        if cache:
            atomic_write(cache, lambda f: f.write(
                faiss.serialize_index(index).tobytes()))
        return index

    def describe(self, i: int) -> str:
        item = self.items[i]
        name = item.get('class_name')
        return f'{item["id"]}' + (f' [{name}]' if name else '')


def load_or_build_index(model: nn.Module, database: str,
                        index_dir: Optional[str] = None,
                        batch_size: int = 32, num_workers: int = 0,
                        rebuild: bool = False,
                        progress: bool = True) -> EmbeddingIndex:
    """The index of ``database`` for ``model``, encoded at most once.

    ``database`` may itself be a saved index (loaded and checked). With
    ``index_dir``, a matching index there is reused and a new one is saved
    there; an index of *another* database in ``index_dir`` is an error
    rather than silently replaced, unless ``rebuild``.
    """
    if osp.isdir(database) and is_index_dir(database):
        return EmbeddingIndex.load(database, model)
    key = _database_key(model, database)
    if index_dir and is_index_dir(index_dir) and not rebuild:
        index = EmbeddingIndex.load(index_dir, model)
        stored = index.meta.get('database')
        if stored != key:
            raise IndexMismatchError(
                f'{index_dir} holds the index of database {stored!r}, not '
                f'{key!r}: use another --index-dir or --rebuild')
        print_log(f'reusing the index in {index_dir} ({len(index)} items)',
                  logger='current')
        return index
    index = EmbeddingIndex.build(model, database, batch_size, num_workers,
                                 progress)
    index.meta['database'] = key
    if index_dir:
        index.save(index_dir)
        print_log(f'index of {len(index)} items saved to {index_dir}',
                  logger='current')
    return index


def _database_key(model: nn.Module, database: str) -> str:
    """What identifies a database: a folder path, or the dataset type,
    root and annotation file a config key resolves to."""
    if osp.isdir(database):
        return 'folder:' + osp.abspath(database)
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        return str(database)
    ds = database_from_config(cfg, database)
    return (f"{ds.get('type')}:{ds.get('data_root')}:"
            f"{ds.get('ann_file')}")
