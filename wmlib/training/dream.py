"""Train C inside M's dream, carry it back to the real game: the paper's Doom experiment.

    python -m wmlib train-in-dream doom --tau 1.15     # evolve C in the dream; score it in dream and reality
    python -m wmlib temperature-sweep doom             # every tau of cfg.dream.taus, beside the paper's table

C (mode "zh": it reads [z, c, h], 1,088 parameters at LSTM 512) is evolved with
CMA-ES on dreams only (``wmlib.agent.dream.dream_rollouts``): each dream starts from
the code of a real first frame (the encoded series' ``first_mu/first_logvar``;
``dream.start_from="anywhere"``: at every ``start_stride``-th recorded step, see ``recorded_starts``),
M samples every next code at temperature tau and decides when the agent dies;
the return is the number of steps survived. No real frame is seen until the
test, where the same C drives the real game through V and M exactly as in
``wmlib.agent.episode`` (z = V's mean code of the frame, M's state updated from the
real z and the action).

The car (beyond the paper): with ``mdnrnn.reward_head`` on, M predicts each
step's reward and the dream pays it, so the same command trains the car's C
(mode "zh": [z, h], 867 parameters) in M's dream, and ``evaluate_in_reality``
scores it on the official renderer. Recipe: ``experiments/recipes/carracing-dream.toml``.
A real car episode ends at the time limit (1,000 steps), on finishing a lap, or on
leaving the playfield (-100). The car's M has no done head and its dream ends at
the cap (``dream.max_steps``): random play gives such a head nothing to learn
(10 of 10 random-walk episodes ran the full 1,000 steps; only ~1.4% of their steps
paid a tile), a finished lap only stops the tiles paying (-0.1 a step, which the
reward head sees), and a -100 is a reward the head can learn where it happens.

Population, rollouts and generations come from ``cfg.dream`` where set (dreams
are cheap, so a profile may afford more than in the real game), else from
``cfg.evolution``; the dream's cap and done rule come from ``cfg.dream``.

Each tau has its own run folder ``<world>/<profile>/dream-tau<tau>/``: the
evolution checkpoint (resumable; a no-op once done), ``history.json``,
``run.json`` (the M it dreams with, by checksum, and the dream settings) and
``score-<which>.json`` (dream and real scores; reused while the controller, the
models and the episode counts are the same). The sweep writes ``table.json``
to ``<world>/<profile>/temperature/`` (the command line draws ``temperature.png`` beside it).
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses

import numpy as np
import torch

from .. import paths
from ..agent.dream import check_dropout
from ..agent.evolution import EvolutionResult
from ..agent.episode import agent_spec
from ..agent.pool import BACKENDS, RolloutPool
from ..artifacts import file_sha256, write_json
from ..config import Config, world_info
from ..models.controller import (Controller, block_rms, controller_inputs, input_rms, param_count,
                                 param_scale)
from ..paper import RANDOM_POLICY, SOLVED, TEMPERATURE
from .c_run import CRun, params_sha256, read_params
from .controller import TEST_SEED, search_fields
from .stages import cached

DREAM_TEST_SEED = 123_456_789  # the dream test uses dreams no generation trained on


# ----------------------------------------------------------------------------- where, and with what

def check_dream_world(cfg: Config) -> None:
    """A dream must pay C what the game would: Doom's by steps survived (its M's done head), another
    world's only with M's reward head (``mdnrnn.reward_head``)."""
    if not world_info(cfg.world).dream_trained and not cfg.mdnrnn.reward_head:
        raise ValueError(f"training in the dream needs an M that dreams the reward: Doom's is 'steps survived' "
                         f"(its done head), {cfg.world}'s needs M with a reward head: train M and C with "
                         f"--recipe experiments/recipes/{cfg.world}-dream.toml (mdnrnn.reward_head=true) in an "
                         f"artifacts folder of its own, or train the car's C in the real world: "
                         f"`python -m wmlib train-controller {cfg.world}`")


def check_tau(tau) -> float:
    tau = float(tau)
    if not np.isfinite(tau) or tau < 0:
        raise ValueError(f"temperature must be a number >= 0 (got {tau}); the paper used 0.1 to 1.3")
    return tau


def check_dream_start(cfg: Config) -> None:
    """Refuse ``evolution.start`` in a dream: it starts C evolved in the real world, never a dream's C."""
    if cfg.evolution.start != "zeros":
        raise ValueError(f"evolution.start={cfg.evolution.start!r} starts C on [z, h] in the real world from another "
                         f"C; a dream's C starts from zeros (a round's from the last round's C): drop the setting")


