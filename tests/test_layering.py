"""The package's layering: no import cycle between cg3d_mm's subpackages.

Every module is parsed, function-local imports included, and each import
of another subpackage becomes an edge; the layers are listed bottom-up and
no subpackage may import one of a higher layer (which also rules out every
cycle). New subpackages must be placed in a layer here.
"""
import ast
import os
import os.path as osp
import sys
from collections import defaultdict
from typing import Dict, Set, Tuple

import pytest
from conftest import REPO

PACKAGE = osp.join(REPO, 'cg3d_mm')
# Bottom-up; a subpackage may import its own layer's peers only where the
# edge is listed in PEER_EDGES (there is none today).
LAYERS = (
    ('version', ),
    ('registry', 'utils', 'structures'),
    ('ops', 'render'),
    ('models', 'datasets'),
    ('datagen', ),
    ('engine', 'evaluation'),
    ('apis', ),
    ('retrieval', 'scene'),
    ('benchmark', ),
    ('configs', ),
)
PEER_EDGES: Set[Tuple[str, str]] = set()


def _module_name(path: str) -> str:
    rel = osp.relpath(path, REPO)[:-3].replace(os.sep, '.')
    return rel[:-len('.__init__')] if rel.endswith('.__init__') else rel


def _subpackage(module: str) -> str:
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else ''


def import_edges() -> Dict[Tuple[str, str], Set[str]]:
    """(importing subpackage, imported subpackage) -> files."""
    edges = defaultdict(set)
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = osp.join(folder, name)
            module = _module_name(path)
            package = module if name == '__init__.py' else \
                module.rpartition('.')[0]
            src = _subpackage(module)
            with open(path) as f:
                tree = ast.parse(f.read(), path)
            for node in ast.walk(tree):
                targets = []
                if isinstance(node, ast.Import):
                    targets = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    if node.level:
                        base = package.split('.')
                        base = base[:len(base) - node.level + 1]
                        target = '.'.join(base + [node.module or ''])
                    else:
                        target = node.module or ''
                    target = target.rstrip('.')
                    if target == 'cg3d_mm':  # from cg3d_mm import x
                        targets = [f'cg3d_mm.{a.name}' for a in node.names]
                    else:
                        targets = [target]
                for target in targets:
                    if target == 'cg3d_mm' or target.startswith('cg3d_mm.'):
                        dst = _subpackage(target)
                        if src != dst:
                            edges[(src, dst)].add(osp.relpath(path, REPO))
    return edges


def _layer_of() -> Dict[str, int]:
    return {sub: i for i, layer in enumerate(LAYERS) for sub in layer}


def test_every_subpackage_has_a_layer():
    subs = {n[:-3] if n.endswith('.py') else n for n in os.listdir(PACKAGE)
            if (n.endswith('.py') and n != '__init__.py')
            or osp.isfile(osp.join(PACKAGE, n, '__init__.py'))}
    assert subs - set(_layer_of()) == set(), 'place it in LAYERS'


def test_no_subpackage_imports_a_higher_layer_or_the_root():
    layer = _layer_of()
    bad = []
    for (src, dst), files in sorted(import_edges().items()):
        if src == '':  # the root package imports everything (registration)
            continue
        if dst == '':
            bad.append(f'{src} imports the root package cg3d_mm: {files}')
        elif layer[dst] > layer[src] or (layer[dst] == layer[src]
                                         and (src, dst) not in PEER_EDGES):
            bad.append(f'{src} (layer {layer[src]}) -> {dst} '
                       f'(layer {layer[dst]}): {sorted(files)}')
    assert not bad, '\n'.join(bad)


def test_the_checker_sees_function_local_and_relative_imports(tmp_path,
                                                             monkeypatch):
    """The parser must catch an upward import hidden inside a function."""
    pkg = tmp_path / 'cg3d_mm'
    (pkg / 'models').mkdir(parents=True)
    (pkg / 'apis').mkdir()
    for p in (pkg, pkg / 'models', pkg / 'apis'):
        (p / '__init__.py').write_text('')
    (pkg / 'models' / 'm.py').write_text(
        'def f():\n    from ..apis import x\n    return x\n')
    (pkg / 'apis' / 'a.py').write_text('from cg3d_mm.models import m\n')
    monkeypatch.setattr(sys.modules[__name__], 'PACKAGE', str(pkg))
    monkeypatch.setattr(sys.modules[__name__], 'REPO', str(tmp_path))
    edges = import_edges()
    assert ('models', 'apis') in edges and ('apis', 'models') in edges
    with pytest.raises(AssertionError, match='models'):
        test_no_subpackage_imports_a_higher_layer_or_the_root()
