# The paper's recipe: two optimizers stepping in alternate iterations
# (even: point encoder, odd: visual prompts), 100 epochs, clip grad 10.
optim_wrapper = dict(
    constructor='CG3DOptimWrapperConstructor',
    point_encoder=dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.1),
        clip_grad=dict(max_norm=10),
        # The original's rule: no weight decay on 1-D params (norms),
        # biases and tokens. Matched, including what it decays: PointMLP's
        # affine_alpha / affine_beta are 4-D there (1-D here) and decayed,
        # so the custom keys (which take precedence) decay them here too.
        paramwise_cfg=dict(
            norm_decay_mult=0., bias_decay_mult=0., flat_decay_mult=0.,
            custom_keys=dict(affine_alpha=dict(decay_mult=1.),
                             affine_beta=dict(decay_mult=1.)))),
    visual_prompt=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
        clip_grad=dict(max_norm=10)))

max_epochs = 100
# One cosine schedule per optimizer (the original's duplicated YAML key
# silently made the prompt lr constant; here both anneal).
param_scheduler = dict(
    point_encoder=[
        dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-6,
             by_epoch=True, convert_to_iter_based=True)
    ],
    visual_prompt=[
        dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.,
             by_epoch=True, convert_to_iter_based=True)
    ])

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

custom_hooks = [
    dict(type='AlternatingOptimizerHook',
         schedule=('point_encoder', 'visual_prompt')),
    dict(type='ZeroShotClassesHook'),
]
# Each optimizer's modules get their own DDP wrapper.
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel',
                         find_unused_parameters=False)
auto_scale_lr = dict(enable=False, base_batch_size=32)
