"""tools/zeroshot_benchmark.py's logic end to end on a tiny CG3D."""
import json
import os
import os.path as osp
import re
import sys

import numpy as np
import pytest
import torch
from conftest import REPO, TINY_MODEL_CFG
from data_writers import (MN10, MN40, write_modelnet, write_modelnet_dat,
                          write_scanobjectnn)
from mmengine.config import Config

import cg3d_mm  # noqa: F401
from cg3d_mm.apis.zeroshot import (BENCHMARKS, build_zeroshot_model,
                                   config_num_points, format_markdown_table,
                                   run_zeroshot_benchmarks)
from cg3d_mm.datasets import ModelNet, ScanObjectNN
from cg3d_mm.registry import MODELS
from cg3d_mm.utils.templates import ENSEMBLE_TEMPLATES

NUM_POINTS = 128
TINY_CONFIG = TINY_MODEL_CFG + f"""
test_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadPointCloud'),
    dict(type='SamplePoints', num_points={NUM_POINTS}, method='fps'),
    dict(type='NormalizePoints'),
    dict(type='PackCG3DInputs', keys=('points', ))]))
"""


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    """A data root: MN10 as text files, MN40 only as the release's .dat,
    ScanObjectNN PB_T50_RS + OBJ_ONLY (OBJ_BG absent), a checkpoint."""
    tmp = tmp_path_factory.mktemp('zs')
    root = tmp / 'data'
    mn = write_modelnet(root / 'modelnet40_normal_resampled', train=0,
                        test=1, rows=200)
    os.remove(osp.join(mn, 'modelnet40_test.txt'))
    write_modelnet_dat(osp.join(mn, 'modelnet40_test_8192pts_fps.dat'),
                       num=5, rows=200)
    write_scanobjectnn(root / 'ScanObjectNN', points=200, sizes={
        ('OBJ_BG', 'test'): 0, ('OBJ_BG', 'train'): 0,
        ('PB_T50_RS', 'test'): 4, ('OBJ_ONLY', 'test'): 3})
    config = tmp / 'tiny_cg3d.py'
    config.write_text(TINY_CONFIG)
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(config)).model)
    ckpt = str(tmp / 'epoch_1.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)), ckpt)
    return dict(root=str(root), config=str(config), ckpt=ckpt, tmp=tmp,
                model=model.eval())


@pytest.fixture(scope='module')
def report(world):
    return run_zeroshot_benchmarks(
        world['config'], world['ckpt'], data_root=world['root'],
        template_sets=['single', 'ensemble'], batch_size=8, progress=False,
        out_file=str(world['tmp'] / 'out' / 'results.json'))


def _embeddings(model, dataset):
    """Point embeddings and labels, without the benchmark code."""
    items = [dataset[i] for i in range(len(dataset))]
    with torch.no_grad():
        emb = model.encode_points(torch.stack(
            [it['inputs']['points'] for it in items]))
    return emb, np.array([int(it['data_samples'].gt_label) for it in items])


def test_rows_skips_and_json(report, world):
    rows = {(r['key'], r['templates']): r for r in report['results']}
    present = ('modelnet10', 'modelnet40', 'scanobjectnn_pb_t50_rs',
               'scanobjectnn_obj_only')
    assert set(rows) == {(k, t) for k in present
                         for t in ('single', 'ensemble')}
    assert [s['key'] for s in report['skipped']] == [
        'scanobjectnn_obj_bg', 'objaverse_lvis', 'openshape_modelnet40',
        'openshape_scanobjectnn']
    assert 'test_objectdataset.h5' in report['skipped'][0]['reason']
    n = {'modelnet10': len(MN10), 'modelnet40': 5,
         'scanobjectnn_pb_t50_rs': 4, 'scanobjectnn_obj_only': 3}
    for (key, tset), r in rows.items():
        assert r['n'] == n[key] and r['split'] == 'test'
        assert r['points'] == NUM_POINTS
        assert r['num_templates'] == (len(ENSEMBLE_TEMPLATES)
                                      if tset == 'ensemble' else 1)
        # top-5 needs at least 5 classes (the tiny ModelNet10 has 4)
        assert (r['top5'] is None) == (len(r['classes']) < 5)
        assert 0 <= r['top1'] <= (r['top5'] or 100) <= 100
        assert len(r['per_class']) == len(r['classes'])
        assert sum(map(sum, r['confusion'])) == r['n']
    assert rows[('modelnet40', 'single')]['source'].endswith('.dat')
    assert rows[('modelnet40', 'single')]['classes'] == list(MN40)
    assert rows[('scanobjectnn_obj_only', 'single')]['variant'] \
        == 'OBJ_ONLY'
    with open(world['tmp'] / 'out' / 'results.json') as f:
        assert json.load(f) == json.loads(json.dumps(report))


def test_scores_match_an_independent_computation(report, world):
    """The checkpoint's weights were loaded and used (values recomputed
    from the saved model), for both template sets."""
    model = world['model']
    mn10 = ModelNet(osp.join(world['root'], 'modelnet40_normal_resampled'),
                    num_classes=10, test_mode=True,
                    pipeline=_pipeline())
    so = ScanObjectNN(osp.join(world['root'], 'ScanObjectNN'),
                      variant='PB_T50_RS', test_mode=True,
                      pipeline=_pipeline())
    rows = {(r['key'], r['templates']): r for r in report['results']}
    for key, ds in (('modelnet10', mn10), ('scanobjectnn_pb_t50_rs', so)):
        emb, labels = _embeddings(model, ds)
        for tset, templates in (('single', ('This is a {}.', )),
                                ('ensemble', ENSEMBLE_TEMPLATES)):
            protos = model.text_encoder.class_prototypes(
                list(ds.metainfo['classes']), list(templates))
            scores = (emb @ protos.t()).numpy()
            top1 = (scores.argmax(1) == labels).mean() * 100
            assert rows[(key, tset)]['top1'] == pytest.approx(top1)
            per_class = [(scores.argmax(1)[labels == c] == c).mean() * 100
                         for c in sorted(set(labels))]
            assert rows[(key, tset)]['class_mean'] == pytest.approx(
                np.mean(per_class))


def _pipeline():
    from cg3d_mm.datasets.benchmarks import zeroshot_pipeline
    return zeroshot_pipeline(NUM_POINTS)


def test_markdown_table(report):
    table = format_markdown_table(report)
    lines = table.splitlines()
    assert lines[0].startswith('| dataset | variant | points | template set'
                               ' | top-1 | top-5 | class-mean | n |')
    body = [line for line in lines[2:] if line.startswith('|')]
    assert len(body) == len(report['results'])
    r = report['results'][0]
    assert f"| {r['top1']:.2f} |" in body[0] and body[0].endswith(
        f"| {r['n']} |")
    assert any(line.startswith('| ScanObjectNN | PB_T50_RS | 128 | '
                               'ensemble |') for line in body)
    assert '- ScanObjectNN OBJ_BG: missing' in table


def test_checkpoint_is_loaded_into_a_fresh_model(world):
    torch.manual_seed(123)
    model = build_zeroshot_model(world['config'], world['ckpt'])
    saved = world['model'].state_dict()
    fresh = MODELS.build(Config.fromfile(world['config']).model).state_dict()
    keys = [k for k in saved if k.startswith(('backbone.', 'head.'))]
    assert keys and any(not torch.equal(fresh[k], saved[k]) for k in keys)
    now = model.state_dict()
    assert all(torch.equal(now[k], saved[k]) for k in keys)
    assert not model.training


def test_checkpoint_without_point_encoder_is_an_error(world):
    state = {k: v for k, v in world['model'].state_dict().items()
             if not k.startswith('backbone.')}
    bad = str(world['tmp'] / 'clip_only.pth')
    torch.save(dict(state_dict=state), bad)
    with pytest.raises(ValueError, match=r'clip_only.pth: no point-encoder '
                       r'weights \(no "backbone." keys'):
        build_zeroshot_model(world['config'], bad)
    state = {k: v for k, v in world['model'].state_dict().items()
             if not k.startswith('head.')}
    torch.save(dict(state_dict=state), bad)
    with pytest.raises(ValueError, match=r'clip_only.pth does not fit the '
                       r'model of the config \(strict=True\): 3 missing in '
                       r'the checkpoint: head.log_logit_scale, head.proj'):
        build_zeroshot_model(world['config'], bad)
    state = dict(world['model'].state_dict())
    key = next(k for k in state if k.startswith('backbone.'))
    state[key] = torch.zeros(3, 1, 7)  # another architecture
    torch.save(dict(state_dict=state), bad)
    with pytest.raises(ValueError, match=rf'clip_only.pth does not fit the '
                       rf'model of the config \(strict=True\): 1 with other '
                       rf'shapes .*: {re.escape(key)} \(3, 1, 7\) vs'):
        build_zeroshot_model(world['config'], bad)


def test_missing_data_is_skipped_not_an_error(world, tmp_path):
    model = world['model']
    report = run_zeroshot_benchmarks(
        world['config'], world['ckpt'], data_root=str(tmp_path),
        progress=False, model=model)
    assert report['results'] == []
    assert [s['key'] for s in report['skipped']] == [b.key
                                                     for b in BENCHMARKS]
    assert 'modelnet10_shape_names.txt' in report['skipped'][0]['reason']


def test_templates_and_point_count_arguments(world):
    with pytest.raises(ValueError, match="unknown template set 'many'"):
        run_zeroshot_benchmarks(world['config'], world['ckpt'],
                                data_root=world['root'],
                                template_sets=['many'], model=world['model'])
    model = world['model']
    with pytest.raises(ValueError, match="template 'no slot' must contain"):
        model.set_class_names(['chair'], ['no slot'])
    assert config_num_points(Config.fromfile(world['config'])) == NUM_POINTS
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cg3d', 'zeroshot',
                                   'pointmlp_modelnet40.py'))
    assert config_num_points(cfg) == 1024


