# PointTransformer (Point-BERT) classifier with the original fine-tuning
# head ([CLS, max] 768 -> 256 -> classes, ReLU, dropout 0.5, no norm;
# = original_cls_head_cfg('PointTransformer', K)), plain cross-entropy.
model = dict(
    type='PointClassifier',
    data_preprocessor=dict(type='CG3DDataPreprocessor'),
    backbone=dict(type='PointTransformer'),
    head=dict(
        type='PointClsHead',
        in_channels=768,
        mid_channels=(256, ),
        norm_cfg=None,
        dropout_ratio=0.5,
        num_classes=40,
        label_smoothing=0.))
