"""The demo CLIP's cache key covers what it is trained on (issue 16): new
caption templates must train a new CLIP, not reuse a stale cached one."""
import os.path as osp

import cg3d_mm.datagen.demo_clip as demo_clip
import cg3d_mm.datagen.synthetic as synthetic
from cg3d_mm.utils.templates import PRETRAIN_TEMPLATES, ZEROSHOT_TEMPLATES


def test_cache_key_includes_the_templates(tmp_path, monkeypatch):
    trained = []

    def fake_train(root, out_file, **cfg):
        trained.append(cfg['templates'])
        with open(out_file, 'wb') as f:
            f.write(b'weights')
        return dict(seconds=0.)

    monkeypatch.setattr(synthetic, 'ensure_synthetic_data',
                        lambda **kw: str(tmp_path / 'world'))
    monkeypatch.setattr(demo_clip, 'train_demo_clip', fake_train)

    default = demo_clip.ensure_demo_clip(dict(seed=0))
    assert trained == [PRETRAIN_TEMPLATES + ZEROSHOT_TEMPLATES]
    assert demo_clip.ensure_demo_clip(dict(seed=0)) == default  # cached
    assert len(trained) == 1

    old = ('a photo of a {}.', 'This is a {}.')
    other = demo_clip.ensure_demo_clip(dict(seed=0), templates=old)
    assert other != default and osp.isfile(other)
    assert trained[-1] == old


def test_training_the_demo_clip_logs_no_warning(tiny_shapenet, tmp_path,
                                                caplog):
    """A first demo run trains the CLIP: random init is intended there, and
    nothing in the loop may warn (a normal run's log has no warnings)."""
    import logging
    import warnings

    from cg3d_mm.datagen.demo_clip import train_demo_clip
    out = str(tmp_path / 'clip.pth')
    with warnings.catch_warnings(record=True) as caught, \
            caplog.at_level(logging.WARNING):
        warnings.simplefilter('always')
        train_demo_clip(tiny_shapenet, out, steps=2, batch_size=8)
    assert [str(w.message) for w in caught] == []
    assert [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING] == []
