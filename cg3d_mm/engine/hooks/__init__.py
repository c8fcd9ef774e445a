from .alternating_optimizer_hook import AlternatingOptimizerHook
from .zeroshot_classes_hook import ZeroShotClassesHook

__all__ = ['AlternatingOptimizerHook', 'ZeroShotClassesHook']
