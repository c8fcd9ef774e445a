"""Run-time registration of open_clip architectures.

open_clip builds models from a name -> config registry
(``open_clip.factory._MODEL_CONFIGS``) that it fills from the JSON files in
its ``model_configs/`` folder. Its public hook, ``open_clip.add_model_config``,
only accepts JSON files or folders and rescans them; a rescan only *adds*
entries, so configs inserted here directly survive it. After registration
the name works everywhere open_clip takes a model name
(``create_model``, ``get_tokenizer``, ``get_model_config``, ``list_models``).
"""
import copy
from typing import Any, Dict

import open_clip
from open_clip import factory as _oc_factory

#: A small CLIP for the CPU demo and the tests: 64x64 images cut into 16x16
#: patches (16 tokens + CLS), image tower 4 layers x width 192 (4 heads),
#: text tower 3 layers x width 128 (4 heads) over 20 tokens (the longest
#: caption of the demo's templates x class names is 13 tokens), 256-d
#: embeddings. Coarse patches make it trainable from scratch on a few
#: hundred renders in minutes on 2 CPU cores (8x8 patches learnt far
#: slower); measured: one contrastive step at batch 128 ~0.6 s.
CG3D_TINY_VIT: Dict[str, Any] = dict(
    embed_dim=256,
    vision_cfg=dict(
        image_size=64,
        patch_size=16,
        width=192,
        layers=4,
        head_width=48,  # 4 heads
        mlp_ratio=4.0,
    ),
    text_cfg=dict(
        context_length=20,
        vocab_size=49408,
        width=128,
        heads=4,
        layers=3,
    ),
)


def register_clip_arch(name: str,
                       cfg: Dict[str, Any],
                       force: bool = False) -> None:
    """Add an architecture config to open_clip's model registry.

    Args:
        name (str): Model name, as later passed to ``open_clip.create_model``
            or :func:`build_clip`.
        cfg (dict): An open_clip model config, i.e. the content of one of
            open_clip's ``model_configs/*.json`` files: ``embed_dim``,
            ``vision_cfg``, ``text_cfg`` and optional extras such as
            ``quick_gelu``.
        force (bool): Replace an existing config of that name. Without it,
            re-registering the same config is a no-op and registering a
            different one raises. Defaults to False.
    """
    required = ('embed_dim', 'vision_cfg', 'text_cfg')
    missing = [k for k in required if k not in cfg]
    if missing:
        raise ValueError(f'open_clip config for {name!r} lacks {missing}.')
    registry = getattr(_oc_factory, '_MODEL_CONFIGS', None)
    if not isinstance(registry, dict):
        raise RuntimeError(
            'This open_clip version has no open_clip.factory._MODEL_CONFIGS '
            'registry; register the architecture with '
            'open_clip.add_model_config(<json file>) instead.')
    old = registry.get(name)
    if old is not None and old != cfg and not force:
        raise ValueError(
            f'open_clip already has a different architecture named {name!r}; '
            'pass force=True to replace it.')
    # deep copy: open_clip mutates the configs it is handed
    registry[name] = copy.deepcopy(cfg)


def _register_builtin_archs() -> None:
    register_clip_arch('cg3d-tiny-vit', CG3D_TINY_VIT, force=True)
    assert 'cg3d-tiny-vit' in open_clip.list_models()


_register_builtin_archs()
