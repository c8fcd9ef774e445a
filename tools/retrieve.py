"""Retrieve point clouds with a text, image or point-cloud query (CG3D 3.4.3).

The database (a dataset of the config, a folder of point files or a saved
index) is encoded once; with ``--index-dir`` the embeddings are saved and
reused by later queries. Examples::

    # text query against the config's test set, index kept for next time
    python tools/retrieve.py CONFIG CKPT --db test_dataloader \
        --index-dir work_dirs/index_test --text "a wooden chair" --topk 5 \
        --grid chair.png
    # image / point-cloud queries against a saved index
    python tools/retrieve.py CONFIG CKPT --db work_dirs/index_test \
        --image photo.png --points query.npy
    # recall@1/5/10 and mAP: text->3D, image->3D, 3D->3D (leave-one-out)
    python tools/retrieve.py CONFIG CKPT --db test_dataloader --eval \
        --out work_dirs/retrieval.json
"""
import argparse
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np
from mmengine.config import DictAction


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='CG3D cross-modal retrieval of point clouds')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file (weights-only)')
    parser.add_argument(
        '--db', required=True,
        help="database: a config key ('test_dataloader', 'val_dataloader', "
        "...), a folder of point files (class subfolders = labels) or a "
        'saved index folder')
    parser.add_argument('--text', action='append', default=[],
                        help='text query (repeatable)')
    parser.add_argument('--image', action='append', default=[],
                        help='image file query (repeatable)')
    parser.add_argument('--points', action='append', default=[],
                        help='point file query (.npy/.txt/.bin/.ply, '
                        'repeatable)')
    parser.add_argument('--templates', action='store_true',
                        help="wrap text queries in the model's zero-shot "
                        'templates (for bare class names)')
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument('--index-dir',
                        help='save the database index here / reuse it')
    parser.add_argument('--rebuild', action='store_true',
                        help='re-encode the database even if --index-dir '
                        'holds an index')
    parser.add_argument('--backend', choices=('auto', 'exact', 'faiss'),
                        default='auto', help='search backend')
    parser.add_argument('--grid', help='write a PNG grid of the results')
    parser.add_argument('--eval', action='store_true',
                        help='report recall@1/5/10 and mAP on the labelled '
                        'database')
    parser.add_argument('--eval-view', type=int, default=0,
                        help='view number used as image query in --eval')
    parser.add_argument('--out', help='write results / metrics as JSON')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--num-workers', type=int, default=0)
    parser.add_argument('--device', default='auto',
                        help="'auto' (cuda if available), 'cpu', 'cuda:1'")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if not (args.text or args.image or args.points or args.eval):
        parser.error('give a query (--text, --image or --points) or --eval')
    if args.topk < 1:
        parser.error('--topk must be >= 1')
    return args


def _queries(model, args):
    """(kind, query, embedding) of every query on the command line."""
    from cg3d_mm.apis.inference import (encode_images, encode_point_clouds,
                                        encode_texts)
    out = []
    if args.text:
        emb = encode_texts(model, args.text,
                           model.templates if args.templates else None)
        out += [('text', t, e) for t, e in zip(args.text, emb)]
    if args.image:
        emb = encode_images(model, args.image, progress=False)
        out += [('image', p, e) for p, e in zip(args.image, emb)]
    if args.points:
        emb = encode_point_clouds(model, args.points, progress=False)
        out += [('points', p, e) for p, e in zip(args.points, emb)]
    return out


def _print_results(results: List[dict]) -> None:
    for res in results:
        print(f'\nquery ({res["kind"]}): {res["query"]}')
        print(f'  {"rank":>4}  {"score":>7}  {"class":<14} id')
        for r in res['results']:
            print(f'  {r["rank"]:>4}  {r["score"]:>7.4f}  '
                  f'{str(r["class_name"] or "-"):<14} {r["id"]}')


def _print_metrics(metrics: dict) -> None:
    keys = [k for k in next(iter(metrics.values())) if k != 'num_skipped']
    print(f'\n{"mode":<12} ' + ' '.join(f'{k:>10}' for k in keys))
    for mode, res in metrics.items():
        print(f'{mode:<12} ' + ' '.join(
            f'{v:>10.2f}' if isinstance(v, float) else f'{v:>10}'
            for k, v in res.items() if k != 'num_skipped'))


def point_colors(cfg) -> Optional[Tuple[List[int], float]]:
    """Where a model's points keep their colours: the RGB columns its test
    pipeline loads (``LoadPointCloud(use_dims)`` with six or more columns,
    xyz first) and their full-scale value (a ``NormalizeColor`` scale, else
    1), or None for xyz-only models. Columns 3-5 of a ModelNet file are
    normals, so colours are drawn only when the model reads them as such."""
    from cg3d_mm.apis.inference import point_pipeline
    if cfg is None:
        return None
    steps = point_pipeline(cfg)
    dims = list(steps[0].get('use_dims') or ())
    if steps[0].get('type') != 'LoadPointCloud' or len(dims) < 6:
        return None
    scale = next((float(t['scale']) for t in steps
                  if t.get('type') == 'NormalizeColor'), 1.)
    return dims[3:6], scale