def dream_evolution_config(cfg: Config) -> Config:
    """``cfg`` with ``cfg.dream``'s population / rollouts / generations (where set) and cap in ``evolution``."""
    d = cfg.dream
    sizes = {k: getattr(d, k) for k in ("population", "rollouts", "generations") if getattr(d, k)}
    for k, v in sizes.items():
        if v < 1:
            raise ValueError(f"dream.{k} must be at least 1, or 0 to use evolution.{k} (got {v}): fix the profile")
    return cfg.with_overrides(evolution=dict(sizes, max_steps=d.max_steps))


def _model_paths(cfg: Config) -> dict:
    return {"vae": paths.vae_file(cfg), "mdnrnn": paths.mdnrnn_file(cfg)}


START_FROM = ("first", "anywhere")


def check_start_from(cfg: Config) -> None:
    d = cfg.dream
    if d.start_from not in START_FROM:
        raise ValueError(f"dream.start_from={d.start_from!r} is not one of {', '.join(START_FROM)}: fix the profile")
    if d.start_from == "anywhere" and d.start_stride < 1:
        raise ValueError(f"dream.start_stride must be at least 1 (got {d.start_stride}): fix the profile")
    if not 0 <= d.death_share < 1:
        raise ValueError(f"dream.death_share must be in [0, 1) (got {d.death_share}): a share of the starts, "
                         "0 for none; fix the recipe")
    if d.death_share and (d.start_from != "anywhere" or d.death_window < 1):
        raise ValueError(f"dream.death_share={d.death_share} weights starts along the recorded games: it needs "
                         f"dream.start_from='anywhere' (got {d.start_from!r}) and dream.death_window >= 1 "
                         f"(got {d.death_window}); fix the recipe")


INPUT_SCALES = ("none", "rms", "block")


def check_input_scale(cfg: Config) -> str:
    if cfg.dream.input_scale not in INPUT_SCALES:
        raise ValueError(f"dream.input_scale={cfg.dream.input_scale!r} is not one of {', '.join(INPUT_SCALES)}: "
                         "fix the profile or recipe")
    return cfg.dream.input_scale


def _dream_settings(cfg: Config, tau: float) -> dict:
    d = cfg.dream
    settings = dict(tau=tau, max_steps=d.max_steps, done_rule=d.done_rule, done_threshold=d.done_threshold,
                    rollouts=dream_evolution_config(cfg).evolution.rollouts)
    if d.start_from != "first":  # absent for the paper's starts, so older runs resume unchanged
        settings.update(start_from=d.start_from, start_stride=d.start_stride)
    if d.done_rule == "sample":  # sampled deaths are un-weighted by the head's training weight
        settings["done_pos_weight"] = cfg.mdnrnn.done_pos_weight
    if d.dropout:  # absent when off, so older runs resume unchanged
        settings["dropout"] = d.dropout
    if d.input_scale != "none":  # likewise
        settings["input_scale"] = d.input_scale
    if d.death_share:  # likewise
        settings.update(death_share=d.death_share, death_window=d.death_window)
    return settings


def dream_fields(cfg: Config, tau: float) -> dict:
    """The settings a dream-trained C's search depends on: the dream's and the CMA-ES's."""
    d = cfg.dream
    dream = dict(tau=tau, max_steps=d.max_steps, done_rule=d.done_rule, done_threshold=d.done_threshold,
                 start_from=d.start_from, start_stride=d.start_stride, dropout=d.dropout,
                 input_scale=d.input_scale, death_share=d.death_share)
    if d.death_share:  # the window means nothing without the share
        dream["death_window"] = d.death_window
    return {**{f"dream.{k}": v for k, v in dream.items()}, **search_fields(dream_evolution_config(cfg).evolution)}


def _dream_command(cfg: Config, tau: float) -> str:
    return f"`python -m wmlib train-in-dream {cfg.world} --tau {tau:g} --profile {cfg.profile}` (or train_in_dream)"


