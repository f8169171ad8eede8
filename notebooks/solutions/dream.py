"""Notebook 04, exercises 1, 2 and 4: the done rules, standing still at two temperatures, what batching buys."""
from __future__ import annotations

import time

import numpy as np


def done_rule_lengths(m, params, first_mu, first_logvar, rollouts: int = 8, tau: float = 1.15,
                      max_steps: int = 100, seed: int = 0, done_pos_weight: float = 1.0,
                      rules=("threshold", "sample", "never")) -> dict:
    """Mean steps survived by each controller (rows of ``params``) under each done rule -> {rule: [P]}.

    The same episode keys for every rule: the dreams differ only in how M's death head ends them.
    ``done_pos_weight`` is the weight M's done head was trained with (``cfg.mdnrnn.done_pos_weight``).
    """
    from wmlib.agent.dream import dream_rollouts, world_of

    world = world_of(m)
    return {rule: dream_rollouts(m, world, params, first_mu, first_logvar, rollouts, tau, max_steps, seed=seed,
                                 done_rule=rule, done_pos_weight=done_pos_weight).mean(axis=1)
            for rule in rules}


def stand_still(m, first_mu, first_logvar, taus=(0.1, 1.3), episodes: int = 8, max_steps: int = 100,
                done_rule: str = "threshold", done_pos_weight: float = 1.0, seed: int = 0) -> dict:
    """Steps survived in ``DreamEnv`` by a player who always presses "stay" (action 0) -> {tau: [episodes]}.

    Episode e has key ``episode_keys(seed, 1, episodes)[0, e]`` at every temperature, so the temperatures
    see the same first frames and differ only in how M samples the future (and a C with zero weights,
    which acts tanh(0) = 0, scores the same in ``dream_rollouts``).
    """
    from wmlib.agent.dream import DreamEnv, episode_keys

    stay = np.zeros(m.action_size, np.float32)
    out = {}
    for tau in taus:
        env = DreamEnv(m, first_mu, first_logvar, tau=tau, max_steps=max_steps, done_rule=done_rule,
                       done_pos_weight=done_pos_weight)
        lengths = []
        for key in episode_keys(seed, 1, episodes)[0]:
            env.reset(seed=int(key))
            steps = 0
            while True:
                _, _, terminated, truncated, _ = env.step(stay)
                steps += 1
                if terminated or truncated:
                    break
            lengths.append(steps)
        out[tau] = np.array(lengths)
    return out


def batching_speedup(m, first_mu, first_logvar, populations=(1, 4, 16), rollouts: int = 2, tau: float = 1.15,
                     max_steps: int = 50, seed: int = 0, scale: float = 0.1) -> list[dict]:
    """Time ``dream_rollouts`` against ``play_dream`` on one ``DreamEnv`` for growing populations.

    The done rule is "never", so every dream runs to ``max_steps`` and both paths count the same
    agent-steps. -> one row per population: dict(population, batched_s, single_s, speedup, same),
    where ``same`` says that the two paths gave every episode the same length.
    """
    from wmlib.agent.dream import DreamEnv, dream_rollouts, episode_keys, play_dream, world_of
    from wmlib.models.controller import Controller, param_count

    world = world_of(m)
    n = param_count(world, m.z_size, m.hidden)
    env = DreamEnv(m, first_mu, first_logvar, tau=tau, max_steps=max_steps, done_rule="never", world=world)
    dream_rollouts(m, world, np.zeros((1, n)), first_mu, first_logvar, 1, tau, 2, seed=seed, done_rule="never")
    rows = []
    for P in populations:
        params = np.random.default_rng(seed).normal(size=(P, n)) * scale
        t0 = time.perf_counter()
        batched = dream_rollouts(m, world, params, first_mu, first_logvar, rollouts, tau, max_steps, seed=seed,
                                 done_rule="never")
        t_batched = time.perf_counter() - t0
        keys = episode_keys(seed, P, rollouts)
        t0 = time.perf_counter()
        single = np.array([[play_dream(env, Controller(world, m.z_size, m.hidden).set_flat(params[p]),
                                       int(keys[p, r])) for r in range(rollouts)] for p in range(P)])
        t_single = time.perf_counter() - t0
        rows.append(dict(population=P, batched_s=t_batched, single_s=t_single, speedup=t_single / t_batched,
                         same=bool(np.array_equal(batched, single))))
    return rows