def _tile_points(path: str, size: int, up_axis: str,
                 colors: Optional[Tuple[List[int], float]] = None
                 ) -> np.ndarray:
    from cg3d_mm.datasets.transforms import read_points
    from cg3d_mm.render import render_points
    pts = read_points(path)
    rgb = None
    if colors is not None and pts.shape[1] > max(colors[0]):
        rgb = np.clip(pts[:, colors[0]] / colors[1], 0., 1.)
    pts = pts[:, :3]
    if len(pts) > 2048:
        keep = np.random.default_rng(0).choice(len(pts), 2048, False)
        pts = pts[keep]
        rgb = None if rgb is None else rgb[keep]
    return render_points(pts, rgb, view=(30., 25.), image_size=size,
                         point_size=2, up_axis=up_axis)


def _tile_query(kind: str, query: str, size: int, up_axis: str,
                colors: Optional[Tuple[List[int], float]] = None
                ) -> np.ndarray:
    if kind == 'points':
        return _tile_points(query, size, up_axis, colors)
    if kind == 'image':
        from PIL import Image

        from cg3d_mm.apis.inference import load_image
        img = Image.fromarray(load_image(query))
        scale = size / max(img.size)
        img = img.resize((max(1, round(img.width * scale)),
                          max(1, round(img.height * scale))), Image.BICUBIC)
        tile = Image.new('RGB', (size, size), (255, 255, 255))
        tile.paste(img, ((size - img.width) // 2, (size - img.height) // 2))
        return np.asarray(tile)
    return np.full((size, size, 3), 255, np.uint8)


def write_grid(path: str, results: List[dict], index, topk: int,
               up_axis: str, size: int = 160,
               colors: Optional[Tuple[List[int], float]] = None) -> None:
    """One row per query: the query tile, then its top-k renders (in the
    points' own colours when ``colors`` names them, see
    :func:`point_colors`)."""
    from PIL import Image

    from cg3d_mm.render import make_contact_sheet
    from cg3d_mm.utils.io import atomic_write
    tiles, labels = [], []
    blank = np.full((size, size, 3), 255, np.uint8)
    for res in results:
        tiles.append(_tile_query(res['kind'], res['query'], size, up_axis,
                                 colors))
        labels.append(f'Q: {osp.basename(res["query"])}')
        for r in res['results']:
            item = index.items[r['index']]
            tiles.append(_tile_points(item['path'], size, up_axis, colors)
                         if item.get('path') else blank)
            labels.append(f'{r["rank"]}. {r["class_name"] or ""} '
                          f'{r["score"]:.2f}')
        for _ in range(topk - len(res['results'])):
            tiles.append(blank)
            labels.append('')
    sheet = Image.fromarray(make_contact_sheet(tiles, nrow=topk + 1,
                                               labels=labels))
    atomic_write(path, lambda f: sheet.save(f, format='PNG'))
    print(f'\ngrid written to {path}')


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    from cg3d_mm.apis.inference import init_model, model_up_axis
    from cg3d_mm.retrieval import evaluate_retrieval, load_or_build_index
    from cg3d_mm.utils.io import atomic_write_json

    model = init_model(args.config, args.checkpoint, args.device,
                       args.cfg_options)
    index = load_or_build_index(model, args.db, args.index_dir,
                                args.batch_size, args.num_workers,
                                args.rebuild)
    output = dict(database=index.meta.get('database', args.db),
                  checkpoint=model.checkpoint_path,
                  num_items=len(index))
    queries = _queries(model, args)
    if queries:
        emb = np.stack([e for _, _, e in queries])
        scores, idx = index.search(emb, args.topk, args.backend)
        results = []
        for (kind, query, _), s_row, i_row in zip(queries, scores, idx):
            results.append(dict(kind=kind, query=query, results=[
                dict(rank=r + 1, index=int(i), score=float(s),
                     id=index.items[i]['id'], path=index.items[i]['path'],
                     class_name=index.items[i].get('class_name'))
                for r, (s, i) in enumerate(zip(s_row, i_row))]))
        _print_results(results)
        output['queries'] = results
        if args.grid:
            write_grid(args.grid, results, index, args.topk,
                       model_up_axis(model),
                       colors=point_colors(getattr(model, 'cfg', None)))
    if args.eval:
        metrics = evaluate_retrieval(model, index, view=args.eval_view,
                                     batch_size=args.batch_size)
        _print_metrics(metrics)
        output['metrics'] = metrics
    if args.out:
        atomic_write_json(args.out, output)
        print(f'\nresults written to {args.out}')
    return output


if __name__ == '__main__':
    from cg3d_mm.engine.cli import exit_on_bad_input
    exit_on_bad_input(main)
