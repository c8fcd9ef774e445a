from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict

from cg3d_mm.registry import HOOKS

DATA_BATCH = Optional[dict]


@HOOKS.register_module()
class AlternatingOptimizerHook(Hook):
    """Choose which optimizer of an ``OptimWrapperDict`` steps each iteration.

    CG3D steps the point encoder and the visual prompts in alternate
    iterations (disjoint losses, different learning rates). The hook sets
    ``model.train_phase`` before every training iteration to
    ``schedule[iter % len(schedule)]``, so the ratio and the order are the
    schedule itself: ``('point_encoder', 'visual_prompt')`` is the paper's
    1:1 with the point encoder first, ``('point_encoder', 'point_encoder',
    'visual_prompt')`` is 2:1. ``mode='joint'`` steps both every iteration.

    Args:
        schedule (Sequence[str]): Optimizer names, cycled.
        mode (str): ``'alternate'`` (default) or ``'joint'``.
    """

    priority = 'HIGH'

    def __init__(self,
                 schedule: Sequence[str] = ('point_encoder', 'visual_prompt'),
                 mode: str = 'alternate') -> None:
        if mode not in ('alternate', 'joint'):
            raise ValueError(f"mode must be 'alternate' or 'joint', got "
                             f'{mode!r}')
        if mode == 'alternate' and not schedule:
            raise ValueError('schedule must name at least one optimizer')
        self.schedule = tuple(schedule)
        self.mode = mode

    def before_train(self, runner) -> None:
        wrapper = runner.optim_wrapper
        if not isinstance(wrapper, OptimWrapperDict):
            raise TypeError('AlternatingOptimizerHook needs an '
                            'OptimWrapperDict (several optimizers), got '
                            f'{type(wrapper).__name__}')
        unknown = set(self.schedule) - set(wrapper.keys())
        if unknown:
            raise ValueError(f'AlternatingOptimizerHook: schedule names '
                             f'{sorted(unknown)} are not optimizers of the '
                             f'OptimWrapperDict ({sorted(wrapper.keys())})')

    def phase_of(self, iteration: int) -> str:
        if self.mode == 'joint':
            return 'joint'
        return self.schedule[iteration % len(self.schedule)]

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        model.train_phase = self.phase_of(runner.iter)

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        # ParamSchedulerHook (priority LOW: after this hook) steps every
        # optimizer's schedulers after every iteration, so all of them
        # follow the iteration count. An optimizer whose first turn is still
        # to come has not stepped yet, by design; on their first step
        # mmengine's schedulers read its step counter (read by nothing
        # else) to detect a wrong call order and would warn "Detected call
        # of `scheduler.step()` before `optimizer.step()`". Count the turn
        # it was not due as taken, so that warning keeps its meaning for
        # real mistakes (an optimizer outside the schedule is left alone).
        if self.mode == 'joint' or runner.iter >= len(self.schedule):
            return
        due = set(self.schedule[:runner.iter + 1])
        for name in set(self.schedule) - due:
            wrapper = runner.optim_wrapper[name]
            if getattr(wrapper, '_global_step', 0) < 0:
                wrapper._global_step = 0
