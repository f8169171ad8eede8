"""A finished run, read in one pass: the V, M and C its pipeline ended with, and the Cs beside them.

``read_finished(cfg)`` is what ``export-pretrained`` ships. It reads finished stages only: it
never trains, plays or chooses (a missing stage, or a round's C not chosen yet, is an error
naming the command that makes it).

    V, the starts (first-frame codes, the data's size)   the pipeline's own (``starts`` given: those; an
                                                          export on the shipped V and M passes the shipped ones)
    M, C        CarRacing: the pipeline's M and the real-world C (``controller-zh``)
                Doom: the last round of iterative training on disk (``iterate.last_round``); round 0
                is the pipeline's M and its C evolved in the dream at ``dream.tau``
    extras      CarRacing: the V-only C (``controller-z``); Doom: round 0's M, its C and every
                temperature's C of the sweep (all evolved in round 0's M's dream)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import paths
from ..agent.evolution import CHECKPOINT
from ..artifacts import load_checkpoint, read_json
from ..config import Config, world_info
from ..models.mdnrnn import MDNRNN
from ..models.vae import ConvVAE
from . import iterate
from .controller import controller_params
from .dream import dream_params
from .mdnrnn import load_mdnrnn
from .series import EncodedSeries, load_series
from .vae import load_vae

FULL_MODE = "zh"   # the full agent's C reads z and h (Doom: z, c, h)


@dataclass
class ExtraC:
    """A C beside the shipped one: its parameters, what it reads, how it was made."""
    name: str
    params: np.ndarray
    mode: str
    note: str
    mdnrnn: str = "mdnrnn"          # the shipped M it was evolved with ("mdnrnn-round-0": round 0's)


@dataclass
class Starts:
    """The first-frame codes dreams start from, and the size of the data V and M were trained on."""
    first_mu: np.ndarray
    first_logvar: np.ndarray
    episodes: int
    frames: int
    policy: str | None = None       # how the data was played, when not this config's random play (borrowed)

    @classmethod
    def of_series(cls, series: EncodedSeries) -> "Starts":
        ds = series.dataset
        return cls(series.first_mu, series.first_logvar, int(ds.n_episodes), int(ds.n_frames))


@dataclass
class FinishedRun:
    cfg: Config
    vae: ConvVAE
    starts: Starts                  # first-frame codes (dreams start from them) and the data behind them
    mdnrnn: MDNRNN
    params: np.ndarray              # C's deployed parameters
    round: int | None = None        # Doom: the round of iterative training whose M and C these are
    evolved: dict = field(default_factory=dict)   # CarRacing: C's run (generations, its evolution settings)
    round0_mdnrnn: MDNRNN | None = None           # Doom: the M the extra Cs were evolved with
    extras: list[ExtraC] = field(default_factory=list)


def read_finished(cfg: Config, starts: Starts | None = None) -> FinishedRun:
    """Every model ``cfg``'s finished run ships, read once (see the module docstring). ``starts``: the
    first-frame codes and data size to ship instead of the run's series (a run on borrowed V and M has none)."""
    vae, m = load_vae(cfg), load_mdnrnn(cfg)
    starts = starts or Starts.of_series(load_series(cfg))
    if world_info(cfg.world).dream_trained:
        return _read_dream_trained(cfg, vae, starts, m)
    return _read_real_trained(cfg, vae, starts, m)


def _read_real_trained(cfg: Config, vae, starts, m) -> FinishedRun:
    """CarRacing: C evolved in the real world, and the budget it was evolved with (not today's profile)."""
    folder = paths.controller_dir(cfg, FULL_MODE)
    run = load_checkpoint(folder / CHECKPOINT)
    recorded = read_json(folder / paths.RUN) if (folder / paths.RUN).exists() else {}
    evolved = dict(generations=run["generations"], config=run.get("config") or {}, start=recorded.get("start", ""))
    extras = []
    if (paths.controller_dir(cfg, "z") / CHECKPOINT).exists():
        extras.append(ExtraC("z", controller_params(cfg, "z"), "z",
                             "V only: evolved in the real world reading z alone"))
    return FinishedRun(cfg, vae, starts, m, controller_params(cfg, FULL_MODE), evolved=evolved, extras=extras)


def _read_dream_trained(cfg: Config, vae, starts, m0) -> FinishedRun:
    """Doom: the last round's M and C (round 0: ``m0`` and the dream-trained C), and round 0's Cs beside it."""
    k = iterate.last_round(cfg)
    m = m0 if k == 0 else iterate.load_round_mdnrnn(cfg, k)
    return FinishedRun(cfg, vae, starts, m, iterate.round_params(cfg, k), round=k, round0_mdnrnn=m0,
                       extras=_round0_cs(cfg))


def _round0_cs(cfg: Config) -> list[ExtraC]:
    """Round 0's C (at ``dream.tau``) and every temperature's C of the sweep, where they are finished."""
    tau0 = cfg.dream.tau
    taus = [("round-0", tau0, f"round 0: evolved in round 0's M's dream at tau {tau0:g}")] \
        if (paths.dream_dir(cfg, tau0) / CHECKPOINT).exists() else []
    for folder in sorted(paths.run_dir(cfg).glob("dream-tau*")):
        if (folder / CHECKPOINT).exists():
            tau = float(folder.name[len("dream-tau"):])
            taus.append((f"tau-{tau:.2f}", tau, f"evolved in round 0's M's dream at tau {tau:g}"))
    return [ExtraC(name, dream_params(cfg, tau), FULL_MODE, note, mdnrnn="mdnrnn-round-0")
            for name, tau, note in taus]


__all__ = ["ExtraC", "FinishedRun", "Starts", "read_finished"]
