"""Who plays an iterative round's new real games: ``iterate.explore_policy``.

* ``"current"`` (the paper's round): round k-1's C, each game with its chance per step of a
  random 1-10 step hold (``iterate.explore``, cycled over the games);
* ``"random"``: the random play that collected M's first data (Doom: a uniform action held
  1..``collect.hold_max`` steps), as if the round collected more random data;
* ``"curious"``: the paper's closing proposal, the sign of M's loss flipped. A CMA-ES search in
  the REAL game, started from round k-1's C (zeros without ``iterate.warm_start``), whose fitness
  is round k-1's M's summed surprise on the games each candidate plays (``agent.curiosity``);
  ``iterate.curious_population`` candidates per generation, one game each. Every game it plays
  is kept: they ARE the round's data (``iterate.episodes`` = population x generations), so no
  real game is played only to score a candidate and thrown away.

Every policy plays exactly ``iterate.episodes`` real games, on the same env seeds where the
policy allows it (the current C's and random play's), so arms compare at equal real episodes.
Why the real game and not the dream: in the dream M's surprise at its own samples is the
entropy of its prediction, and a confident but wrong M (where the dream lets C cheat) is not
surprised there (``agent.curiosity``).

The curious search lives in ``round-K/curious/`` (its CMA-ES checkpoint: a killed search resumes
at its generation; each generation's games are a shard of their own, written before the
checkpoint, so a generation re-run after a kill replays the same games and keeps the shard).
``round-K/games.json`` names the policy a round's games began with, so a half-played round is
never finished by another policy.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Callable

import numpy as np

from .. import paths
from ..artifacts import read_json, write_json
from ..config import Config, world_info

EXPLORE_POLICIES = ("current", "random", "curious")
CURIOUS = "curious"  # the curious search's folder in round-K/


def check_explore(cfg: Config) -> None:
    it = cfg.iterate
    if it.explore_policy not in EXPLORE_POLICIES:
        raise ValueError(f"iterate.explore_policy={it.explore_policy!r} is not one of {', '.join(EXPLORE_POLICIES)}: "
                         "set it with --set iterate.explore_policy=curious (say), or fix the profile")
    if it.explore_policy == "curious":
        P = it.curious_population
        if P < 2:
            raise ValueError(f"iterate.curious_population must be at least 2 candidates (CMA-ES ranks them; "
                             f"got {P}): fix the profile")
        if it.episodes % P:
            raise ValueError(f"iterate.episodes={it.episodes} is not a multiple of iterate.curious_population={P}: "
                             "the curious search plays whole generations of one game per candidate; "
                             "set one to fit the other")


def explore_fields(cfg: Config) -> dict:
    """The settings a round's games depend on besides ``iterate.episodes`` and ``iterate.explore``
    (its stage key): nothing for "current", so rounds played before the knob keep their key."""
    it = cfg.iterate
    out = {} if it.explore_policy == "current" else {"iterate.explore_policy": it.explore_policy}
    if it.explore_policy == "random":
        out["collect.hold_max"] = cfg.collect.hold_max
    if it.explore_policy == "curious":
        out.update({"iterate.curious_population": it.curious_population, "iterate.warm_start": it.warm_start,
                    "evolution.sigma0": cfg.evolution.sigma0, "evolution.diagonal": cfg.evolution.diagonal,
                    "mdnrnn.done_pos_weight": cfg.mdnrnn.done_pos_weight})
    if it.seed:
        out["iterate.seed"] = it.seed
    return out


ROUND_EPISODE_BASE = 1_000_000   # episode ids of round k: k * base + i (never clash with random play)


@dataclasses.dataclass(frozen=True)
class Previous:
    """What round k's games take from the round before (``iterate`` hands it over, so this module never
    reads the rounds itself): round k-1's C and M, each read only when the policy plays with it, and the
    base seed of the round's games."""
    params: Callable[[], np.ndarray]
    mdnrnn: Callable[[], object]
    seed: int


