"""A CG3D train step under CPU bf16 autocast (what ``--amp auto`` picks on
AMX / AVX512-BF16 CPUs): losses near fp32, parameters and optimizer state
fp32."""
import copy

import torch
from mmengine.config import Config

from cg3d_mm.benchmark import (build_model, build_optim, make_pretrain_batch,
                               small_model_cfg)
from cg3d_mm.engine.cli import enable_amp

SCHEDULE = 'configs/cg3d/_base_/schedules/cg3d_alternating_100e.py'


def _step(repo_root, amp):
    cfg = Config.fromfile(f'{repo_root}/{SCHEDULE}')
    if amp:
        enable_amp(cfg, 'bfloat16')
    model = build_model(small_model_cfg(), None, 'cpu', seed=0)
    model.train()
    optim = build_optim(model, cfg.optim_wrapper.to_dict())
    batch = make_pretrain_batch(4, 256, int(model.img_backbone.image_size[0]),
                                seed=1)
    logs = {}
    for phase in ('point_encoder', 'visual_prompt'):
        model.train_phase = phase
        logs.update({k: v.detach() for k, v in model.train_step(
            copy.deepcopy(batch), optim).items()})
    return model, optim, logs


def test_cpu_bf16_train_step_keeps_fp32_state(repo_root):
    model, optim, logs = _step(repo_root, amp=True)
    assert type(optim['point_encoder']).__name__ == \
        'CPUAutocastOptimWrapper'
    _, _, ref = _step(repo_root, amp=False)
    for key in ('loss_point_text', 'loss_point_image', 'loss_image_text'):
        assert logs[key].dtype == torch.float32
        assert torch.isfinite(logs[key])
        # bf16 keeps ~3 digits: the losses agree with fp32 to a few %
        assert abs(float(logs[key]) - float(ref[key])) < \
            0.05 * float(ref[key]) + 1e-3
    assert all(p.dtype == torch.float32 for p in model.parameters())
    states = [s for w in optim.values()
              for s in w.optimizer.state.values()]
    assert states  # both optimizers stepped
    for state in states:
        for v in state.values():
            if torch.is_tensor(v) and v.is_floating_point():
                assert v.dtype == torch.float32