def dream_run(cfg: Config, tau: float) -> CRun:
    """The run folder of C evolved in M's dream at ``tau``; it keeps the M and the dream settings it began with."""
    from .mdnrnn import mdnrnn_stage

    tau = check_tau(tau)
    return CRun(paths.dream_dir(cfg, tau), command=_dream_command(cfg, tau),
                name=f"C in the dream (tau {tau:g})",
                header=dict(world=cfg.world, profile=cfg.profile, mode="zh"),
                fields=lambda: dream_fields(cfg, tau), reads=lambda: (mdnrnn_stage(cfg),),
                kept=lambda: dict(
                    mdnrnn=(file_sha256(paths.mdnrnn_file(cfg)),
                            "M changed since the dream run in {folder} began; its population was evolved in the "
                            "old M's dream: move that folder away to start afresh"),
                    dream=(_dream_settings(cfg, tau),
                           "the dream run in {folder} began with other dream settings: {changed}; resume with "
                           "the same dream settings, or move that folder away to start afresh")))


@torch.inference_mode()
def recorded_starts(mdnrnn, data, stride: int):
    """Dream starts along the recorded episodes, not only at their first frames.

    ``data``: the recorded steps as ``wmlib.training.mdnrnn.Transitions`` (one series, or
    several joined with ``Transitions.concat``). Every ``stride``-th step t of every
    episode (t = 0 included) gives a start: the code of frame t (mu, logvar) and M's
    state after it read the real codes (V's mean) and actions of steps 0..t-1. A dream
    begun there continues a real game, so a policy that walks into a wall meets the
    walls the random play reached, which a dream begun at the first frame may never
    reach (``dream.start_from="anywhere"``).
    Returns ``(mu [N, z], logvar [N, z], (h [N, H], c [N, H], restart [N]))``.
    """
    if stride < 1:
        raise ValueError(f"stride must be at least 1 (got {stride})")
    m = copy.deepcopy(mdnrnn).cpu().float().eval()
    lengths, starts = torch.from_numpy(data.lengths), np.asarray(data.starts)
    E, T = len(lengths), int(lengths.max())
    mu, act = torch.zeros(E, T, m.z_size), torch.zeros(E, T, m.action_size)
    for i, (a, n) in enumerate(zip(starts[:-1], data.lengths)):
        mu[i, :n] = torch.from_numpy(np.asarray(data.mu[a:a + n], np.float32))
        act[i, :n] = torch.from_numpy(np.asarray(data.actions[a:a + n], np.float32))
    h, c = m.initial_state(E)
    picked = []  # (episode rows, t, h, c)
    for t in range(T):
        if t % stride == 0:
            rows = torch.nonzero(lengths > t).flatten()
            picked.append((rows, t, h[0, rows].clone(), c[0, rows].clone()))
        h, c = m.advance(mu[:, t], act[:, t], (h, c), torch.ones(E) if t == 0 else None)
    frame = start_frames(data, stride)
    first = np.concatenate([np.full(len(rows), t == 0) for rows, t, _, _ in picked])
    state = (torch.cat([p[2] for p in picked]).numpy(), torch.cat([p[3] for p in picked]).numpy(),
             first.astype(np.float32))
    return (np.asarray(data.mu[frame], np.float32), np.asarray(data.logvar[frame], np.float32), state)


def start_frames(data, stride: int) -> np.ndarray:
    """The recorded frame each of ``recorded_starts``' starts begins at, in its order (step by step)."""
    lengths, starts = np.asarray(data.lengths), np.asarray(data.starts)[:len(data.lengths)]
    return np.concatenate([starts[lengths > t] + t for t in range(0, int(lengths.max()), stride)])


def death_weighted_rows(data, frames: np.ndarray, share: float, window: int, from_frame: int = 0) -> np.ndarray:
    """Rows of the starts (begun at ``frames``) with those within ``window`` steps before a recorded death
    (of a game recorded at or after ``from_frame``) repeated, so that about ``share`` of the dreams begin
    there (never fewer than their own share: they are repeated, not thinned). C is then chosen on the
    moments that killed the recorded player rather than on a game's quiet stretches."""
    lengths, starts = np.asarray(data.lengths), np.asarray(data.starts)[:len(data.lengths)]
    episode = np.searchsorted(starts, frames, side="right") - 1
    end = starts[episode] + lengths[episode]                     # one past the episode's last frame
    near = np.asarray(data.dones, bool)[end - 1] & (end - frames <= window) & (starts[episode] >= from_frame)
    if not near.any():
        raise ValueError(f"dream.death_share={share}: no recorded start lies within {window} steps of a recorded "
                         "death; raise dream.death_window or set dream.death_share = 0")
    rows = np.arange(len(frames))
    copies = max(1, round(share * (~near).sum() / ((1 - share) * near.sum())))
    return np.concatenate([rows[~near], np.repeat(rows[near], copies)])


