from .alternating_optimizer_hook import AlternatingOptimizerHook
from .sample_accounting_hook import SampleAccountingHook
from .stream_position_hook import StreamPositionHook
from .zeroshot_classes_hook import ZeroShotClassesHook

__all__ = [
    'AlternatingOptimizerHook', 'SampleAccountingHook', 'ZeroShotClassesHook'
]
__all__ += ['StreamPositionHook']
