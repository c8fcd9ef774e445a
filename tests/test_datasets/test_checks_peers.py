"""The data checker on the peers' layouts (ULIP, ULIP-2, OpenShape),
OpenShape's test files and tar shards: clean layouts pass, each planted
problem is found and named, pickles are only opened when trusted."""
import io
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from data_writers import RunsCode
from test_openshape_eval import (write_lvis, write_modelnet40,
                                 write_scanobjectnn)
from test_ulip_triplets import _cg3d_source

from cg3d_mm.datagen.triplets.convert_layouts import convert_triplets
from cg3d_mm.datagen.triplets.shard_writer import ShardWriter
from cg3d_mm.datagen.triplets.to_shards import shapenet_split_to_shards
from cg3d_mm.datasets.checks import (DataCheckReport, FileCheckCache,
                                     check_data_root, check_dataset_cfg,
                                     check_pickled_npy)
from cg3d_mm.datasets.openshape_eval import (MODELNET40_POINTS,
                                             SCANOBJECTNN_POINTS)
from cg3d_mm.datasets.sharded_triplets import read_shard

XYZ_RGB = (0, 1, 2, 3, 4, 5)
VIEWS = [dict(type='LoadTripletImage')]


def _pipeline(dims=(0, 1, 2), views=True, num_points=64):
    return [dict(type='LoadPointCloud', use_dims=dims),
            dict(type='SamplePoints', num_points=num_points)] + (
                VIEWS if views else [])


def _found(report, root):
    """{(path relative to root, kind)} of the split's problems."""
    return {(osp.relpath(p.path, root), p.kind) for p in report.problems}


def _truncate(path, keep=0.5):
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])


def _check(ds, role='train', deep=False):
    report, = check_dataset_cfg(ds, 'train' if role == 'train' else 'test',
                                role, deep=deep)
    return report


@pytest.fixture(scope='module')
def source(tmp_path_factory):
    """A tiny CG3D ShapeNet55 (4 classes x 6, 3 views, colour)."""
    return _cg3d_source(tmp_path_factory.mktemp('src'))


def _ulip(source, out):
    root = convert_triplets(source, str(out), 'ulip_shapenet', part='all')
    with open(osp.join(root, 'layout_manifest.json')) as f:
        degrees = json.load(f)['view_degrees']
    return root, dict(type='ULIPShapeNetTriplets', data_root=root,
                      view_degrees=degrees, pipeline=_pipeline())


def _ulip2(source, out):
    root = convert_triplets(source, str(out), 'ulip2_objaverse', part='all')
    return root, dict(type='ULIP2ObjaverseTriplets', data_root=root,
                      ann_file='train.txt',
                      pipeline=_pipeline(dims=XYZ_RGB))


def _openshape(source, out, trust=True):
    root = convert_triplets(source, str(out), 'openshape', part='all')
    return root, dict(type='OpenShapeTriplets', data_root=root,
                      trust_pickle=trust,
                      pipeline=[dict(type='LoadOpenShapeShape')] +
                      _pipeline(dims=XYZ_RGB, views=False))


def _shards(source, out):
    shapenet_split_to_shards(source, str(out), split='train',
                             pc_dir='shapenet_pc_rgb', num_views=3,
                             samples_per_shard=3)
    return str(out), dict(type='ShardedTriplets', data_root=str(out),
                          pipeline=_pipeline(dims=XYZ_RGB))


def _openshape_eval(root):
    write_lvis(root)
    write_modelnet40(root)
    write_scanobjectnn(root)
    eval_cfg = dict(data_root=str(root), trust_pickle=True)
    return [dict(eval_cfg, type=t) for t in (
        'ObjaverseLVIS', 'OpenShapeModelNet40', 'OpenShapeScanObjectNN')]


@pytest.mark.parametrize('deep', [False, True])
def test_clean_layouts_pass(source, tmp_path, deep):
    cfgs = [
        _ulip(source, tmp_path / 'ulip')[1],
        _ulip2(source, tmp_path / 'ulip2')[1],
        _openshape(source, tmp_path / 'openshape')[1],
        _shards(source, tmp_path / 'shards')[1],
    ]
    reports = [_check(c, deep=deep) for c in cfgs]
    reports += [_check(c, 'eval', deep) for c in _openshape_eval(
        tmp_path / 'OpenShape')]
    assert [r.layout for r in reports] == [
        'ulip_shapenet', 'ulip2_objaverse', 'openshape', 'shards',
        'objaverse_lvis', 'openshape_modelnet40', 'openshape_scanobjectnn']
    for r in reports:
        assert r.checked and not r.problems, (r.layout, r.problems)
    # 16 training shapes of the source, 6 x 3 views in ULIP's layout, the
    # OpenShape writers' 8 LVIS shapes and 6 ModelNet40 clouds
    assert [r.num_samples for r in reports[:6]] == [16, 16, 16, 16, 8, 6]
    assert reports[0].num_files == 16 * 4  # points + 3 views each
    assert all(r.skips_unreadable for r in reports[:4])
    assert not DataCheckReport(splits=reports).failures()
    assert not any(r.note and 'limited' in r.note for r in reports)


