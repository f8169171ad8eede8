"""V's first deconvolution as a matrix product: a training step both ways, in one run.

V's decoder begins with ConvTranspose2d(1024 -> 128, 5x5) on a 1x1 image. That is one
matrix product with the layer's own weights, and ``ConvVAE.decode`` computes it so;
``ConvVAE.decode_reference`` runs the layer itself. This times one training step
(forward, the paper's loss, backward, Adam) of V at the paper's size through each,
alternating the two so that load on the machine hits both alike, and prints
frames/s and the ratio, with the layer alone timed the same way.

    python benchmarks/vae_decoder.py                  # Doom's V (z = 64), batch 100
    python benchmarks/vae_decoder.py --z 32 --threads 1
    python benchmarks/vae_decoder.py --quick          # seconds: a smoke test
"""
from __future__ import annotations

import argparse
import os
import time

import torch

from wmlib.models.vae import ConvVAE, vae_loss


def step_fn(vae, opt, x, decode):
    def step():
        mu, logvar = vae.encode(x)
        recon = decode(vae.sample(mu, logvar))
        loss = vae_loss(x, recon, mu, logvar, z_size=vae.z_size)[0]
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def layer_fn(vae, h, fast):
    first = vae.decoder[0]

    def run():
        out = vae.first_deconvolution(h) if fast else first(h.view(-1, 1024, 1, 1))
        out.sum().backward()
    return run


def alternate(fns: dict, rounds: int, reps: int) -> dict:
    """Seconds per call of each function: the median over ``rounds`` rounds that take turns."""
    for fn in fns.values():
        fn()  # warm-up
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(reps):
                fn()
            times[name].append((time.perf_counter() - start) / reps)
    return {name: sorted(t)[len(t) // 2] for name, t in times.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--z", type=int, default=64, help="z size: 64 Doom, 32 CarRacing")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rounds, reps, batch = (1, 1, 8) if args.quick else (args.rounds, 3, args.batch)

    torch.manual_seed(0)
    vae = ConvVAE(args.z)
    opt = torch.optim.Adam(vae.parameters(), lr=1e-4)
    x = torch.rand(batch, 3, 64, 64)
    h = torch.randn(batch, 1024, requires_grad=True)
    steps = alternate({"ConvTranspose2d": step_fn(vae, opt, x, vae.decode_reference),
                       "matrix product": step_fn(vae, opt, x, vae.decode)}, rounds, reps)
    layer = alternate({"ConvTranspose2d": layer_fn(vae, h, fast=False),
                       "matrix product": layer_fn(vae, h, fast=True)}, rounds, reps)

    print(f"V (z = {args.z}), batch {batch}, torch threads {torch.get_num_threads()}, cores {os.cpu_count()}, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'first deconvolution as':24s} {'train step ms':>14s} {'frames/s':>9s} {'layer fwd+bwd ms':>17s}")
    for name in steps:
        print(f"{name:24s} {1000 * steps[name]:14.1f} {batch / steps[name]:9.0f} {1000 * layer[name]:17.1f}")
    print(f"training step: x{steps['ConvTranspose2d'] / steps['matrix product']:.2f} faster; "
          f"the layer alone x{layer['ConvTranspose2d'] / layer['matrix product']:.1f}")

if __name__ == "__main__":
    main()
