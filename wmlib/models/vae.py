"""V: the convolutional variational autoencoder that compresses each 64x64 frame.

Exactly the paper's network (Ha & Schmidhuber 2018, appendix):

    encoder  64x64x3 -> conv 4x4/2 32 -> 64 -> 128 -> 256 (ReLU) -> 2x2x256 = 1024
             -> linear to mu [z] and logvar [z]
    decoder  z -> linear 1024 (no activation) -> 1024x1x1
             -> deconv 5x5/2 128 -> 5x5/2 64 -> 6x6/2 32 (ReLU) -> 6x6/2 3 (sigmoid)

That is 4,348,547 parameters for z = 32 (CarRacing) and 4,446,915 for z = 64
(Doom). The loss is the summed squared error per image plus the KL divergence
to N(0, I), with the paper's floor: the KL of an image counts as at least
``kl_tolerance * z_size`` nats, so below that V is free to use the code.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..device import autocast

FRAME_PIXELS = 64 * 64 * 3


class ConvVAE(nn.Module):
    """The paper's V. Inputs are float [B, 3, 64, 64] in [0, 1]."""

    def __init__(self, z_size: int = 32):
        super().__init__()
        self.z_size = z_size
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 32, 4, stride=2), nn.ReLU(),     # 64 -> 31
            nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),    # 31 -> 14
            nn.Conv2d(64, 128, 4, stride=2), nn.ReLU(),   # 14 -> 6
            nn.Conv2d(128, 256, 4, stride=2), nn.ReLU(),  # 6 -> 2
            nn.Flatten(),                                 # 2 * 2 * 256 = 1024
        )
        self.fc_mu = nn.Linear(1024, z_size)
        self.fc_logvar = nn.Linear(1024, z_size)
        self.fc_decode = nn.Linear(z_size, 1024)          # no activation, as in the paper
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(1024, 128, 5, stride=2), nn.ReLU(),  # 1 -> 5
            nn.ConvTranspose2d(128, 64, 5, stride=2), nn.ReLU(),    # 5 -> 13
            nn.ConvTranspose2d(64, 32, 6, stride=2), nn.ReLU(),     # 13 -> 30
            nn.ConvTranspose2d(32, 3, 6, stride=2), nn.Sigmoid(),   # 30 -> 64
        )

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @classmethod
    def from_checkpoint(cls, ckpt: dict, device="cpu") -> "ConvVAE":
        """V rebuilt from a checkpoint's ``z_size`` and ``model`` weights (half precision is widened), in eval mode."""
        model = cls(int(ckpt["z_size"]))
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ckpt["model"].items()})
        return model.to(device).eval()

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        # The first deconvolution reads a 1x1 image, so it is one matrix product with its own
        # weights [1024, 128, 5, 5]: the same layer and parameters, ~3x faster than
        # ConvTranspose2d on a CPU (a training step ~1.1x; benchmarks/vae_decoder.py).
        return self.decoder[1:](self.first_deconvolution(self.fc_decode(z)))

    def first_deconvolution(self, h: torch.Tensor) -> torch.Tensor:
        """[B, 1024] -> [B, 128, 5, 5]: ``decoder[0]`` on a 1x1 image, as one matrix product."""
        first = self.decoder[0]
        return (h @ first.weight.flatten(1)).view(-1, *first.weight.shape[1:]) + first.bias.view(1, -1, 1, 1)

    def decode_reference(self, z: torch.Tensor) -> torch.Tensor:
        """``decode`` through ConvTranspose2d itself: the definition the fast path is tested against."""
        return self.decoder(self.fc_decode(z).view(-1, 1024, 1, 1))

    @staticmethod
    def sample(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None):
        """z = mu + sigma * eps (the reparameterisation trick)."""
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * eps

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """-> (reconstruction, mu, logvar); the decoder sees a sampled z."""
        mu, logvar = self.encode(x)
        return self.decode(self.sample(mu, logvar, generator)), mu, logvar


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, sigma^2) || N(0, 1) ) of every latent dimension, same shape as mu (nats)."""
    mu, logvar = mu.float(), logvar.float()
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def vae_loss(x, recon, mu, logvar, kl_tolerance: float = 0.5, z_size: int | None = None):
    """The paper's loss -> (loss, recon_loss, kl), each averaged over the batch.

    recon_loss: squared error summed over the 64x64x3 pixels of each image.
    kl: KL summed over the latent dims of each image, floored at
        ``kl_tolerance * z_size`` per image (the floored value is what enters the
        loss, so ``loss == recon_loss + kl``).
    """
    z_size = mu.shape[-1] if z_size is None else z_size
    x, recon = x.float(), recon.float()  # the loss in fp32 even under autocast
    recon_loss = (recon - x).pow(2).flatten(1).sum(1).mean()
    kl = kl_per_dim(mu, logvar).sum(1).clamp(min=kl_tolerance * z_size).mean()
    return recon_loss + kl, recon_loss, kl


def frames_to_tensor(frames: np.ndarray, device="cpu") -> torch.Tensor:
    """uint8 [B, 64, 64, 3] (or one [64, 64, 3] frame) -> float [B, 3, 64, 64] in [0, 1].

    The uint8 batch travels to the device first (4x less to copy), then converts.
    """
    frames = np.asarray(frames)
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames [B, 64, 64, 3], got {frames.dtype} {frames.shape}")
    if not frames.flags.writeable:  # a read-only memory map: torch wants its own buffer
        frames = frames.copy()
    t = torch.from_numpy(np.ascontiguousarray(frames)).to(device, non_blocking=True)
    return t.permute(0, 3, 1, 2).float().div_(255.0)


def tensor_to_frames(x: torch.Tensor) -> np.ndarray:
    """float [B, 3, 64, 64] in [0, 1] -> uint8 [B, 64, 64, 3]."""
    x = x.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


def _device_of(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


@torch.no_grad()
def encode_frames(vae: ConvVAE, frames: np.ndarray, batch_size: int = 1000):
    """uint8 frames -> (mu, logvar) float32 numpy arrays [B, z], in batches."""
    device = _device_of(vae)
    mus, logvars = [], []
    for start in range(0, len(frames), batch_size):
        with autocast(device):
            mu, logvar = vae.encode(frames_to_tensor(frames[start:start + batch_size], device))
        mus.append(mu.float().cpu().numpy())
        logvars.append(logvar.float().cpu().numpy())
    if not mus:
        return np.zeros((0, vae.z_size), np.float32), np.zeros((0, vae.z_size), np.float32)
    return np.concatenate(mus), np.concatenate(logvars)


@torch.no_grad()
def decode_codes(vae: ConvVAE, z, batch_size: int = 1000) -> np.ndarray:
    """Latent codes [B, z] (numpy or tensor) -> uint8 frames [B, 64, 64, 3]."""
    device = _device_of(vae)
    z = torch.as_tensor(np.asarray(z, np.float32)).reshape(-1, vae.z_size)
    out = [tensor_to_frames(vae.decode(z[s:s + batch_size].to(device)))
           for s in range(0, len(z), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, 64, 64, 3), np.uint8)


@torch.no_grad()
def reconstruct(vae: ConvVAE, frames: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """uint8 frames -> V's reconstructions as uint8 frames (decoding mu: no sampling noise)."""
    mu, _ = encode_frames(vae, frames, batch_size)
    return decode_codes(vae, mu, batch_size)


__all__ = ["ConvVAE", "vae_loss", "kl_per_dim", "frames_to_tensor", "tensor_to_frames",
           "encode_frames", "decode_codes", "reconstruct", "FRAME_PIXELS"]