def test_ulip_shapenet_damage_is_named(source, tmp_path):
    root, cfg = _ulip(source, tmp_path / 'ulip')
    names = [n[:-4] for n in open(osp.join(root, 'train.txt')).read().split()]
    deg = cfg['view_degrees']

    def view(name, k):
        return osp.join('rendered_images', name, f'{name}_r_{deg[k]:03d}.png')

    os.remove(osp.join(root, 'shapenet_pc', f'{names[0]}.npy'))
    pts = osp.join(root, 'shapenet_pc', f'{names[1]}.npy')
    os.remove(pts)  # a hard link to the source: replace, not overwrite
    np.save(pts, np.zeros((300, 2), np.float32))
    os.remove(osp.join(root, view(names[2], 1)))  # two views left
    for k in range(3):  # no view left: the sample cannot load one
        os.remove(osp.join(root, view(names[3], k)))
    report = _check(cfg)
    assert _found(report, root) == {
        (osp.join('shapenet_pc', f'{names[0]}.npy'), 'missing'),
        (osp.join('shapenet_pc', f'{names[1]}.npy'), 'bad_shape'),
        (view(names[2], 1), 'missing'),
        (view(names[3], 0), 'missing'), (view(names[3], 1), 'missing'),
        (view(names[3], 2), 'missing'),
    }
    assert report.bad_samples == set(names[:2]) | {names[3]}
    msg = [p.message for p in report.problems if p.kind == 'bad_shape'][0]
    assert names[1] in msg and 'expected (N, >=3)' in msg
    # a training split may lose up to --max-bad-ratio of its samples
    assert DataCheckReport([report], max_bad_ratio=0.25).failures() == []
    assert '3 of 16 samples unreadable' in DataCheckReport(
        [report]).failures()[0]
    # an unknown synset: the dataset refuses the list, whatever the ratio
    with open(osp.join(root, 'train.txt'), 'a') as f:
        f.write('99999999-x.npy\n')
    report = _check(cfg)
    unknown = [p for p in report.problems if p.kind == 'classes']
    assert len(unknown) == 1 and '99999999' in unknown[0].message and \
        'taxonomy.json' in unknown[0].message
    assert 'inconsistent' in DataCheckReport(
        [report], max_bad_ratio=1.).failures()[0]


def test_ulip2_objaverse_damage_is_named(source, tmp_path):
    root, cfg = _ulip2(source, tmp_path / 'ulip2')
    uids = open(osp.join(root, 'train.txt')).read().split()
    npz = 'objaverse_pc_parallel/{0}/{0}_8192.npz'.format
    np.savez(osp.join(root, npz(uids[0])), np.zeros((300, 3), np.float32))
    _truncate(osp.join(root, npz(uids[1])))
    shutil.rmtree(osp.join(root, 'rendered_images', uids[2]))
    with open(osp.join(root, 'captions.json')) as f:
        captions = json.load(f)
    captions[uids[3]] = {}
    with open(osp.join(root, 'captions.json'), 'w') as f:
        json.dump(captions, f)
    report = _check(cfg)
    assert _found(report, root) == {
        (npz(uids[0]), 'bad_shape'),  # xyz only, the pipeline keeps rgb
        (npz(uids[1]), 'truncated'),
        (osp.join('rendered_images', uids[2]), 'missing'),
        ('captions.json', 'no_caption'),
    }
    assert report.bad_samples == set(uids[:4])
    # an xyz pipeline reads the xyz-only file
    xyz = dict(cfg, pipeline=_pipeline())
    assert (npz(uids[0]), 'bad_shape') not in _found(_check(xyz), root)
    os.remove(osp.join(root, 'captions.json'))
    report = _check(cfg)
    assert [p.kind for p in report.split_problems] == ['captions']


