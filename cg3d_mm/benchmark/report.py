"""The benchmark report: its summary rows, as markdown, and on disk."""
import os.path as osp
import statistics
from typing import List, Tuple

from cg3d_mm.utils.io import atomic_write, atomic_write_json

from .builders import MODES, TIMED_MODES
from .encoders import encoders_markdown
from .naive_ops import rows_to_markdown


def _mem(mem: dict) -> str:
    return f"+{mem['delta_mb']:.0f} MB (peak {mem['peak_mb']:.0f} MB)"


# component name in the breakdown job -> what the report calls it
COMPONENTS = dict(
    text_tower='text tower (uncached)',
    image_fwd_nograd='ViT forward, no graph',
    image_fwd_graph='ViT forward with graph',
    image_fwd_bwd='ViT forward + backward to the prompts',
    point_fwd_graph='point encoder forward with graph',
    point_fwd_bwd='point encoder forward + backward')
DTYPE_OF = dict(fp32='float32', bf16='bfloat16', fp16='float16')


def _component(name, precision, batch, flops, seconds, peaks) -> dict:
    peak = peaks.get(DTYPE_OF[precision])
    gflops = flops / seconds / 1e9 if seconds > 0 else float('nan')
    return dict(component=name, precision=precision, batch=batch,
                gflop=flops / 1e9, seconds=seconds, gflops=gflops,
                peak_gflops=peak,
                fraction_of_peak=gflops / peak if peak else None)


def component_rows(report: dict) -> List[dict]:
    """Per component and precision: FLOPs (``torch.utils.flop_counter``:
    matmuls, convolutions, attention), seconds, achieved GFLOP/s and its
    fraction of this machine's matmul peak in the same dtype."""
    peaks = report['machine'].get('matmul_gflops', {})
    rows = []
    for suffix in ('', '_auto'):
        bd = report.get('breakdown' + suffix)
        if bd and 'flops' in bd:
            for key, name in COMPONENTS.items():
                rows.append(_component(
                    name, bd.get('precision', 'fp32'), bd['batch_size'],
                    bd['flops'][key], bd['seconds'][key], peaks))
        z = report.get('zeroshot' + suffix)
        if z and 'flops_per_batch' in z:
            rows.append(_component(
                'zero-shot encode (encode_points + logits)',
                z.get('precision', 'fp32'), z['batch_size'],
                z['flops_per_batch'], z['median_batch_s'], peaks))
    return rows


def components_markdown(rows: List[dict]) -> str:
    """The component table: FLOPs against the machine's peak."""
    lines = ['| component | precision | batch | GFLOP | s | GFLOP/s | '
             'peak GFLOP/s | of peak |', '|---|---|---|---|---|---|---|---|']
    for r in rows:
        frac = '-' if r['fraction_of_peak'] is None else \
            f"{100 * r['fraction_of_peak']:.0f} %"
        peak = '-' if r['peak_gflops'] is None else f"{r['peak_gflops']:.0f}"
        lines.append(f"| {r['component']} | {r['precision']} | {r['batch']} "
                     f"| {r['gflop']:.1f} | {r['seconds']:.3f} | "
                     f"{r['gflops']:.1f} | {peak} | {frac} |")
    return '\n'.join(lines)


def table_rows(report: dict) -> List[dict]:
    """The summary table: item, mode, batch, samples/s, memory, ratio."""
    rows = []
    pre = report['pretrain']
    auto = report['settings'].get('precision_auto', 'fp32')
    labels = ('(a) plugin: alternate, cached text',
              '(b) reference: original work',
              "(b') reference, frozen CLIP out of autograd",
              f"(a') plugin, automatic precision: {auto}"
              + (' (same run as (a))' if auto == 'fp32' else ''))
    modes = TIMED_MODES + ('alternate_auto', )
    ratios = (pre['ratio'], 1.0, pre['ratio'] / pre['ratio_frozen'],
              pre.get('ratio_auto'))
    for mode, label, ratio in zip(modes, labels, ratios):
        if mode not in pre:
            continue
        r = pre[mode]
        rows.append(dict(
            item='pretrain cycle (point + prompt step)', mode=label,
            batch=r['batch_size'], samples_per_s=r['samples_per_s'],
            memory=_mem(r['memory']), ratio=ratio,
            note=f"median cycle {r['median_cycle_s']:.2f} s, CPU "
                 f"{statistics.median(r['cycle_cpu_s']):.2f} s"))
    for key in ('zeroshot', 'zeroshot_auto'):
        z = report.get(key)
        if not z:
            continue
        rows.append(dict(
            item='zero-shot eval (encode_points + prototypes)',
            mode=f"{z['num_classes']} classes x {z['num_templates']} "
                 f"template(s), {z.get('precision', 'fp32')}",
            batch=z['batch_size'], samples_per_s=z['samples_per_s'],
            memory=_mem(z['memory']), ratio=None,
            note=f"prototypes once: {z['prototypes_s']:.2f} s; 2,468 shapes "
                 f"in {2468 / z['samples_per_s'] / 60:.1f} min"))
    naive = {(r['op'], r['batch'], r['num_points'], r['num_samples'],
              r['k']): r['ms'] for r in report['point_ops']
             if r['impl'] == 'naive'}
    for r in report['point_ops']:
        key = (r['op'], r['batch'], r['num_points'], r['num_samples'],
               r['k'])
        rows.append(dict(
            item=f"{r['op']} N={r['num_points']} M={r['num_samples']} "
                 f"k={r['k']}",
            mode=r['impl'], batch=r['batch'],
            samples_per_s=r['batch'] / (r['ms'] / 1000), memory='-',
            ratio=naive[key] / r['ms'] if key in naive else None,
            note=f"{r['ms']:.1f} ms"
                 + ('' if r['same_as_reference'] else ', DIFFERS from ref')))
    return rows


