from .contrastive import gather_with_grad, info_nce

__all__ = ['gather_with_grad', 'info_nce']
