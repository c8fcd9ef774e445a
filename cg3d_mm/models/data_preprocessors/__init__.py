from .cg3d_data_preprocessor import (CG3DDataPreprocessor,
                                     build_data_preprocessor)

__all__ = ['CG3DDataPreprocessor', 'build_data_preprocessor']
