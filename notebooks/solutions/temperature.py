"""Notebook 05, exercises 3 and 5: where dreams start, and every controller in every temperature's dream."""
from __future__ import annotations

import numpy as np


def cross_temperature_scores(m, first_mu, first_logvar, params, taus, rollouts: int = 16, max_steps: int = 100,
                             seed: int = 0, done_rule: str = "threshold", done_pos_weight: float = 1.0) -> np.ndarray:
    """Mean steps survived by controller i (``params[i]``) in the dream at ``taus[j]`` -> [controllers, taus].

    Every controller meets the same dreams (the same episode keys) at a given temperature, so a
    row-to-row difference is the controllers', not the luck of the draw. In the notebook, ``params``
    is ``[dream_params(cfg, tau) for tau in cfg.dream.taus]``: entry (i, i) is controller i in its own dream.
    """
    from wmlib.agent.dream import dream_rollouts, world_of

    world = world_of(m)
    scores = np.zeros((len(params), len(taus)))
    for i, p in enumerate(params):
        for j, tau in enumerate(taus):
            steps = dream_rollouts(m, world, np.asarray(p)[None], first_mu, first_logvar, rollouts, float(tau),
                                   max_steps, seed=seed, done_rule=done_rule, done_pos_weight=done_pos_weight)
            scores[i, j] = steps.mean()
    return scores


def dream_predicts_reality(scores: np.ndarray, real) -> np.ndarray:
    """For each dream temperature (column of ``scores``), the rank correlation between the controllers'
    dream scores and their real scores ``real`` [controllers] -> [taus] (nan where a column is constant).

    The column with the highest value is the dream whose ranking of controllers best matches the game's.
    """
    def ranks(x):
        x = np.asarray(x, float)
        order = np.argsort(x, kind="stable")
        r = np.empty(len(x))
        r[order] = np.arange(len(x))
        for v in np.unique(x):  # ties share their mean rank
            r[x == v] = r[x == v].mean()
        return r

    real_r = ranks(real)
    out = []
    for col in np.asarray(scores, float).T:
        col_r = ranks(col)
        if col_r.std() == 0 or real_r.std() == 0:
            out.append(np.nan)
        else:
            out.append(float(np.corrcoef(col_r, real_r)[0, 1]))
    return np.array(out)


def start_codes(first_mu, first_logvar, how: str, index: int = 0):
    """The first-frame codes dreams start from -> (mu, logvar), each [n, z].

    ``"real"``: every recorded first frame (what the library does); ``"same"``: only frame ``index``;
    ``"prior"``: V's prior N(0, I) (mean 0, log-variance 0), so each dream starts from a fresh draw
    from the prior instead of any real frame.
    """
    mu, logvar = np.asarray(first_mu, np.float32), np.asarray(first_logvar, np.float32)
    if how == "real":
        return mu, logvar
    if how == "same":
        return mu[index:index + 1], logvar[index:index + 1]
    if how == "prior":
        return np.zeros_like(mu[:1]), np.zeros_like(logvar[:1])
    raise ValueError(f"unknown start {how!r}: use 'real', 'same' or 'prior'")


def scores_by_start(m, first_mu, first_logvar, params, tau: float = 1.15, rollouts: int = 16, max_steps: int = 100,
                    seed: int = 0, done_rule: str = "threshold", done_pos_weight: float = 1.0) -> dict:
    """Steps survived by one controller ``params`` [n] when dreams start from each kind of first code
    -> {how: [rollouts]} (same episode keys for every start)."""
    from wmlib.agent.dream import dream_rollouts, world_of

    world = world_of(m)
    out = {}
    for how in ("real", "same", "prior"):
        mu, logvar = start_codes(first_mu, first_logvar, how)
        out[how] = dream_rollouts(m, world, np.asarray(params)[None], mu, logvar, rollouts, tau, max_steps,
                                  seed=seed, done_rule=done_rule, done_pos_weight=done_pos_weight)[0]
    return out
