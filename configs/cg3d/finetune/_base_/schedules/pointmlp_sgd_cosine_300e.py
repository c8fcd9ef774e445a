# PointMLP fine-tuning recipe (CG3D): 300 epochs, batch 32, SGD with
# Nesterov momentum 0.9, lr 0.02, weight decay 2e-4, cosine annealing to
# PointMLP's min_lr 0.005.
max_epochs = 300
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, nesterov=True,
                   weight_decay=2e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.005,
         by_epoch=True, convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=32)
