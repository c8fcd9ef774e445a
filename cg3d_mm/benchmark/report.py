"""The benchmark report: its summary rows, as markdown, and on disk."""
import os.path as osp
import statistics
from typing import List, Tuple

from cg3d_mm.utils.io import atomic_write, atomic_write_json

from .builders import MODES, TIMED_MODES
from .naive_ops import rows_to_markdown


def _mem(mem: dict) -> str:
    return f"+{mem['delta_mb']:.0f} MB (peak {mem['peak_mb']:.0f} MB)"


def table_rows(report: dict) -> List[dict]:
    """The summary table: item, mode, batch, samples/s, memory, ratio."""
    rows = []
    pre = report['pretrain']
    labels = ('(a) plugin: alternate, cached text',
              '(b) reference: original work',
              "(b') reference, frozen CLIP out of autograd")
    ratios = (pre['ratio'], 1.0, pre['ratio'] / pre['ratio_frozen'])
    for mode, label, ratio in zip(TIMED_MODES, labels, ratios):
        r = pre[mode]
        rows.append(dict(
            item='pretrain cycle (point + prompt step)', mode=label,
            batch=r['batch_size'], samples_per_s=r['samples_per_s'],
            memory=_mem(r['memory']), ratio=ratio,
            note=f"median cycle {r['median_cycle_s']:.2f} s, CPU "
                 f"{statistics.median(r['cycle_cpu_s']):.2f} s"))
    z = report['zeroshot']
    rows.append(dict(
        item='zero-shot eval (encode_points + prototypes)',
        mode=f"{z['num_classes']} classes x {z['num_templates']} template(s)",
        batch=z['batch_size'], samples_per_s=z['samples_per_s'],
        memory=_mem(z['memory']), ratio=None,
        note=f"prototypes once: {z['prototypes_s']:.2f} s"))
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
        f"{pre['ratio_frozen']:.2f}); point ops: naive ms / impl ms.", '',
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
