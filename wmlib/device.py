"""Pick the compute device and the matching mixed-precision context.

The same code runs on a laptop CPU and on a GPU: CUDA when present (with bf16
autocast where the card supports it, else fp16), plain fp32 on the CPU.
"""
from __future__ import annotations

import contextlib

import torch


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(device=None) -> torch.device:
    """``None`` / "auto" -> the default device; otherwise what was asked, checked."""
    if device in (None, "auto"):
        return default_device()
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but no GPU is visible: use --device cpu")
    return device


@contextlib.contextmanager
def cpu_threads(n: int):
    """torch's CPU threads set to ``n`` inside the block (0: leave torch's default), restored after.
    A small recurrent model at a small batch trains faster on one thread than on two: each step's
    matrix products are too small to pay for the threads' synchronisation (benchmarks/mdnrnn_threads.py)."""
    if n < 0:
        raise ValueError(f"threads must be 0 (torch's default) or a positive count (got {n})")
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def amp_dtype(device) -> torch.dtype | None:
    device = torch.device(device)
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device):
    """Mixed precision on CUDA; a no-op context on the CPU."""
    dtype = amp_dtype(device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda", dtype=dtype)


def grad_scaler(device) -> torch.amp.GradScaler:
    """Loss scaling is only needed for fp16; disabled elsewhere."""
    return torch.amp.GradScaler("cuda", enabled=amp_dtype(device) == torch.float16)


__all__ = ["default_device", "resolve_device", "amp_dtype", "autocast", "grad_scaler"]
