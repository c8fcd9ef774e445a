"""The machine-aware part of the benchmark on tiny models: matmul peak,
FLOPs per component, achieved GFLOP/s and fraction of peak."""
import pytest

from cg3d_mm.benchmark import (autocast_optim_cfg, component_rows,
                               components_markdown, matmul_peak, run_job,
                               small_model_cfg)
from cg3d_mm.benchmark.machine import machine_facts


def test_matmul_peak_per_dtype():
    peaks = matmul_peak('cpu', ('float32', 'bfloat16'), size=64,
                        min_seconds=0.01, rounds=1)
    assert set(peaks) == {'float32', 'bfloat16'}
    assert all(v > 0 for v in peaks.values())


def test_machine_facts_say_the_cpu_capability_and_precision():
    facts = machine_facts('cpu')
    assert facts['cpu_capability']
    assert facts['precision_auto'] in ('bf16', 'fp32')
    assert facts['precision_reason']


@pytest.fixture(scope='module')
def breakdowns():
    common = dict(model_cfg=small_model_cfg(), device='cpu', seed=0,
                  threads=None, num_points=128, batch_size=2, repeats=1)
    return {p: run_job('breakdown', dict(common, precision=p), False)
            for p in ('fp32', 'bf16')}


def test_breakdown_counts_flops_of_forward_and_backward(breakdowns):
    fp32, bf16 = breakdowns['fp32'], breakdowns['bf16']
    assert fp32['precision'] == 'fp32' and bf16['precision'] == 'bf16'
    flops = fp32['flops']
    assert all(flops[k] > 0 for k in flops if k != 'text_cached')
    assert flops['text_cached'] == 0  # a cache lookup multiplies nothing
    # the same work in either precision
    assert bf16['flops'] == flops
    # backward to weights and inputs: about twice the forward again
    assert 2.5 < flops['point_fwd_bwd'] / flops['point_fwd_graph'] <= 3
    # to the prompts only (frozen weights): inputs' gradients, about 2x
    assert 1.5 < flops['image_fwd_bwd'] / flops['image_fwd_graph'] < 2.5
    assert flops['image_fwd_graph'] == flops['image_fwd_nograd']


def test_component_rows_fraction_of_peak(breakdowns):
    peaks = dict(float32=50., bfloat16=200.)
    zs = dict(precision='fp32', batch_size=2, flops_per_batch=4e9,
              median_batch_s=2.)
    report = dict(machine=dict(matmul_gflops=peaks),
                  breakdown=breakdowns['fp32'],
                  breakdown_auto=breakdowns['bf16'], zeroshot=zs)
    rows = component_rows(report)
    assert len(rows) == 2 * 6 + 1
    for r in rows:
        bd = breakdowns[r['precision']]
        assert r['peak_gflops'] == (50. if r['precision'] == 'fp32'
                                    else 200.)
        assert r['fraction_of_peak'] == pytest.approx(
            r['gflops'] / r['peak_gflops'])
        if r['component'].startswith('zero-shot'):
            assert r['gflops'] == pytest.approx(2.)
        else:
            assert r['batch'] == bd['batch_size']
    vit_bwd = next(r for r in rows if r['precision'] == 'bf16'
                   and r['component'].startswith('ViT forward + backward'))
    sec = breakdowns['bf16']['seconds']['image_fwd_bwd']
    assert vit_bwd['gflops'] == pytest.approx(
        breakdowns['bf16']['flops']['image_fwd_bwd'] / sec / 1e9)
    md = components_markdown(rows)
    assert md.count('\n') == len(rows) + 1 and '| of peak |' in md


def test_autocast_optim_cfg_switches_every_wrapper():
    optim = dict(point_encoder=dict(type='OptimWrapper',
                                    optimizer=dict(type='SGD', lr=0.1)),
                 visual_prompt=dict(optimizer=dict(type='SGD', lr=0.1)))
    out = autocast_optim_cfg(optim, 'bf16')
    assert optim['point_encoder']['type'] == 'OptimWrapper'  # not mutated
    for wrapper in out.values():
        assert wrapper['type'] in ('CPUAutocastOptimWrapper',
                                   'AmpOptimWrapper')
        assert wrapper['dtype'] == 'bfloat16'
