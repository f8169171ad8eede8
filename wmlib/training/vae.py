"""Train V on the random-play frames, and encode every episode for M.

``train_vae(cfg)`` streams shuffled minibatches from the memory-mapped shards
(memory stays one batch), runs on the CPU or on CUDA with mixed precision, and
writes into ``<artifacts>/<world>/<profile>/vae/``:

    last.pt    the full training state (model, Adam, step counters, RNG), saved
               every ``checkpoint_every`` steps and at every epoch end
    log.json   the loss curve: {"train": [...], "val": [...]} for the notebooks
    vae.pt     the finished V (weights + config); its presence makes
               ``train_vae`` a no-op, so notebooks can get-or-build

Exact resume: epoch e shuffles with ``np.random.default_rng([seed, e])``, so a
resumed run rebuilds the same order and skips the batches already done
(``start_batch``); the sampling noise comes from a dedicated torch Generator
whose state is in the checkpoint. A run killed anywhere and restarted ends
with the same weights as one that never stopped (bit for bit on the CPU).

``encode_dataset(cfg)`` turns every frame into (mu, logvar), chunk by chunk,
into the float16 series M trains on (``wmlib.training.series``).
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import torch

from .. import paths
from ..artifacts import file_sha256, load_checkpoint, read_json, save_checkpoint, write_json
from ..config import Config
from ..worlds.data import RolloutDataset, load_dataset
from ..device import autocast, grad_scaler, resolve_device
from .series import EncodedSeries, SeriesWriter
from . import stages
from .stages import Stage, data_stage
from ..models.vae import FRAME_PIXELS, ConvVAE, encode_frames, frames_to_tensor, kl_per_dim, vae_loss

# Config fields that change the trained weights (the others only change bookkeeping).
TRAINING_KEYS = ("z_size", "epochs", "batch_size", "lr", "kl_tolerance", "val_episodes",
                 "max_frames_per_epoch", "seed")
METRICS = ("loss", "recon", "kl", "kl_raw")


def _train_cmd(cfg: Config) -> str:
    return f"`python -m wmlib train-vae {cfg.world} --profile {cfg.profile}`"


def vae_stage(cfg: Config) -> Stage:
    """V: reads the random play; keyed by the V settings that change its weights."""
    final = paths.vae_file(cfg)
    return Stage("V", paths.vae_dir(cfg), {f"vae.{k}": getattr(cfg.vae, k) for k in TRAINING_KEYS},
                 done=final.exists, reads=(data_stage(paths.data_dir(cfg)),),
                 legacy=lambda: _check_same_training(load_checkpoint(final), cfg, final))


def series_stage(cfg: Config) -> Stage:
    """V's code of every frame: reads the random play and V; built afresh when either changed."""
    folder = paths.series_dir(cfg)

    def legacy() -> bool:  # a series from before keys: the V file and the data it was made from
        meta = read_json(folder / "meta.json")
        data = load_dataset(cfg)
        return (meta.get("vae_sha256") == file_sha256(paths.vae_file(cfg)) and meta.get("n_frames") == data.n_frames
                and meta.get("n_episodes") == data.n_episodes)

    return Stage("series", folder, {}, done=(folder / "meta.json").exists,
                 reads=(data_stage(paths.data_dir(cfg)), vae_stage(cfg)), legacy=legacy, rebuild=True)


def _check_same_training(ckpt: dict, cfg: Config, path: Path) -> None:
    """Refuse to silently reuse (or resume) a V trained with other settings."""
    want = dataclasses.asdict(cfg.vae)
    diff = {k: (ckpt["config"].get(k), want[k]) for k in TRAINING_KEYS if ckpt["config"].get(k) != want[k]}
    if diff:
        raise ValueError(
            f"{path} was trained with {stages.describe_changes(diff)}: move the folder {path.parent} away to "
            "train afresh, or use another profile / WM_ARTIFACTS folder")


# ----------------------------------------------------------------------------- evaluation

