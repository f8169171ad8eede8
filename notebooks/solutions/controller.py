"""Notebook 03, exercises 1, 2 and 6: CMA-ES without its covariance, a diagonal ES, a C with a hidden layer."""
from __future__ import annotations

import numpy as np


def valley(angle_deg: float = 30.0, curvatures=(1.0, 50.0), x_star=(1.0, 1.0)):
    """The notebook's tilted quadratic valley as a function of x."""
    a = np.deg2rad(angle_deg)
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    A = R @ np.diag(curvatures) @ R.T
    x_star = np.asarray(x_star, float)
    return lambda x: float((np.asarray(x) - x_star) @ A @ (np.asarray(x) - x_star))


def generations_to_reach(options: dict | None = None, angle_deg: float = 30.0, target: float = 1e-8,
                         max_generations: int = 2000, seed: int = 3) -> int:
    """Generations pycma needs to bring f(mean) below ``target`` on the valley (with extra ``options``,
    e.g. ``dict(CMA_rankmu=0, CMA_rankone=0)`` to switch the covariance adaptation off)."""
    import cma

    f = valley(angle_deg)
    es = cma.CMAEvolutionStrategy([-3.0, -2.0], 0.5, dict(popsize=10, seed=seed, verbose=-9, **(options or {})))
    for g in range(1, max_generations + 1):
        X = es.ask()
        es.tell(X, [f(x) for x in X])
        if f(es.mean) < target:
            return g
    return max_generations


def diagonal_es(f, x0, sigma0: float, popsize: int, generations: int, seed: int = 0, c_d: float | None = None):
    """An ES with one scale per coordinate (a diagonal covariance) and cumulative step-size adaptation.

    ``f(X [P, n], generation) -> values to minimise [P]``. -> (mean, best value per generation).
    """
    rng = np.random.default_rng(seed)
    n, mean, sigma = len(x0), np.array(x0, float), float(sigma0)
    mu = popsize // 2
    w = np.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
    w /= w.sum()
    mu_eff = 1 / np.sum(w ** 2)
    c_s = (mu_eff + 2) / (n + mu_eff + 5)
    d_s = 1 + c_s + 2 * max(0.0, np.sqrt((mu_eff - 1) / (n + 1)) - 1)
    c_d = c_d if c_d is not None else min(1.0, mu_eff / (n + 2) ** 2 * 4)
    chi_n = np.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n ** 2))
    d, path, best = np.ones(n), np.zeros(n), []
    for g in range(generations):
        y = rng.standard_normal((popsize, n))
        fx = np.asarray(f(mean + sigma * d * y, g))
        top = np.argsort(fx)[:mu]
        step = w @ y[top]
        mean = mean + sigma * d * step
        path = (1 - c_s) * path + np.sqrt(c_s * (2 - c_s) * mu_eff) * step
        sigma *= np.exp(c_s / d_s * (np.linalg.norm(path) / chi_n - 1))
        d = np.sqrt((1 - c_d) * d ** 2 + c_d * (w @ (d * y[top]) ** 2))  # scales follow the successful steps
        best.append(fx.min())
    return mean, best


def hidden_layer_sizes(z_size: int = 32, hidden: int = 40, actions: int = 3) -> dict:
    """Parameters of a V-only C with one hidden layer, and of CMA-ES's covariance over them."""
    n = z_size * hidden + hidden + hidden * actions + actions
    linear = z_size * actions + actions
    return dict(params=n, linear_params=linear, covariance_entries=n * n,
                covariance_growth=(n * n) / (linear * linear))
