from .point_data_sample import PointDataSample

__all__ = ['PointDataSample']
