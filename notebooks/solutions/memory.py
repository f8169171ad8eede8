"""Notebook 02, exercises 2 and 4: training on V's mean codes, and how fast an open-loop dream drifts."""
from __future__ import annotations

import numpy as np
import torch


def mean_code_batch(data, batch, device="cpu") -> dict:
    """Like ``wmlib.training.mdnrnn.batch_tensors`` but with V's mean codes: no fresh noise per batch."""
    from wmlib.training.mdnrnn import batch_tensors

    t = batch_tensors(data, batch, torch.Generator().manual_seed(0), device)
    idx = batch.idx
    nxt = np.where(batch.valid & ~batch.last, idx + 1, idx)
    t["z"] = torch.from_numpy(np.asarray(data.mu[idx], np.float32)).to(device)
    t["z_next"] = torch.from_numpy(np.asarray(data.mu[nxt], np.float32)).to(device)
    return t


def open_loop_drift(m, z, a, tau: float, seed: int = 0) -> np.ndarray:
    """M dreams from the first real code with the real actions; squared distance to the real codes per step.

    ``z`` [T, z] real codes, ``a`` [T, A] actions -> [T - 1] mean squared distance per step.
    """
    from wmlib.models.mdnrnn import sample_mixture

    z, a = torch.as_tensor(np.asarray(z, np.float32)), torch.as_tensor(np.asarray(a, np.float32))
    gen = torch.Generator().manual_seed(seed)
    zt, state, out = z[:1], m.initial_state(1), []
    with torch.no_grad():
        for t in range(len(z) - 1):
            mix, _, state = m.step(zt, a[t:t + 1], state, restart=torch.tensor([float(t == 0)]))
            zt = sample_mixture(*mix, tau=tau, generator=gen)
            out.append(float(((zt[0] - z[t + 1]) ** 2).mean()))
    return np.array(out)