@torch.no_grad()
def evaluate_vae(vae: ConvVAE, dataset: RolloutDataset, episodes, batch_size: int = 100,
                 kl_tolerance: float = 0.5, max_frames: int = 0, seed: int = 0) -> dict:
    """Mean loss terms over the frames of ``episodes`` (in order), plus the
    reconstruction error per pixel value (decoding mu, values in [0, 1])."""
    device = next(vae.parameters()).device
    was_training = vae.training
    vae.eval()
    gen = torch.Generator(device=device).manual_seed(seed + 1)  # same noise every evaluation
    sums, n = dict.fromkeys((*METRICS, "sq_err"), 0.0), 0
    for frames in dataset.iter_frame_batches(episodes, batch_size, shuffle=False, max_frames=max_frames):
        x = frames_to_tensor(frames, device)
        with autocast(device):
            mu, logvar = vae.encode(x)
            recon = vae.decode(vae.sample(mu, logvar, gen))
            recon_mu = vae.decode(mu)
        loss, rl, kl = vae_loss(x, recon, mu, logvar, kl_tolerance, vae.z_size)
        kl_raw = kl_per_dim(mu, logvar).sum(1).mean()
        sq_err = (recon_mu.float() - x).pow(2).sum() / len(x)
        for key, val in zip((*METRICS, "sq_err"), (loss, rl, kl, kl_raw, sq_err)):
            sums[key] += float(val) * len(x)
        n += len(x)
    vae.train(was_training)
    if n == 0:
        raise ValueError("no frames to evaluate: the held-out episodes are empty; collect more episodes")
    out = {k: sums[k] / n for k in METRICS}
    out["mse_per_pixel"] = sums["sq_err"] / n / FRAME_PIXELS
    out["frames"] = n
    return out


# ----------------------------------------------------------------------------- training

def _fresh_state() -> dict:
    return dict(epoch=0, batch=0, step=0, frames=0, log=dict(train=[], val=[]),
                window=dict(n=0, **dict.fromkeys(METRICS, 0.0)))


def _flush_window(state: dict) -> dict | None:
    """Average the steps since the last log point into one point of the curve."""
    w = state["window"]
    if w["n"] == 0:
        return None
    point = dict(step=state["step"], epoch=state["epoch"], frames=state["frames"],
                 **{k: w[k] / w["n"] for k in METRICS})
    state["log"]["train"].append(point)
    state["window"] = dict(n=0, **dict.fromkeys(METRICS, 0.0))
    return point


def train_vae(cfg: Config, progress: bool = True, device=None, callback=None) -> Path:
    """Train V at ``cfg``'s profile (resuming ``last.pt`` if present); return ``vae.pt``.

    ``callback(step, metrics)`` runs after every optimizer step (metrics of that
    batch); raising from it stops the run like a kill would.
    A no-op returning the path when the finished V was trained with the same settings on the
    same data (``stages.get``; else a clear error naming what changed).
    """
    final = paths.vae_file(cfg)
    return stages.get(vae_stage(cfg), lambda: _train_vae(cfg, progress, device, callback), lambda: final)


