from .cg3d_optim_wrapper_constructor import CG3DOptimWrapperConstructor
from .cpu_autocast_optim_wrapper import CPUAutocastOptimWrapper

__all__ = ['CG3DOptimWrapperConstructor', 'CPUAutocastOptimWrapper']