def test_openshape_damage_and_trusted_deep_reads(source, tmp_path):
    root, cfg = _openshape(source, tmp_path / 'openshape')
    with open(osp.join(root, 'meta_data/split/train_all.json')) as f:
        entries = json.load(f)
    path = [osp.join(root, e['data_path']) for e in entries]
    os.remove(path[0])
    _truncate(path[1], 0.7)
    shape = np.load(path[2], allow_pickle=True).item()
    os.remove(path[2])
    np.save(path[2], dict(shape, xyz=shape['xyz'][:, :2]), allow_pickle=True)
    os.remove(path[3])
    np.save(path[3], dict(shape, text=[], blip_caption='', msft_caption=''),
            allow_pickle=True)
    rel = [osp.relpath(p, root) for p in path]
    shallow = _check(cfg)
    assert _found(shallow, root) == {(rel[0], 'missing'),
                                     (rel[1], 'truncated')}
    deep = _check(cfg, deep=True)  # unpickled: trust_pickle=True
    assert _found(deep, root) == {(rel[0], 'missing'),
                                  (rel[1], 'truncated'),
                                  (rel[2], 'bad_format'),
                                  (rel[3], 'no_caption')}
    assert len(deep.bad_samples) == 4 and not deep.note
    assert [p.message for p in deep.problems if p.kind == 'bad_format'] == [
        f'{path[2]}: xyz has shape (256, 2), expected (N, 3)']


def test_pickles_are_not_opened_without_trust_pickle(source, tmp_path):
    root, cfg = _openshape(source, tmp_path / 'openshape', trust=False)
    with open(osp.join(root, 'meta_data/split/train_all.json')) as f:
        path = osp.join(root, json.load(f)[0]['data_path'])
    marker = tmp_path / 'ran'
    os.remove(path)
    np.save(path, np.array(RunsCode(marker), dtype=object),
            allow_pickle=True)
    shallow = _check(cfg)
    # the dataset would refuse to start; the header looks like any pickle
    assert [p.kind for p in shallow.problems] == ['config']
    deep = _check(cfg, deep=True)
    assert not marker.exists()
    assert 'limited' in deep.note and 'trust_pickle' in deep.note
    unsafe = [p for p in deep.problems if p.kind == 'unsafe_pickle']
    assert len(unsafe) == 1 and unsafe[0].path == path and \
        'system' in unsafe[0].message
    assert 'note [train]: deep check limited' in DataCheckReport(
        [deep]).table()
    # the OpenShape test files: same rule
    lvis = _check(dict(_openshape_eval(tmp_path / 'OS')[0],
                       trust_pickle=False), 'eval', deep=True)
    assert [p.kind for p in lvis.problems] == ['config'] and lvis.note
    assert not marker.exists()
    assert check_pickled_npy(path) is None  # framing alone is fine


def test_openshape_eval_damage_is_named(tmp_path):
    root = str(tmp_path / 'OpenShape')
    lvis, mn40, sonn = _openshape_eval(root)
    entries, _ = write_lvis(root)
    shape = osp.join(root, entries[0]['data_path'][len('/mnt/data/'):])
    os.remove(shape)
    bad = osp.join(root, entries[1]['data_path'][len('/mnt/data/'):])
    data = np.load(bad, allow_pickle=True).item()
    data['xyz'][0, 0] = np.nan
    np.save(bad, data, allow_pickle=True)
    with open(osp.join(root, 'meta_data/modelnet40/test_split.json')) as f:
        split = json.load(f)
    split[1]['category'] = 'spaceship'
    split.append(dict(name='chair_0009', category='chair'))
    with open(osp.join(root, 'meta_data/modelnet40/test_split.json'),
              'w') as f:
        json.dump(split, f)
    write_scanobjectnn(root, labels=(0, 15))
    found = {}
    for cfg in (lvis, mn40, sonn):
        for deep in (False, True):
            found[cfg['type'], deep] = _found(_check(cfg, 'eval', deep), root)
    rel = osp.relpath
    assert found['ObjaverseLVIS', False] == {(rel(shape, root), 'missing')}
    assert found['ObjaverseLVIS', True] == {(rel(shape, root), 'missing'),
                                            (rel(bad, root), 'bad_shape')}
    split_file = 'meta_data/modelnet40/test_split.json'
    # the header says 6 clouds, the split now lists 7: shallow sees it
    assert found['OpenShapeModelNet40', False] == {
        (split_file, 'classes'), (MODELNET40_POINTS, 'bad_shape')}
    assert found['OpenShapeScanObjectNN', False] == set()
    assert found['OpenShapeScanObjectNN', True] == {
        (SCANOBJECTNN_POINTS, 'bad_label')}
    report = _check(mn40, 'eval')
    assert "'spaceship'" in [p.message for p in report.problems
                             if p.kind == 'classes'][0]
    assert DataCheckReport([report], max_bad_ratio=1.).failures()


