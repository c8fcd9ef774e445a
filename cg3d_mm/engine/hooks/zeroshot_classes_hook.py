from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from cg3d_mm.registry import HOOKS


@HOOKS.register_module()
class ZeroShotClassesHook(Hook):
    """Give the model the class names of the dataset it is evaluated on.

    Before each validation and test run the model gets the dataset's
    ``metainfo['classes']`` and builds its zero-shot prototypes once, so a
    model never needs to know which benchmark it is tested on.

    Args:
        templates (Sequence[str], optional): Override the model's
            ``test_cfg.templates``.
    """

    priority = 'NORMAL'

    def __init__(self, templates: Optional[Sequence[str]] = None) -> None:
        self.templates = templates

    def _set(self, runner, dataloader) -> None:
        dataset = dataloader.dataset
        classes = dataset.metainfo.get('classes')
        if not classes:
            raise ValueError(f'{type(dataset).__name__} has no '
                             "metainfo['classes'] for zero-shot prototypes")
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        model.set_class_names(classes, self.templates)

    def before_val(self, runner) -> None:
        self._set(runner, runner.val_dataloader)

    def before_test(self, runner) -> None:
        self._set(runner, runner.test_dataloader)
