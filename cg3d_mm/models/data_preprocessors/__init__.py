from .cg3d_data_preprocessor import CG3DDataPreprocessor

__all__ = ['CG3DDataPreprocessor']
