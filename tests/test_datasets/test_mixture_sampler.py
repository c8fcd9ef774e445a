"""MixtureSampler: per-source ratios over an mmengine ConcatDataset."""
import os.path as osp
from collections import Counter

import pytest
from mmengine.config import Config
from mmengine.dataset import BaseDataset, ConcatDataset
from mmengine.hooks import Hook
from mmengine.runner import Runner

import cg3d_mm  # noqa: F401
from cg3d_mm.datagen.triplets.convert_layouts import convert_triplets
from cg3d_mm.datasets.samplers import MixtureSampler, split_by_ratio
from cg3d_mm.registry import DATA_SAMPLERS


class Source(BaseDataset):
    def __init__(self, name, size):
        self.name, self.size = name, size
        super().__init__(serialize_data=False)

    def load_data_list(self):
        return [dict(name=self.name, i=i) for i in range(self.size)]


def mixture(*sizes):
    return ConcatDataset([Source(f's{k}', n) for k, n in enumerate(sizes)])


def source_of(dataset, idx):
    return dataset.get_data_info(idx)['name']


def test_ratios_are_respected_exactly_per_epoch():
    ds = mixture(100, 20)
    sampler = MixtureSampler(ds, ratios=(1, 3), seed=0)
    indices = list(sampler)
    assert len(indices) == len(sampler) == 120
    counts = Counter(source_of(ds, i) for i in indices)
    assert counts == {'s0': 30, 's1': 90}
    # the large source is subsampled without repeats, the small one cycles
    # through all its samples before repeating any
    big = Counter(i for i in indices if i < 100)
    assert max(big.values()) == 1
    small = Counter(i for i in indices if i >= 100)
    assert set(small) == set(range(100, 120))
    assert max(small.values()) - min(small.values()) <= 1


def test_zero_ratio_and_epoch_length():
    ds = mixture(10, 10)
    sampler = MixtureSampler(ds, ratios=(0, 1), num_samples=7, seed=0)
    indices = list(sampler)
    assert len(indices) == 7 and all(i >= 10 for i in indices)
    assert len(set(indices)) == 7


def test_seeded_and_epoch_dependent():
    ds = mixture(30, 30)
    a = MixtureSampler(ds, ratios=(1, 1), seed=3)
    b = MixtureSampler(ds, ratios=(1, 1), seed=3)
    assert list(a) == list(b)
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first
    assert sorted(Counter(source_of(ds, i) for i in a).values()) == [30, 30]
    assert list(MixtureSampler(ds, ratios=(1, 1), seed=4)) != first


