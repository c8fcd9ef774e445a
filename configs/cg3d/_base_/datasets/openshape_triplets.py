# OpenShape's processed training data (data/OpenShape/: the split
# meta_data/split/train_all.json and the unpacked per-shape files, pickled
# dicts with xyz, rgb in [0, 1] and texts; see
# cg3d_mm/datasets/openshape_triplets.py). OpenShape ships no rendered views
# (only their CLIP features): this source trains the POINT-TEXT LOSS ONLY.
# Its samples are packed with a blank image and has_img=False, so that they
# mix with image-bearing sources (the image losses skip them); alone, a
# point-encoder-only schedule is used (pointmlp_openshape_rgb.py). The
# per-shape files are pickles, which can run code when loaded:
# trust_pickle=True states that OpenShape's release is trusted. Its
# data_path entries name the machine OpenShape wrote them on: path_map
# rewrites that prefix to data_root.
dataset_type = 'OpenShapeTriplets'
data_root = 'data/OpenShape/'
num_points = 1024
up_axis = 'y'  # the files are y-up (OpenShape swaps y/z for z-up rotation)
point_dims = (0, 1, 2, 3, 4, 5)  # xyz, rgb
blank_img_size = 224  # must equal the views of the sources it is mixed with

train_pipeline = [
    # caption sources as OpenShape's training: text, caption, retrieval_text
    dict(type='LoadOpenShapeShape',
         text_sources=('text', 'caption', 'retrieval_text')),
    dict(type='LoadPointCloud', use_dims=point_dims),
    dict(type='NormalizePoints'),
    dict(type='RandomRotatePoints', up_axis=up_axis, quarter_turns=True,
         angle_range=None, prob=0.3),
    dict(type='RandomRotatePoints', up_axis=up_axis, prob=0.3),
    dict(type='PerturbRotation', sigma=0.06, clip=0.18, prob=0.3),
    dict(type='JitterPoints', sigma=0.01, clip=0.05, prob=0.3),
    dict(type='RandomDropPoints', max_ratio=0.1, prob=0.3,
         min_points=num_points),
    dict(type='SamplePoints', num_points=num_points, method='fps'),
    dict(type='RandomScaleTranslate', scale_range=(2 / 3, 3 / 2),
         translate_range=(-0.2, 0.2)),
    dict(type='RandomDropColor', prob=0.5, value=0.4),
    # 'text' entries are names: put in a template drawn per iteration
    dict(type='SampleSourceCaption', templated=('text', )),
    dict(type='PackCG3DInputs', keys=('points', 'img'),
         blank_img_size=blank_img_size),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta_data/split/train_all.json',
        trust_pickle=True,
        path_map={'/mnt/data/': ''},
        pipeline=train_pipeline))
