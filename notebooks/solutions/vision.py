"""Notebook 01, exercises 2 and 3: a plain autoencoder against the VAE, and a loss that weights rare pixels."""
from __future__ import annotations

import numpy as np
import torch


def train_autoencoder(frames: np.ndarray, z_size: int = 32, steps: int = 50, lr: float = 1e-3, seed: int = 0):
    """A ``ConvVAE`` trained as a plain autoencoder: decode mu, no noise, no KL, squared error only."""
    from wmlib.models.vae import ConvVAE, frames_to_tensor

    torch.manual_seed(seed)
    model = ConvVAE(z_size)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = frames_to_tensor(frames[rng.choice(len(frames), min(32, len(frames)), replace=False)])
        mu, _ = model.encode(x)
        loss = (model.decode(mu) - x).pow(2).sum((1, 2, 3)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def prior_decodings(model, n: int = 8, seed: int = 0) -> np.ndarray:
    """Decode ``n`` codes drawn from N(0, I): what each model draws where it was never trained."""
    from wmlib.models.vae import decode_codes

    z = np.random.default_rng(seed).standard_normal((n, model.z_size)).astype(np.float32)
    return decode_codes(model, z)


def code_spread(model, frames: np.ndarray) -> tuple[float, float]:
    """Mean and std of the codes of real frames: a VAE's sit near N(0, 1), an autoencoder's need not."""
    from wmlib.models.vae import encode_frames

    mu, _ = encode_frames(model, frames)
    return float(mu.mean()), float(mu.std())


def weighted_loss(x, recon, mu, logvar, mean_frame, top: float = 0.05, weight: float = 10.0,
                  kl_tolerance: float = 0.5):
    """The paper's loss with the squared error of the most unusual pixels (the ``top`` share farthest
    from ``mean_frame``, float [3, 64, 64] in [0, 1]) weighted ``weight`` times."""
    distance = (x - mean_frame).abs().mean(1, keepdim=True)                    # [B, 1, 64, 64]
    cut = torch.quantile(distance.flatten(), 1 - top)
    w = torch.where(distance >= cut, weight, 1.0)
    recon_loss = (w * (recon - x) ** 2).sum((1, 2, 3))
    kl = 0.5 * (mu ** 2 + logvar.exp() - logvar - 1).sum(1)
    return (recon_loss + kl.clamp(min=kl_tolerance * mu.shape[1])).mean()