@pytest.mark.slow
def test_command_line_tool(world, tmp_path, monkeypatch, capsys):
    """The script's main(): one table on stdout, the JSON file, the
    model's own templates by default."""
    import runpy
    write_scanobjectnn(tmp_path / 'data' / 'ScanObjectNN', points=200,
                       sizes={(v, s): 0 for v in ('PB_T50_RS', 'OBJ_BG')
                              for s in ('train', 'test')})
    out = tmp_path / 'res.json'
    monkeypatch.setattr(sys, 'argv', [
        'zeroshot_benchmark.py', world['config'], world['ckpt'],
        '--data-root', str(tmp_path / 'data'), '--out', str(out),
        '--num-workers', '0', '--no-progress'])
    runpy.run_path(osp.join(REPO, 'tools', 'zeroshot_benchmark.py'),
                   run_name='__main__')
    stdout = capsys.readouterr().out
    rows = [line for line in stdout.splitlines() if line.startswith('| ')]
    assert len(rows) == 2  # header + OBJ_ONLY with one template set
    assert rows[1].startswith('| ScanObjectNN | OBJ_ONLY | 128 | single |')
    assert rows[1].endswith('| 6 |')
    # every other benchmark is skipped
    assert stdout.count('\n- ') == len(BENCHMARKS) - 1
    saved = json.loads(out.read_text())
    assert [r['key'] for r in saved['results']] == ['scanobjectnn_obj_only']


