
from .prompted_clip_vit import PromptedCLIPViT, vpt_init_range  # noqa: F401
from .point_transformer import PointTransformer  # noqa: F401
from .pointmlp import PointMLP  # noqa: F401