def _train_vae(cfg: Config, progress: bool, device, callback) -> Path:
    final = paths.vae_file(cfg)
    vc = cfg.vae
    dataset = load_dataset(cfg)  # FileNotFoundError naming `collect` if there is no data
    train_idx, val_idx = dataset.split(vc.val_episodes)
    out = paths.ready(paths.vae_dir(cfg))
    last = out / paths.LAST
    device = resolve_device(device)

    with torch.random.fork_rng(devices=[]):  # seeded init without touching the caller's RNG
        torch.manual_seed(vc.seed)
        model = ConvVAE(vc.z_size)
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=vc.lr)
    scaler = grad_scaler(device)
    gen = torch.Generator(device=device).manual_seed(vc.seed)
    state = _fresh_state()
    if last.exists():
        state = _restore(last, cfg, dataset, model, opt, scaler, gen, device)

    n_train = int(dataset.lengths[train_idx].sum())
    if vc.max_frames_per_epoch:
        n_train = min(n_train, vc.max_frames_per_epoch)
    if n_train == 0:
        raise ValueError(f"the training episodes of {dataset.root} hold no frames: collect more episodes")
    per_epoch = math.ceil(n_train / vc.batch_size)

    def save():
        _save(last, model, opt, scaler, gen, state, cfg, dataset, device)
        write_json(out / paths.LOG, state["log"])

    from tqdm.auto import tqdm

    bar = tqdm(total=vc.epochs * per_epoch, initial=state["epoch"] * per_epoch + state["batch"],
               desc=f"V {cfg.world}", unit="batch", disable=not progress)
    try:
        while state["epoch"] < vc.epochs:
            rng = np.random.default_rng([vc.seed, state["epoch"]])  # the epoch's order, rebuilt on resume
            batches = dataset.iter_frame_batches(train_idx, vc.batch_size, shuffle=True, rng=rng,
                                                 max_frames=vc.max_frames_per_epoch,
                                                 start_batch=state["batch"])
            for frames in batches:
                metrics = _train_step(model, opt, scaler, gen, frames, vc, device)
                state["batch"] += 1
                state["step"] += 1
                state["frames"] += len(frames)
                w = state["window"]
                w["n"] += 1
                for k in METRICS:
                    w[k] += metrics[k]
                if w["n"] >= vc.log_every:
                    _flush_window(state)
                bar.update(1)
                bar.set_postfix(epoch=state["epoch"] + 1, loss=f"{metrics['loss']:.1f}", refresh=False)
                if vc.checkpoint_every and state["step"] % vc.checkpoint_every == 0:
                    save()
                if callback is not None:
                    callback(state["step"], metrics)
            _flush_window(state)
            val = evaluate_vae(model, dataset, val_idx, vc.batch_size, vc.kl_tolerance,
                               vc.max_frames_per_epoch, vc.seed)
            state["log"]["val"].append(dict(step=state["step"], epoch=state["epoch"] + 1, **val))
            if progress:
                bar.write(f"V {cfg.world} epoch {state['epoch'] + 1}/{vc.epochs}: "
                          f"val loss {val['loss']:.1f} (recon {val['recon']:.1f}, kl {val['kl_raw']:.1f}), "
                          f"mse/pixel {val['mse_per_pixel']:.5f}")
            state["epoch"] += 1
            state["batch"] = 0
            save()
    finally:
        bar.close()

    save_checkpoint(final, dict(
        model={k: v.detach().cpu() for k, v in model.state_dict().items()},
        z_size=vc.z_size, world=cfg.world, profile=cfg.profile, config=dataclasses.asdict(vc),
        steps=state["step"], frames=state["frames"], val=state["log"]["val"][-1],
        n_frames=dataset.n_frames, n_episodes=dataset.n_episodes, complete=True))
    write_json(out / paths.LOG, state["log"])
    return final


def _train_step(model, opt, scaler, gen, frames, vc, device) -> dict:
    x = frames_to_tensor(frames, device)
    with autocast(device):
        recon, mu, logvar = model(x, generator=gen)
    loss, recon_loss, kl = vae_loss(x, recon, mu, logvar, vc.kl_tolerance, vc.z_size)
    opt.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    kl_raw = kl_per_dim(mu.detach(), logvar.detach()).sum(1).mean()
    values = torch.stack([loss.detach(), recon_loss.detach(), kl.detach(), kl_raw]).tolist()
    return dict(zip(METRICS, values))


def _save(path, model, opt, scaler, gen, state, cfg, dataset, device) -> None:
    save_checkpoint(path, dict(
        model=model.state_dict(), optimizer=opt.state_dict(), scaler=scaler.state_dict(),
        generator=gen.get_state(), device_type=device.type,
        epoch=state["epoch"], batch=state["batch"], step=state["step"], frames=state["frames"],
        log=state["log"], window=state["window"],
        config=dataclasses.asdict(cfg.vae), world=cfg.world, n_frames=dataset.n_frames))


def _restore(path, cfg, dataset, model, opt, scaler, gen, device) -> dict:
    ckpt = load_checkpoint(path)
    _check_same_training(ckpt, cfg, path)
    if ckpt["n_frames"] != dataset.n_frames:
        raise ValueError(
            f"{path} was started on {ckpt['n_frames']} frames but the dataset now has {dataset.n_frames}: "
            f"move {path} away to start V's training afresh on the new data")
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["optimizer"])
    scaler.load_state_dict(ckpt["scaler"])
    if ckpt["device_type"] == device.type:
        gen.set_state(ckpt["generator"])
    else:  # a CPU generator state does not fit a CUDA generator: same data order, new noise
        gen.manual_seed(cfg.vae.seed + ckpt["step"])
    return dict(epoch=ckpt["epoch"], batch=ckpt["batch"], step=ckpt["step"], frames=ckpt["frames"],
                log=ckpt["log"], window=ckpt["window"])


