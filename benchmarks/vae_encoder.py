"""V's encoder in a rollout worker: which way of running it is fastest on one CPU thread, in one run.

A rollout worker encodes every frame with V before C acts, on one thread, a few
frames at a time. This times the encoder's mean code per frame at several batch
sizes, computed five ways that give the same numbers:

* ``torchscript``: what the workers run (``rollout.mean_encoder``: TorchScript,
  frozen, weights packed once);
* ``eager``: ``vae.encode`` as written;
* ``channels_last``: the eager modules on NHWC tensors (oneDNN's preferred layout);
* ``unfold``: each convolution as im2col (``F.unfold``) and one matrix product;
* ``no_onednn``: the eager modules with oneDNN switched off (ATen's own kernels);

next to the floor: the encoder's FLOPs at this core's matrix-multiply rate.

    python benchmarks/vae_encoder.py
    python benchmarks/vae_encoder.py --z 64 --batches 1 8
    python benchmarks/vae_encoder.py --quick        # seconds: a smoke test
"""
from __future__ import annotations

import argparse
import os
import time
import warnings

import torch
import torch.nn.functional as F

from rollout import encoder_macs, matmul_gflops  # the sibling benchmark: V's FLOPs and the matmul rate
from wmlib.agent.rollout import mean_encoder
from wmlib.models.vae import ConvVAE


def per_frame_ms(fn, x, repeats: int) -> float:
    with torch.no_grad():
        for _ in range(5):
            fn(x)
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn(x)
    return 1000 * (time.perf_counter() - t0) / repeats / len(x)


def unfold_encoder(vae):
    """The encoder's convolutions as im2col + one matrix product each (same numbers)."""
    convs = [m for m in vae.encoder if isinstance(m, torch.nn.Conv2d)]
    weights = [(c.weight.detach().flatten(1), c.bias.detach().view(1, -1, 1), c.kernel_size[0], c.stride[0])
               for c in convs]

    def encode(x):
        for w, b, k, s in weights:
            side = (x.shape[-1] - k) // s + 1
            x = torch.relu(w @ F.unfold(x, k, stride=s) + b).view(len(x), -1, side, side)
        return vae.fc_mu(x.flatten(1))
    return encode


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--z", type=int, default=32, help="V's code size (CarRacing 32, Doom 64)")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 4, 8, 16, 32])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)  # as in each rollout worker
    warnings.filterwarnings("ignore", message=".*TF32")  # oneDNN's note about Intel GPUs, irrelevant here
    repeats = 10 if args.quick else 200

    torch.manual_seed(0)
    vae = ConvVAE(args.z).eval()
    nhwc = ConvVAE(args.z).eval()
    nhwc.load_state_dict(vae.state_dict())
    nhwc = nhwc.to(memory_format=torch.channels_last)
    ways = {
        "torchscript": mean_encoder(vae),
        "eager": lambda x: vae.encode(x)[0],
        "channels_last": lambda x: nhwc.encode(x.contiguous(memory_format=torch.channels_last))[0],
        "unfold": unfold_encoder(vae),
    }
    flops, peak = 2 * encoder_macs(vae), matmul_gflops()
    print(f"V's encoder (z {args.z}): {flops / 1e6:.1f} MFLOP per frame | one thread | cores {os.cpu_count()} | "
          f"load average {os.getloadavg()[0]:.2f} | torch {torch.__version__}")
    print(f"matrix multiply: {peak:.1f} GFLOP/s -> floor {flops / peak / 1e6:.3f} ms per frame\n")
    print(f"{'batch':>5} " + " ".join(f"{w:>13}" for w in [*ways, "no_onednn"]) + "   ms per frame")
    for batch in args.batches:
        x = torch.rand(batch, 3, 64, 64)
        with torch.no_grad():
            want = vae.encode(x)[0]
            for name, fn in ways.items():
                torch.testing.assert_close(fn(x), want, atol=1e-4, rtol=1e-4, msg=f"{name} differs")
        ms = [per_frame_ms(fn, x, repeats) for fn in ways.values()]
        with torch.backends.mkldnn.flags(enabled=False):
            ms.append(per_frame_ms(ways["eager"], x, repeats))
        print(f"{batch:>5} " + " ".join(f"{m:13.3f}" for m in ms))
    print("\nGFLOP/s of the fastest way at the largest batch: "
          f"{flops / min(ms) / 1e6:.1f} (matrix multiply: {peak:.1f})")


if __name__ == "__main__":
    main()
