"""Training speed of M (the MDN-RNN): timesteps per second, both worlds' paper architectures.

One timestep = one (z_t, a_t) -> z_{t+1} prediction trained: forward, masked
mixture NLL (+ Doom's done BCE), backward, gradient clipping, Adam. Batches are
synthetic but shaped like the real ones (``wmlib.training.mdnrnn.m_loss``, the
library's own loss). Doom's "stream" batches hold episode starts inside the
chunks (an episode every ~210 steps, the random policy's mean) so the LSTM is
run in segments between resets; the same run also times "aligned" chunks
(``mdnrnn.batching="aligned"``: episodes padded to whole chunks, so restarts
fall only on a chunk's first step and the LSTM runs in one call; "windows"
batches, the laptop's, never restart mid-chunk either and time the same), and
the ratio is the cost of resetting. Doom is timed at its profile's rows per batch,
at 32 (the laptop's streams before) and at 8: the fewer the rows, the more
steps per epoch and the dearer each reset. On CUDA the default is mixed precision
(the training path); fp32 is timed too for the ratio.

    python benchmarks/mdnrnn.py            # laptop batch/sequence sizes (and paper sizes on CUDA)
    python benchmarks/mdnrnn.py --quick    # a few small steps, seconds
"""
from __future__ import annotations

import argparse
import time

import wmlib  # noqa: F401  (first: it sets OMP_WAIT_POLICY=PASSIVE before torch loads OpenMP, as the CLI does)
import torch

from wmlib.config import get_config
from wmlib.training.mdnrnn import build_model, m_loss

EPISODE_LEN = 210  # mean random-policy episode in Take Cover


def synthetic_batch(cfg, B: int, L: int, resets: str, device, seed: int = 0) -> dict:
    """resets: "none", "stream" (episode starts anywhere) or "aligned" (only on a chunk's first step)."""
    g = torch.Generator().manual_seed(seed)
    z = cfg.vae.z_size
    restart = torch.zeros(B, L)
    if resets == "stream":  # episode starts at random places, about one every EPISODE_LEN steps per stream
        restart = (torch.rand(B, L, generator=g) < 1 / EPISODE_LEN).float()
    elif resets == "aligned":  # a padded episode starts a chunk about every EPISODE_LEN / L chunks
        restart[:, 0] = (torch.rand(B, generator=g) < L / EPISODE_LEN).float()
    t = dict(z=torch.randn(B, L, z, generator=g), z_next=torch.randn(B, L, z, generator=g),
             a=torch.rand(B, L, cfg.action_size, generator=g) * 2 - 1,
             done=(torch.rand(B, L, generator=g) < 1 / EPISODE_LEN).float(), restart=restart,
             z_mask=torch.ones(B, L), valid=torch.ones(B, L))
    return {k: v.to(device) for k, v in t.items()}


def time_training(cfg, B, L, device, steps, resets, amp=True, clock=time.perf_counter) -> float:
    """Timesteps per second of full training steps (after one warm-up step); ``clock``: wall time, or
    ``time.process_time`` for CPU seconds (what the steps cost, whatever else shares the cores)."""
    torch.manual_seed(0)
    model = build_model(cfg, cfg.vae.z_size).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.mdnrnn.lr)
    batch = synthetic_batch(cfg, B, L, resets, device)

    def one():
        loss, _, _ = m_loss(model, batch, None, cfg.mdnrnn.done_pos_weight, device, amp=amp)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.mdnrnn.grad_clip)
        opt.step()

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    one()
    sync()
    t0 = clock()
    for _ in range(steps):
        one()
    sync()
    return steps * B * L / (clock() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny run (seconds)")
    ap.add_argument("--steps", type=int, default=None)
    args = ap.parse_args()
    steps = args.steps or (2 if args.quick else 5)

    runs = [("cpu", "laptop")]
    if torch.cuda.is_available():
        runs += [("cuda", "laptop"), ("cuda", "paper")]
    print(f"torch {torch.__version__}, CPU threads {torch.get_num_threads()}"
          + (f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no GPU"))
    print(f"{'world':<10} {'device':<5} {'sizes':<22} {'timesteps/s':>12}  notes")
    for dev_name, profile in runs:
        device = torch.device(dev_name)
        for world in ("carracing", "doom"):
            cfg = get_config(world, "paper")  # the paper's architecture ...
            sizes = get_config(world, profile).mdnrnn  # ... at this profile's batch and sequence
            B, L = sizes.batch_size, sizes.seq_len
            if args.quick:
                B, L = min(B, 8), min(L, 50)
            doom = world == "doom"
            for b in (sorted({B, 32, 8}, reverse=True) if doom and not args.quick else [B]):
                resets = "stream" if doom else "none"
                rate = time_training(cfg, b, L, device, steps, resets=resets)
                notes = []
                if doom:
                    plain = time_training(cfg, b, L, device, steps, resets="aligned")
                    notes.append(f"aligned {plain:,.0f}/s (in-chunk resets cost x{plain / rate:.2f})")
                if device.type == "cuda":
                    fp32 = time_training(cfg, b, L, device, steps, resets=resets, amp=False)
                    notes.append(f"fp32 {fp32:,.0f}/s (AMP x{rate / fp32:.2f})")
                label = f"B{b} x L{L} h{cfg.mdnrnn.hidden}"
                print(f"{world:<10} {dev_name:<5} {label:<22} {rate:>12,.0f}  {'; '.join(notes)}")


if __name__ == "__main__":
    main()
