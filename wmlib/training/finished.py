"""A finished run, read in one pass: the V, M and C its pipeline ended with, and the Cs beside them.

``read_finished(cfg)`` is what ``export-pretrained`` ships. It reads finished stages only: it
never trains, plays or chooses (a missing stage, or a round's C not chosen yet, is an error
naming the command that makes it).

    V, the starts (first-frame codes, the data's size)   the pipeline's own (``starts`` given: those; an
                                                          export on the shipped V and M passes the shipped ones)
    M, C        CarRacing: the pipeline's M and the real-world C (``controller-zh``)
                Doom: the last round of iterative training on disk, as it was scored
                (``iterate.finished_round``); round 0 is the pipeline's M and its C evolved in the
                dream at ``dream.tau``
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
from .series import load_series
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
    if starts is None:
        series = load_series(cfg)
        starts = Starts(series.first_mu, series.first_logvar, int(series.dataset.n_episodes),
                        int(series.dataset.n_frames))
    if world_info(cfg.world).dream_trained:  # Doom: round 0's Cs, then the last round's M and C (round 0: its own)
        extras = _round0_cs(cfg)
        k, m_k, params = iterate.finished_round(cfg)
        return FinishedRun(cfg, vae, starts, m if k == 0 else m_k, extras[0].params if k == 0 else params, round=k,
                           round0_mdnrnn=m, extras=extras)
    # CarRacing: C evolved in the real world, and the budget it was evolved with (not today's profile)
    full, v_only = paths.controller_dir(cfg, FULL_MODE), paths.controller_dir(cfg, "z")
    run, recorded = load_checkpoint(full / CHECKPOINT), read_json(full / paths.RUN) if (full / paths.RUN).exists() else {}
    evolved = dict(generations=run["generations"], config=run.get("config") or {}, start=recorded.get("start", ""))
    extras = [ExtraC("z", controller_params(cfg, "z"), "z", "V only: evolved in the real world reading z alone")
              ] if (v_only / CHECKPOINT).exists() else []
    return FinishedRun(cfg, vae, starts, m, controller_params(cfg, FULL_MODE), evolved=evolved, extras=extras)


def _round0_cs(cfg: Config) -> list[ExtraC]:
    """Round 0's C (at ``dream.tau``; first, and an error naming the command when it is not evolved yet) and
    every temperature's C of the sweep that is finished."""
    tau0 = cfg.dream.tau
    taus = [("round-0", tau0, f"round 0: evolved in round 0's M's dream at tau {tau0:g}")]
    for folder in sorted(paths.run_dir(cfg).glob("dream-tau*")):
        if (folder / CHECKPOINT).exists():
            tau = float(folder.name[len("dream-tau"):])
            taus.append((f"tau-{tau:.2f}", tau, f"evolved in round 0's M's dream at tau {tau:g}"))
    return [ExtraC(name, dream_params(cfg, tau), FULL_MODE, note, mdnrnn="mdnrnn-round-0")
            for name, tau, note in taus]


__all__ = ["ExtraC", "FinishedRun", "Starts", "read_finished"]
