# The PointMLP fine-tuning recipe (SGD, cosine) shortened to a CPU budget:
# 10 epochs, validation every 5, the test split evaluated once on the final
# weights.
_base_ = ['./pointmlp_sgd_cosine_300e.py']

max_epochs = 10
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.005,
         by_epoch=True, convert_to_iter_based=True)
]
test_after_train = True
