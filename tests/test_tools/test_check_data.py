"""tools/check_data.py: a config's splits or a data root; table, JSON,
exit code."""
import json
import os.path as osp
import runpy

import pytest
from conftest import REPO, TINY_CFG
from data_writers import write_modelnet, write_tiny_shapenet


@pytest.fixture(scope='module')
def tool():
    return runpy.run_path(osp.join(REPO, 'tools', 'check_data.py'))


def _cut(path, keep=None):
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:keep or len(data) // 2])


def test_config_splits(tool, tmp_path, capsys):
    root = write_tiny_shapenet(tmp_path / 'ShapeNet55')
    cfg = tmp_path / 'tiny.py'
    cfg.write_text(TINY_CFG.format(data_root=root, max_epochs=1))
    out = str(tmp_path / 'report.json')
    assert tool['main']([str(cfg), '--out', out]) == 0
    printed = capsys.readouterr().out
    assert 'OK: no problem' in printed
    # the test pipeline reads no views: only point files are checked
    rows = {line.split()[0]: line.split() for line in printed.splitlines()
            if line.split() and line.split()[0] in ('train', 'val', 'test')}
    assert rows['train'][4] == '24' and rows['test'][4] == '4'
    with open(osp.join(root, 'test_img.txt')) as f:
        bad = osp.join(root, 'shapenet_pc', f.readline().strip())
    _cut(bad)
    assert tool['main']([str(cfg), '--out', out]) == 1
    printed = capsys.readouterr().out
    assert bad in printed and 'FAILED' in printed
    with open(out) as f:
        report = json.load(f)
    assert report['num_problems'] == 1
    assert report['splits'][2]['problems'][0]['kind'] == 'truncated'
    # --cfg-options point the splits elsewhere; --splits chooses them
    other = write_tiny_shapenet(tmp_path / 'other')
    assert tool['main']([str(cfg), '--out', out, '--splits', 'test',
                         '--cfg-options',
                         f'test_dataloader.dataset.data_root={other}']) == 0


def test_data_root_layouts(tool, tmp_path, capsys):
    root = write_modelnet(tmp_path / 'mn', rows=200)
    out = str(tmp_path / 'r.json')
    assert tool['main'](['--data-root', root, '--layout', 'modelnet',
                         '--out', out]) == 0
    # a train file cut inside its last number
    _cut(osp.join(root, 'airplane', 'airplane_0001.txt'), keep=-4)
    # ModelNet fails on an unreadable file (it does not skip), so even a
    # training split must be clean, whatever --max-bad-ratio says
    assert tool['main'](['--data-root', root, '--layout', 'modelnet',
                         '--out', out, '--max-bad-ratio', '0.5']) == 1
    printed = capsys.readouterr().out
    assert 'airplane_0001.txt: last row' in printed
    assert 'the modelnet dataset does not skip unreadable samples' in printed
    with pytest.raises(SystemExit):
        tool['main'](['--data-root', root])  # no --layout


def test_points_only(tool, tmp_path, capsys):
    root = write_tiny_shapenet(tmp_path / 'ShapeNet55')
    out = str(tmp_path / 'r.json')
    view = osp.join(root, 'shapenet_render', 'img', '00000000', 'm0003',
                    '000.png')
    _cut(view)  # a test-split view
    assert tool['main'](['--data-root', root, '--layout', 'shapenet',
                         '--num-views', '2', '--out', out]) == 1
    assert view in capsys.readouterr().out
    assert tool['main'](['--data-root', root, '--layout', 'shapenet',
                         '--points-only', '--out', out]) == 0
