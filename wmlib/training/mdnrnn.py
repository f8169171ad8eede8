"""Train M on V's encoded episodes; evaluate it against a "no change" baseline.

* Every batch re-samples ``z = mu + exp(logvar / 2) * eps`` from the stored
  posterior, as the paper did: M never sees the same code twice and cannot
  overfit V's noise.
* Step t feeds (z_t, a_t [, restart_t]) and is scored on z_{t+1} and on
  ``dones[t]`` (terminated after action t). An episode's last step has no
  z_{t+1}; it still teaches the done head (that is where every death is).
* Three ways to batch, ``cfg.mdnrnn.batching``:
  - ``"stream"`` (Doom): B parallel streams, each a shuffled concatenation of
    whole episodes, cut into chunks of ``seq_len``. The LSTM state is carried
    (detached) from chunk to chunk: truncated backpropagation through time.
    At an episode start the restart flag is 1 and the state is zeroed.
  - ``"aligned"``: the same streams, but every episode is padded to whole
    chunks, so an episode only ever starts on a chunk's first step. The
    maths is the stream's (state carried within an episode, zeroed at its
    start); what changes is speed: a restart inside a chunk makes the LSTM
    run segment by segment (``MDNRNN._run_lstm``), which on 2 CPU cores cost
    ~1.8x at 32 streams and ~2.7x at 8 (``benchmarks/mdnrnn.py``), so
    aligned chunks afford small batches and many more optimiser steps.
  - ``"windows"`` (CarRacing, laptop Doom): each episode is tiled into windows
    of ``seq_len`` with a random phase (every step once per epoch), padded to a
    batch; the state starts at zero in each window.
  - ``"buckets"``: the same windows, but batched with windows of about their
    length (sorted within pools of ``BUCKET_POOL`` shuffled batches, the
    batches' order shuffled again) and each batch cut to its longest window.
    An episode's first and last windows are short, so "windows" pads laptop
    Doom's batches to ~1.4 slots per step, which the LSTM runs through;
    buckets bring it near 1 (``benchmarks/mdnrnn_batching.py``).
  Padding is masked out of the loss, and M's heads skip it (``m_loss``).
* ``mdnrnn.dropout`` (default 0, off): the share of the LSTM's outputs zeroed
  before M's heads in training, its masks seeded by (seed, epoch) like the rest.
* ``mdnrnn.reward_head`` (default off): M also learns the reward of every step
  (``rewards[t]``, the one after action t) with ``models.mdnrnn.reward_loss``,
  over-prediction weighted ``mdnrnn.reward_pessimism``; the car's dream pays it.
* All randomness of epoch e comes from generators seeded by (seed, e), and a
  checkpoint is written after every epoch, so a killed run resumes exactly
  where an uninterrupted one would be.

Files in ``<world>/<profile>/mdnrnn``: ``last.pt`` (resume), ``mdnrnn.pt`` (final),
``log.json`` (loss curves), ``eval.json`` (from ``evaluate_mdnrnn``).
"""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from .. import paths
from ..artifacts import load_checkpoint, save_checkpoint, write_json
from ..config import Config, MDNRNNConfig
from ..device import autocast, cpu_threads, grad_scaler, resolve_device
from ..models.mdnrnn import MDNRNN, done_nll, mixture_nll, reward_loss
from .series import EncodedSeries, load_series
from . import stages
from .stages import Stage

BATCHINGS = ("stream", "aligned", "windows", "buckets")
CARRIES_STATE = ("stream", "aligned")  # batchings whose LSTM state flows from one chunk to the next
VAL_SEED = 12345  # fixed z noise for validation, so epochs are comparable


HOW_FAST = ("threads",)  # settings that change how fast M trains, not what it learns: never in its key


def m_settings(mc: MDNRNNConfig) -> dict:
    """``cfg.mdnrnn`` as recorded (in a stage key, a checkpoint's config): every field, less the knobs added
    after Ms were trained and keyed at their neutral value (``stages.NEUTRAL``), so every M trained before
    them keeps its key and its bytes."""
    neutral = {k.removeprefix("mdnrnn."): v for k, v in stages.NEUTRAL.items() if k.startswith("mdnrnn.")}
    return {k: v for k, v in asdict(mc).items()
            if k not in HOW_FAST and (k not in neutral or v != neutral[k])}


# ----------------------------------------------------------------------------- data

