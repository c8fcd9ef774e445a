# PointTransformer (Point-BERT) fine-tuning recipe: 300 epochs, batch 32,
# AdamW lr 2e-4 / weight decay 0.05 (none on norms, biases, 1-D params,
# CLS token and position), 10 linear warm-up epochs from 1e-6, cosine to
# 1e-6, gradient clipping 10.
max_epochs = 300
warmup_epochs = 10
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-4, weight_decay=0.05),
    clip_grad=dict(max_norm=10),
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        bias_decay_mult=0.,
        flat_decay_mult=0.,
        custom_keys=dict(cls_token=dict(decay_mult=0.),
                         cls_pos=dict(decay_mult=0.))))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / 2e-4, end_factor=1.0,
         begin=0, end=warmup_epochs, by_epoch=True,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs,
         eta_min=1e-6, begin=warmup_epochs, end=max_epochs, by_epoch=True,
         convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=32)