def round_games(root, k: int) -> int:
    """How many of round k's games the data folder holds (complete shards only)."""
    from ..worlds.data import complete_shards

    return sum(int(i) // ROUND_EPISODE_BASE == k for s in complete_shards(root)
               for i in read_json(s / "meta.json")["episode_ids"])


def play_round(cfg: Config, k: int, root, previous: Previous, progress: bool = True) -> None:
    """Round k's ``iterate.episodes`` real games, played by ``iterate.explore_policy``, written to ``root``."""
    check_explore(cfg)
    policy = cfg.iterate.explore_policy
    marker = paths.ready(paths.round_dir(cfg, k)) / "games.json"
    began = read_json(marker)["explore_policy"] if marker.exists() else None
    if began is not None and began != policy and round_games(root, k):
        raise ValueError(f"round {k}'s games were begun by iterate.explore_policy={began!r}, not {policy!r}: "
                         f"set it back, or move {paths.iterate_dir(cfg)} away to play the rounds afresh")
    write_json(marker, dict(explore_policy=policy))
    dict(current=play_current, random=play_random, curious=play_curious)[policy](cfg, k, root, previous, progress)


def _spec(cfg: Config, previous: Previous):
    from .dream import real_spec

    return real_spec(cfg, previous.mdnrnn())


def play_current(cfg: Config, k: int, root, previous: Previous, progress: bool = True) -> None:
    """Round k-1's C plays the games, each with its exploration rate (``iterate.explore``, cycled)."""
    from ..agent.pool import RolloutPool

    it = cfg.iterate
    explore = np.resize(np.asarray(it.explore, np.float64), it.episodes)
    with RolloutPool(_spec(cfg, previous), "processes", cfg.evolution.workers) as pool:
        out = pool.run(previous.params()[None], it.episodes, previous.seed, explore=explore[None], keep=True)
    _keep_round(cfg, k, root, out, f"C of round {k - 1} (exploration {tuple(it.explore)})", progress)


def _keep_round(cfg: Config, k: int, root, out: dict, who: str, progress: bool) -> None:
    """Write the round's games (ids k * ROUND_EPISODE_BASE + i) as one shard, and say how long they lasted."""
    from ..worlds.data import write_shard

    first, n = k * ROUND_EPISODE_BASE, cfg.iterate.episodes
    write_shard(root, list(range(first, first + n)), out["episodes"], cfg.world)
    if progress:
        r = out["returns"][0]
        print(f"round {k}: {who} played {n} real games: {r.mean():.1f} +- {r.std():.1f} "
              f"({world_info(cfg.world).score})")


class RandomPlayRunner:
    """A pool worker that plays collection's random policy instead of C (it ignores C's parameters):
    the env seeds, the pool and the kept records are those of C's games."""

    def __init__(self, spec: dict):
        from ..worlds.envs import make_env

        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        self.env = make_env(spec["world"], max_steps=spec["max_steps"], renderer=spec.get("renderer", "gymnasium"))
        self.world, self.hold_max = spec["world"], spec["hold_max"]

    def run(self, params, seeds, keep: bool = False, **_) -> dict:
        from ..agent.episode import episode_rng
        from ..worlds.data import play_episode
        from ..worlds.policies import random_policy

        games = [play_episode(self.env, random_policy(self.world, episode_rng(s), self.hold_max), int(s), keep=keep)
                 for s in seeds]
        out = dict(returns=np.array([g["ret"] for g in games]), lengths=np.array([g["length"] for g in games]))
        if keep:
            out["episodes"] = [{key: g[key] for key in ("frames", "actions", "rewards", "dones")} for g in games]
        return out

    def close(self):
        self.env.close()


