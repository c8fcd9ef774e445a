from .point_transformer import PointTransformer
from .pointmlp import PointMLP
from .prompted_clip_vit import PromptedCLIPViT, vpt_init_range

__all__ = ['PointMLP', 'PointTransformer', 'PromptedCLIPViT', 'vpt_init_range']
