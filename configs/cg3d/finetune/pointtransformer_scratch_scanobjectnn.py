# PointTransformer trained from scratch on ScanObjectNN PB_T50_RS (1024
# points), the original fine-tuning recipe: the baseline of
# pointtransformer_cg3d_scanobjectnn.py.
_base_ = [
    './_base_/models/pointtransformer_cls.py',
    './_base_/datasets/scanobjectnn_pb_t50_rs.py',
    './_base_/schedules/pointtransformer_adamw_cosine_300e.py',
    '../_base_/default_runtime.py'
]

model = dict(head=dict(num_classes=15))
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2))
# The reported accuracy: the final weights on the test split.
test_after_train = True
