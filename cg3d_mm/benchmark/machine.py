"""The machine a benchmark runs on: peak memory of a code region, the
facts a report needs to be read (CPU, its bf16 capability, threads, library
versions, GPU) and its own matmul throughput per dtype."""
import ctypes
import gc
import os
import platform
import resource
import time
from typing import Dict, Optional, Sequence

import torch

from cg3d_mm.utils.precision import choose_precision


def _proc_status_kb(field: str) -> Optional[int]:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def trim_heap() -> None:
    """Return freed heap pages to the OS (glibc), so RSS is a fair base."""
    gc.collect()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakMemory:
    """Peak memory of a code region above the memory at its start.

    CPU: resident set size. The kernel's high-water mark is reset at
    :meth:`start` (``echo 5 > /proc/self/clear_refs``); where that is not
    possible, ``ru_maxrss`` (the peak over the whole process) is used and
    the method says so. GPU: ``torch.cuda`` allocator statistics.

    Args:
        device (str): ``'cpu'`` or a CUDA device.
    """

    def __init__(self, device: str) -> None:
        self.cuda = str(device).startswith('cuda')
        self.method = ''
        self.base_mb = 0.

    def start(self) -> None:
        trim_heap()
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base_mb = torch.cuda.memory_allocated() / 2**20
            self.method = 'torch.cuda.max_memory_allocated'
            return
        try:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')
            self.method = 'VmHWM (reset at start)'
        except OSError:
            self.method = 'ru_maxrss (process lifetime)'
        rss = _proc_status_kb('VmRSS')
        self.base_mb = (rss if rss is not None else resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss) / 1024

    def stop(self) -> Dict[str, float]:
        """Returns base, peak and peak - base (MB) and the method."""
        if self.cuda:
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() / 2**20
        else:
            hwm = _proc_status_kb('VmHWM') if self.method.startswith(
                'VmHWM') else None
            peak = (hwm if hwm is not None else resource.getrusage(
                resource.RUSAGE_SELF).ru_maxrss) / 1024
        return dict(base_mb=self.base_mb, peak_mb=peak,
                    delta_mb=peak - self.base_mb, method=self.method)


def machine_facts(device: str) -> dict:
    """CPU model and flags, threads, library versions, GPU name."""
    import mmengine
    import open_clip
    cpu, flags = platform.processor() or '?', set()
    try:
        with open('/proc/cpuinfo') as f:
            info = f.read().splitlines()
    except OSError:
        info = []
    for key in ('model name', 'flags'):
        line = next((x for x in info if x.startswith(key)), None)
        if line and key == 'model name':
            cpu = line.split(':', 1)[1].strip()
        elif line:
            flags = set(line.split(':', 1)[1].split())
    facts = dict(
        cpu=cpu,
        cpu_flags=sorted(flags & {'avx2', 'avx512f', 'avx512_bf16',
                                  'amx_bf16', 'amx_tile', 'fma'}),
        logical_cpus=os.cpu_count(),
        usable_cpus=(len(os.sched_getaffinity(0)) if hasattr(
            os, 'sched_getaffinity') else os.cpu_count()),
        torch_threads=torch.get_num_threads(),
        torch=torch.__version__, mmengine=mmengine.__version__,
        open_clip=open_clip.__version__, python=platform.python_version(),
        device=str(device))
    if str(device).startswith('cuda'):
        facts['gpu'] = torch.cuda.get_device_name(torch.device(device))
    choice = choose_precision(device, flags=flags if info else None)
    facts.update(cpu_capability=torch.backends.cpu.get_cpu_capability(),
                 precision_auto=choice.precision,
                 precision_reason=choice.reason)
    return facts


def _sync(device: str) -> None:
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


def matmul_peak(device: str,
                dtypes: Sequence[str] = ('float32', 'bfloat16'),
                size: Optional[int] = None,
                min_seconds: float = 0.3,
                rounds: int = 3) -> Dict[str, float]:
    """The machine's own square-matmul throughput per dtype (GFLOP/s).

    The best of ``rounds`` rounds, each timing ``size`` x ``size`` products
    for at least ``min_seconds``: what this machine reaches on dense GEMM
    with the threads it has now, the yardstick of each component's
    achieved GFLOP/s.

    Args:
        device (str): ``'cpu'`` or a CUDA device.
        dtypes (Sequence[str]): torch dtype names, e.g. ``'float16'`` too
            on GPU.
        size (int, optional): Matrix size; 1024 on CPU, 4096 on GPU.
        min_seconds (float): Timed length of a round.
        rounds (int): Rounds; the fastest counts.

    Returns:
        dict: dtype name -> GFLOP/s.
    """
    size = size or (4096 if str(device).startswith('cuda') else 1024)
    out = {}
    for name in dtypes:
        g = torch.Generator().manual_seed(0)
        a, b = (torch.randn(size, size, generator=g).to(
            device, getattr(torch, name)) for _ in range(2))
        a @ b  # warm-up (kernel selection, packing buffers)
        best = 0.
        for _ in range(rounds):
            _sync(device)
            n, t0 = 0, time.perf_counter()
            while True:
                a @ b
                n += 1
                _sync(device)
                elapsed = time.perf_counter() - t0
                if elapsed >= min_seconds:
                    break
            best = max(best, 2 * size**3 * n / elapsed / 1e9)
        out[name] = best
    return out