def format_markdown(report: dict) -> str:
    """The report as markdown: machine, summary table, loss check,
    breakdown and the point-op table."""
    m, s = report['machine'], report['settings']
    load = ' / '.join(f'{x:.2f}' for x in report['load_start'])
    load_end = ' / '.join(f'{x:.2f}' for x in report['load_end'])
    lines = [
        '# CG3D benchmark', '',
        f"- machine: {m['cpu']} ({', '.join(m['cpu_flags']) or '-'}), "
        f"{m['usable_cpus']} usable CPUs, {s['threads']} torch threads"
        + (f", GPU {m['gpu']}" if 'gpu' in m else ''),
        f"- CPU capability: torch {m.get('cpu_capability', '?')}; "
        f"automatic precision {s.get('precision_auto', '?')} because "
        f"{m.get('precision_reason', '?')}",
        '- matmul peak of this machine now: ' + (', '.join(
            f'{k} {v:.0f} GFLOP/s'
            for k, v in m.get('matmul_gflops', {}).items()) or '-'),
        f"- software: torch {m['torch']}, mmengine {m['mmengine']}, "
        f"open_clip {m['open_clip']}, python {m['python']}",
        f"- device {s['device']}; model {s['model']['backbone']} + "
        f"{s['model']['clip']} ({s['model']['clip_weights']} weights), "
        f"{s['num_points']} points",
        f'- load average (1/5/15 min): start {load}, end {load_end}',
        f"- pretraining: {s['rounds']} x ({s['warmup']} warm-up + "
        f"{s['cycles']} timed cycles) per mode; samples/s = 2 x batch / "
        'median cycle time; memory = peak above the built model '
        f"({report['pretrain']['alternate']['memory']['method']})"
        + ('' if s['isolate'] else ', jobs NOT isolated (memory of one job '
           'can hide in the next one\'s base)'),
        '', '| item | mode | batch | samples/s | peak memory | ratio | '
        'notes |', '|---|---|---|---|---|---|---|'
    ]
    for r in report['rows']:
        ratio = '-' if r['ratio'] is None else f"{r['ratio']:.2f}"
        lines.append(f"| {r['item']} | {r['mode']} | {r['batch']} | "
                     f"{r['samples_per_s']:.2f} | {r['memory']} | {ratio} | "
                     f"{r['note']} |")
    pre = report['pretrain']
    lc = pre['loss_check']
    lines += [
        '', 'ratio: pretraining throughput relative to (b) (CPU-time ratio '
        f"(a)/(b) {pre['cpu_ratio']:.2f}; (a)/(b') "
        f"{pre['ratio_frozen']:.2f}; (a')/(b) "
        f"{pre.get('ratio_auto', float('nan')):.2f}); point ops: naive ms "
        '/ impl ms.', '',
        '## First point step, both modes (same weights, same batch)', '',
        '| loss | alternate | reference | abs diff |', '|---|---|---|---|'
    ]
    for k in lc['keys']:
        a, b = lc['alternate'][k], lc['reference'][k]
        lines.append(f'| {k} | {a:.6f} | {b:.6f} | {abs(a - b):.2e} |')
    verdict = 'EQUAL' if lc['equal'] else 'NOT EQUAL'
    lines += ['', f"{verdict} to {lc['atol']:g} (max abs diff "
              f"{lc['max_abs_diff']:.2e}; same weights: "
              f"{lc['same_weights']})"]
    if report.get('breakdown'):
        bd = report['breakdown']
        lines += ['', '## Where a cycle goes (encoders timed one by one, '
                  f"batch {bd['batch_size']})", '',
                  '| component | s |', '|---|---|']
        lines += [f'| {k} | {v:.3f} |' for k, v in bd['seconds'].items()]
        cm = bd['cycle_model']
        lines += ['', '| mode | text s | image s | points s | sum s | '
                  'measured s |', '|---|---|---|---|---|---|']
        for mode in MODES:
            c = cm[mode]
            lines.append(f"| {mode} | {c['text']:.2f} | {c['image']:.2f} | "
                         f"{c['points']:.2f} | {c['total']:.2f} | "
                         f"{pre[mode]['median_cycle_s']:.2f} |")
        lines += ['', f"component-sum ratio: {cm['ratio']['total']:.2f}"]
    if report.get('components'):
        lines += ['', '## FLOPs against the machine\'s matmul peak', '',
                  components_markdown(report['components'])]
    if report.get('point_encoders'):
        lines += ['', f"## {s['model']['backbone']}: this code vs the code "
                  'before issue 19 (benchmark/legacy_*.py)', '',
                  encoders_markdown(
                      report['point_encoders'],
                      m.get('matmul_gflops'))]
    if report['point_ops']:
        lines += ['', '## Point ops', '', rows_to_markdown(
            report['point_ops'])]
    return '\n'.join(lines) + '\n'


def write_report(report: dict, out_dir: str) -> Tuple[str, str]:
    """Write ``benchmark.json`` and ``benchmark.md`` into ``out_dir``."""
    json_path = osp.join(out_dir, 'benchmark.json')
    md_path = osp.join(out_dir, 'benchmark.md')
    atomic_write_json(json_path, report)
    markdown = format_markdown(report).encode()
    atomic_write(md_path, lambda f: f.write(markdown))
    return json_path, md_path