def test_ranks_split_one_epoch_without_overlap(monkeypatch):
    ds = mixture(25, 12)
    per_rank = []
    for rank in range(3):
        monkeypatch.setattr('cg3d_mm.datasets.samplers.get_dist_info',
                            lambda r=rank: (r, 3))
        sampler = MixtureSampler(ds, ratios=(2, 1), seed=1)
        per_rank.append(list(sampler))
        assert len(sampler) == 13
    assert {len(p) for p in per_rank} == {13}
    monkeypatch.setattr('cg3d_mm.datasets.samplers.get_dist_info',
                        lambda: (0, 1))
    epoch = MixtureSampler(ds, ratios=(2, 1), seed=1).epoch_indices()
    # interleaved shards of the same epoch, padded from its start
    merged = [per_rank[i % 3][i // 3] for i in range(39)]
    assert merged == (epoch + epoch)[:39]


def test_built_from_the_registry_and_bad_inputs():
    ds = mixture(4, 4)
    sampler = DATA_SAMPLERS.build(dict(type='MixtureSampler', ratios=(1, 1)),
                                  default_args=dict(dataset=ds, seed=0))
    assert isinstance(sampler, MixtureSampler)
    with pytest.raises(ValueError, match='3 ratios for 2 sources'):
        MixtureSampler(ds, ratios=(1, 1, 1), seed=0)
    with pytest.raises(ValueError, match='not all 0'):
        MixtureSampler(ds, ratios=(0, 0), seed=0)
    with pytest.raises(ValueError, match='>= 0'):
        MixtureSampler(ds, ratios=(1, -1), seed=0)
    with pytest.raises(TypeError, match='ConcatDataset'):
        MixtureSampler(Source('x', 3), ratios=(1, ), seed=0)
    with pytest.raises(ValueError, match=r'source\(s\) \[1\].*no sample'):
        MixtureSampler(mixture(4, 0), ratios=(1, 1), seed=0)


def test_split_by_ratio_sums_to_total():
    assert split_by_ratio(10, (1, 1, 1)) == [4, 3, 3]
    assert split_by_ratio(7, (0, 1)) == [0, 7]
    for total in range(1, 50):
        assert sum(split_by_ratio(total, (0.3, 1.7, 2))) == total


def shrink_for_cpu(cfg, work_dir, max_epochs=2):
    """A pretraining config made tiny in place: the demo's CLIP
    architecture with random weights, a narrow PointMLP, 128 points,
    batches of 4 read in the main process, ``max_epochs`` epochs."""
    clip = dict(model_name='cg3d-tiny-vit', pretrained=None)
    cfg.model.img_backbone.clip = clip
    cfg.model.text_encoder.clip = clip
    cfg.model.backbone.update(embed_channels=8, num_anchors=(64, 32, 16, 8),
                              num_neighbors=8, pre_blocks=(1, 1, 1, 1),
                              pos_blocks=(1, 1, 1, 1))
    cfg.model.head.update(in_channels=128, embed_dim=256)
    loaders = [cfg.get(f'{s}_dataloader') for s in ('train', 'val', 'test')]
    for loader in filter(None, loaders):
        loader.update(batch_size=4, num_workers=0, persistent_workers=False)
        ds = loader.dataset
        for part in ds.get('datasets', [ds]):
            for step in part.pipeline:
                if step['type'] in ('SamplePoints', 'RandomDropPoints'):
                    step.update({k: 128 for k in ('num_points',
                                                  'min_points') if k in step})
    cfg.train_cfg.update(max_epochs=max_epochs, val_interval=max_epochs)
    for schedulers in cfg.param_scheduler.values():
        for scheduler in schedulers:
            scheduler['T_max'] = max_epochs
    cfg.work_dir = work_dir
    return cfg


class RecordBatches(Hook):
    """Which samples of each training batch carried a view, and the losses
    of each step."""

    def __init__(self):
        self.flags, self.losses = [], []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.flags.append([s.get('has_img') for s in
                           data_batch['data_samples']])
        self.losses.append(set(outputs))


@pytest.mark.slow  # end-to-end: a Runner
def test_mixture_config_trains_on_two_layouts(tmp_path, repo_root):
    """The demo mixture config (two converted halves, MixtureSampler)
    through mmengine's Runner, on a tiny private world and model."""
    from test_ulip_triplets import _cg3d_source
    src = _cg3d_source(tmp_path)
    half_a = convert_triplets(src, str(tmp_path / 'a'), 'ulip2_objaverse',
                              part='train_a')
    half_b = convert_triplets(src, str(tmp_path / 'b'), 'openshape',
                              part='train_b')
    cfg = Config.fromfile(osp.join(
        repo_root, 'configs/cg3d/pointmlp_synthetic-mixture_rgb.py'))
    shrink_for_cpu(cfg, str(tmp_path / 'work'))
    ulip2, openshape = cfg.train_dataloader.dataset.datasets
    ulip2.update(data_root=half_a, synthetic=None)
    openshape.update(data_root=half_b, synthetic=None)
    openshape.pipeline[-1]['blank_img_size'] = 32  # the tiny renders
    for split in ('val_dataloader', 'test_dataloader'):
        cfg[split].dataset.update(data_root=src, synthetic=None, num_views=3)
    runner = Runner.from_cfg(cfg)
    record = RecordBatches()
    runner.register_hook(record)
    runner.train()
    # 16 training shapes: 4 batches of 4 an epoch, in the config's ratios
    # (2:1 toward the source with views: 11 + 5 an epoch)
    assert len(record.flags) == 8
    flags = [f for batch in record.flags for f in batch]
    with_views, without = split_by_ratio(
        16, cfg.train_dataloader.sampler.ratios)
    assert (with_views, without) == (11, 5)
    assert flags.count(True) == 2 * with_views
    assert flags.count(False) == 2 * without
    # point steps (even iterations) train point-text on every batch, and
    # point-image whenever a view is in the batch
    for it, (batch, losses) in enumerate(zip(record.flags, record.losses)):
        if it % 2 == 0:
            assert 'loss_point_text' in losses
            assert ('loss_point_image' in losses) == any(batch)
        else:
            assert ('loss_image_text' in losses) == any(batch)
    metrics = runner.test()
    assert 0 <= metrics['zeroshot/top1'] <= 100
