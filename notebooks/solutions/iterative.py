"""Notebook 06, exercises 1 and 4: what exploration adds to C's games, and a curiosity score in the dream."""
from __future__ import annotations

import numpy as np
import torch


def explored_actions(m, params, first_mu, first_logvar, rate: float, steps: int = 200, tau: float = 1.0,
                     seed: int = 0) -> np.ndarray:
    """The actions a controller ``params`` [n] takes in one dream when, as in the iterative rounds, at
    every step it has the chance ``rate`` of handing over to a random action held for 1-10 steps.

    The dream runs ``steps`` steps (done rule "never": only the action mix is of interest) -> [steps, A].
    """
    from wmlib.agent.dream import DreamEnv, world_of
    from wmlib.models.controller import Controller

    world = world_of(m)
    env = DreamEnv(m, first_mu, first_logvar, tau=tau, max_steps=steps, done_rule="never", world=world)
    ctrl = Controller(world, m.z_size, m.hidden).set_flat(params)
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    hold, held, actions = 0, None, []
    for _ in range(steps):
        z, c, h = env.split_obs(obs)
        a = ctrl.act(z, h, c)
        if hold == 0 and rate > 0 and rng.random() < rate:
            hold, held = int(rng.integers(1, 11)), rng.uniform(env.action_space.low, env.action_space.high)
        if hold > 0:
            hold, a = hold - 1, held.astype(np.float32)
        actions.append(a)
        obs, _, _, _, _ = env.step(a)
    return np.stack(actions)


def exploration_shares(m, params, first_mu, first_logvar, rates=(0.0, 0.1, 0.3), steps: int = 200,
                       seed: int = 0) -> dict:
    """Share of left / stay / right (Doom's thresholds) in C's dream at each exploration rate -> {rate: dict}."""
    from wmlib.training.iterate import action_shares

    return {rate: action_shares(explored_actions(m, params, first_mu, first_logvar, rate, steps, seed=seed))
            for rate in rates}


@torch.no_grad()
def dream_surprise(m, params, first_mu, first_logvar, steps: int = 50, tau: float = 1.0, seed: int = 0) -> np.ndarray:
    """A curiosity score per controller (rows of ``params`` [P, n]): M's mean negative log-likelihood
    (nats per latent dimension, at tau = 1) of each next code of the controller's dream -> [P].

    In a dream M's "error" on its own samples is its own uncertainty: high where M cannot tell what
    comes next. Deaths are ignored (every dream runs ``steps`` steps). On C's real games the same
    score is ``wmlib.training.iterate.judge_m``'s NLL.
    """
    from wmlib.agent.dream import world_of
    from wmlib.models.controller import batched_act, controller_inputs
    from wmlib.models.mdnrnn import mixture_nll, sample_mixture

    world = world_of(m)
    params = torch.as_tensor(np.asarray(params, np.float32))
    P = params.shape[0]
    gen = torch.Generator().manual_seed(seed)
    mu, logvar = torch.as_tensor(np.asarray(first_mu, np.float32)), torch.as_tensor(np.asarray(first_logvar, np.float32))
    idx = torch.randint(len(mu), (P,), generator=gen)
    z = mu[idx] + torch.exp(0.5 * logvar[idx]) * torch.randn(P, m.z_size, generator=gen)
    h, c = m.initial_state(P)
    total = torch.zeros(P)
    for t in range(steps):
        a = batched_act(world, params, controller_inputs(world, z, h[0], c[0])[:, None])[:, 0]
        mix, _, (h, c) = m.step(z, a, (h, c), torch.full((P,), float(t == 0)))
        z = sample_mixture(*mix, tau=tau, generator=gen)
        total += mixture_nll(*mix, z).mean(-1)
    return (total / steps).numpy()


def curious_fitness(survival, surprise, weight: float = 10.0) -> np.ndarray:
    """CMA-ES fitness with a curiosity bonus: mean steps survived [P, R] (or [P]) plus ``weight`` x surprise [P]."""
    survival = np.asarray(survival, float)
    return (survival.mean(axis=1) if survival.ndim == 2 else survival) + weight * np.asarray(surprise, float)