def steps_input_rms(world: str, mu, logvar, h, c) -> np.ndarray:
    """The RMS of each of C's inputs [z, c, h] over recorded steps [N, .]: M's state there, and the code
    sampled from V (mu + sigma * eps, whose mean square is mu^2 + sigma^2), as M and the dream produce it."""
    z_ms = np.mean(np.square(mu) + np.exp(logvar), axis=0)
    state_ms = np.mean(np.square(controller_inputs(world, np.zeros_like(mu[:, :0]), h, c, "zh")), axis=0)
    return input_rms(np.concatenate([z_ms, state_ms]))


def recorded_input_rms(mdnrnn, data, world: str) -> np.ndarray:
    """``steps_input_rms`` over every recorded step, M's state after the real steps before it
    (``recorded_starts`` at stride 1)."""
    mu, logvar, (h, c, _) = recorded_starts(mdnrnn, data, 1)
    return steps_input_rms(world, mu, logvar, h, c)


def dream_param_scale(cfg: Config, mdnrnn, data) -> np.ndarray | None:
    """CMA-ES's per-parameter scale for ``dream.input_scale``: None ("none"); every input of C put at RMS 1
    ("rms"); or each block (z, c, h) put at RMS 1 as a whole ("block")."""
    how = check_input_scale(cfg)
    if how == "none":
        return None
    rms = recorded_input_rms(mdnrnn, data, cfg.world)
    if how == "block":
        rms = block_rms(rms, cfg.world, mdnrnn.z_size, mdnrnn.hidden)
    return param_scale(cfg.world, rms)


class Dreamer:
    """M's dream of one config at one temperature: ``dreamer(params [P, n], rollouts, seed) -> returns [P, R]``.

    With ``cfg.evolution.same_episodes`` the P candidates dream the same R episodes (one C alone is
    unaffected: it dreams candidate 0's keys either way). ``param_scale``: None, or with
    ``dream.input_scale`` "rms" or "block" the per-parameter scale CMA-ES searches under (``evolve``'s ``scale``).
    """

    def __init__(self, cfg: Config, tau: float, device=None, mdnrnn=None, series=None):
        from ..device import resolve_device
        from .series import load_series
        from .mdnrnn import load_mdnrnn

        self.cfg, self.tau = cfg, check_tau(tau)
        self.m = mdnrnn if mdnrnn is not None else load_mdnrnn(cfg, resolve_device(device))
        series = series if series is not None else load_series(cfg)
        parts = list(series) if isinstance(series, (list, tuple)) else [series]  # random play first, then rounds
        check_start_from(cfg)
        check_dropout(cfg.dream.dropout)
        data = None  # every recorded game given, joined: for the starts anywhere and the input scale
        if cfg.dream.start_from == "anywhere" or check_input_scale(cfg) != "none":
            from .mdnrnn import Transitions

            data = Transitions.concat([Transitions(s) for s in parts])
        self.param_scale = dream_param_scale(cfg, self.m, data)
        if cfg.dream.start_from == "anywhere":
            self.first_mu, self.first_logvar, self.start_state = recorded_starts(self.m, data, cfg.dream.start_stride)
            if cfg.dream.death_share:  # the deaths of the last player recorded: random play, or the rounds' Cs
                newest = sum(int(np.sum(s.dataset.lengths)) for s in parts[:-1])
                rows = death_weighted_rows(data, start_frames(data, cfg.dream.start_stride), cfg.dream.death_share,
                                           cfg.dream.death_window, from_frame=newest)
                self.first_mu, self.first_logvar = self.first_mu[rows], self.first_logvar[rows]
                self.start_state = tuple(x[rows] for x in self.start_state)
        else:  # the paper's first frames: those of random play
            self.first_mu = np.asarray(parts[0].first_mu, np.float32)
            self.first_logvar = np.asarray(parts[0].first_logvar, np.float32)
            self.start_state = None
        self.n_params = param_count(cfg.world, self.m.z_size, self.m.hidden, "zh")

    def __call__(self, params, rollouts: int, seed: int) -> np.ndarray:
        from ..agent.dream import dream_rollouts

        d = self.cfg.dream
        return dream_rollouts(self.m, self.cfg.world, np.atleast_2d(params), self.first_mu, self.first_logvar,
                              rollouts=rollouts, tau=self.tau, max_steps=d.max_steps, seed=seed,
                              done_rule=d.done_rule, done_threshold=d.done_threshold, mode="zh",
                              done_pos_weight=self.cfg.mdnrnn.done_pos_weight, start_state=self.start_state,
                              same_episodes=self.cfg.evolution.same_episodes, dropout=d.dropout)

    def env(self, vae=None, tau: float | None = None, max_steps: int | None = None):
        """The same dream one episode at a time (``DreamEnv``; pass V to see it)."""
        from ..agent.dream import DreamEnv

        d = self.cfg.dream
        return DreamEnv(self.m, self.first_mu, self.first_logvar, tau=self.tau if tau is None else tau,
                        max_steps=max_steps or d.max_steps, vae=vae, done_rule=d.done_rule,
                        done_threshold=d.done_threshold, world=self.cfg.world,
                        done_pos_weight=self.cfg.mdnrnn.done_pos_weight, start_state=self.start_state,
                        dropout=d.dropout)


