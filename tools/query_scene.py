"""Query indoor scenes with language (CG3D paper, 3.4.2 and appendix A).

Floor and ceiling are removed (height histogram), the rest is clustered with
seeded k-means, every cluster is encoded by the point encoder and scored
against the text query; the best cluster(s) are highlighted. Examples::

    # one scene of mmdet3d's converted S3DIS (masks found next to it)
    python tools/query_scene.py CONFIG CKPT \
        data/s3dis/points/Area_5_office_1.bin --query chair --query table \
        --clusters 20 --out-dir work_dirs/scene_query
    # IoU against the ground truth over all scenes of an info file
    python tools/query_scene.py CONFIG CKPT \
        data/s3dis/s3dis_infos_Area_5.pkl --eval --classes table chair sofa \
        bookcase

SCENE may also be the S3DIS folder of the built-in synthetic world
(``<ensure_synthetic_data() root>/s3dis``, written in the same layout).
Outputs per scene and query: ``<scene>_<query>.ply`` (selected clusters red,
per-point ``cluster`` and ``selected``), ``.png`` (input / clusters / result)
and ``.json`` (cluster id, size, centroid, score, rank). ``--eval`` writes
``scene_query_eval.json`` with per-class IoU, mIoU and the oracle mIoU (best
single cluster per query: what the clustering allows at most for top-1).
"""
import argparse
import os.path as osp
import re
from typing import List, Optional

from mmengine.config import DictAction


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='CG3D language scene querying')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file (weights-only)')
    parser.add_argument(
        'scene', help='scene .bin (mmdet3d converted S3DIS/ScanNet), .ply, '
        '.npy or .txt; or an info .pkl / data root / folder of scenes')
    parser.add_argument('--query', action='append', default=[],
                        help='text query, e.g. "chair" (repeatable)')
    parser.add_argument('--eval', action='store_true',
                        help='IoU of class queries against the semantic '
                        'masks over all scenes')
    parser.add_argument('--classes', nargs='+',
                        help='classes queried by --eval (default: '
                        'table chair sofa bookcase for S3DIS)')
    parser.add_argument('--max-scenes', type=int,
                        help='use at most this many scenes')
    parser.add_argument('--clusters', type=int, default=20,
                        help='k of k-means')
    parser.add_argument('--features', default='xyz',
                        choices=('xyz', 'xyz+rgb', 'xyz+normal'),
                        help='k-means features')
    parser.add_argument('--top-k', type=int, default=1,
                        help='clusters selected per query')
    parser.add_argument('--margin', type=float,
                        help='select every cluster within this cosine margin '
                        'of the best instead of --top-k')
    parser.add_argument('--min-cluster-points', type=int, default=50)
    parser.add_argument('--keep-planes', action='store_true',
                        help='do not remove floor and ceiling')
    parser.add_argument('--raw-query', action='store_true',
                        help="encode the query as given instead of in the "
                        "model's zero-shot templates")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out-dir', default='work_dirs/scene_query')
    parser.add_argument('--image-size', type=int, default=384)
    parser.add_argument('--device', default='auto',
                        help="'auto' (cuda if available), 'cpu', 'cuda:1'")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    if not args.query and not args.eval:
        parser.error('give --query TEXT or --eval')
    if args.clusters < 1:
        parser.error('--clusters must be >= 1')
    return args


def _slug(text: str) -> str:
    return re.sub(r'[^A-Za-z0-9]+', '_', text).strip('_')[:40] or 'query'


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    from cg3d_mm.apis.inference import init_model
    from cg3d_mm.datasets.scenes import find_scenes, load_scene
    from cg3d_mm.scene import (SceneQuerier, evaluate_scene_queries,
                               write_query_outputs)
    from cg3d_mm.utils.io import atomic_write_json

    scenes = find_scenes(args.scene)
    if args.max_scenes:
        scenes = scenes[:args.max_scenes]
    model = init_model(args.config, args.checkpoint, args.device,
                       args.cfg_options)
    querier = SceneQuerier(
        model, num_clusters=args.clusters, features=args.features,
        seed=args.seed, top_k=args.top_k, margin=args.margin,
        min_cluster_points=args.min_cluster_points,
        remove_planes=not args.keep_planes,
        templates=() if args.raw_query else None)
    output = dict(settings=querier.settings())
    if args.query:
        written = []
        for path in scenes:
            scene = load_scene(path)
            for res in querier.run(scene, args.query):
                prefix = osp.join(args.out_dir,
                                  f'{scene.name}_{_slug(res.query)}')
                paths = write_query_outputs(
                    scene, res, prefix, extra=dict(
                        settings=querier.settings()),
                    image_size=args.image_size)
                best = res.selected[0] if res.selected else None
                print(f'{scene.name}: "{res.query}" -> clusters '
                      f'{res.selected} ({int(res.mask.sum())} points'
                      + (f', best score {res.scores[best]:.4f}'
                         if best is not None else '') + ')')
                print('  ' + ', '.join(paths.values()))
                written.append(dict(scene=scene.name, query=res.query,
                                    selected=res.selected, **paths))
        output['queries'] = written
    if args.eval:
        summary = evaluate_scene_queries(querier, scenes, args.classes)
        metrics = summary['metrics']
        print(f'\nscene querying over {summary["num_scenes"]} scenes, '
              f'{summary["num_queries"]} queries')
        for key, value in metrics.items():
            print(f'  {key:<22} {value:7.2f}')
        path = osp.join(args.out_dir, 'scene_query_eval.json')
        atomic_write_json(path, summary)
        print(f'results written to {path}')
        output['metrics'] = metrics
    return output


if __name__ == '__main__':
    from cg3d_mm.engine.cli import exit_on_bad_input
    exit_on_bad_input(main)
