# The fixed prompt ensemble (cg3d_mm.datasets.transforms.captions.
# ENSEMBLE_TEMPLATES): class prototype = mean of the L2-normalised text
# embeddings over these templates, renormalised. Written down before any
# evaluation, never tuned on a test split.
zeroshot_templates = [
    'This is a {}.',
    'a point cloud of a {}.',
    'a point cloud of the {}.',
    'a 3D model of a {}.',
    'a 3D scan of a {}.',
    'a partial 3D scan of a {}.',
    'a CAD model of a {}.',
    'a rendering of a {}.',
    'a photo of a {}.',
    'a photo of the {}.',
    'an object of the category {}.',
    'there is a {} in the scene.',
    'a {} in a 3D scene.',
    'the shape of a {}.',
]
