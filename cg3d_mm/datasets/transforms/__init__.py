from .captions import SampleCaption
from .colors import (AddConstantColor, JitterColor, NormalizeColor,
                     RandomDropColor, RandomShiftColor)
from .decoding import DecodeTripletImage
from .formatting import PackCG3DInputs
from .loading import (LoadOpenShapeShape, LoadPointCloud, LoadTripletImage,
                      ResizeImage, UnreadableSampleError, read_points)
from .points import (JitterPoints, NormalizePoints, PerturbRotation,
                     RandomDropPoints, RandomRotatePoints,
                     RandomScaleTranslate, SamplePoints)
from .source_captions import SampleSourceCaption

__all__ = [
    'SampleCaption', 'SampleSourceCaption', 'PackCG3DInputs',
    'LoadPointCloud', 'LoadOpenShapeShape', 'LoadTripletImage',
    'DecodeTripletImage', 'ResizeImage', 'UnreadableSampleError',
    'read_points', 'JitterPoints', 'NormalizePoints', 'PerturbRotation',
    'RandomDropPoints', 'RandomRotatePoints', 'RandomScaleTranslate',
    'SamplePoints', 'AddConstantColor', 'JitterColor', 'NormalizeColor',
    'RandomDropColor', 'RandomShiftColor'
]
