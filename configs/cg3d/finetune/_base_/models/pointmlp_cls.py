# PointMLP classifier with the original fine-tuning head (1024 -> 512 -> 256
# -> classes, BN, ReLU, dropout 0.5; = original_cls_head_cfg('PointMLP', K))
# and PointMLP's label smoothing (0.2, as its cal_loss).
model = dict(
    type='PointClassifier',
    data_preprocessor=dict(type='CG3DDataPreprocessor'),
    backbone=dict(type='PointMLP'),
    head=dict(
        type='PointClsHead',
        in_channels=1024,
        mid_channels=(512, 256),
        norm_cfg=dict(type='BN1d'),
        dropout_ratio=0.5,
        num_classes=40,
        label_smoothing=0.2))
