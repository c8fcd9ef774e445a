# ScanObjectNN PB_T50_RS of the built-in synthetic world.
_base_ = ['./scanobjectnn_pb_t50_rs.py']

synthetic = dict(seed=0)

train_dataloader = dict(
    num_workers=2,
    dataset=dict(data_root=None, synthetic=synthetic))
val_dataloader = dict(
    num_workers=1,
    dataset=dict(data_root=None, synthetic=synthetic))
test_dataloader = val_dataloader
