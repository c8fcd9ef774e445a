"""Built-in generated assets, asked for by kind.

The synthetic demo's configs name generated assets instead of paths:
``synthetic=dict(...)`` on a dataset, ``clip=dict(demo=dict(...))`` on the
CLIP towers. What generates them (:mod:`cg3d_mm.datagen`) is a layer above
datasets and models; it registers one resolver per kind here when it is
imported (``import cg3d_mm`` does), so a dataset or a model asks for its
asset without importing the generator.
"""
from typing import Callable, Dict

_RESOLVERS: Dict[str, Callable[..., str]] = {}


def register_asset(kind: str) -> Callable:
    """Decorator: ``fn(**settings) -> path`` resolves assets of ``kind``."""

    def wrap(fn: Callable[..., str]) -> Callable[..., str]:
        _RESOLVERS[kind] = fn
        return fn

    return wrap


def resolve_asset(kind: str, **settings) -> str:
    """Path of the generated asset ``kind`` with these settings (generated
    on first use by the registered resolver)."""
    if kind not in _RESOLVERS:
        raise RuntimeError(
            f'no resolver for the generated asset {kind!r} (known: '
            f'{sorted(_RESOLVERS)}): `import cg3d_mm` (or custom_imports='
            "dict(imports=['cg3d_mm'])) registers the built-in ones")
    return str(_RESOLVERS[kind](**settings))
