"""M's surprise along a game, and C rewarded for it: the paper's closing proposal, the sign flipped.

M is trained to lower its loss on what it sees. Its loss on ONE step of a game is its surprise
there (nats)::

    surprise_t = mean over dims of -log p_M(z_{t+1} | z_t, a_t, h_t)      (the next code; none on the last step)
                 + w * -log p_M(done_t) on deaths, -log(1 - p_M(done_t)) otherwise   (Doom's done head)

exactly M's training loss (``training.mdnrnn.m_loss``, ``w`` = ``mdnrnn.done_pos_weight``) on
that step. A curious C is evolved to MAXIMISE the summed surprise of the games it plays: it
seeks what M predicts worst. Two caveats the book states: a sum also pays for living longer
(more steps to be surprised in), and surprise is not learning progress: a fireball M can never
predict stays surprising however often it is seen (noise, not ignorance).

Where the curious C is evolved: in the REAL game (``training.explore``). In M's dream the next
code is M's own sample, so its expected surprise is the entropy of M's prediction: a confident
but wrong M (the wall it never saw, where the dream lets C cheat) looks unsurprising there, and
that is exactly where iterative training needs data. Real surprise costs real games; the
round's curious games are its data, so nothing real is played only to be thrown away.

``surprise_along`` scores a recorded game (codes and actions); ``game_surprise`` one of frames
(V's mean codes); ``played_surprise`` plays one real game and scores it (with its frames: what a
widget draws); ``EpisodeRunner.run(..., surprise=True)`` the games it plays, per step with
``trace=True``; ``curious_fitness`` turns a ``RolloutPool`` into CMA-ES's fitness.
"""
from __future__ import annotations

import numpy as np
import torch

from ..models.mdnrnn import done_nll, mixture_nll
from ..models.vae import encode_frames


@torch.no_grad()
def surprise_along(mdnrnn, z, actions, dones=None, pos_weight: float = 1.0) -> dict:
    """M's surprise at each step of one game: z [T, z] (the codes M read), actions [T, A], dones [T]
    (True where the game ended after that step; None: a world without a done head).

    Returns numpy arrays [T]: ``surprise`` (their sum per step), ``z`` (the next code's NLL, nats
    per dim; NaN on the last step, which has no next code) and ``done`` (the done head's loss, or
    zeros without one). M starts the game with an empty memory (restart flag on step 0).
    """
    m = mdnrnn.eval()
    device = next(m.parameters()).device
    z = torch.as_tensor(np.asarray(z, np.float32), device=device)[None]
    a = torch.as_tensor(np.asarray(actions, np.float32), device=device).reshape(1, z.shape[1], -1)
    if z.shape[1] < 1:
        raise ValueError("a game needs at least one step to be surprised by")
    restart = torch.zeros(1, z.shape[1], device=device)
    restart[0, 0] = 1
    mix, done_logit, _ = m(z, a, restart=restart)
    steps = z.shape[1]
    z_part = np.full(steps, np.nan)
    z_part[:-1] = mixture_nll(*(p[0, :-1].float() for p in mix), z[0, 1:]).mean(-1).cpu().numpy()
    d_part = np.zeros(steps)
    if done_logit is not None:
        if dones is None:
            raise ValueError("this M predicts the end of the game: pass dones [T] (True where it ended)")
        d = torch.as_tensor(np.asarray(dones, np.float32), device=device)
        d_part = done_nll(done_logit[0].float(), d, pos_weight).cpu().numpy().astype(np.float64)
    return dict(surprise=np.nan_to_num(z_part) + d_part, z=z_part, done=d_part)


@torch.no_grad()
def game_surprise(mdnrnn, vae, frames, actions, dones=None, pos_weight: float = 1.0) -> dict:
    """``surprise_along`` a game of frames (uint8 [T, 64, 64, 3], the frame seen before each action),
    coded by V's mean, as the real game feeds M with ``dream.real_z="mean"``."""
    mu, _ = encode_frames(vae.eval(), np.asarray(frames))
    return surprise_along(mdnrnn, mu, actions, dones, pos_weight)


def played_surprise(spec: dict, params, seed: int, pos_weight: float = 1.0) -> dict:
    """One real game of C (``params``) with the agent of ``spec`` (``episode.agent_spec``, mode "zh"), and
    M's surprise at each of its steps: dict(surprise, z, done [T] as ``surprise_along`` gives them,
    frames uint8 [T+1, H, W, 3] (the raw frames, the first before any action), actions [T, A],
    done_prob [T] or None, steps, died)."""
    from .episode import EpisodeRunner

    with EpisodeRunner(spec) as runner:
        out = runner.run(np.asarray(params, np.float32)[None], [int(seed)], record=True, trace=True,
                         surprise=True, pos_weight=pos_weight)
    t = out["traces"][0]
    return dict(surprise=t["surprise"], z=t["z_surprise"], done=t["done_surprise"], frames=np.stack(out["frames"]),
                actions=t["actions"], done_prob=t["done_prob"], steps=int(out["lengths"][0]), died=t["terminated"])


def curious_fitness(pool, rollouts: int, pos_weight: float = 1.0, on_games=None):
    """CMA-ES's ``evaluate_fn`` for a curious C: each candidate's summed surprise of M on each of its
    ``rollouts`` real games [P, R] (``pool``: a ``RolloutPool`` of the agent with M).

    ``on_games(generation, episodes)``: called with the generation's games as ``keep`` records them
    (row-major), before the fitness is returned, so they can be saved as data.
    """
    def fitness(solutions, generation, seed):
        out = pool.run(solutions, rollouts, seed, keep=on_games is not None, surprise=True, pos_weight=pos_weight)
        if on_games is not None:
            on_games(generation, out["episodes"])
        return out["surprise"]

    return fitness


__all__ = ["surprise_along", "game_surprise", "played_surprise", "curious_fitness"]
