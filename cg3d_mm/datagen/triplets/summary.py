"""What a run did: counts, failures with their reasons, throughput."""
import json
from dataclasses import asdict, dataclass, field
from typing import Dict, List

from .index_writer import write_text_if_changed

SUMMARY_FILE = 'prepare_triplets_summary.json'
_SHOWN_FAILURES = 20


@dataclass
class PrepareSummary:
    """Result of :func:`prepare_triplets`.

    Attributes:
        out (str): Output root.
        discovered (int): Meshes found under the mesh root.
        written (int): Samples made by this run.
        skipped (int): Samples that were already complete.
        failed (list[dict]): ``{'sample', 'source', 'reason'}`` per mesh
            that could not be used, by sample name.
        warnings (list[dict]): ``{'sample', 'source', 'warning'}`` per
            written sample that left something out (missing textures).
        unlisted (int): Meshes left out because the official split lists
            do not name them.
        missing (list[str]): Official list entries without a mesh.
        splits (dict[str, int]): Samples per split in the written lists.
        classes (int): Classes in ``shape_names.txt``.
        seconds (float): Wall time of the run.
        workers (int): Processes used.
        index_files (list[str]): Dataset-level files (re)written.
    """
    out: str
    discovered: int = 0
    written: int = 0
    skipped: int = 0
    failed: List[Dict[str, str]] = field(default_factory=list)
    warnings: List[Dict[str, str]] = field(default_factory=list)
    unlisted: int = 0
    missing: List[str] = field(default_factory=list)
    splits: Dict[str, int] = field(default_factory=dict)
    classes: int = 0
    seconds: float = 0.
    workers: int = 1
    index_files: List[str] = field(default_factory=list)

    @property
    def meshes_per_second(self) -> float:
        """Throughput of the samples written by this run."""
        return self.written / self.seconds if self.seconds > 0 else 0.

    def to_dict(self) -> dict:
        d = asdict(self)
        d['meshes_per_second'] = round(self.meshes_per_second, 3)
        return d

    def save(self, path: str) -> None:
        """Write the summary as JSON (atomically)."""
        write_text_if_changed(path, json.dumps(self.to_dict(), indent=2) +
                              '\n')

    def format(self) -> str:
        """Human-readable multi-line summary."""
        splits = ', '.join(f'{k} {v}' for k, v in self.splits.items())
        lines = [
            f'triplets in {self.out}: {self.written} written, '
            f'{self.skipped} skipped (complete), {len(self.failed)} failed '
            f'of {self.discovered} meshes in {self.seconds:.1f} s '
            f'({self.meshes_per_second:.2f} meshes/s written, '
            f'{self.workers} workers)',
            f'lists: {splits}; {self.classes} classes',
        ]
        if self.unlisted:
            lines.append(f'{self.unlisted} meshes not in the split lists '
                         '(left out)')
        if self.missing:
            shown = ', '.join(self.missing[:5])
            more = ' ...' if len(self.missing) > 5 else ''
            lines.append(f'{len(self.missing)} split-list entries have no '
                         f'mesh: {shown}{more}')
        if self.warnings:
            lines.append(f'{len(self.warnings)} written with warnings:')
            lines += [f'  {w["warning"]}'
                      for w in self.warnings[:_SHOWN_FAILURES]]
            if len(self.warnings) > _SHOWN_FAILURES:
                lines.append(f'  ... {len(self.warnings) - _SHOWN_FAILURES}'
                             f' more in {SUMMARY_FILE}')
        if self.failed:
            lines.append('failed:')
            lines += [f'  {f["reason"]}'
                      for f in self.failed[:_SHOWN_FAILURES]]
            if len(self.failed) > _SHOWN_FAILURES:
                lines.append(f'  ... {len(self.failed) - _SHOWN_FAILURES} '
                             f'more in {SUMMARY_FILE}')
        return '\n'.join(lines)
