from .captions import SampleCaption
from .colors import (AddConstantColor, JitterColor, NormalizeColor,
                     RandomDropColor)
from .formatting import PackCG3DInputs
from .loading import (LoadPointCloud, LoadTripletImage, ResizeImage,
                      UnreadableSampleError, read_points)
from .points import (JitterPoints, NormalizePoints, PerturbRotation,
                     RandomDropPoints, RandomRotatePoints,
                     RandomScaleTranslate, SamplePoints)

__all__ = [
    'SampleCaption', 'PackCG3DInputs',
    'LoadPointCloud', 'LoadTripletImage', 'ResizeImage',
    'UnreadableSampleError', 'read_points', 'JitterPoints', 'NormalizePoints',
    'PerturbRotation', 'RandomDropPoints', 'RandomRotatePoints',
    'RandomScaleTranslate', 'SamplePoints',
    'AddConstantColor', 'JitterColor', 'NormalizeColor', 'RandomDropColor'
]
