# ModelNet40 of the built-in synthetic world (generated into the cache on
# first use; same layout and pipelines as the real one).
_base_ = ['./modelnet40.py']

synthetic = dict(seed=0)

train_dataloader = dict(
    num_workers=2,
    dataset=dict(data_root=None, synthetic=synthetic))
val_dataloader = dict(
    num_workers=1,
    dataset=dict(data_root=None, synthetic=synthetic))
test_dataloader = val_dataloader
