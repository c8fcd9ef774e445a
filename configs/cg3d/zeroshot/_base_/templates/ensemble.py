# The fixed prompt ensemble, by name (cg3d_mm.utils.templates.
# ENSEMBLE_TEMPLATES): class prototype = mean of the L2-normalised text
# embeddings over its templates, renormalised. Written down before any
# evaluation, never tuned on a test split.
zeroshot_templates = 'ensemble'
