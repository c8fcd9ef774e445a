"""Precision chosen by hardware: the decision table and the CLI wiring."""
import pytest
import torch
from mmengine.config import Config

from cg3d_mm.engine.cli import apply_precision
from cg3d_mm.utils import precision as prec
from cg3d_mm.utils.precision import choose_precision, cpu_flags


@pytest.mark.parametrize('device, flags, cuda_bf16, want', [
    ('cpu', {'avx2', 'avx512f', 'amx_bf16', 'amx_tile'}, None, 'bf16'),
    ('cpu', {'avx2', 'avx512f', 'avx512_bf16'}, None, 'bf16'),
    ('cpu', {'avx2', 'avx512f'}, None, 'fp32'),
    ('cpu', set(), None, 'fp32'),
    ('cuda', set(), True, 'bf16'),
    ('cuda:1', set(), False, 'fp16'),
    ('meta', {'amx_bf16'}, None, 'fp32'),
])
def test_decision_table(device, flags, cuda_bf16, want):
    choice = choose_precision(device, flags=flags, cuda_bf16=cuda_bf16)
    assert choice.precision == want
    assert choice.loss_scaling == (want == 'fp16')
    assert choice.autocast_dtype == dict(
        bf16='bfloat16', fp16='float16').get(want)
    assert choice.reason
    if device == 'cpu' and want == 'bf16':  # names the flag it found
        assert any(f in choice.reason for f in flags
                   if f in prec.CPU_BF16_FLAGS)
    if device == 'cpu' and want == 'fp32':
        assert 'neither AMX nor AVX512-BF16' in choice.reason


def test_cpu_flags_reads_cpuinfo(tmp_path):
    info = tmp_path / 'cpuinfo'
    info.write_text('processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\n\n'
                    'processor\t: 1\nflags\t\t: fpu\n')
    assert cpu_flags(str(info)) == {'fpu', 'avx2', 'avx512_bf16'}
    assert cpu_flags(str(tmp_path / 'missing')) == set()


def _cfg(**kwargs):
    return Config(dict(
        optim_wrapper=dict(
            point_encoder=dict(optimizer=dict(type='AdamW', lr=1e-3)),
            visual_prompt=dict(optimizer=dict(type='AdamW', lr=1e-3))),
        test_cfg=dict(type='TestLoop'), **kwargs))


@pytest.mark.parametrize('flags, want_type', [
    ({'avx512_bf16'}, 'CPUAutocastOptimWrapper'), ({'avx2'}, None)])
def test_apply_precision_auto_on_cpu(monkeypatch, flags, want_type):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(prec, 'cpu_flags', lambda: set(flags))
    for cfg, arg in ((_cfg(), 'auto'), (_cfg(precision='auto'), None)):
        choice = apply_precision(cfg, arg)
        assert choice.precision == ('bf16' if want_type else 'fp32')
        for wrapper in cfg.optim_wrapper.values():
            assert wrapper.get('type') == want_type
            if want_type:
                assert wrapper.dtype == 'bfloat16'
    test_cfg = _cfg()
    apply_precision(test_cfg, 'auto', train=False)
    assert test_cfg.test_cfg.get('fp16', False) == bool(want_type)


def test_apply_precision_default_and_bad_value():
    cfg = _cfg()
    assert apply_precision(cfg) is None  # no --amp, no cfg.precision: fp32
    assert 'type' not in cfg.optim_wrapper.point_encoder
    with pytest.raises(ValueError, match='precision must be one of'):
        apply_precision(_cfg(precision='half'))
