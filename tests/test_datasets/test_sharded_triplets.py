"""Triplets in tar shards: writing, reading, splitting, shuffling, resuming
and skipping unreadable samples (cg3d_mm.datasets.ShardedTriplets), from
plain and gzipped shards."""
import gzip
import io
import json
import os
import os.path as osp
import tarfile

import numpy as np
import pytest
from conftest import REPO
from data_writers import write_tiny_shapenet
from torch.utils.data import DataLoader

from cg3d_mm.datagen.triplets.shard_writer import ShardWriter
from cg3d_mm.datagen.triplets.to_shards import shapenet_split_to_shards
from cg3d_mm.datasets import ShardedTriplets
from cg3d_mm.datasets import sharded_triplets as st

NUM_TRAIN = 16  # write_tiny_shapenet(per_class=6): 4 classes x 4 train


def _list_collate(batch):
    return batch


@pytest.fixture
def shards(tmp_path):
    """16 training samples of the tiny ShapeNet layout in 6 shards."""
    root = write_tiny_shapenet(tmp_path / 'ShapeNet55', per_class=6)
    out = str(tmp_path / 'shards')
    result = shapenet_split_to_shards(root, out, split='train', num_views=2,
                                      samples_per_shard=3)
    assert result['num_samples'] == NUM_TRAIN and not result['skipped']
    return root, out


@pytest.fixture
def gz_shards(tmp_path):
    """The same 16 samples in 6 gzipped shards."""
    root = write_tiny_shapenet(tmp_path / 'ShapeNet55', per_class=6)
    out = str(tmp_path / 'gz_shards')
    result = shapenet_split_to_shards(root, out, split='train', num_views=2,
                                      samples_per_shard=3, compression='gz')
    assert result['num_samples'] == NUM_TRAIN and not result['skipped']
    return root, out


def _keys(dataset, epoch=0, consumed=None):
    dataset.set_epoch(epoch, consumed)
    return [s['sample_id'] for s in dataset]


def test_round_trip_matches_the_folder_layout(shards):
    root, out = shards
    with open(osp.join(out, 'shards.json')) as f:
        index = json.load(f)
    assert [s['num_samples'] for s in index['shards']] == [3] * 5 + [1]
    assert index['classes'] == ['chair', 'table', 'lamp', 'mug']
    ds = ShardedTriplets(data_root=out, shuffle_buffer=0,
                         shuffle_shards=False)
    assert len(ds) == NUM_TRAIN
    assert ds.metainfo['classes'] == ('chair', 'table', 'lamp', 'mug')
    seen = []
    for s in ds:
        synset, _, model_id = s['sample_id'].partition('-')
        np.testing.assert_array_equal(s['points'], np.load(osp.join(
            root, 'shapenet_pc', s['sample_id'] + '.npy')))
        for v, data in enumerate(s['imgs_bytes']):
            with open(osp.join(root, 'shapenet_render', 'img', synset,
                               model_id, f'{v:03d}.png'), 'rb') as f:
                assert data == f.read()
        assert len(s['imgs_bytes']) == 2
        assert s['gt_label'] == ds.metainfo['classes'].index(s['class_name'])
        # captions from the taxonomy names ("chair,chairs")
        assert s['captions'] == [s['class_name'], s['class_name'] + 's']
        assert s['pts_path'] == f'{osp.basename(s["shard"])}/' \
            f'{s["sample_id"]}.npy'
        seen.append(s['sample_id'])
    with open(osp.join(root, 'train_img.txt')) as f:
        listed = sorted(line.strip()[:-4] for line in f if line.strip())
    assert sorted(seen) == listed
    # written in a seeded shuffled order, not the list's class order
    assert seen != listed