def _tar(out, name):
    return osp.join(out, name)


def test_shard_damage_is_named(source, tmp_path):
    out, cfg = _shards(source, tmp_path / 'shards')
    with open(osp.join(out, 'shards.json')) as f:
        index = json.load(f)
    names = [s['file'] for s in index['shards']]  # 6 shards: 3,3,3,3,3,1
    _truncate(_tar(out, names[0]), 0.6)
    os.remove(_tar(out, names[1]))  # listed in the index, matched by *.tar
    shutil.copy(_tar(out, names[2]), _tar(out, 'extra-000000.tar'))
    report = _check(cfg)
    found = _found(report, out)
    assert (names[0], 'truncated') in found
    assert (names[1], 'missing') in found
    assert ('extra-000000.tar', 'index') in found
    assert report.split_problems and 'not listed in its index' in \
        report.split_problems[0].message
    os.remove(_tar(out, 'extra-000000.tar'))
    report = _check(cfg)
    assert not report.split_problems
    lost = {s for s in report.bad_samples if s.startswith(names[0])}
    # exactly the samples the dataset's stream cannot deliver (those
    # before the cut are kept); the missing shard loses all three
    streamed = [item for _, item in read_shard(_tar(out, names[0]), 0, 3,
                                               lambda _: True, 3)]
    assert lost == {f'{names[0]}#{k}' for k, item in enumerate(streamed)
                    if not isinstance(item, tuple)}
    assert 1 <= len(lost) < 3
    assert {f'{names[1]}#{k}' for k in range(3)} <= report.bad_samples
    assert report.num_samples == 16
    deep = _check(cfg, deep=True)
    assert deep.bad_samples == report.bad_samples
    # a brace range naming a missing shard: the dataset refuses to start
    named = _check(dict(cfg, shards='shard-{000000..000002}.tar'))
    assert [(rel, k) for rel, k in _found(named, out) if k == 'list'] == [
        (names[1], 'list')]
    # no index: refused, the index named
    os.remove(osp.join(out, 'shards.json'))
    report = _check(cfg)
    assert [p.kind for p in report.split_problems] == ['index']
    assert 'shards.json' in report.split_problems[0].message


def _npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def test_deep_shard_check_reads_every_sample(tmp_path):
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buf, 'PNG')
    png = buf.getvalue()
    meta = json.dumps(dict(class_name='chair', captions=['a chair'])).encode()
    good = dict(npy=_npy(np.zeros((64, 6), np.float32)), json=meta)
    good['000.png'] = png
    out = str(tmp_path / 'shards')
    with ShardWriter(out, ['chair', 'table'], max_samples=10) as w:
        w.write('a', good)
        w.write('b', dict(good, npy=_npy(np.zeros((64, 2), np.float32))))
        w.write('c', {k: v for k, v in good.items() if k != '000.png'})
        w.write('d', dict(good, json=json.dumps(dict(
            class_name='lamp')).encode()))
        w.write('e', dict(good, **{'001.png': b'\x89PNG not really'}))
    cfg = dict(type='ShardedTriplets', data_root=out,
               pipeline=_pipeline(dims=XYZ_RGB))
    assert not _check(cfg).problems  # sizes and markers are fine
    deep = _check(cfg, deep=True)
    kinds = {(p.sample, p.kind) for p in deep.problems if p.sample}
    assert kinds == {('shard-000000.tar/b', 'bad_shape'),
                     ('shard-000000.tar/c', 'missing'),
                     ('shard-000000.tar/d', 'unknown_class')}
    # one undecodable view of two: reported, the sample still loads
    assert any(p.kind == 'undecodable' and p.sample is None and
               'e.001.png' in p.message for p in deep.problems)
    assert all('shard-000000.tar' in p.message for p in deep.problems)
    # without require_images a sample without view is fine
    relaxed = _check(dict(cfg, require_images=False), deep=True)
    assert 'shard-000000.tar/c' not in relaxed.bad_samples