@pytest.mark.slow
def test_tools_test_agrees_with_the_benchmark(world, report, tmp_path,
                                             monkeypatch):
    """tools/test.py on a zero-shot config (mmengine's test loop with
    ZeroShotClassesHook + ZeroShotAccuracy, the checkpoint loaded
    weights-only) gives the benchmark's numbers and writes the JSON."""
    import runpy

    from mmengine.runner.checkpoint import CheckpointLoader
    loaded = []
    load = CheckpointLoader.load_checkpoint.__func__
    monkeypatch.setattr(CheckpointLoader, 'load_checkpoint', classmethod(
        lambda cls, filename, *a, **k: loaded.append(filename) or load(
            cls, filename, *a, **k)))
    base = osp.join(REPO, 'configs', 'cg3d', 'zeroshot',
                    'pointmlp_scanobjectnn_pb_t50_rs.py')
    config = tmp_path / 'zs_tiny.py'
    config.write_text(TINY_MODEL_CFG.replace('default_scope', f"""
_base_ = [{base!r}]
default_scope""") + f"""
model['_delete_'] = True  # the tiny model, not the base's ViT-B-16 one
test_dataloader = dict(
    num_workers=0, persistent_workers=False, batch_size=3,
    dataset=dict(data_root={osp.join(world['root'], 'ScanObjectNN')!r},
                 pipeline=test_pipeline))
test_evaluator = dict(out_dir={str(tmp_path)!r})
randomness = dict(seed=1)  # a fresh model differs from the checkpoint
""")
    monkeypatch.setattr(sys, 'argv', [
        'test.py', str(config), world['ckpt'],
        '--work-dir', str(tmp_path / 'work'),
        '--cfg-options', 'model_wrapper_cfg=None'])
    metrics = runpy.run_path(osp.join(REPO, 'tools', 'test.py'))['main']()
    assert loaded == [world['ckpt']]
    row = next(r for r in report['results']
               if r['key'] == 'scanobjectnn_pb_t50_rs'
               and r['templates'] == 'single')
    assert metrics['zeroshot/top1'] == pytest.approx(row['top1'])
    assert metrics['zeroshot/class_mean'] == pytest.approx(row['class_mean'])
    dumped = json.loads(
        (tmp_path / 'zeroshot_scanobjectnn_pb_t50_rs.json').read_text())
    assert dumped['num_samples'] == row['n']