class Transitions:
    """V's series as flat arrays by global step: mu/logvar (memory-mapped), actions, rewards, dones."""

    def __init__(self, series: EncodedSeries):
        ds = series.dataset
        self.mu, self.logvar = series.mu, series.logvar
        self.z_size = series.z_size
        self.lengths = np.asarray(ds.lengths, np.int64)
        self.starts = np.asarray(ds.frame_starts, np.int64)
        self.actions = np.concatenate([np.asarray(ds.episode(i).actions, np.float32)
                                       for i in range(ds.n_episodes)])
        self.dones = np.concatenate([np.asarray(ds.episode(i).dones, bool) for i in range(ds.n_episodes)])
        # the reward head's targets (None from a dataset stand-in without rewards: no reward head on it)
        rewards = [getattr(ds.episode(i), "rewards", None) for i in range(ds.n_episodes)]
        self.rewards = (None if any(r is None for r in rewards)
                        else np.concatenate([np.asarray(r, np.float32) for r in rewards]))
        self.action_size = self.actions.shape[1]
        self.series = series
        # which V made these codes (V's checkpoint digest when V wrote it), to catch a stale resume
        self.series_id = str(series.meta.get("vae_sha256", series.meta.get("n_frames")))

    @classmethod
    def load(cls, cfg: Config) -> "Transitions":
        data = cls(load_series(cfg))
        if data.z_size != cfg.vae.z_size:
            raise ValueError(f"the encoded series has z_size {data.z_size} but the config says "
                             f"{cfg.vae.z_size}: re-encode the data with the current V (`python -m wmlib encode "
                             f"{cfg.world}`)")
        if data.action_size != cfg.action_size:
            raise ValueError(f"the data has {data.action_size}-d actions, {cfg.world} uses {cfg.action_size}: "
                             "the dataset folder holds another world's data; collect again")
        return data

    def split(self, val_episodes: int):
        return self.series.split(val_episodes)

    def codes(self) -> tuple[torch.Tensor, torch.Tensor]:
        """mu and logvar as tensors in memory (read once, in the series' float16): each batch gathers
        its rows from them, ~2x cheaper than numpy's fancy indexing of the memory maps every batch."""
        if getattr(self, "_codes", None) is None:
            self._codes = tuple(torch.from_numpy(np.array(a)) for a in (self.mu, self.logvar))
        return self._codes

    @classmethod
    def concat(cls, parts: list["Transitions"]) -> "Transitions":
        """Several series as one (in memory): the random data and the rounds of iterative training."""
        if len({p.z_size for p in parts}) != 1:
            raise ValueError("cannot join series of different z sizes: encode every part with the same V")
        out = cls.__new__(cls)
        offsets = np.cumsum([0] + [len(p.actions) for p in parts])
        out.mu = np.concatenate([np.asarray(p.mu) for p in parts])
        out.logvar = np.concatenate([np.asarray(p.logvar) for p in parts])
        out.actions = np.concatenate([p.actions for p in parts])
        out.dones = np.concatenate([p.dones for p in parts])
        out.rewards = None if any(p.rewards is None for p in parts) else np.concatenate([p.rewards for p in parts])
        out.lengths = np.concatenate([p.lengths for p in parts])
        out.starts = np.concatenate([p.starts[:-1] + o for p, o in zip(parts, offsets)] + [offsets[-1:]])
        out.z_size, out.action_size, out.series = parts[0].z_size, parts[0].action_size, None
        out.series_id = "+".join(p.series_id for p in parts)
        return out


@dataclass
class Batch:
    """Rows of steps by global index; ``last`` marks an episode's final step (no z target)."""
    idx: np.ndarray      # int64 [B, L]
    restart: np.ndarray  # bool [B, L]  first step of an episode
    last: np.ndarray     # bool [B, L]
    valid: np.ndarray    # bool [B, L]  False on padding


def _rows_to_batch(rows: list[np.ndarray], starts: np.ndarray, ends: np.ndarray, width: int) -> Batch:
    """Pad rows of global step indices to ``width``; flag episode starts and ends."""
    B = len(rows)
    idx = np.zeros((B, width), np.int64)
    valid = np.zeros((B, width), bool)
    for b, r in enumerate(rows):
        idx[b, :len(r)] = r
        valid[b, :len(r)] = True
    restart = valid & np.isin(idx, starts)
    last = valid & np.isin(idx, ends)
    return Batch(idx, restart, last, valid)


def stream_batches(data: Transitions, episodes, batch_size: int, seq_len: int,
                   rng: np.random.Generator) -> list[Batch]:
    """B streams of shuffled whole episodes (balanced by length), cut into chunks of seq_len."""
    episodes = rng.permutation(np.asarray(episodes))
    n_streams = max(1, min(batch_size, len(episodes)))
    streams, totals = [[] for _ in range(n_streams)], np.zeros(n_streams, np.int64)
    for e in episodes:  # each episode joins the currently shortest stream
        s = int(np.argmin(totals))
        streams[s].append(np.arange(data.starts[e], data.starts[e + 1]))
        totals[s] += data.lengths[e]
    rows = [np.concatenate(s) if s else np.zeros(0, np.int64) for s in streams]
    n_chunks = math.ceil(totals.max() / seq_len)
    full = _rows_to_batch(rows, data.starts[episodes], data.starts[episodes + 1] - 1, n_chunks * seq_len)
    cut = lambda a, c: a[:, c * seq_len:(c + 1) * seq_len]
    return [Batch(*(cut(getattr(full, f), c) for f in ("idx", "restart", "last", "valid")))
            for c in range(n_chunks)]