def play_random(cfg: Config, k: int, root, previous: Previous, progress: bool = True) -> None:
    """Collection's random play plays the games (on the env seeds C's games would have)."""
    from ..agent.pool import RolloutPool

    it = cfg.iterate
    spec = dict(_spec(cfg, previous), hold_max=cfg.collect.hold_max)
    with RolloutPool(spec, "processes", cfg.evolution.workers, runner=RandomPlayRunner) as pool:
        out = pool.run(np.zeros((1, pool.n_params)), it.episodes, previous.seed, keep=True)
    _keep_round(cfg, k, root, out, f"random play (holds of 1-{cfg.collect.hold_max} steps)", progress)


def curious_dir(cfg: Config, k: int):
    return paths.round_dir(cfg, k) / CURIOUS


def play_curious(cfg: Config, k: int, root, previous: Previous, progress: bool = True):
    """A CMA-ES search for M's surprise plays the games: ``iterate.episodes / curious_population``
    generations of one real game per candidate, each generation's games kept as a shard."""
    from ..agent.curiosity import curious_fitness
    from ..agent.evolution import evolve
    from ..agent.pool import RolloutPool
    from ..worlds.data import shard_name, write_shard

    it = cfg.iterate
    P = it.curious_population
    first = k * ROUND_EPISODE_BASE
    # the fitness is surprise alone (no penalty on weights), each candidate on a game of its own
    ev = dataclasses.replace(cfg.evolution, population=P, rollouts=1, generations=it.episodes // P,
                             seed=previous.seed, weight_decay=0.0, same_episodes=False)

    def keep(generation, episodes):
        ids = list(range(first + generation * P, first + (generation + 1) * P))
        if not (root / shard_name(ids[0], ids[-1])).exists():  # a generation re-run after a kill: same games
            write_shard(root, ids, episodes, cfg.world)

    x0 = previous.params() if it.warm_start else None
    with RolloutPool(_spec(cfg, previous), "processes", cfg.evolution.workers) as pool:
        res = evolve(ev, pool.n_params, curious_fitness(pool, 1, cfg.mdnrnn.done_pos_weight, keep),
                     paths.ready(curious_dir(cfg, k)), progress=progress, x0=x0)
    if progress:
        gens = [h["mean"] for h in res.history]
        print(f"round {k}: a curious search played {it.episodes} real games ({len(gens)} generations of {P}); "
              f"M's mean summed surprise per game by generation: " + ", ".join(f"{s:.0f}" for s in gens))
    return res


def arm_root(base_cfg: Config, folder) -> Path:
    """A root in ``folder`` whose round-0 stages are links to ``base_cfg``'s (everything but ``iterate/`` and
    the pipeline's record), and whose round 0 score is the base's (the same C, M and games): one round
    played there by another ``iterate.explore_policy`` compares with the base's at equal round 0."""
    import shutil

    from ..artifacts import link_stages

    run = paths.run_dir(base_cfg)
    mine = Path(folder) / base_cfg.world / base_cfg.profile
    link_stages(run, mine, skip=(paths.iterate_dir(base_cfg).name, paths.reproduce_record(base_cfg).name))
    score0 = paths.round_score(base_cfg, 0)
    target = mine / score0.relative_to(run)
    if not target.exists():
        paths.ready(target.parent)
        shutil.copy2(score0, target)
    return Path(folder)


def curious_summary(cfg: Config, k: int) -> dict | None:
    """Round k's curious search, for its row: M's summed surprise per game, mean and best, by generation."""
    from ..agent.evolution import CHECKPOINT, load_result

    folder = curious_dir(cfg, k)
    if not (folder / CHECKPOINT).exists():
        return None
    hist = load_result(folder).history
    return dict(generations=len(hist), surprise_mean=[h["mean"] for h in hist], surprise_max=[h["max"] for h in hist])


__all__ = ["EXPLORE_POLICIES", "ROUND_EPISODE_BASE", "Previous", "check_explore", "explore_fields", "round_games", "play_round", "play_current",
           "play_random", "play_curious", "RandomPlayRunner", "curious_dir", "curious_summary"]