def test_gzipped_shards_hold_the_same_samples(shards, gz_shards, tmp_path):
    _, out = shards
    root, gz_out = gz_shards
    with open(osp.join(gz_out, 'shards.json')) as f:
        index = json.load(f)
    assert index['compression'] == 'gz'
    assert [s['file'] for s in index['shards']] == [
        f'shard-{i:06d}.tar.gz' for i in range(6)]
    with open(osp.join(out, 'shards.json')) as f:
        assert json.load(f)['compression'] is None
    # the default patterns find .tar.gz shards
    plain = ShardedTriplets(data_root=out, shuffle_buffer=0,
                            shuffle_shards=False)
    gz = ShardedTriplets(data_root=gz_out, shuffle_buffer=0,
                         shuffle_shards=False)
    assert all(p.endswith('.tar.gz') for p in gz.shards)
    pairs = list(zip(plain, gz))
    assert len(pairs) == NUM_TRAIN
    for a, b in pairs:
        assert a['sample_id'] == b['sample_id']
        np.testing.assert_array_equal(a['points'], b['points'])
        assert a['imgs_bytes'] == b['imgs_bytes']
        assert a['captions'] == b['captions']
        assert b['pts_path'].startswith('shard-') and \
            '.tar.gz/' in b['pts_path']
    # the same samples give the same bytes: no file name or time in the
    # gzip header (FLG.FNAME unset, MTIME 0)
    again = str(tmp_path / 'again')
    shapenet_split_to_shards(root, again, split='train', num_views=2,
                             samples_per_shard=3, compression='gz')
    for name in ('shard-000000.tar.gz', 'shard-000005.tar.gz'):
        with open(osp.join(gz_out, name), 'rb') as f:
            data = f.read()
        with open(osp.join(again, name), 'rb') as f:
            assert f.read() == data
        assert data[:2] == b'\x1f\x8b' and not data[3] & 0x08
        assert data[4:8] == b'\0\0\0\0'
    assert os.path.getsize(osp.join(gz_out, 'shard-000000.tar.gz')) < \
        os.path.getsize(osp.join(out, 'shard-000000.tar'))


def test_other_compressions_are_refused_by_name(gz_shards):
    _, out = gz_shards
    bad = osp.join(out, 'shard-000009.tar.xz')
    with open(bad, 'wb') as f:
        f.write(b'x')
    with pytest.raises(ValueError, match=r'shard-000009\.tar\.xz: '
                       'unsupported shard compression'):
        ShardedTriplets('*.tar.xz', data_root=out)
    with pytest.raises(ValueError, match="compression must be one of"):
        ShardWriter(osp.join(out, 'w'), ['a'], compression='xz')


def test_range_inside_a_gz_shard_skips_members_unread(gz_shards,
                                                      monkeypatch):
    """A worker starting inside a gzipped shard reads past the members
    before its range without extracting them."""
    _, out = gz_shards
    extracted = []
    real = tarfile.TarFile.extractfile

    def counting(self, member):
        extracted.append(member.name)
        return real(self, member)

    monkeypatch.setattr(tarfile.TarFile, 'extractfile', counting)
    path = osp.join(out, 'shard-000002.tar.gz')
    items = list(st.read_shard(path, 1, 3, lambda o: o == 2, 3))
    assert [k for k, _ in items] == [1, 2]
    assert items[0][1] is None  # in range, but consumed: not read
    key, files = items[1][1]
    assert sorted(files) == ['000.png', '001.png', 'json', 'npy']
    # only sample 2's members were extracted
    assert sorted(extracted) == sorted(f'{key}.{ext}' for ext in files)


