from .captions import (PRETRAIN_TEMPLATES, ZEROSHOT_TEMPLATES, SampleCaption,
                       check_templates, readable_class_name)
from .formatting import PackCG3DInputs
from .loading import (LoadPointCloud, LoadTripletImage, ResizeImage,
                      UnreadableSampleError, read_points)
from .points import (JitterPoints, NormalizePoints, PerturbRotation,
                     RandomDropPoints, RandomRotatePoints,
                     RandomScaleTranslate, SamplePoints)

__all__ = [
    'PRETRAIN_TEMPLATES', 'ZEROSHOT_TEMPLATES', 'SampleCaption',
    'check_templates', 'readable_class_name', 'PackCG3DInputs',
    'LoadPointCloud', 'LoadTripletImage', 'ResizeImage',
    'UnreadableSampleError', 'read_points', 'JitterPoints', 'NormalizePoints',
    'PerturbRotation', 'RandomDropPoints', 'RandomRotatePoints',
    'RandomScaleTranslate', 'SamplePoints'
]