def test_second_check_is_cached_and_changes_are_seen(source, tmp_path):
    root, cfg = _ulip2(source, tmp_path / 'ulip2')
    first = _check(cfg, deep=True)
    assert first.cached_files == 0 and first.num_files == 16 * 4
    second = _check(cfg, deep=True)
    assert second.cached_files == second.num_files and not second.problems
    assert osp.isfile(FileCheckCache(root).path)
    uid = open(osp.join(root, 'train.txt')).read().split()[0]
    pts = osp.join(root, f'objaverse_pc_parallel/{uid}/{uid}_8192.npz')
    arr = np.load(pts)['arr_0']
    arr[3, 1] = np.inf  # only a deep check reads the values
    np.savez(pts, arr)
    third = _check(cfg, deep=True)
    assert third.cached_files == third.num_files - 1
    assert [(p.kind, p.sample) for p in third.problems] == [('not_finite',
                                                             uid)]


def test_data_root_layouts(source, tmp_path):
    _shards(source, tmp_path / 'shards' / 'train')
    report = check_data_root(str(tmp_path / 'shards'), 'shards', deep=True)
    assert [(s.name, s.role, s.num_samples) for s in report.splits] == [
        ('train', 'train', 16)] and not report.num_problems
    root, _ = _openshape(source, tmp_path / 'openshape')
    limited = check_data_root(root, 'openshape', deep=True)
    assert {s.name for s in limited.splits} == {
        'train_all.json', 'val.json', 'test.json'}
    # no config to require trust_pickle: only the note, no problem
    assert not limited.num_problems and all(
        'limited' in s.note for s in limited.splits)
    trusted = check_data_root(root, 'openshape', deep=True,
                              trust_pickle=True)
    assert not trusted.num_problems and not any(
        s.note for s in trusted.splits)


def test_mixture_config_checks_both_sources(tmp_path, repo_root):
    """The start-of-run check of the synthetic mixture demo, its two
    training sources pointed at small converted layouts."""
    from data_writers import write_tiny_shapenet
    from mmengine.config import Config

    from cg3d_mm.engine.cli import check_data_before_run

    # the demo samples 512 points a cloud
    source = write_tiny_shapenet(str(tmp_path / 'ShapeNet55'), per_class=6,
                                 views=3, num_points=600)
    os.makedirs(osp.join(source, 'shapenet_pc_rgb'))
    for name in os.listdir(osp.join(source, 'shapenet_pc')):
        xyz = np.load(osp.join(source, 'shapenet_pc', name))
        np.save(osp.join(source, 'shapenet_pc_rgb', name),
                np.concatenate([xyz, np.full_like(xyz, 0.5)], 1))
    cfg = Config.fromfile(osp.join(
        repo_root, 'configs/cg3d/pointmlp_synthetic-mixture_rgb.py'))
    sources = cfg.train_dataloader.dataset.datasets
    for ds, layout, part in ((sources[0], 'ulip2_objaverse', 'train_a'),
                             (sources[1], 'openshape', 'train_b')):
        ds.data_root = convert_triplets(source, str(tmp_path / layout),
                                        layout, part=part)
        ds.synthetic = None
    cfg.work_dir = str(tmp_path / 'work')
    os.makedirs(cfg.work_dir)
    check_data_before_run(cfg, ('train', ))
    with open(osp.join(cfg.work_dir, 'data_check.json')) as f:
        splits = json.load(f)['splits']
    assert [(s['name'], s['layout'], s['checked']) for s in splits] == [
        ('train[0]', 'ulip2_objaverse', True),
        ('train[1]', 'openshape', True)]
    assert [s['num_samples'] for s in splits] == [8, 8]
    assert not any(s['problems'] for s in splits)


def test_mixed_shards_check_each_source(tmp_path):
    """MixedShardedTriplets: every source is checked as a ShardedTriplets
    split, a damaged one named under its own index."""
    from test_mixed_shards import write_sources
    a, b = write_sources(tmp_path)
    ds = dict(type='MixedShardedTriplets', ratios=(1, 1),
              sources=[dict(data_root=a),
                       dict(data_root=b, require_images=False)])
    reports = check_dataset_cfg(ds, 'train', 'train', use_cache=False,
                                deep=True)
    assert [(r.name, r.checked, r.problems) for r in reports] == [
        ('train[0]', True, []), ('train[1]', True, [])]
    assert [r.num_samples for r in reports] == [16, 10]
    tar = sorted(p for p in os.listdir(b) if p.endswith('.tar'))[0]
    with open(osp.join(b, tar), 'r+b') as f:
        f.truncate(1024)  # cut inside its first sample
    reports = check_dataset_cfg(ds, 'train', 'train', use_cache=False)
    assert not reports[0].problems
    assert reports[1].problems and all(
        tar in p.path for p in reports[1].problems)