def load_vae(cfg: Config, device="cpu") -> ConvVAE:
    """The finished V of ``cfg``'s world and profile, in eval mode."""
    path = paths.vae_file(cfg)
    if not path.exists():
        raise FileNotFoundError(f"no trained V at {path}: run {_train_cmd(cfg)} (or train_vae(cfg)) first")
    return ConvVAE.from_checkpoint(load_checkpoint(path), resolve_device(device))


def read_vae_log(cfg: Config) -> dict:
    """The loss curve of V's training: {"train": [points], "val": [points per epoch]}."""
    path = paths.vae_dir(cfg) / paths.LOG
    if not path.exists():
        raise FileNotFoundError(f"no training log at {path}: run {_train_cmd(cfg)} first")
    return read_json(path)


# ----------------------------------------------------------------------------- encoding

def encode_dataset(cfg: Config, batch_size: int | None = None, progress: bool = True,
                   device=None) -> EncodedSeries:
    """Encode every frame of the dataset with V into the (mu, logvar) series M trains on.

    A no-op when the series on disk was made from this dataset and this V (``stages.get``).
    """
    dataset = load_dataset(cfg)
    vpath = paths.vae_file(cfg)
    if not vpath.exists():
        raise FileNotFoundError(f"no trained V at {vpath}: run {_train_cmd(cfg)} before encoding")
    path = paths.series_dir(cfg)

    def build():
        return write_series(load_vae(cfg, resolve_device(device)), dataset, path, batch_size or cfg.vae.encode_batch,
                            progress, vae_sha256=file_sha256(vpath), vae_checkpoint=str(vpath), world=cfg.world,
                            profile=cfg.profile)

    return stages.get(series_stage(cfg), build, lambda: EncodedSeries(path, dataset))


def write_series(vae, dataset, path, batch_size: int = 1000, progress: bool = True, **meta) -> EncodedSeries:
    """Encode every frame of ``dataset`` with ``vae`` into a series folder at ``path`` (atomic)."""
    from tqdm.auto import tqdm

    writer = SeriesWriter(path, dataset.n_frames, dataset.n_episodes, vae.z_size)
    with tqdm(total=dataset.n_frames, desc="encode", unit="frame", disable=not progress) as bar:
        for start in range(0, dataset.n_frames, batch_size):
            idx = np.arange(start, min(start + batch_size, dataset.n_frames))
            mu, logvar = encode_frames(vae, dataset.gather_frames(idx), batch_size)
            writer.write(start, mu, logvar)
            bar.update(len(idx))
    writer.commit(dataset.frame_starts, **meta)
    return EncodedSeries(path, dataset)


def heldout_report(cfg: Config, device=None) -> dict:
    """V's error on every frame of the held-out episodes; also saved as ``heldout.json``."""
    vae = load_vae(cfg, resolve_device(device))
    dataset = load_dataset(cfg)
    _, val_idx = dataset.split(cfg.vae.val_episodes)
    res = evaluate_vae(vae, dataset, val_idx, cfg.vae.batch_size, cfg.vae.kl_tolerance, 0, cfg.vae.seed)
    res.update(world=cfg.world, profile=cfg.profile, val_episodes=[int(i) for i in val_idx])
    write_json(paths.vae_dir(cfg) / paths.VAE_HELDOUT, res)
    return res


def heldout_frames(cfg: Config, n: int = 8) -> np.ndarray:
    """``n`` frames spread evenly over the held-out episodes of ``cfg``'s dataset."""
    ds = load_dataset(cfg)
    _, val_idx = ds.split(cfg.vae.val_episodes)
    idx = ds.frame_indices(val_idx)
    pick = idx[np.linspace(0, len(idx) - 1, min(n, len(idx))).round().astype(int)]
    return ds.gather_frames(pick)


__all__ = ["vae_stage", "series_stage", "train_vae", "load_vae", "encode_dataset", "evaluate_vae", "heldout_report", "heldout_frames",
           "read_vae_log"]
