"""tools/benchmark.py on tiny models: a well-formed report, no timings."""
import json
import os.path as osp
import runpy
import sys

import pytest
from conftest import REPO  # noqa: E402

from cg3d_mm.benchmark import (MODES, compare_first_losses, format_markdown,
                               merge_runs)

pytestmark = pytest.mark.slow  # end-to-end: Runner / subprocess runs


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp('bench')
    argv = sys.argv
    sys.argv = [
        'benchmark.py', '--small', '--no-isolate', '--device', 'cpu',
        '--batch-size', '2', '--cycles', '1', '--num-points', '128',
        '--zs-batch-size', '2', '--zs-batches', '1', '--no-naive', '--out',
        str(out)
    ]
    try:
        runpy.run_path(osp.join(REPO, 'tools', 'benchmark.py'),
                       run_name='__main__')
    finally:
        sys.argv = argv
    with open(out / 'benchmark.json') as f:
        data = json.load(f)
    return data, (out / 'benchmark.md').read_text()


def test_report_has_both_modes_the_ratio_and_equal_first_losses(report):
    data, _ = report
    pre = data['pretrain']
    for mode in MODES:
        run = pre[mode]
        assert run['batch_size'] == 2 and run['cycles'] == 1
        assert run['samples_per_s'] > 0
        assert run['memory']['peak_mb'] >= run['memory']['base_mb'] > 0
        assert set(run['first_point_step']) >= {'loss_point_text',
                                                'loss_point_image'}
    assert pre['ratio'] == pytest.approx(
        pre['alternate']['samples_per_s'] /
        pre['reference']['samples_per_s'])
    check = pre['loss_check']
    assert check['same_weights'] and check['equal']
    assert check['max_abs_diff'] <= 1e-4
    # the reference mode runs the text tower every step, never caching
    assert pre['reference']['text_encoded'] == 0
    assert pre['alternate']['text_encoded'] > 0


def test_report_has_zeroshot_point_ops_breakdown_and_machine(report):
    data, _ = report
    assert data['zeroshot']['samples_per_s'] > 0
    assert data['zeroshot']['num_classes'] == 40
    assert {r['num_points'] for r in data['point_ops']} == {1024, 8192}
    assert set(data['breakdown']['cycle_model']) == {
        'alternate', 'reference', 'ratio'}
    machine = data['machine']
    assert machine['torch'] and machine['cpu'] and machine['torch_threads']
    assert len(data['load_start']) == len(data['load_end']) == 3
    items = [r['item'] for r in data['rows']]
    assert items[:2] == ['pretrain cycle (point + prompt step)'] * 2
    assert any(i.startswith('zero-shot') for i in items)
    assert any(i.startswith('fps N=8192') for i in items)


def test_markdown_table(report):
    _, md = report
    assert ('| item | mode | batch | samples/s | peak memory | ratio |'
            in md)
    assert '(a) plugin: alternate' in md and '(b) reference' in md
    assert 'EQUAL to 0.0001' in md and 'NOT EQUAL' not in md
    assert 'load average' in md and '## Point ops' in md


def test_merge_runs_and_loss_check():
    def run(loss, cycle_s, weights='w'):
        return dict(mode='x', samples_per_cycle=4, cycle_s=cycle_s,
                    cycle_cpu_s=cycle_s, weights=weights,
                    memory=dict(peak_mb=sum(cycle_s), base_mb=0.),
                    first_point_step=dict(loss=loss), load_start=(0, 0, 0),
                    load_end=(0, 0, 0))

    merged = merge_runs([run(1., [1., 3.]), run(1., [2.])])
    assert merged['cycle_s'] == [1., 3., 2.] and merged['cycles'] == 3
    assert merged['samples_per_s'] == pytest.approx(4 / 2.)
    assert merged['memory']['peak_mb'] == 4.
    other = merge_runs([run(1.5, [1.])])
    assert not compare_first_losses(dict(alternate=merged,
                                         reference=other))['equal']
    other = merge_runs([run(1., [1.], weights='v')])
    check = compare_first_losses(dict(alternate=merged, reference=other))
    assert not check['same_weights'] and not check['equal']


def test_markdown_without_optional_parts(report):
    data, _ = report
    data = dict(data, breakdown=None, point_ops=[])
    md = format_markdown(data)
    assert '## Point ops' not in md and 'Where a cycle goes' not in md


def test_report_has_automatic_precision_and_flops(report):
    data, md = report
    machine, pre = data['machine'], data['pretrain']
    auto = data['settings']['precision_auto']
    assert auto == machine['precision_auto'] in ('bf16', 'fp32')
    assert machine['cpu_capability'] and machine['precision_reason']
    assert machine['matmul_gflops']['float32'] > 0
    assert pre['alternate_auto']['samples_per_s'] > 0
    assert pre['ratio_auto'] == pytest.approx(
        pre['alternate_auto']['samples_per_s'] /
        pre['reference']['samples_per_s'])
    if auto == 'bf16':
        assert pre['alternate_auto']['precision'] == 'bf16'
        assert data['zeroshot_auto']['precision'] == 'bf16'
        assert data['breakdown_auto']['flops'] == data['breakdown']['flops']
    comps = data['components']
    assert {c['precision'] for c in comps} == {'fp32', auto}
    assert all(c['gflop'] > 0 and c['fraction_of_peak'] > 0 for c in comps
               if c['component'] != 'text tower (uncached)')
    assert "(a') plugin, automatic precision" in md
    assert "(a')/(b)" in md and 'CPU capability' in md
    assert "## FLOPs against the machine's matmul peak" in md


def test_report_compares_pointmlp_with_the_legacy_code(report):
    data, md = report
    enc = data['point_encoders']
    assert enc['check']['equal'] and enc['check']['fp64_grad_rel_diff'] < 1e-9
    auto = data['settings']['precision_auto']
    assert [(r['precision'], r['pass_']) for r in enc['rows']] == [
        (p, x) for p in dict.fromkeys(('fp32', auto))
        for x in ('forward, no graph', 'forward + backward')]
    for r in enc['rows']:
        assert len(r['times']['new']) == len(r['times']['old']) == 5
        assert r['speedup'] == pytest.approx(
            r['seconds']['old'] / r['seconds']['new'])
        assert 0 < r['gflop']['new'] < r['gflop']['old']  # fewer FLOPs
    assert '## PointMLP: this code vs the code before issue 19' in md