def aligned_stream_batches(data: Transitions, episodes, batch_size: int, seq_len: int,
                           rng: np.random.Generator) -> list[Batch]:
    """Like ``stream_batches``, but each episode padded to a multiple of seq_len: restarts only at a chunk's start."""
    episodes = rng.permutation(np.asarray(episodes))
    n_streams = max(1, min(batch_size, len(episodes)))
    streams, totals = [[] for _ in range(n_streams)], np.zeros(n_streams, np.int64)
    for e in episodes:  # each episode joins the currently shortest stream (in padded steps)
        s = int(np.argmin(totals))
        streams[s].append(e)
        totals[s] += math.ceil(data.lengths[e] / seq_len) * seq_len
    width = int(totals.max())
    idx = np.zeros((n_streams, width), np.int64)
    valid = np.zeros((n_streams, width), bool)
    for b, eps in enumerate(streams):
        at = 0
        for e in eps:
            n = int(data.lengths[e])
            idx[b, at:at + n] = np.arange(data.starts[e], data.starts[e] + n)
            valid[b, at:at + n] = True
            at += math.ceil(n / seq_len) * seq_len
    restart = valid & np.isin(idx, data.starts[episodes])
    last = valid & np.isin(idx, data.starts[episodes + 1] - 1)
    cut = lambda a, c: a[:, c * seq_len:(c + 1) * seq_len]
    return [Batch(cut(idx, c), cut(restart, c), cut(last, c), cut(valid, c)) for c in range(width // seq_len)]


def _shuffled_windows(data: Transitions, episodes, seq_len: int, rng: np.random.Generator):
    """Each episode tiled into windows of at most seq_len steps, cut at a random phase, in a shuffled order;
    with the episodes' first and last steps (for the batches' flags) -> (windows, first, final)."""
    windows = []
    for e in episodes:
        a, n = int(data.starts[e]), int(data.lengths[e])
        phase = int(rng.integers(0, seq_len)) if n > seq_len else 0
        cuts = [0] + [c for c in range(seq_len - phase, n, seq_len)] + [n]
        cuts = sorted(set(cuts))
        windows += [np.arange(a + lo, a + hi) for lo, hi in zip(cuts[:-1], cuts[1:])]
    order = rng.permutation(len(windows))
    return [windows[i] for i in order], data.starts[episodes], data.starts[episodes + 1] - 1


def window_batches(data: Transitions, episodes, batch_size: int, seq_len: int,
                   rng: np.random.Generator) -> list[Batch]:
    """Tile each episode into windows of seq_len with a random phase; shuffle; batch."""
    windows, first, final = _shuffled_windows(data, np.asarray(episodes), seq_len, rng)
    return [_rows_to_batch(windows[k:k + batch_size], first, final, seq_len)
            for k in range(0, len(windows), batch_size)]


BUCKET_POOL = 16  # batches whose windows are sorted together: larger pads less, mixes episodes' parts less


def bucket_batches(data: Transitions, episodes, batch_size: int, seq_len: int,
                   rng: np.random.Generator) -> list[Batch]:
    """``window_batches``' windows, batched with windows of about their length; each batch as wide as its
    longest window. Every step is still trained once per epoch, in the same number of batches."""
    windows, first, final = _shuffled_windows(data, np.asarray(episodes), seq_len, rng)
    batches = []
    for p in range(0, len(windows), batch_size * BUCKET_POOL):
        pool = sorted(windows[p:p + batch_size * BUCKET_POOL], key=len)  # stable: ties keep the shuffled order
        batches += [_rows_to_batch(pool[k:k + batch_size], first, final, max(map(len, pool[k:k + batch_size])))
                    for k in range(0, len(pool), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def episode_batches(data: Transitions, episodes, batch_size: int) -> list[Batch]:
    """Whole episodes, padded, in order (for evaluation)."""
    episodes = np.asarray(episodes)
    out = []
    for k in range(0, len(episodes), batch_size):
        eps = episodes[k:k + batch_size]
        rows = [np.arange(data.starts[e], data.starts[e + 1]) for e in eps]
        out.append(_rows_to_batch(rows, data.starts[eps], data.starts[eps + 1] - 1, max(map(len, rows))))
    return out


def make_batches(cfg: Config, data: Transitions, episodes, rng) -> list[Batch]:
    mc = cfg.mdnrnn
    if mc.batching not in BATCHINGS:
        raise ValueError(f"unknown mdnrnn.batching {mc.batching!r}: choose one of {', '.join(BATCHINGS)}")
    fn = dict(stream=stream_batches, aligned=aligned_stream_batches, windows=window_batches,
              buckets=bucket_batches)[mc.batching]
    return fn(data, episodes, mc.batch_size, mc.seq_len, rng)


def batch_tensors(data: Transitions, batch: Batch, generator: torch.Generator, device) -> dict:
    """Sample z_t and z_{t+1} from the stored posteriors; return float tensors on ``device``
    (and the step's ``reward`` when ``data`` has rewards)."""
    idx = batch.idx
    nxt = np.where(batch.valid & ~batch.last, idx + 1, idx)
    # any object with mu and logvar arrays will do (the notebooks pass their own); Transitions caches tensors
    mus, logvars = data.codes() if isinstance(data, Transitions) else (data.mu, data.logvar)

    def sample(i):  # float16 -> float32 is exact: the same numbers as reading the series directly
        i = torch.from_numpy(i) if torch.is_tensor(mus) else i
        mu = torch.as_tensor(mus[i]).float()
        std = torch.as_tensor(logvars[i]).float().mul(0.5).exp()
        return mu + std * torch.randn(mu.shape, generator=generator)

    t = dict(z=sample(idx), z_next=sample(nxt),
             a=torch.from_numpy(data.actions[idx]),
             done=torch.from_numpy(data.dones[idx].astype(np.float32)),
             restart=torch.from_numpy(batch.restart.astype(np.float32)),
             z_mask=torch.from_numpy((batch.valid & ~batch.last).astype(np.float32)),
             valid=torch.from_numpy(batch.valid.astype(np.float32)))
    if getattr(data, "rewards", None) is not None:  # what the reward head learns (no random draw)
        t["reward"] = torch.from_numpy(np.asarray(data.rewards[idx], np.float32))
    return {k: v.to(device, non_blocking=True) for k, v in t.items()}


# ----------------------------------------------------------------------------- loss

def m_loss(model: MDNRNN, t: dict, state, pos_weight: float, device, amp: bool = True,
           reward_pessimism: float = 1.0):
    """Masked mean mixture NLL per dimension (+ weighted done BCE, + the reward loss) -> (loss, parts, state).

    The LSTM runs under mixed precision on CUDA (``amp``); the loss is always float32. The heads and
    the loss run on the batch's valid steps only: "windows" batches are ~30% padding, and the MDN
    head is ~a quarter of M's arithmetic. With a reward head, ``reward_loss`` (over-prediction
    weighted ``reward_pessimism``) is averaged over the valid steps and added, unweighted.
    """
    valid = t["valid"] > 0
    steps = None if bool(valid.all()) else valid
    pick = (lambda x: x) if steps is None else (lambda x: x[steps])
    with autocast(device) if amp else contextlib.nullcontext():
        h, state = model.features(t["z"], t["a"], state, restart=t["restart"], steps=steps)
        mix, done_logit = model.heads(h)
        reward = model.predict_reward(h) if model.has_reward else None
    nll = mixture_nll(*(p.float() for p in mix), pick(t["z_next"])).mean(-1)  # per step, nats per dim
    z_mask = pick(t["z_mask"])
    z_loss = (nll * z_mask).sum() / z_mask.sum().clamp_min(1)
    parts = dict(z_loss=z_loss)
    loss = z_loss
    if done_logit is not None:
        bce = done_nll(done_logit.float(), pick(t["done"]), pos_weight)
        parts["done_loss"] = bce.sum() / t["valid"].sum().clamp_min(1)  # bce holds the valid steps only
        loss = loss + parts["done_loss"]
    if reward is not None:
        if "reward" not in t:
            raise ValueError("this M has a reward head but the batch holds no rewards: pass data with a "
                             "rewards array (wmlib.training.mdnrnn.Transitions has one)")
        per_step = reward_loss(reward.float(), pick(t["reward"]), reward_pessimism)
        parts["reward_loss"] = per_step.sum() / t["valid"].sum().clamp_min(1)
        loss = loss + parts["reward_loss"]
    return loss, parts, state


# ----------------------------------------------------------------------------- training

def build_model(cfg: Config, z_size: int) -> MDNRNN:
    mc = cfg.mdnrnn
    return MDNRNN(z_size, cfg.action_size, mc.hidden, mc.n_mixtures, done_head=mc.done_head,
                  discrete_actions=mc.discrete_actions, dropout=mc.dropout, reward_head=mc.reward_head)


def epoch_generators(seed: int, epoch: int):
    """Epoch ``epoch``'s random sources: numpy's for the batches' order, torch's for re-sampling z."""
    rng = np.random.default_rng([seed, epoch])
    gen = torch.Generator().manual_seed(int(rng.integers(2 ** 62)))
    return rng, gen


def optimizer_step(model, opt, scaler, loss, grad_clip: float) -> None:
    """One step on ``loss``: (fp16-scaled) backward, unscale, clip the gradient norm, Adam."""
    opt.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.unscale_(opt)
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    scaler.step(opt)
    scaler.update()


LR_SCHEDULES = ("constant", "cosine")


def learning_rate(mc, progress: float) -> float:
    """M's learning rate at ``progress`` (0 at the first step, 1 after the last epoch)."""
    if mc.lr_schedule == "constant":
        return mc.lr
    return mc.lr_min + (mc.lr - mc.lr_min) * 0.5 * (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))


def run_epoch(cfg, model, opt, scaler, data, train_eps, epoch, device, log, step, progress):
    """One pass over the training episodes; returns the global step count."""
    from tqdm.auto import tqdm

    mc = cfg.mdnrnn
    rng, gen = epoch_generators(mc.seed, epoch)
    batches = make_batches(cfg, data, train_eps, rng)
    carry = mc.batching in CARRIES_STATE
    model.dropout = mc.dropout  # a training setting: also reaches an M rebuilt from its arch (iterative rounds)
    model.train()
    bar = tqdm(batches, desc=f"M {cfg.world} epoch {epoch + 1}/{mc.epochs}", disable=not progress, leave=False)
    state = None
    with _dropout_masks(mc, epoch, device):
        for i, batch in enumerate(bar):
            for group in opt.param_groups:
                group["lr"] = learning_rate(mc, (epoch + i / len(batches)) / mc.epochs)
            t = batch_tensors(data, batch, gen, device)
            loss, parts, state = m_loss(model, t, state if carry else None, mc.done_pos_weight, device,
                                        reward_pessimism=mc.reward_pessimism)
            state = tuple(s.detach().float() for s in state)  # truncate backprop at the chunk edge
            optimizer_step(model, opt, scaler, loss, mc.grad_clip)
            step += 1
            log["step"].append(step)
            log["loss"].append(loss.item())
            for k, v in parts.items():
                log.setdefault(k, []).append(v.item())
            bar.set_postfix(loss=f"{log['loss'][-1]:.3f}")
    bar.close()
    return step


def fit(cfg: Config, model, opt, scaler, data, train_eps, device, log: dict, epoch: int = 0, step: int = 0,
        val_eps=None, progress: bool = True, after_epoch=None) -> tuple[int, int]:
    """M's one training loop: epochs ``epoch``..``cfg.mdnrnn.epochs`` over ``train_eps`` -> (epoch, step).

    Training (``train_mdnrnn``) starts it from a fresh M or a resumed one, validating on ``val_eps``
    and saving after every epoch (``after_epoch(epoch, step)``); fine-tuning a round's M
    (``iterate.finetune_m``) starts it from the last round's M with its own epochs and data.
    """
    mc = cfg.mdnrnn
    while epoch < mc.epochs:
        t0 = time.time()
        step = run_epoch(cfg, model, opt, scaler, data, train_eps, epoch, device, log, step, progress)
        epoch += 1
        if val_eps is not None:
            log["epoch"].append(epoch)
            log["epoch_step"].append(step)
            log["val_nll"].append(float(held_out_nll(model, data, val_eps, device).mean()))
            log["seconds"].append(time.time() - t0)
            if progress:
                print(f"M {cfg.world} epoch {epoch}/{mc.epochs}: train {np.mean(log['loss'][-10:]):.4f} "
                      f"val NLL {log['val_nll'][-1]:.4f} nats/dim")
        if after_epoch is not None:
            after_epoch(epoch, step)
    return epoch, step


@contextlib.contextmanager
def _dropout_masks(mc, epoch: int, device):
    """Dropout draws from torch's global generator: seed it by (seed, epoch) for the epoch, so a resumed
    run draws the masks an uninterrupted one would; restore it after. Nothing at all without dropout."""
    if mc.dropout <= 0:
        yield
        return
    cuda = torch.device(device).type == "cuda"
    with torch.random.fork_rng(devices=[torch.device(device)] if cuda else [], device_type="cuda"):
        torch.manual_seed(int(np.random.default_rng([mc.seed, epoch, 1]).integers(2 ** 62)))
        yield


def _check_config(cfg: Config):
    mc = cfg.mdnrnn
    for name in ("hidden", "n_mixtures", "seq_len", "batch_size", "epochs"):
        if getattr(mc, name) < 1:
            raise ValueError(f"mdnrnn.{name} must be at least 1 (got {getattr(mc, name)}): fix the profile")
    if mc.batching not in BATCHINGS:
        raise ValueError(f"unknown mdnrnn.batching {mc.batching!r}: choose one of {', '.join(BATCHINGS)}")
    if not 0 <= mc.dropout < 1:
        raise ValueError(f"mdnrnn.dropout must be in [0, 1) (got {mc.dropout}): 0 is off, 0.1 drops a tenth "
                         "of the LSTM's outputs in training")
    if mc.lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"unknown mdnrnn.lr_schedule {mc.lr_schedule!r}: choose one of {', '.join(LR_SCHEDULES)}")
    if mc.threads < 0:
        raise ValueError(f"mdnrnn.threads must be 0 (torch's default, one per core) or a positive count (got "
                         f"{mc.threads}): 1 is fastest for the laptop's small batches (benchmarks/mdnrnn_threads.py)")
    if not mc.reward_pessimism >= 1:
        raise ValueError(f"mdnrnn.reward_pessimism must be >= 1 (got {mc.reward_pessimism}): 1 is plain squared "
                         "error, k > 1 makes over-predicting a reward cost k times as much as under-predicting it")


def check_finished_m(ckpt: dict, cfg: Config, path: Path) -> None:
    """Refuse to hand back a finished M trained with other settings than ``cfg.mdnrnn`` (naming each field)."""
    saved = {**asdict(MDNRNNConfig()), **ckpt.get("config", {})}  # a knob added since ran at its default
    want = {**asdict(MDNRNNConfig()), **m_settings(cfg.mdnrnn)}
    diff = {k: (saved.get(k), v) for k, v in want.items() if saved.get(k) != v}
    if diff:
        what = stages.describe_changes(dict(sorted(diff.items())), prefix="mdnrnn.")
        raise ValueError(f"{path} was trained with {what}: move the folder {path.parent} away to train M afresh, "
                         "or use the settings (profile, WM_ARTIFACTS folder) it was trained with")


def mdnrnn_stage(cfg: Config) -> Stage:
    """M: reads V's series; keyed by every M setting."""
    from .vae import series_stage

    final = paths.mdnrnn_file(cfg)
    return Stage("M", paths.mdnrnn_dir(cfg), {f"mdnrnn.{k}": v for k, v in m_settings(cfg.mdnrnn).items()},
                 done=final.exists, reads=(series_stage(cfg),),
                 legacy=lambda: check_finished_m(load_checkpoint(final), cfg, final))


def train_mdnrnn(cfg: Config, progress: bool = True, device=None) -> Path:
    """Train M at ``cfg``'s profile (resuming ``last.pt``); a no-op when ``mdnrnn.pt`` exists and was
    trained with the same settings on the same series (else a clear error naming the fields that changed)."""
    _check_config(cfg)
    final = paths.mdnrnn_file(cfg)
    return stages.get(mdnrnn_stage(cfg), lambda: _train_mdnrnn(cfg, progress, device), lambda: final)


def _train_mdnrnn(cfg: Config, progress: bool, device) -> Path:
    out = paths.ready(paths.mdnrnn_dir(cfg))
    final = paths.mdnrnn_file(cfg)
    device = resolve_device(device)
    mc = cfg.mdnrnn
    data = Transitions.load(cfg)
    train_eps, val_eps = data.split(mc.val_episodes)

    torch.manual_seed(mc.seed)
    model = build_model(cfg, data.z_size).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=mc.lr)
    scaler = grad_scaler(device)
    log = dict(step=[], loss=[], z_loss=[], epoch=[], epoch_step=[], val_nll=[], seconds=[])
    epoch, step = 0, 0

    ckpt_path = out / paths.LAST
    if ckpt_path.exists():
        ckpt = load_checkpoint(ckpt_path)
        # more epochs may be asked for at a constant rate (a decaying one is laid out over the epochs first
        # asked for); a knob added since the checkpoint was written ran at its default
        free = {"epochs"} if mc.lr_schedule == "constant" else set()
        same = lambda c: {k: v for k, v in {**asdict(MDNRNNConfig()), **c}.items() if k not in free}
        if ckpt["arch"] != model.arch() or same(ckpt["config"]) != same(m_settings(mc)):
            raise ValueError(f"{ckpt_path} was written with another M config ({ckpt['config']}); "
                             f"delete the folder {out} to start over, or use the profile it came from"
                             + ("; a decaying rate cannot be stretched to more epochs" if free != {"epochs"} else ""))
        if ckpt["series"] != data.series_id:
            raise ValueError(f"{ckpt_path} was trained on another encoding of the data (V changed since); "
                             f"delete the folder {out} to train M afresh on the new series")
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        if ckpt["scaler"]:  # empty when saved from a run without fp16 loss scaling
            scaler.load_state_dict(ckpt["scaler"])
        epoch, step, log = ckpt["epoch"], ckpt["step"], ckpt["log"]

    def saved(epoch, step):  # every epoch: a killed run resumes from here
        save_checkpoint(ckpt_path, dict(model=model.state_dict(), optimizer=opt.state_dict(),
                                        scaler=scaler.state_dict(), epoch=epoch, step=step, log=log,
                                        arch=model.arch(), config=m_settings(mc), series=data.series_id))
        write_json(out / paths.LOG, log)

    with cpu_threads(mc.threads):
        epoch, step = fit(cfg, model, opt, scaler, data, train_eps, device, log, epoch, step, val_eps, progress, saved)
    save_checkpoint(final, dict(model=model.state_dict(), arch=model.arch(), config=m_settings(mc),
                                epoch=epoch, step=step, log=log, series=data.series_id))
    write_json(out / paths.LOG, log)
    return final


def load_mdnrnn(cfg: Config, device="cpu") -> MDNRNN:
    """The trained M of ``cfg``'s world and profile, in eval mode."""
    path = paths.mdnrnn_file(cfg)
    if not path.exists():
        raise FileNotFoundError(f"no trained M at {path}: run `python -m wmlib train-mdnrnn {cfg.world} "
                                f"--profile {cfg.profile}` (or train_mdnrnn(cfg)) first")
    m = MDNRNN.from_checkpoint(load_checkpoint(path), resolve_device(device))
    check_reward_head(m, cfg, path)
    return m


def check_reward_head(m: MDNRNN, cfg: Config, path) -> None:
    """Refuse an M without a reward head where the config asks for one (a dream would pay C nothing)."""
    if cfg.mdnrnn.reward_head and not m.has_reward:
        raise ValueError(f"the config asks for M with a reward head (mdnrnn.reward_head=true) but {path} was "
                         f"trained without one: train M with it in an artifacts folder of its own (`python -m wmlib "
                         f"train-mdnrnn {cfg.world} --profile {cfg.profile} --recipe "
                         f"experiments/recipes/carracing-dream.toml --artifacts <new folder>`), or move the folder "
                         f"{Path(path).parent} away to train M afresh")


def read_log(cfg: Config) -> dict:
    from ..artifacts import read_json

    path = paths.mdnrnn_dir(cfg) / paths.LOG
    if not path.exists():
        raise FileNotFoundError(f"no M training log at {path}: train M first")
    return read_json(path)


# ----------------------------------------------------------------------------- evaluation

@torch.no_grad()
def teacher_forced(model: MDNRNN, data: Transitions, episodes, device="cpu", seed: int = VAL_SEED,
                   batch_size: int = 16):
    """Run M over whole episodes on sampled codes (fixed noise) and collect what it predicted.

    Returns per-step arrays over the episodes' steps that have a next code: ``nll``
    [N, z] (nats), ``z`` and ``z_next`` [N, z]; and over all steps: ``done_prob`` [M]
    and ``done`` [M] (None for a world without a done head), ``reward_pred`` [M] and
    ``reward`` [M] (None for an M without a reward head).
    """
    model.eval()
    device = torch.device(device)
    gen = torch.Generator().manual_seed(seed)
    nll, z, z_next, probs, dones, preds, rewards = [], [], [], [], [], [], []
    for batch in episode_batches(data, episodes, batch_size):
        t = batch_tensors(data, batch, gen, device)
        h, _ = model.features(t["z"], t["a"], restart=t["restart"])
        mix, done_logit = model.heads(h)
        m = t["z_mask"].bool()
        nll.append(mixture_nll(*(p.float() for p in mix), t["z_next"])[m].cpu())
        z.append(t["z"][m].cpu())
        z_next.append(t["z_next"][m].cpu())
        if done_logit is not None:
            v = t["valid"].bool()
            probs.append(torch.sigmoid(done_logit.float())[v].cpu())
            dones.append(t["done"][v].cpu())
        if model.has_reward:
            v = t["valid"].bool()
            preds.append(model.predict_reward(h).float()[v].cpu())
            rewards.append(t["reward"][v].cpu())
    cat = lambda xs: torch.cat(xs).numpy() if xs else None
    return dict(nll=cat(nll), z=cat(z), z_next=cat(z_next), done_prob=cat(probs), done=cat(dones),
                reward_pred=cat(preds), reward=cat(rewards))


def held_out_nll(model, data, episodes, device="cpu") -> np.ndarray:
    """Validation NLL per latent dimension (nats), mean over held-out steps."""
    return teacher_forced(model, data, episodes, device)["nll"].mean(0)


def no_change_variance(data: Transitions, episodes, seed: int = VAL_SEED) -> np.ndarray:
    """Per-dim variance of z_{t+1} - z_t on (sampled) training codes: the baseline's Gaussian."""
    gen = torch.Generator().manual_seed(seed)
    total, count = np.zeros(data.z_size), 0
    for batch in episode_batches(data, episodes, 16):
        t = batch_tensors(data, batch, gen, "cpu")
        m = t["z_mask"].bool()
        d = (t["z_next"] - t["z"])[m].double()
        total += (d ** 2).sum(0).numpy()
        count += len(d)
    if count == 0:
        raise ValueError("the training episodes hold no transitions: collect longer episodes")
    return total / count


def gaussian_nll(x: np.ndarray, var: np.ndarray) -> np.ndarray:
    return 0.5 * (np.log(2 * np.pi * var) + x ** 2 / var)


def precision_recall(prob: np.ndarray, label: np.ndarray, threshold: float = 0.5) -> dict:
    pred, label = prob > threshold, label > 0.5
    tp, fp, fn = int((pred & label).sum()), int((pred & ~label).sum()), int((~pred & label).sum())
    return dict(precision=tp / (tp + fp) if tp + fp else float("nan"),
                recall=tp / (tp + fn) if tp + fn else float("nan"), tp=tp, fp=fp, fn=fn)


def calibration(prob: np.ndarray, label: np.ndarray, n_bins: int = 10) -> dict:
    """Reliability table of predicted probabilities: per bin the mean prediction and the observed rate."""
    edges = np.linspace(0, 1, n_bins + 1)
    which = np.clip(np.digitize(prob, edges) - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    mean_p = np.bincount(which, weights=prob, minlength=n_bins) / np.maximum(count, 1)
    rate = np.bincount(which, weights=label.astype(float), minlength=n_bins) / np.maximum(count, 1)
    keep = count > 0
    return dict(predicted=mean_p[keep], observed=rate[keep], count=count[keep])


def unweight_probability(prob: np.ndarray, pos_weight: float) -> np.ndarray:
    """Undo the pull of ``pos_weight`` on a sigmoid output: odds / pos_weight.

    Weighting positives by w makes the loss's optimum p/(1-p) = w * true odds.
    """
    odds = prob / np.clip(1 - prob, 1e-12, None) / pos_weight
    return odds / (1 + odds)


def evaluate_mdnrnn(cfg: Config, device="cpu", write: bool = True, model: MDNRNN | None = None) -> dict:
    """Held-out NLL per latent dim against "no change" (z_next = z), and the done head's precision/recall.

    ``model``: another M to judge on ``cfg``'s held-out episodes (default: ``cfg``'s trained M)."""
    data = Transitions.load(cfg)
    model = load_mdnrnn(cfg, device) if model is None else model.to(resolve_device(device)).eval()
    train_eps, val_eps = data.split(cfg.mdnrnn.val_episodes)
    pred = teacher_forced(model, data, val_eps, device)
    var = no_change_variance(data, train_eps)
    base = gaussian_nll(pred["z_next"] - pred["z"], var).mean(0)
    nll = pred["nll"].mean(0)
    res = dict(world=cfg.world, profile=cfg.profile, val_episodes=[int(e) for e in val_eps],
               steps=int(len(pred["nll"])), nll_per_dim=nll.tolist(), nll=float(nll.mean()),
               baseline_nll_per_dim=base.tolist(), baseline_nll=float(base.mean()),
               dims_better_than_baseline=int((nll < base).sum()))
    if pred["done_prob"] is not None:
        pr = precision_recall(pred["done_prob"], pred["done"])
        res.update(done_precision=pr["precision"], done_recall=pr["recall"], done_tp=pr["tp"],
                   done_fp=pr["fp"], done_fn=pr["fn"], deaths=int(pred["done"].sum()))
    if pred["reward_pred"] is not None:  # against the constant that knows only the training rewards' mean
        p, r = pred["reward_pred"].astype(np.float64), pred["reward"].astype(np.float64)
        mean = float(np.mean(data.rewards[np.concatenate([np.arange(data.starts[e], data.starts[e + 1])
                                                          for e in train_eps])]))
        res.update(reward_mse=float(np.mean((p - r) ** 2)), reward_baseline_mse=float(np.mean((mean - r) ** 2)),
                   reward_mean=float(r.mean()), reward_pred_mean=float(p.mean()))
    if write:
        write_json(paths.ready(paths.mdnrnn_dir(cfg)) / paths.MDNRNN_EVAL, res)
    return res


def format_evaluation(res: dict) -> str:
    lines = [f"M {res['world']} ({res['profile']}), {res['steps']} held-out transitions",
             f"{'dim':>4} {'M nll':>9} {'no-change':>10}"]
    for i, (a, b) in enumerate(zip(res["nll_per_dim"], res["baseline_nll_per_dim"])):
        lines.append(f"{i:>4} {a:>9.3f} {b:>10.3f}")
    lines.append(f"mean {res['nll']:>9.3f} {res['baseline_nll']:>10.3f}   (nats per dim; lower is better; "
                 f"M wins on {res['dims_better_than_baseline']}/{len(res['nll_per_dim'])} dims)")
    if "done_precision" in res:
        lines.append(f"done head @0.5: precision {res['done_precision']:.3f} recall {res['done_recall']:.3f} "
                     f"(tp {res['done_tp']}, fp {res['done_fp']}, fn {res['done_fn']}, deaths {res['deaths']})")
    if "reward_mse" in res:
        lines.append(f"reward head: squared error {res['reward_mse']:.4f} (the training mean as a constant: "
                     f"{res['reward_baseline_mse']:.4f}); predicted {res['reward_pred_mean']:+.4f} per step on "
                     f"average, real {res['reward_mean']:+.4f}")
    return "\n".join(lines)


__all__ = ["mdnrnn_stage", "train_mdnrnn", "fit", "load_mdnrnn", "evaluate_mdnrnn", "teacher_forced", "Transitions", "read_log",
           "stream_batches", "aligned_stream_batches", "window_batches", "episode_batches", "m_loss", "format_evaluation", "calibration",
           "unweight_probability", "precision_recall", "epoch_generators", "make_batches"]