def _corrupt_gz_shards(out):
    """Shard 1 cut in half, shard 3 with garbage inside its compressed
    data, shard 4 a complete gzip of a tar without its end-of-archive
    marker, shard 5 not a gzip file."""
    path = osp.join(out, 'shard-000001.tar.gz')
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    path = osp.join(out, 'shard-000003.tar.gz')
    with open(path, 'rb') as f:
        data = bytearray(f.read())
    mid = len(data) // 2
    data[mid:mid + 64] = b'\xff' * 64
    with open(path, 'wb') as f:
        f.write(bytes(data))
    path = osp.join(out, 'shard-000004.tar.gz')
    with open(path, 'rb') as f:
        raw = gzip.decompress(f.read())
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        last = tar.getmembers()[-1]
    end = last.offset_data + -(-last.size // tarfile.BLOCKSIZE) * \
        tarfile.BLOCKSIZE
    with open(path, 'wb') as f:
        f.write(gzip.compress(raw[:end]))
    with open(osp.join(out, 'shard-000005.tar.gz'), 'wb') as f:
        f.write(b'not a gzip stream')


def test_corrupt_gz_shards_are_skipped_counted_and_named(
        gz_shards, monkeypatch):
    _, out = gz_shards
    _corrupt_gz_shards(out)
    logged = []
    monkeypatch.setattr(st, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    ds = ShardedTriplets(data_root=out, shuffle_buffer=4)
    ds.set_epoch(0)
    samples = list(ds)  # no exception mid-epoch
    assert len(samples) == NUM_TRAIN  # replacements keep the count
    skipped = [k for s in samples for k in s.get('skipped_samples', ())]
    assert len(logged) == len(skipped)
    by_shard = {}
    for k in skipped:
        by_shard.setdefault(osp.basename(k['path']), []).append(k)
        assert 'gzipped tar' in k['error'] and k['path'] in k['error']
    assert set(by_shard) == {f'shard-00000{i}.tar.gz' for i in (1, 3, 4, 5)}
    assert 1 <= len(by_shard['shard-000001.tar.gz']) <= 3
    assert 1 <= len(by_shard['shard-000003.tar.gz']) <= 3
    # a complete gzip stream whose tar lacks its end: the last sample may
    # lack members, so it is skipped; the ones before it are read
    assert [k['sample'] for k in by_shard['shard-000004.tar.gz']] == [
        'shard-000004.tar.gz#2']
    assert 'truncated' in by_shard['shard-000004.tar.gz'][0]['error']
    assert 'not a gzip file' in by_shard['shard-000005.tar.gz'][0]['error']
    # the readable samples of the damaged shards still come through
    assert ds.shards[4].endswith('shard-000004.tar.gz')
    read = {s['sample_id'] for s in samples if s['shard'] == ds.shards[4]}
    assert len(read) == 2


def test_writer_is_atomic_and_refuses_a_used_folder(tmp_path):
    out = str(tmp_path / 'w')
    with pytest.raises(RuntimeError, match='boom'):
        with ShardWriter(out, ['a'], max_samples=2) as w:
            for i in range(3):
                w.write(f'k{i}', {'npy': b'x'})
            raise RuntimeError('boom')
    # the finished shard stays, the partial one and the index do not
    assert sorted(os.listdir(out)) == ['shard-000000.tar']
    with pytest.raises(FileNotFoundError, match='no shard index'):
        ShardedTriplets(data_root=out)
    with pytest.raises(FileExistsError, match='shard-000000.tar'):
        ShardWriter(out, ['a'])
    with ShardWriter(str(tmp_path / 'v'), ['a']) as w:
        w.write('k', {'npy': b'x'})
        with pytest.raises(ValueError, match='used twice'):
            w.write('k', {'npy': b'y'})
        with pytest.raises(ValueError, match='not of'):
            w.write('a.b', {'npy': b'y'})


def test_brace_and_glob_patterns(shards):
    _, out = shards
    assert st.expand_braces('s-{08..10}-{a,b}.tar') == [
        's-08-a.tar', 's-08-b.tar', 's-09-a.tar', 's-09-b.tar',
        's-10-a.tar', 's-10-b.tar']
    ds = ShardedTriplets('shard-{000000..000002}.tar', data_root=out)
    assert [osp.basename(p) for p in ds.shards] == [
        'shard-000000.tar', 'shard-000001.tar', 'shard-000002.tar']
    assert len(ds) == 9
    ds = ShardedTriplets([osp.join(out, 'shard-00000[45].tar')])
    assert len(ds) == 4
    with pytest.raises(FileNotFoundError, match='no shard matches'):
        ShardedTriplets('other-*.tar', data_root=out)
    with pytest.raises(FileNotFoundError, match='shard-000007.tar'):
        ShardedTriplets('shard-{000005..000007}.tar', data_root=out)


def test_shuffle_is_seeded_per_epoch(shards):
    _, out = shards

    def make(seed=0):
        return ShardedTriplets(data_root=out, shuffle_buffer=4, seed=seed)

    epoch0 = _keys(make(), 0)
    assert _keys(make(), 0) == epoch0  # same seed and epoch, same order
    epoch1 = _keys(make(), 1)
    assert epoch1 != epoch0 and sorted(epoch1) == sorted(epoch0)
    assert _keys(make(seed=1), 0) != epoch0
    assert len(set(epoch0)) == NUM_TRAIN


def test_buffer_order_is_a_bounded_permutation():
    rng = np.random.default_rng(0)
    order = st.buffer_order(1000, 16, rng)
    assert sorted(order.tolist()) == list(range(1000))
    # a sample leaves at most `size` emissions after it was read
    assert (order <= np.arange(1000) + 16).all()
    assert (order != np.arange(1000)).any()
    np.testing.assert_array_equal(st.buffer_order(5, 0, rng), np.arange(5))


@pytest.mark.parametrize('drop_last,layout', [(True, 'shards'),
                                              (False, 'shards'),
                                              (False, 'gz_shards')])
def test_workers_split_without_overlap_and_len_is_exact(request, drop_last,
                                                        layout):
    _, out = request.getfixturevalue(layout)
    ds = ShardedTriplets(data_root=out, shuffle_buffer=4, batch_size=3)
    loader = DataLoader(ds, batch_size=3, num_workers=2,
                        collate_fn=_list_collate, drop_last=drop_last)
    ds.set_epoch(0)
    batches = list(loader)
    assert len(batches) == len(loader) == (5 if drop_last else 6)
    keys = [s['sample_id'] for b in batches for s in b]
    assert len(keys) == len(set(keys))  # no sample twice
    if not drop_last:
        assert len(keys) == NUM_TRAIN
    # every batch comes from one worker, both workers contribute
    workers = [{s['stream_worker'] for s in b} for b in batches]
    assert all(len(w) == 1 for w in workers)
    assert set().union(*workers) == {0, 1}


@pytest.mark.parametrize('layout,name', [('shards', 'shard-000000.tar'),
                                         ('gz_shards', 'shard-000000.tar.gz')])
def test_fewer_shards_than_workers_split_samples(request, layout, name):
    _, out = request.getfixturevalue(layout)
    ds = ShardedTriplets(name, data_root=out, shuffle_buffer=0)
    loader = DataLoader(ds, batch_size=1, num_workers=3,
                        collate_fn=_list_collate)
    keys = [s['sample_id'] for b in loader for s in b]
    assert sorted(keys) == sorted(_keys(ds)) and len(set(keys)) == 3


def assert_resume_is_exact(loader, kill_after, consumed, epoch=3):
    """An epoch stopped after ``kill_after`` batches and resumed with the
    per-worker ``consumed`` counts continues the full epoch's batches:
    nothing repeated, nothing skipped. ``loader()`` builds a fresh
    (dataset, DataLoader) pair, as a restarted run does; returns the
    resumed dataset."""
    ds, full_loader = loader()
    ds.set_epoch(epoch)
    full = [[s['sample_id'] for s in b] for b in full_loader]
    ds, first = loader()
    ds.set_epoch(epoch)
    counted = [0] * len(consumed)
    for i, batch in enumerate(first):
        if i == kill_after:
            break
        for s in batch:
            counted[s['stream_worker']] += 1
    assert counted == consumed
    ds, resumed = loader()
    ds.set_epoch(epoch, counted)
    rest = [[s['sample_id'] for s in b] for b in resumed]
    assert rest == full[kill_after:]
    return ds


@pytest.mark.parametrize('layout', ['shards', 'gz_shards'])
def test_resume_drops_exactly_what_was_consumed(request, layout):
    _, out = request.getfixturevalue(layout)

    def loader():
        ds = ShardedTriplets(data_root=out, shuffle_buffer=5, batch_size=2)
        return ds, DataLoader(ds, batch_size=2, num_workers=2,
                              collate_fn=_list_collate)

    ds = assert_resume_is_exact(loader, kill_after=3, consumed=[4, 2])
    # a fully consumed worker's shards are not even opened
    ds.set_epoch(3, [8, 8])
    assert list(DataLoader(ds, batch_size=2, num_workers=2)) == []


def _tar_bytes(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def test_unreadable_samples_are_skipped_counted_and_named(
        shards, monkeypatch):
    _, out = shards
    ds = ShardedTriplets(data_root=out, shuffle_buffer=0,
                         shuffle_shards=False)
    ds.set_epoch(0)
    good = next(iter(ds))
    png = good['imgs_bytes'][0]
    meta = json.dumps(dict(class_name='mug', label=3)).encode()
    # shard 1: a sample without views, one with (N, 2) points, one good
    with open(osp.join(out, 'shard-000001.tar'), 'wb') as f:
        f.write(_tar_bytes([
            ('noview.npy', _npy(np.zeros((9, 3), np.float32))),
            ('noview.json', meta),
            ('flat.npy', _npy(np.zeros((9, 2), np.float32))),
            ('flat.000.png', png), ('flat.json', meta),
            ('fine.npy', _npy(np.ones((9, 3), np.float32))),
            ('fine.000.png', png), ('fine.json', meta)]))
    # shard 3: truncated in the middle
    path = osp.join(out, 'shard-000003.tar')
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    logged = []
    monkeypatch.setattr(st, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    samples = list(ds)
    assert len(samples) == len(ds) == NUM_TRAIN  # counts stay equal
    skipped = [k for s in samples for k in s.get('skipped_samples', ())]
    names = [k['sample'] for k in skipped]
    assert 'shard-000001.tar/noview' in names
    assert 'shard-000001.tar/flat' in names
    truncated = [k for k in skipped if k['path'].endswith('000003.tar')]
    assert 1 <= len(truncated) <= 3
    assert all('truncated' in k['error'] for k in truncated), truncated
    assert any('(9, 2)' in k['error'] for k in skipped)
    assert any('no rendered view' in k['error'] for k in skipped)
    assert len(logged) == len(skipped)
    assert all(k['sample'] in msg for k, msg in zip(skipped, logged))
    # replacements repeat the previous readable sample of the stream
    assert [s['sample_id'] for s in samples].count('fine') >= 1
    # without required images the view-less sample is read (and replaces
    # the flat one)
    ds = ShardedTriplets('shard-000001.tar', data_root=out,
                         require_images=False, shuffle_buffer=0)
    assert [s['sample_id'] for s in ds] == ['noview', 'noview', 'fine']


def test_bad_index_is_named(shards):
    _, out = shards
    with open(osp.join(out, 'shards.json'), 'w') as f:
        f.write('{"format": "something else"}')
    with pytest.raises(ValueError, match='not a shard index'):
        ShardedTriplets(data_root=out)


def test_folder_pipeline_runs_unchanged(shards):
    _, out = shards
    pipeline = [
        dict(type='LoadPointCloud'),
        dict(type='SamplePoints', num_points=64, method='fps'),
        dict(type='NormalizePoints'),
        dict(type='LoadTripletImage', view=1),
        dict(type='SampleCaption', fixed=0),
        dict(type='PackCG3DInputs', keys=('points', 'img')),
    ]
    ds = ShardedTriplets(data_root=out, pipeline=pipeline)
    raw = ShardedTriplets(data_root=out)
    item, first = next(iter(ds)), next(iter(raw))
    assert item['inputs']['points'].shape == (64, 3)
    from cg3d_mm.datasets.transforms.decoding import decode_view
    img = decode_view(first['imgs_bytes'][1], 'view 1')
    np.testing.assert_array_equal(item['inputs']['imgs'].numpy(),
                                  img.transpose(2, 0, 1))
    sample = item['data_samples']
    assert sample.stream_worker == 0
    assert sample.img_path.endswith(f'{first["sample_id"]}.001.png')
    assert sample.class_name in sample.caption


def test_runner_builds_an_iterable_dataloader(shards):
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    _, out = shards
    with DefaultScope.overwrite_default_scope('cg3d_mm'):  # as in a run
        loader = Runner.build_dataloader(dict(
            batch_size=4, num_workers=0, sampler=None, drop_last=True,
            dataset=dict(type='ShardedTriplets', data_root=out,
                         batch_size=4)), seed=0)
    assert len(loader) == 4
    assert sum(len(b['sample_id']) for b in loader) == NUM_TRAIN


def test_shards_config_differs_from_the_folder_one_only_in_its_data():
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/cg3d/pointmlp_synthetic-shards_rgb.py')).to_dict()
    ref = Config.fromfile(osp.join(
        REPO, 'configs/cg3d/pointmlp_synthetic_rgb.py')).to_dict()
    shard_loader = cfg['train_dataloader']
    assert shard_loader['sampler'] is None
    assert shard_loader['dataset']['type'] == 'ShardedTriplets'
    assert shard_loader['dataset']['pipeline'] == \
        ref['train_dataloader']['dataset']['pipeline']
    assert shard_loader['dataset']['synthetic']['pc_dir'] == \
        ref['train_dataloader']['dataset']['pc_dir']
    assert cfg['custom_hooks'][:-1] == ref['custom_hooks']
    assert cfg['custom_hooks'][-1]['type'] == 'StreamPositionHook'
    for key in set(cfg) | set(ref):
        if key not in ('train_dataloader', 'custom_hooks', 'batch_size',
                       'synthetic_shards'):
            assert cfg.get(key) == ref.get(key), key


def _tool(name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        name.replace('/', '_'), osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_converter_tool_reads_a_config_or_a_data_root(tmp_path):
    root = write_tiny_shapenet(tmp_path / 'ShapeNet55', per_class=6)
    tool = _tool('dataset_converters/triplets_to_shards')
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        "default_scope = 'cg3d_mm'\n"
        f"train_dataloader = dict(dataset=dict(type='ShapeNetTriplets', "
        f"data_root='{root}', num_views=2, pipeline=[dict(type='"
        "LoadPointCloud')]))\n")
    tool.main([str(cfg), '--out', str(tmp_path / 'a'), '--no-progress',
               '--samples-per-shard', '5'])
    tool.main(['--data-root', root, '--split', 'test', '--num-views', '2',
               '--out', str(tmp_path / 'b'), '--no-progress', '--gzip'])
    a = ShardedTriplets(data_root=str(tmp_path / 'a'))
    assert len(a) == NUM_TRAIN and len(a.shards) == 4
    assert len(next(iter(a))['imgs_bytes']) == 2
    assert all(p.endswith('.tar') for p in a.shards)
    b = ShardedTriplets(data_root=str(tmp_path / 'b'))
    assert len(b) == 4 and len(b.shards) == 1
    assert b.shards[0].endswith('shard-000000.tar.gz')
    assert len(next(iter(b))['imgs_bytes']) == 2
    with pytest.raises(FileExistsError, match='exists'):
        tool.main([str(cfg), '--out', str(tmp_path / 'a')])


@pytest.mark.parametrize('gzip_flag', [[], ['--gzip-shards']])
def test_prepare_triplets_writes_shards_per_split(tmp_path, gzip_flag):
    trimesh = pytest.importorskip('trimesh')
    meshes = tmp_path / 'meshes'
    for c, mesh in (('box', trimesh.creation.box((0.6, 1.0, 0.4))),
                    ('cone', trimesh.creation.cone(0.5, 1.0, sections=8))):
        for i in range(3):
            os.makedirs(meshes / c, exist_ok=True)
            mesh.export(str(meshes / c / f'{i}.obj'))
    tool = _tool('prepare_triplets')
    out, shard_root = tmp_path / 'out', tmp_path / 'shards'
    assert tool.main([str(meshes), str(out), '--format', 'folder',
                      '--points', '64', '--views', '2', '--image-size',
                      '24', '--workers', '1', '--val-ratio', '0',
                      '--test-ratio', '0.34', '--shards', str(shard_root),
                      '--samples-per-shard', '2', '--no-progress'] +
                     gzip_flag) == 0
    train = ShardedTriplets(data_root=str(shard_root / 'train'))
    test = ShardedTriplets(data_root=str(shard_root / 'test'))
    suffix = '.tar.gz' if gzip_flag else '.tar'
    assert all(p.endswith(suffix) for p in train.shards + test.shards)
    assert len(train) + len(test) == 6 and len(test) == 2
    sample = next(iter(train))
    assert sample['points'].shape == (64, 6)  # coloured points
    assert len(sample['imgs_bytes']) == 2
    assert sorted(train.metainfo['classes']) == ['box', 'cone']


def test_sources_without_classes_keep_their_view_captions(tmp_path):
    """ULIP-2-like items: no class, one caption list per view file."""
    from cg3d_mm.datagen.triplets.to_shards import write_triplet_shards
    root = write_tiny_shapenet(tmp_path / 'ShapeNet55', per_class=3)
    items = []
    for name in ('00000000-m0000', '00000001-m1000'):
        view_dir = osp.join(root, 'shapenet_render', 'img', name[:8],
                            name[9:])
        items.append(dict(
            pts_path=osp.join(root, 'shapenet_pc', name + '.npy'),
            img_paths=[osp.join(view_dir, f'{v:03d}.png') for v in (0, 1)],
            sample_id=name,
            view_captions={'000.png': [f'{name} front'],
                           '001.png': [f'{name} side']}))
    write_triplet_shards(items, str(tmp_path / 'out'), classes=[])
    pipeline = [dict(type='LoadPointCloud'),
                dict(type='LoadTripletImage', view=1),
                dict(type='SampleSourceCaption'),
                dict(type='PackCG3DInputs', keys=('points', 'img'))]
    ds = ShardedTriplets(data_root=str(tmp_path / 'out'), pipeline=pipeline)
    ds.set_epoch(0)
    for data in ds:
        sample = data['data_samples']
        key = sample.pts_path.split('/')[-1][:-4]
        assert sample.caption == f'{key} side'  # view 1's own caption
        assert sample.class_name is None and 'gt_label' not in sample