# ----------------------------------------------------------------------------- training in the dream

def train_in_dream(cfg: Config, tau: float | None = None, progress: bool = True, generations: int | None = None,
                   device=None) -> EvolutionResult:
    """Evolve Doom's C in M's dream at temperature ``tau`` (default ``cfg.dream.tau``).

    Resumes its run folder; a no-op once ``generations`` (default: the dream's) are done.
    ``device``: where M dreams (default CUDA when present).
    """
    check_dream_world(cfg)
    tau = check_tau(cfg.dream.tau if tau is None else tau)
    check_dream_start(cfg)
    ev = dream_evolution_config(cfg).evolution

    @contextlib.contextmanager
    def dream():  # fitness: steps survived in M's dreams, a whole population at once
        dreamer = Dreamer(cfg, tau, device)
        yield (dreamer.n_params, lambda solutions, generation, seed: dreamer(solutions, ev.rollouts, seed),
               lambda params, episodes, seed: dreamer(params[None], episodes, seed)[0], dreamer.param_scale)

    return dream_run(cfg, tau).train(ev, dream, generations, progress)


def dream_params(cfg: Config, tau: float, which: str = "deployed") -> np.ndarray:
    """The dream-trained C's flat parameters: ``deployed`` (best-evaluated mean), ``mean`` or ``best`` (read only)."""
    tau = check_tau(tau)
    return read_params(paths.dream_dir(cfg, tau), _dream_command(cfg, tau), which)


def dream_controller(cfg: Config, tau: float, which: str = "deployed") -> Controller:
    return Controller(cfg.world, cfg.vae.z_size, cfg.mdnrnn.hidden, "zh").set_flat(dream_params(cfg, tau, which))


# ----------------------------------------------------------------------------- back to reality

def real_spec(cfg: Config, mdnrnn=None) -> dict:
    """The real V + M + C loop (mode "zh") at the dream's cap, for ``RolloutPool``.

    ``mdnrnn``: drive with this M (an iterative-training round's) instead of the pipeline's.
    """
    from .mdnrnn import load_mdnrnn
    from .vae import load_vae

    m = load_mdnrnn(cfg, "cpu") if mdnrnn is None else mdnrnn.cpu()
    return agent_spec(cfg.world, "zh", load_vae(cfg, "cpu"), m, cfg.dream.max_steps,
                      cfg.evolution.lockstep, real_z=cfg.dream.real_z)


class SharedPool:
    """One ``RolloutPool`` for several real evaluations, started only when a score is not on disk yet."""

    def __init__(self, cfg: Config, backend: str = "processes", workers: int | None = None):
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
        self.cfg, self.backend, self.workers = cfg, backend, workers or cfg.evolution.workers
        self.pool = None

    def run(self, params, rollouts: int, seed: int) -> dict:
        if self.pool is None:
            self.pool = RolloutPool(real_spec(self.cfg), self.backend, self.workers)
        return self.pool.run(params, rollouts, seed)

    def close(self):
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _summary(returns) -> dict:
    r = np.asarray(returns, np.float64).reshape(-1)
    return dict(mean=float(r.mean()), std=float(r.std()), episodes=int(r.size), returns=r.tolist())


def paper_row(tau: float, world: str = "doom"):
    """The paper's ((dream mean, std), (real mean, std)) at ``tau`` in ``world``, or None (the paper has no
    such row: another tau, or a world it did not train in the dream)."""
    return TEMPERATURE.get(world, {}).get(round(float(tau), 2))


def evaluate_in_reality(cfg: Config, tau: float | None = None, which: str = "deployed",
                        real_episodes: int | None = None, dream_episodes: int | None = None,
                        backend: str = "processes", workers: int | None = None, device=None,
                        pool: SharedPool | None = None) -> dict:
    """Score the dream-trained C over ``real_episodes`` real games and ``dream_episodes`` dreams.

    Get-or-build: saved as ``score-<which>.json`` in the run folder and reused while the
    controller, V, M, the episode counts and the seeds are the same. ``pool``: a
    ``SharedPool`` to reuse (the sweep scores every tau with one).
    """
    check_dream_world(cfg)
    tau = check_tau(cfg.dream.tau if tau is None else tau)
    d = cfg.dream
    real_episodes = d.real_episodes if real_episodes is None else int(real_episodes)
    dream_episodes = d.dream_episodes if dream_episodes is None else int(dream_episodes)
    if real_episodes < 1 or dream_episodes < 1:
        raise ValueError(f"need at least one episode in each world (got real {real_episodes}, "
                         f"dream {dream_episodes})")
    run = dream_run(cfg, tau)
    params = run.params(which)
    key = dict(params_sha256=params_sha256(params), real_episodes=real_episodes, dream_episodes=dream_episodes,
               real_seed=TEST_SEED, dream_seed=DREAM_TEST_SEED, dream_settings=_dream_settings(cfg, tau),
               real_z=cfg.dream.real_z,
               models={k: file_sha256(p) for k, p in _model_paths(cfg).items()})

    def play():
        dream = Dreamer(cfg, tau, device)(params[None], dream_episodes, DREAM_TEST_SEED)[0]
        with contextlib.nullcontext(pool) if pool is not None else SharedPool(cfg, backend, workers) as real_pool:
            real = real_pool.run(np.asarray(params)[None], real_episodes, TEST_SEED)
        paper = paper_row(tau, cfg.world)
        return dict(world=cfg.world, profile=cfg.profile, tau=tau, which=which, generations=run.result().generations,
                    dream=_summary(dream), real=dict(_summary(real["returns"][0]), lengths=real["lengths"][0].tolist()),
                    paper=None if paper is None else dict(dream=list(paper[0]), real=list(paper[1])))

    return cached(paths.dream_score(cfg, tau, which), key, play, name=f"score of C (tau {tau:g})")


def record_dream(cfg: Config, tau: float, params, vae=None, seed: int = DREAM_TEST_SEED,
                 dreamer: Dreamer | None = None, dream_tau: float | None = None) -> dict:
    """One dream of a controller: M's death probability per step [T], the reward M paid per step [T],
    the return, whether M killed it, and (given V) the frames V decodes, uint8 [T+1, 64, 64, 3].

    ``dream_tau``: dream at another temperature than the one the controller was trained at (``tau``).
    """
    dreamer = dreamer or Dreamer(cfg, tau)
    env = dreamer.env(vae, tau=dream_tau)
    ctrl = Controller(cfg.world, dreamer.m.z_size, dreamer.m.hidden, "zh").set_flat(params)
    obs, _ = env.reset(seed=seed)
    frames, probs, rewards = ([env.decode()] if vae is not None else None), [], []
    while True:
        z, c, h = env.split_obs(obs)
        obs, reward, terminated, truncated, info = env.step(ctrl.act(z, h, c))
        probs.append(info["done_prob"])
        rewards.append(reward)
        if frames is not None:
            frames.append(env.decode())
        if terminated or truncated:
            return dict(frames=None if frames is None else np.stack(frames), done_prob=np.asarray(probs),
                        reward=np.asarray(rewards), ret=float(sum(rewards)), died=bool(terminated))


def real_reward_trace(cfg: Config, params, seed: int | None = None) -> dict:
    """One real game (the first official track of the test, by default) of C ``params`` driving with
    ``cfg``'s V and M (it needs M's reward head): per step the game's reward and the reward M predicted
    for it, from the codes and actions of that game, as its dream would pay it.

    -> dict(seed, real [T], predicted [T], real_return, predicted_return, steps).
    """
    from ..agent.episode import EpisodeRunner, episode_seed

    seed = episode_seed(TEST_SEED, 0, 0) if seed is None else int(seed)
    spec = real_spec(cfg)
    if not spec["mdnrnn"]["arch"].get("reward_head"):
        raise ValueError("M has no reward head, so it predicts no reward along the track: train it with "
                         "mdnrnn.reward_head=true (--recipe experiments/recipes/carracing-dream.toml)")
    with EpisodeRunner(spec) as runner:
        out = runner.run(np.asarray(params, np.float32)[None], [seed], trace=True)
    t = out["traces"][0]
    return dict(seed=seed, real=t["rewards"].tolist(), predicted=t["reward_pred"].tolist(),
                real_return=float(out["returns"][0]), predicted_return=float(t["reward_pred"].sum()),
                steps=int(out["lengths"][0]))


# ----------------------------------------------------------------------------- the temperature table

def temperature_sweep(cfg: Config, taus=None, which: str = "deployed", progress: bool = True, device=None,
                      backend: str = "processes", workers: int | None = None) -> dict:
    """For each tau: train in the dream (get-or-build), score in the dream and in reality.

    Returns dict(rows=[...], json=path); each row holds our dream and real
    mean +- std and the paper's. Writes ``table.json``.
    """
    check_dream_world(cfg)
    taus = [check_tau(t) for t in (cfg.dream.taus if taus is None else taus)]
    if not taus:
        raise ValueError("no temperatures to sweep: pass taus or set cfg.dream.taus")
    rows = []
    with SharedPool(cfg, backend, workers) as pool:
        for tau in taus:
            res = train_in_dream(cfg, tau, progress=progress, device=device)
            score = evaluate_in_reality(cfg, tau, which, device=device, pool=pool)
            paper = paper_row(tau, cfg.world)
            rows.append(dict(tau=tau, generations=res.generations,
                             dream_mean=score["dream"]["mean"], dream_std=score["dream"]["std"],
                             real_mean=score["real"]["mean"], real_std=score["real"]["std"],
                             dream_episodes=score["dream"]["episodes"], real_episodes=score["real"]["episodes"],
                             paper_dream=None if paper is None else list(paper[0]),
                             paper_real=None if paper is None else list(paper[1])))
    out = paths.ready(paths.sweep_dir(cfg))
    table = dict(world=cfg.world, profile=cfg.profile, which=which, rows=rows,
                 dream=dataclasses.asdict(cfg.dream),
                 evolution=dataclasses.asdict(dream_evolution_config(cfg).evolution),
                 random_policy=_listed(RANDOM_POLICY.get(cfg.world)), solved=SOLVED.get(cfg.world))
    write_json(out / "table.json", table)
    return dict(table, json=str(out / "table.json"))


def _listed(pair):
    return None if pair is None else list(pair)


def format_table(rows, world: str = "doom") -> str:
    """Our dream and real scores beside the paper's, one line per tau; the paper's reference line for ``world``."""
    pm = lambda m, s: f"{m:7.1f} +- {s:6.1f}"
    pp = lambda p: f"{p[0]:5d} +- {p[1]:4d}" if p else " " * 13
    lines = [f"{'tau':>5} | {'dream (ours)':>17} | {'real (ours)':>17} | {'dream (paper)':>13} | {'real (paper)':>13}"]
    lines.append("-" * len(lines[0]))
    for r in rows:
        lines.append(f"{r['tau']:5.2f} | {pm(r['dream_mean'], r['dream_std'])} | {pm(r['real_mean'], r['real_std'])} | "
                     f"{pp(r['paper_dream'])} | {pp(r['paper_real'])}")
    reference = [f"random policy in the real game (paper): {RANDOM_POLICY[world][0]} +- {RANDOM_POLICY[world][1]}"
                 ] if world in RANDOM_POLICY else []
    if world in SOLVED:
        reference.append(f"solved: > {SOLVED[world]}")
    reference.append(f"scores = {world_info(world).score}")
    lines.append("; ".join(reference))
    return "\n".join(lines)


__all__ = ["DREAM_TEST_SEED", "check_dream_start", "check_dream_world", "check_tau", "dream_evolution_config", "dream_run",
           "Dreamer", "train_in_dream", "dream_params", "dream_controller", "real_spec", "SharedPool",
           "paper_row", "evaluate_in_reality", "record_dream", "real_reward_trace", "temperature_sweep", "format_table"]
