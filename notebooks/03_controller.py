# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Control: C, evolved with CMA-ES in the real world
#
# V turns a frame into a code $z$; M summarises the past in its state $h$.
# The part that actually drives, **C**, is deliberately tiny: one linear layer
# from $[z, h]$ to the three CarRacing controls, 867 numbers in all. The
# paper puts the capacity in V and M, which learn from recorded data with
# gradients, and keeps C small enough to be trained by **evolution**, which
# needs no gradients, only the total reward of whole episodes.
#
# This notebook:
#
# 1. watches CMA-ES, the evolution strategy the paper uses, solve a
#    2-D problem, sample by sample, as its search distribution stretches;
#    then has you **write** a small evolution strategy and race it against
#    pycma, on that valley and on a small C;
# 2. writes C's formula out, counts its parameters, and checks the library's C
#    against a by-hand version;
# 3. shows C trained on CarRacing twice at the current profile: reading $z$
#    only (V alone) and reading $[z, h]$ (V and M), with their learning curves;
# 4. sets their scores over 100 test tracks next to the paper's
#    632 ± 251 and 906 ± 21;
# 5. lets both agents drive the same track, side by side;
# 6. works out what the paper's scale costs.
#
# Along the way the animated loop diagram shows the shipped agent driving,
# in the real world and in M's dream.
#
# **`TRAIN` off** (the default): nothing is trained and nothing is scored on
# 100 tracks. The chapter uses your own controllers where they are on disk at
# this profile (from the command line, or an earlier run with `TRAIN` on),
# otherwise the ones that ship with the book and the results their run
# recorded; it plays the two agents live on one track. **`TRAIN` on**
# (`WM_TRAIN=1`): it builds V and M if they are missing, evolves both
# controllers in the real CarRacing on the fast renderer and scores each on
# the test tracks on gymnasium's own renderer; before each long stage it
# prints how long that stage took when it was measured.
# Code cells marked *check* are folded: they assert what the text claims.

# %% tags=["parameters"]
import os

PROFILE = os.environ.get("WM_PROFILE", "laptop")
TRAIN = os.environ.get("WM_TRAIN", "0") == "1"   # off: shipped models and recorded results

# %%
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import time

import cma
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Ellipse

from wmlib import paper, paths
from wmlib.book import chapter, recorded
from wmlib.book.chapter import fmt, md
from wmlib.config import get_config
from wmlib.models.controller import Controller
from wmlib.paths import controller_dir
from wmlib.training.controller import evaluate_controller, train_controller

# Both cores for V and M when TRAIN must build them; otherwise every tensor here is small (one frame, a few
# dozen dreams), and on a busy machine two threads synchronising per small op are many times slower than one.
# Rollout workers use one thread each either way.
torch.set_num_threads(min(2, os.cpu_count() or 1) if TRAIN else 1)
cfg = get_config("carracing", PROFILE)
print("profile:", PROFILE, "| TRAIN:", TRAIN, "| evolution:", cfg.evolution)

# %% [markdown]
# ## CMA-ES in two dimensions
#
# Evolution strategies search with a *distribution*. CMA-ES keeps a Gaussian
# $\mathcal N(m, \sigma^2 C)$ over parameter vectors and repeats:
#
# 1. **sample** a population of $\lambda$ candidates $x_k = m + \sigma y_k$,
#    $y_k \sim \mathcal N(0, C)$;
# 2. **evaluate** each one (here: a function value; for C, the return of a
#    few episodes) and rank them;
# 3. **move the mean** to a weighted average of the best $\mu = \lambda / 2$,
#    the best getting the largest weight: $m \leftarrow m + \sigma \sum_{i \le \mu} w_i\, y_{i:\lambda}$;
# 4. **adapt the covariance** towards the steps that worked,
#    $C \leftarrow (1 - c_1 - c_\mu) C + c_1\, p_c p_c^\top + c_\mu \sum_{i \le \mu} w_i\, y_{i:\lambda} y_{i:\lambda}^\top$,
#    where the *evolution path* $p_c$ accumulates the recent moves of the mean
#    (the rank-one term) and the sum is this generation's successful steps
#    (the rank-$\mu$ term);
# 5. **adapt the step size** $\sigma$ by a second path $p_\sigma$: if
#    consecutive moves point the same way, the path grows longer than a random
#    walk's and $\sigma$ grows; if they cancel out, $\sigma$ shrinks.
#
# Only the *ranking* of the candidates is used, never a gradient or even the
# size of the differences, so a noisy, non-differentiable score such as "how
# much of the track did the car cover" is fine.
#
# We run pycma, the library the paper used (and `wmlib` uses), on a narrow
# valley tilted by 30 degrees: $f(x) = (x - x^*)^\top A\, (x - x^*)$ with
# curvatures 1 and 50 along the valley and across it. The distribution we
# draw is the one each generation's candidates were sampled from: its mean,
# and the ellipse that holds 2 standard deviations of $\mathcal N(m, \sigma^2 C)$.

# %%
angle = np.deg2rad(30)
R = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
A = R @ np.diag([1.0, 50.0]) @ R.T
x_star = np.array([1.0, 1.0])


def valley(x):
    d = np.asarray(x) - x_star
    return float(d @ A @ d)


es = cma.CMAEvolutionStrategy([-3.0, -2.0], 0.5, dict(popsize=10, seed=3, verbose=-9))
trace = []  # per generation: the distribution sampled from, and the samples
for g in range(60):
    dist = dict(mean=es.mean.copy(), sigma=es.sigma, C=es.sm.C.copy())
    X = np.array(es.ask())
    fx = np.array([valley(x) for x in X])
    es.tell(list(X), list(fx))
    trace.append(dict(dist, X=X, f=fx, new_mean=es.mean.copy()))
print(f"after 60 generations: f(mean) = {valley(es.mean):.2e}, sigma = {es.sigma:.2e}, "
      f"{es.countevals} function evaluations")


# %%
def draw_generation(ax, t, title):
    """Contours of f, the samples (best half filled), the 2-sd ellipse, and the move of the mean."""
    cov = t["sigma"] ** 2 * t["C"]
    vals, vecs = np.linalg.eigh(cov)
    r = 3.0 * np.sqrt(vals[-1])
    cx, cy = t["mean"]
    gx, gy = np.meshgrid(np.linspace(cx - r, cx + r, 120), np.linspace(cy - r, cy + r, 120))
    d = np.stack([gx - x_star[0], gy - x_star[1]], -1)
    ax.contour(gx, gy, np.log10(np.einsum("...i,ij,...j->...", d, A, d) + 1e-12), 12, colors="lightgrey",
               linewidths=0.7)
    best = np.argsort(t["f"])[: len(t["f"]) // 2]
    ax.scatter(*t["X"].T, s=14, facecolors="none", edgecolors="tab:blue")
    ax.scatter(*t["X"][best].T, s=14, color="tab:blue")
    ax.add_patch(Ellipse(t["mean"], 4 * np.sqrt(vals[-1]), 4 * np.sqrt(vals[0]),
                         angle=np.degrees(np.arctan2(vecs[1, -1], vecs[0, -1])), fill=False, color="tab:red"))
    ax.annotate("", t["new_mean"], t["mean"], arrowprops=dict(arrowstyle="->", color="black"))
    ax.set_xlim(cx - r, cx + r); ax.set_ylim(cy - r, cy + r); ax.set_aspect("equal")
    ax.set_title(title, fontsize=9); ax.set_xticks([]); ax.set_yticks([])


shown = [0, 2, 5, 10, 20, 40]
fig, axes = plt.subplots(1, len(shown), figsize=(2.3 * len(shown), 2.6))
for ax, g in zip(axes, shown):
    draw_generation(ax, trace[g], f"generation {g}\nsigma = {trace[g]['sigma']:.3f}")
plt.suptitle("CMA-ES: samples (filled: the best half), 2-sd ellipse of the search distribution, "
             "move of the mean (each panel zooms on the distribution)", fontsize=9)
plt.tight_layout(); plt.show()

# %% [markdown]
# The ellipse first stretches along the valley (the mean's steps keep
# pointing that way), $\sigma$ grows while the mean travels, and once the
# optimum is reached everything shrinks while the *shape* stays: $C$ has
# learned the valley's orientation and its 1 : 50 curvature ratio (the
# ellipse's axes approach $\sqrt{50} \approx 7$ : 1), which amounts to
# learning the inverse Hessian from rankings alone.

# %%
f_mean = [valley(t["mean"]) for t in trace]
axis_ratio = [np.sqrt(np.linalg.eigvalsh(t["C"])[-1] / np.linalg.eigvalsh(t["C"])[0]) for t in trace]
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
axes[0].semilogy(f_mean, label="f(mean)"); axes[0].semilogy([t["sigma"] for t in trace], label="sigma")
axes[0].set_xlabel("generation"); axes[0].legend()
axes[1].plot(axis_ratio); axes[1].axhline(np.sqrt(50), ls=":", color="grey", label="sqrt(50)")
axes[1].set_xlabel("generation"); axes[1].set_ylabel("long / short axis of C"); axes[1].legend()
plt.tight_layout(); plt.show()

# %% jupyter={"source_hidden": true} tags=["check"]
long_axis = np.linalg.eigh(trace[-1]["C"])[1][:, -1]
valley_direction = R[:, 0]  # the low-curvature direction
assert f_mean[-1] < 1e-6 * f_mean[0], "CMA-ES should find the valley's minimum"
assert abs(long_axis @ valley_direction) > 0.95, "C's long axis should lie along the valley"
assert 3 < axis_ratio[-1] < 15
# the ellipse we drew IS the sampling distribution: many samples have covariance sigma^2 C
samples = np.array(es.ask(20_000))
assert np.allclose(np.cov(samples.T), es.sigma ** 2 * es.sm.C, rtol=0.1, atol=1e-3 * es.sigma ** 2)

# %% [markdown]
# ## Write your own evolution strategy
#
# CMA-ES has many parts; the core of an evolution strategy has few. Here is
# one with everything except the covariance: sample $\lambda$ candidates
# around the mean with one step size $\sigma$, move the mean to the weighted
# average of the best half, and adapt $\sigma$ with an evolution path (the
# *cumulative step-size adaptation* of step 5 above). It keeps the search
# round: no ellipse can stretch along a valley.
#
# It takes a function `f(X, generation)` that scores a whole population
# `X` [λ, n] at once and returns values to **minimise**. The weights and the
# constants of the step-size rule are given; write the generation loop:
#
# 1. draw $\lambda$ directions $y_i \sim \mathcal N(0, I)$ (`rng.standard_normal((popsize, n))`)
#    and score the candidates $x_i = m + \sigma y_i$;
# 2. move the mean by $\sigma \sum_i w_i\, y_{i:\lambda}$, the best $\mu = \lambda / 2$
#    directions (best first) weighted by $w$;
# 3. update the evolution path $p \leftarrow (1 - c_s)\, p + \sqrt{c_s (2 - c_s)\, \mu_{\text{eff}}}\; \sum_i w_i\, y_{i:\lambda}$;
# 4. adapt the step size $\sigma \leftarrow \sigma \exp\!\big(\tfrac{c_s}{d_s} (\lVert p \rVert / \chi_n - 1)\big)$,
#    where $\chi_n = \mathbb E \lVert \mathcal N(0, I) \rVert$: a path longer than a random walk's
#    means the steps agree, and $\sigma$ grows;
#
# and keep the best score of each generation.

# %% nbgrader={"grade": false, "grade_id": "03-es", "locked": false, "schema_version": 3, "solution": true}
def my_es(f, x0, sigma0, popsize, generations, seed=0):
    """(mu/mu_w, lambda)-ES with cumulative step-size adaptation. -> (mean, best f per generation)."""
    rng = np.random.default_rng(seed)
    n, mean, sigma = len(x0), np.array(x0, float), float(sigma0)
    mu = popsize // 2
    w = np.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
    w /= w.sum()
    mu_eff = 1 / np.sum(w ** 2)
    c_s = (mu_eff + 2) / (n + mu_eff + 5)
    d_s = 1 + c_s + 2 * max(0.0, np.sqrt((mu_eff - 1) / (n + 1)) - 1)
    chi_n = np.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n ** 2))   # E|N(0, I)|
    path, best = np.zeros(n), []
    ### BEGIN SOLUTION
    for g in range(generations):
        y = rng.standard_normal((popsize, n))
        fx = np.asarray(f(mean + sigma * y, g))
        step = w @ y[np.argsort(fx)[:mu]]                  # the best half, best weighted most
        mean = mean + sigma * step
        path = (1 - c_s) * path + np.sqrt(c_s * (2 - c_s) * mu_eff) * step
        sigma *= np.exp(c_s / d_s * (np.linalg.norm(path) / chi_n - 1))
        best.append(fx.min())
    ### END SOLUTION
    return mean, best

# %%
def pycma(f, x0, sigma0, popsize, generations, seed=0):
    """The same interface on pycma, for the race."""
    es = cma.CMAEvolutionStrategy(list(x0), sigma0, dict(popsize=popsize, seed=seed + 1, verbose=-9))
    best = []
    for g in range(generations):
        X = np.array(es.ask())
        fx = np.asarray(f(X, g))
        es.tell(list(X), list(fx))
        best.append(fx.min())
    return es.mean, best

# %% [markdown]
# **Race 1: the valley.** Both start from the same point with the same
# population and budget. Without a covariance, your ES must take steps small
# enough for the steep direction, so it crawls along the flat one.

# %%
valley_batch = lambda X, g: [valley(x) for x in X]
race = {name: es_fn(valley_batch, [-3.0, -2.0], 0.5, 10, 60) for name, es_fn in
        (("your ES", my_es), ("pycma (CMA-ES)", pycma))}
plt.figure(figsize=(6, 3))
for name, (_, best) in race.items():
    plt.semilogy(best, label=name)
plt.xlabel("generation"); plt.ylabel("best f in the generation"); plt.legend(); plt.show()
for name, (m_, best) in race.items():
    print(f"{name:15s} f(mean) after 60 generations: {valley(m_):.2e}")

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "03-es-test", "locked": true, "points": 3, "schema_version": 3, "solution": false} tags=["check"]
assert valley(race["your ES"][0]) < 1e-2 * valley([-3.0, -2.0])           # it makes progress
assert len(race["your ES"][1]) == 60
### BEGIN HIDDEN TESTS
def reference_es(f, x0, sigma0, popsize, generations, seed=0):
    rng = np.random.default_rng(seed)
    n, mean, sigma = len(x0), np.array(x0, float), float(sigma0)
    mu = popsize // 2
    w = np.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
    w /= w.sum()
    mu_eff = 1 / np.sum(w ** 2)
    c_s, path, best = (mu_eff + 2) / (n + mu_eff + 5), np.zeros(n), []
    d_s = 1 + c_s + 2 * max(0.0, np.sqrt((mu_eff - 1) / (n + 1)) - 1)
    chi_n = np.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n ** 2))
    for g in range(generations):
        y = rng.standard_normal((popsize, n))
        fx = np.asarray(f(mean + sigma * y, g))
        step = w @ y[np.argsort(fx)[:mu]]
        mean = mean + sigma * step
        path = (1 - c_s) * path + np.sqrt(c_s * (2 - c_s) * mu_eff) * step
        sigma *= np.exp(c_s / d_s * (np.linalg.norm(path) / chi_n - 1))
        best.append(fx.min())
    return mean, best


sphere = lambda X, g: np.sum(np.asarray(X) ** 2, axis=1)
linear = lambda X, g: np.asarray(X)[:, 0]
mine_s, ref_s = my_es(sphere, np.ones(10), 1.0, 12, 150), reference_es(sphere, np.ones(10), 1.0, 12, 150)
assert np.sum(mine_s[0] ** 2) < 1e-6, "on a sphere the ES converges"
assert np.allclose(mine_s[0], ref_s[0], rtol=1e-6, atol=1e-12) and np.allclose(mine_s[1], ref_s[1])
mine_l = my_es(linear, np.zeros(5), 0.5, 10, 40)
assert mine_l[0][0] < -100, "on a slope the path is long, sigma grows and the mean runs"
assert np.allclose(mine_l[0], reference_es(linear, np.zeros(5), 0.5, 10, 40)[0])
### END HIDDEN TESTS

# %% jupyter={"source_hidden": true} tags=["check"]
assert valley(race["pycma (CMA-ES)"][0]) < valley(race["your ES"][0])      # and the covariance pays

# %% [markdown]
# **Race 2: a small C.** A controller needs a world to be scored in, and the
# real CarRacing costs about a second per episode. The cheapest world at
# hand is a dream: Doom's shipped M (trained at the laptop profile) plays a
# whole population's episodes as one batched tensor program (notebook 04
# opens it up). The C here reads only $z$: 64 weights, no memory. Fitness is
# the mean number of steps survived over a few dreams, the same dreams for
# every candidate of a generation and for both strategies. Dreams end at
# `CAP` steps.

# %%
from wmlib.agent.dream import dream_rollouts
from wmlib.book.pretrained import load_shipped_mdnrnn
from wmlib.book.pretrained import load_shipped_checkpoint

doom_m = load_shipped_mdnrnn("doom")
starts = load_shipped_checkpoint("doom", "mdnrnn")
first_mu, first_logvar = starts["first_mu"].float().numpy(), starts["first_logvar"].float().numpy()
POP, GENS, ROLL, CAP = {"ci": (8, 4, 2, 100), "laptop": (16, 12, 4, 200), "paper": (32, 30, 8, 1000)}[PROFILE]


def dream_fitness(X, g):
    """Minus the mean steps survived in M's dream at tau = 1.15 (seeded by the generation)."""
    steps = dream_rollouts(doom_m, "doom", np.asarray(X, np.float32), first_mu, first_logvar, rollouts=ROLL,
                           tau=1.15, max_steps=CAP, seed=g, mode="z")
    return -steps.mean(1)


small_race = {name: es_fn(dream_fitness, np.zeros(64), 0.1, POP, GENS) for name, es_fn in
              (("your ES", my_es), ("pycma (CMA-ES)", pycma))}
plt.figure(figsize=(6, 3))
for name, (_, best) in small_race.items():
    plt.plot(-np.array(best), "o-", label=name)
plt.xlabel("generation"); plt.ylabel("best candidate: steps survived"); plt.ylim(0, CAP * 1.05)
plt.title(f"population {POP}, {ROLL} dreams each, cap {CAP}", fontsize=9); plt.legend(); plt.show()
for name, (m_, _) in small_race.items():
    print(f"{name:15s} final mean survives {-dream_fitness(m_[None], 10_000)[0]:.0f} steps "
          f"in {ROLL} fresh dreams (cap {CAP})")

# %% [markdown]
# With 64 weights and a short budget the two are often close: in a small,
# noisy problem the covariance has little time to pay. (In these dreams a
# C that simply holds one direction survives long: the exploit notebook 05
# takes apart.) From here on, `wmlib` evolves C with pycma, at the
# profile's scale.

# %% jupyter={"source_hidden": true} tags=["check"]
# Evolution earns its keep, or at least does no harm: in fresh dreams each strategy's final mean lives at least
# as long as C = 0 (always "stay"), the point both started from.
standing = -dream_fitness(np.zeros((1, 64)), 10_000)[0]
for name, (m_, best) in small_race.items():
    assert len(best) == GENS and -dream_fitness(m_[None], 10_000)[0] >= standing, (name, standing)

# %% [markdown]
# ## C: the controller
#
# For CarRacing the paper's C is
#
# $$a_t = \tanh\!\left(W_c\, [z_t, h_t] + b_c\right), \qquad
#   \text{steer} = a_{t,0}, \quad \text{gas} = \frac{a_{t,1} + 1}{2}, \quad
#   \text{brake} = \max(0, a_{t,2}),$$
#
# so steering lies in $[-1, 1]$ and gas and brake in $[0, 1]$, the env's
# ranges. With $N_z = 32$ and an LSTM of 256 units, $W_c$ is $3 \times 288$
# and $b_c$ has 3 entries: 867 parameters. The **V-only** agent reads $z_t$
# alone: $3 \times 32 + 3 = 99$. (Doom's C reads $[z, c, h]$, M's hidden
# *and* cell state, with one output and no bias: 1,088.)
#
# CMA-ES sees C as one flat vector: $W_c$ row by row, then $b_c$.

# %%
pc = get_config("carracing", "paper")
full = Controller("carracing", pc.vae.z_size, pc.mdnrnn.hidden, mode="zh")
v_only = Controller("carracing", pc.vae.z_size, pc.mdnrnn.hidden, mode="z")
doom = get_config("doom", "paper")
doom_c = Controller("doom", doom.vae.z_size, doom.mdnrnn.hidden)
for c in (full, v_only, doom_c):
    print(c)

# %% jupyter={"source_hidden": true} tags=["check"]
assert full.n_params == paper.PARAMS["carracing"]["controller"] == 867
assert v_only.n_params == pc.vae.z_size * 3 + 3 == 99
assert doom_c.n_params == paper.PARAMS["doom"]["controller"] == 1088

# %% [markdown]
# Write C's action with numpy, from the flat vector. The cell after next
# checks it against the library's `Controller.act`, the code that drives the
# car below.

# %% nbgrader={"grade": false, "grade_id": "03-controller", "locked": false, "schema_version": 3, "solution": true}
def car_action(params, z, h):
    """CarRacing's C: flat params (W row by row, then b), codes z [.., z] and memory h [.., h] (h may have
    0 columns: the V-only C) -> actions [.., 3]: steer in [-1, 1], gas and brake in [0, 1]."""
    ### BEGIN SOLUTION
    x = np.concatenate([z, h], axis=-1)             # [.., 288]
    W = params[: 3 * x.shape[-1]].reshape(3, -1)    # row-major: one row per action
    b = params[3 * x.shape[-1]:]
    a = np.tanh(x @ W.T + b)
    return np.stack([a[..., 0], (a[..., 1] + 1) / 2, np.clip(a[..., 2], 0, 1)], axis=-1)
    ### END SOLUTION


rng = np.random.default_rng(0)
theta = rng.normal(size=full.n_params) * 0.1
z, h = rng.normal(size=(5, 32)).astype(np.float32), rng.normal(size=(5, 256)).astype(np.float32)
print("by hand:", car_action(theta, z, h)[0])
print("library:", full.set_flat(theta).act(z, h)[0])

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "03-controller-test", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["check"]
assert np.allclose(car_action(theta, z, h), full.act(z, h), atol=1e-5)
assert np.allclose(car_action(theta[:99], z, h[:, :0]), v_only.set_flat(theta[:99]).act(z), atol=1e-5)
### BEGIN HIDDEN TESTS
big = np.random.default_rng(1).normal(size=full.n_params) * 3     # saturating weights: brake and gas at their ends
acts = car_action(big, z, h)
assert np.allclose(acts, full.set_flat(big).act(z, h), atol=1e-5)
assert (acts[:, 0] >= -1).all() and (acts[:, 1:] >= 0).all() and (acts <= 1).all()
small = Controller("carracing", 8, 16, mode="zh")                   # other sizes: W is 3 x (z + h), then b
p_small = np.random.default_rng(2).normal(size=small.n_params)
z8, h16 = np.random.default_rng(3).normal(size=(4, 8)), np.random.default_rng(4).normal(size=(4, 16))
assert np.allclose(car_action(p_small, z8, h16), small.set_flat(p_small).act(z8.astype(np.float32), h16.astype(np.float32)), atol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ## The loop, step by step
#
# Before training anything, watch the agent that ships with the book (V, M
# and C trained at the laptop profile) go round its loop. Each tick lights
# one stage: the world shows a frame, V squeezes it into $z$, C reads $z$ and
# M's memory $h$ and acts, the world moves on, and M folds $z$ and the action
# into $h$. Press **Play**, or **next stage**; the **world** toggle swaps the
# real track for M's dream, where the next $z$ is M's own sample.

# %%
from wmlib.agent.dream import DreamEnv
from wmlib.book.pretrained import load_shipped_controller_params, load_shipped_vae, shipped_card
from wmlib.book.widgets import AgentLoop, record_loop
from wmlib.worlds.envs import make_env

car_v, car_m = load_shipped_vae("carracing"), load_shipped_mdnrnn("carracing")
car_c = load_shipped_controller_params("carracing")
car_starts = load_shipped_checkpoint("carracing", "mdnrnn")
LOOP_STEPS = {"ci": 30, "laptop": 120, "paper": 120}[PROFILE]
with make_env("carracing", max_steps=LOOP_STEPS) as track:
    real_trace = record_loop(car_v, car_m, car_c, LOOP_STEPS, env=track, seed=7)
dream_trace = record_loop(car_v, car_m, car_c, LOOP_STEPS, seed=7,
                          dream=DreamEnv(car_m, car_starts["first_mu"].float().numpy(),
                                         car_starts["first_logvar"].float().numpy(), tau=1.0,
                                         max_steps=LOOP_STEPS, vae=car_v))
loop = AgentLoop(real_trace, dream_trace)
loop

# %% jupyter={"source_hidden": true} tags=["check"]
before = loop.image.value
loop.next_button.click()
assert loop.image.value != before and loop.stage == "V"
loop.play.value = 0

# %% [markdown]
# ## Your V and M, or the shipped ones
#
# C drives through V (and M). With `TRAIN` on, each call below is a no-op
# when its result is already on disk (from notebooks 00 to 02, or the command
# line) and builds it at the current profile otherwise. With `TRAIN` off the
# chapter builds nothing: it reads what is on disk, else what ships.

# %%
from wmlib.book.pretrained import world_model_for

if TRAIN:
    chapter.build_world_model(cfg)  # collect, train V, encode, train M: what is missing
print("V and M:", world_model_for(cfg)["source"])

# %% [markdown]
# ## Evolving C in the real world
#
# One episode of the agent, as in the paper:
#
# $$z_t = \mu_V(\text{frame}_t), \quad a_t = C([z_t, h_t]), \quad
#   \text{frame}_{t+1}, r_t = \text{env}(a_t), \quad h_{t+1} = M(z_t, a_t, h_t).$$
#
# V's *mean* code is used (no sampling), and M only carries its state forward:
# its predictions are not needed to act. Each generation, CMA-ES proposes
# `population` candidates, each plays `rollouts` episodes, and a candidate's
# fitness is its mean return minus a small penalty on large weights,
# `weight_decay * mean(params ** 2)` (the original code had the sign flipped
# and rewarded large weights). Every `eval_every` generations the
# distribution's *mean* is scored on `eval_episodes` fixed episodes; the
# deployed controller is the mean that scored best there, since a single
# candidate's score rests on a few lucky or unlucky tracks.
#
# `train_controller` spreads the episodes over `workers` processes
# (`backend="ray"` spreads them over a Ray cluster); each worker steps up to
# `lockstep` episodes together, so V, M and C run as one batched call per step.
# It checkpoints every generation and resumes where it stopped (interrupt the
# kernel and run the cell again). What one run costs at this profile, read
# from the config, and how long the recorded runs took:

# %%
from wmlib.agent.evolution import CHECKPOINT, HISTORY

MODES = ("z", "zh")
names = {"z": "V only (C reads z)", "zh": "V + M (C reads z, h)"}


def recorded_history(mode):
    """(the generations of C's evolution, whose run) from your run on disk, else the shipped run's; None."""
    res = recorded.result(cfg, controller_dir(cfg, mode) / HISTORY)
    return None if res is None else (res.data, res.label())


def recorded_took(mode):
    """(seconds, workers or None, whose) of the recorded evolution of this mode, or None."""
    hist = recorded.result(cfg, controller_dir(cfg, mode) / HISTORY)
    if hist is None:
        return None
    timing = recorded.result(cfg, controller_dir(cfg, mode) / "timing.json")
    same = timing is not None and timing.source == hist.source  # the timing of that very run
    return sum(g["seconds"] for g in hist.data), timing.data.get("workers") if same else None, hist.label()


evo = cfg.evolution
n_evals = evo.generations // evo.eval_every
budget = evo.generations * evo.population * evo.rollouts + n_evals * evo.eval_episodes
print(f"{PROFILE}: {evo.generations} generations x {evo.population} candidates x {evo.rollouts} episode(s), "
      f"plus {n_evals} evaluations of the mean on {evo.eval_episodes} episodes = {budget} episodes of at most "
      f"{evo.max_steps} steps ({budget * evo.max_steps:,} env steps) per controller")
for mode in MODES:
    rec, took = recorded_history(mode), recorded_took(mode)
    on = f" on {took[1]} workers" if took and took[1] else ""
    print(f"  {names[mode]:22s} " + (f"{len(rec[0])} generations in {took[0] / 60:.1f} min{on} ({took[2]})" if rec
                                     else "no recorded run yet"))

# %% [markdown]
# With `TRAIN` on, the next two cells evolve C: first V only, then the full
# agent, which also reads M's hidden state $h$: what M remembers of the past,
# in particular how fast the car is moving and where the road was heading,
# which one frame cannot show. With `TRAIN` off they read the learning curves
# that were recorded.

# %%
from wmlib.training.controller import controller_run

runs = {}
if TRAIN:
    for mode in MODES:
        if not controller_run(cfg, mode).done(evo.generations):
            took = recorded_took(mode)  # a time measured on other than 2 workers is said as such
            elsewhere = took is not None and took[1] not in (None, 2)
            chapter.announce(cfg, "train C in the real world", f"evolve C, {names[mode]}" + (
                f"; the recorded run took {took[0] / 60:.1f} min on {took[1]} workers" if elsewhere else ""),
                seconds=None if took is None or elsewhere else took[0])
        runs[mode] = train_controller(cfg, mode=mode)
        print(f"{names[mode]}: {runs[mode].generations} generations, best evaluation of the mean: "
              f"{runs[mode].best_eval:.1f}")
curves = {mode: (runs[mode].history, "your run") if mode in runs else recorded_history(mode) for mode in MODES}
curves = {mode: c for mode, c in curves.items() if c is not None}
print("learning curves:", {names[m]: c[1] for m, c in curves.items()} or "none recorded yet")

# %%
if curves:
    fig, axes = plt.subplots(1, len(curves), figsize=(5.5 * len(curves), 3.4), sharey=True, squeeze=False)
    for ax, (mode, (hist, whose)) in zip(axes[0], curves.items()):
        g = np.array([r["generation"] for r in hist])
        mean, std = np.array([r["mean"] for r in hist]), np.array([r["std"] for r in hist])
        ax.plot(g, mean, label="population mean")
        ax.fill_between(g, mean - std, mean + std, alpha=0.2)
        ax.plot(g, [r["max"] for r in hist], lw=0.8, label="best candidate")
        ev = [r for r in hist if "eval_mean" in r]
        ax.errorbar([e["generation"] for e in ev], [e["eval_mean"] for e in ev], [e["eval_std"] for e in ev],
                    fmt="o", capsize=3, label="the mean, evaluated")
        ax.set_title(f"{names[mode]}\n{whose}", fontsize=10); ax.set_xlabel("generation")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    axes[0, 0].set_ylabel("return"); axes[0, 0].legend(fontsize=8)
    plt.tight_layout(); plt.show()

# %% jupyter={"source_hidden": true} tags=["check"]
for mode, (hist, _) in curves.items():
    assert hist and [r["generation"] for r in hist] == list(range(len(hist)))
    assert all(np.isfinite([r["mean"], r["max"], r["sigma"], r["seconds"]]).all() for r in hist)
for mode, res in runs.items():
    hist = res.history
    assert len(hist) == res.generations >= cfg.evolution.generations  # more if you continued the run
    assert res.evaluations and res.best_eval == max(e["mean"] for e in res.evaluations)
    assert res.deployed_params.shape == (Controller("carracing", cfg.vae.z_size, cfg.mdnrnn.hidden, mode).n_params,)
    if PROFILE != "ci":  # at ci a generation is 4 candidates x 50 steps: no claim
        assert res.best_eval > hist[0]["mean"], f"{mode}: evolution should beat its first, random population"

# %% [markdown]
# ## Scores on fresh tracks
#
# The paper reports the mean and standard deviation of the return over 100
# random tracks (`test_episodes`: 100 at the laptop and paper profiles). Our
# test tracks come from a seed no generation trained on, and scores are
# measured on gymnasium's own renderer. A score is saved and reused when the
# same controller was scored on the same episodes. With `TRAIN` off the cell
# reads the scores: yours when on disk, else those the shipped run recorded,
# both agents on the same test tracks (for V + M, until that run's file ships,
# the score on the shipped models' card, measured on the very weights that
# drive below).

# %%
RECORDED = get_config("carracing", recorded.SHIPPED_PROFILE).evolution.test_episodes  # the shipped run's tracks
card = shipped_card("carracing")


def recorded_score(mode):
    """(score, whose): your score of this mode at this profile, else the shipped run's (both agents on the
    same test tracks), else for V + M the shipped models' card (their own tracks); None."""
    own = paths.controller_score(cfg, mode, "deployed", cfg.evolution.test_episodes)
    if own.exists():
        return recorded.result(cfg, own).data, "your run"
    res = recorded.result(cfg, paths.controller_score(cfg, mode, "deployed", RECORDED))
    if res is not None:
        return res.data, res.label()
    if mode == "zh" and card["scores"].get("real"):
        return card["scores"]["real"], "the shipped models' card"
    return None


scores = {}
for mode in MODES:
    if TRAIN:
        if not paths.controller_score(cfg, mode, "deployed", cfg.evolution.test_episodes).exists():
            chapter.announce(cfg, "score C", f"score C, {names[mode]}, on {cfg.evolution.test_episodes} tracks")
        scores[mode] = (evaluate_controller(cfg, mode), "your run")
    elif recorded_score(mode) is not None:
        scores[mode] = recorded_score(mode)
paper_rows = {"z": "World Model, V only (C reads z)", "zh": "World Model, full (C reads z and h)"}
print(f"{'':24s} {'ours':>34s} {'paper':>12s}")
for mode in MODES:
    p = paper.CARRACING_SCORES[paper_rows[mode]]
    ours = f"{fmt(scores[mode][0])} [{scores[mode][1]}]" if mode in scores else "not recorded yet"
    print(f"{names[mode]:24s} {ours:>34s} {p[0]:5d} ± {p[1]:3d}")
print(f"(episodes of at most {cfg.evolution.max_steps} steps at {PROFILE}; solved: >= "
      f"{paper.CARRACING_SOLVED} over 100 episodes of 1000 steps)")

# %%
fig, ax = plt.subplots(figsize=(8, 3.4))
labels = list(paper.CARRACING_SCORES) + [f"ours: {names[m]}" for m in scores]
values = [v for v in paper.CARRACING_SCORES.values()] + [(s["mean"], s["std"]) for s, _ in scores.values()]
colors = ["lightgrey"] * len(paper.CARRACING_SCORES) + ["tab:orange"] * len(scores)
ax.barh(range(len(labels)), [v[0] for v in values], xerr=[v[1] for v in values], color=colors, capsize=3)
ax.axvline(paper.CARRACING_SOLVED, ls=":", color="black")
ax.set_yticks(range(len(labels)), labels, fontsize=8); ax.invert_yaxis()
ax.set_xlabel("CarRacing return (mean ± std)")
plt.tight_layout(); plt.show()

# %% jupyter={"source_hidden": true} tags=["check"]
assert "zh" in scores, "the V + M agent always has a score: yours, or the shipped models' card"
for mode, (s, whose) in scores.items():
    assert np.isfinite([s["mean"], s["std"]]).all() and s["std"] >= 0 and s["episodes"] >= 1
    if "returns" in s:
        assert len(s["returns"]) == s["episodes"] and np.isclose(np.mean(s["returns"]), s["mean"])
    if TRAIN:
        assert whose == "your run" and s["episodes"] == cfg.evolution.test_episodes == len(s["returns"])
        assert max(s["lengths"]) <= cfg.evolution.max_steps

# %% [markdown]
# ### How far this profile gets, honestly
#
# Read the scores with the training budget in mind: the cell after the next
# prints this profile's next to the paper's. Forty generations of sixteen
# candidates teach C to drive most tracks well, but not every corner of every
# track, so expect a wide spread. At this budget the paper's lesson, that
# $h$ helps, shows only just, and not on every pair of runs: C on $[z, h]$
# has 867 weights against 99 for $z$ alone, and one track per candidate is a
# noisy fitness (a candidate that drew an easy track wins). Giving each
# candidate more tracks (`train-controller --rollouts 4`) is what the shipped
# V + M agent had; the paper's 906 came after 1,800 generations of 64 x 16.
# The next section follows the project's runs of both agents on the same tracks.
# At the ci profile the episodes last a few dozen steps (the camera is still
# zooming in) and the numbers only prove that the code runs. The shipped
# agents, in numbers:

# %%
zh_run, zh_took = recorded_history("zh"), recorded_took("zh")
real = card["scores"].get("real")
lines = [f"* **V + M, shipped**: C {card['controller']}. On its model card, these very (fp16) weights score "
         f"{fmt(real)} (`{real['command']}`)." if real else "* **V + M, shipped**: not scored yet."]
if zh_run and zh_run[1] != "your run":
    lines.append(f"* its evolution took {zh_took[0] / 60:.0f} min on {zh_took[1] or 2} workers "
                 f"({len(zh_run[0])} generations).")
for mode in MODES:  # the training runs' own scores: both on the same test tracks
    res = recorded.result(cfg, paths.controller_score(cfg, mode, "deployed", RECORDED))
    if res is not None:
        lines.append(f"* **{names[mode]}**, {res.label()}: {fmt(res.data)} on the runs' test tracks.")
    elif mode == "z":
        lines.append("* **V only**: not shipped yet (its controller and score come with the car run's export).")
md("\n".join(lines))

# %%
pc = get_config("carracing", "paper")
pe, data_cfg = pc.evolution, get_config("carracing", PROFILE).collect
ours_eps = evo.generations * evo.population * evo.rollouts
print(f"{PROFILE}: {evo.generations} generations x {evo.population} x {evo.rollouts} = {ours_eps:,} training episodes; "
      f"V and M from {data_cfg.episodes} random episodes")
print(f"paper: {pe.generations:,} generations x {pe.population} x {pe.rollouts} = "
      f"{pe.generations * pe.population * pe.rollouts:,} training episodes; V and M from {pc.collect.episodes:,}")

# %% [markdown]
# ### The project's runs: does $h$ pay at this budget?
#
# The paper's car lesson is that C reading $[z, h]$ beats C reading $z$
# alone. At the laptop budget the project put the two side by side again and
# again, every C on the same 100 official test tracks, so each comparison is
# *paired*: V + M minus V only, track by track, ± the standard error of that
# difference over the tracks. A gap within about two standard errors is the
# tracks' luck, not a lesson. The tables below are the recorded runs
# (`wmlib/pretrained/carracing/history`, each with the command that re-runs
# it); the last one starts both agents from the same V-only C, so V + M
# begins as a driver and has only to learn what $h$ adds
# (`evolution.start`, the recipe `experiments/recipes/carracing-from-v-only.toml`).

# %%
from wmlib.book import history

CAR = {name: history.load("carracing", name) for name in history.names("carracing")}
FROM_V_ONLY = sorted(name for name in CAR if name.startswith("from_v_only"))  # one table per variant of the start
for name in ("modes_40", "same_tracks", "fresh_pipeline", *FROM_V_ONLY):
    history.show(CAR[name]) if name in CAR else None


def settings(name):
    """How a from_v_only run evolved, in words: CMA-ES's first step size (the laptop profile's, which the
    runs used, unless the table names one) and any other setting it changed."""
    facts = CAR[name]["facts"]
    words = [f"sigma0 {facts.get('sigma0', get_config('carracing', 'laptop').evolution.sigma0):g}"]
    words += [f"{key.split('.')[-1]} {value}" for key, value in facts.get("settings", {}).items()
              if key != "evolution.sigma0"]
    return ", ".join(words)


def car_pairs():
    """(which runs, V+M minus V only as {diff, se}) for every recorded pair on the same test tracks."""
    facts = lambda name: CAR.get(name, {}).get("facts", {})
    pairs = [("the V and M shipped then, 40 generations", facts("modes_40").get("paired_zh_minus_z")),
             ("the V and M shipped then, 80 generations", facts("modes_40").get("eighty_generations", {}).get("paired")),
             ("same track per generation, seed 0", facts("same_tracks").get("paired_zh_minus_z")),
             ("same track per generation, seed 1", facts("same_tracks").get("second_pair", {}).get("paired")),
             ("a fresh pipeline's V and M, seed 0", facts("fresh_pipeline").get("paired_seed0")),
             ("a fresh pipeline's V and M, seed 1", facts("fresh_pipeline").get("paired_seed1"))]
    pairs += [(f"both from the shipped V-only C, {settings(name)}, seed {row['seed']}", row["zh_z"])
              for name in FROM_V_ONLY for row in CAR[name]["rows"] if "zh_z" in row]
    return [(what, d) for what, d in pairs if d]


pairs = car_pairs()
ahead = [w for w, d in pairs if d["diff"] > 2 * d["se"]]
behind = [w for w, d in pairs if d["diff"] < -2 * d["se"]]
lines = ["| runs | V + M minus V only, paired |", "|---|---|"]
lines += [f"| {w} | {history.text(d)} |" for w, d in pairs]
if pairs:
    lines += ["", f"Of {len(pairs)} recorded pairs, V + M was ahead by more than two standard errors in "
              f"{len(ahead)}, behind by as much in {len(behind)}, and within them in "
              f"{len(pairs) - len(ahead) - len(behind)}."]
    if len(ahead) < len(pairs):
        lines.append("At this budget the paper's lesson is not reliable: which agent wins depends on the run.")
    else:
        lines.append("Every recorded pair shows the paper's lesson at this budget.")
else:
    lines.append("No recorded pairs ship with this copy of the book.")
md("\n".join(lines))

# %%
def from_v_only_verdict(name):
    """What one from_v_only table says, computed from its rows."""
    fv = CAR[name]
    start = fv["facts"]["start"]

    def count(key, sign=1):
        """(seeds where the paired cell ``key`` is beyond zero by two standard errors (sign -1: below), seeds measured)"""
        rows = [r for r in fv["rows"] if key in r]
        return [r["seed"] for r in rows if sign * r[key]["diff"] > 2 * r[key]["se"]], len(rows)

    def say(key, sign=1):
        seeds, n = count(key, sign)
        return f"{len(seeds)} of {n} seeds" + (f" (seed {', '.join(map(str, seeds))})" if seeds else "")

    text = (f"With {settings(name)}, from the shipped V-only C "
            f"({history.text({k: start[k] for k in ('mean', 'std')})} on the same tracks), V + M rose above its "
            f"start by more than two standard errors in {say('zh_start')} and fell below it by as much in "
            f"{say('zh_start', -1)}")
    if count("z_start")[1]:
        text += f"; the V-only C evolved on rose above it in {say('z_start')}"
    h_pays, n_pairs = count("zh_z")
    if not n_pairs:
        return text + ". No V-only C was evolved on beside these runs, so they say nothing yet of $h$."
    return (text + f"; V + M beat the V-only C evolved on in {say('zh_z')}: "
            + ("reading $h$ paid on every seed measured once C began as a driver."
               if len(h_pays) == n_pairs else
               "a start that already drives did not by itself make $h$ pay reliably at this budget."))


if FROM_V_ONLY:
    md("\n\n".join(from_v_only_verdict(name) for name in FROM_V_ONLY))

# %% [markdown]
# ### Score against compute: what would 906 take?
#
# Put every V + M run above on one axis: the real tracks its evolution drove
# (generations x candidates x tracks per candidate, plus the V-only run a
# warm start began from). Each dot is one CMA-ES seed on the 100 test
# tracks, each ring an arm's mean; the dashed line is a least-squares fit of
# the means against the doublings of the tracks. The line is a trend through
# a handful of budgets, not a law: read where it would reach 850 and the
# paper's 906 as "about this much more compute, if nothing else changed".

# %%
from wmlib.book import compute_curve

car_curve = compute_curve.car_curve()
car_fit, per_track = car_curve.fit, compute_curve.car_minutes_per_track()
bar, paper_car = car_curve.targets["the bar"], car_curve.targets["paper"]
fig, ax = plt.subplots(figsize=(7, 3.6))
compute_curve.draw(car_curve, ax); fig.tight_layout(); plt.show()
reach = {goal: car_fit.compute_for(goal) for goal in (bar, paper_car)}
shipped = compute_curve.shipped_car_score()
its_budget = next(a.compute for a in car_curve.arms if a.source == "from_v_only")   # the shipped C's run (its card)
md(f"The line gains **{car_fit.per_doubling:+.1f}** per doubling of the tracks (the arms' means sit "
   f"{car_fit.residual:.1f} from it). It reaches {bar} at about {reach[bar]:,.0f} tracks and {paper_car} at about "
   f"{reach[paper_car]:,.0f}: {reach[paper_car] * per_track / 60:,.1f} hours of a 2-core box at the "
   f"{per_track * 60:.2f} s per track the four-tracks run took, against the paper's "
   f"{compute_curve.paper_car_tracks():,} tracks on 64 workers. The shipped C, chosen as the best of three "
   f"seeds and scored again on 100 other tracks, drives {fmt(shipped)}: "
   f"{shipped['mean'] - car_fit.score_at(its_budget):+.1f} against the line at its run's budget "
   f"({its_budget:,.0f} tracks), a good seed rather than a better budget. "
   "Re-run: `python experiments/score_against_compute.py`.")

# %% [markdown]
# ## Two drivers, one track
#
# Both agents drive the first of the test tracks (the same env seed), live, on
# the fast renderer: yours when your controllers are on disk, else the shipped
# ones. Press **Play**, or drag the slider: one step moves both cars. Under
# each frame is what that agent's V made of it (the decoding of its code
# $z$): the V-only agent acts on that picture alone; the full agent also reads
# $h$, M's memory of the frames before. Watch the corners: a driver without
# memory cannot tell how fast it is going from one frame.

# %%
from wmlib.agent.rollout import agent_spec, episode_seed
from wmlib.book.widgets import SideBySide, record_side_by_side
from wmlib.training.controller import TEST_SEED, build_spec, controller_params
from wmlib.training.vae import load_vae


def driver(mode):
    """(label, spec on the fast renderer, C, V): your agent of this mode when on disk, else the shipped one; None."""
    if (controller_dir(cfg, mode) / CHECKPOINT).exists():
        return f"yours: {names[mode]}", build_spec(cfg, mode, renderer="fast"), controller_params(cfg, mode), \
            load_vae(cfg)
    if mode == "zh":
        params = car_c
    elif "z" in recorded.shipped_controllers("carracing"):
        params = recorded.load_controller("carracing", "z")["params"]
    else:
        return None
    spec = agent_spec("carracing", mode, car_v, car_m if mode == "zh" else None, cfg.evolution.max_steps, 1, "fast")
    return f"shipped: {names[mode]}", spec, params, car_v


agents = {mode: driver(mode) for mode in MODES}
if agents["z"] is None:
    print("the V-only controller is not shipped yet: the V + M agent drives alone")
agents = {m: a for m, a in agents.items() if a is not None}
t0 = time.perf_counter()
drives = record_side_by_side({label: (spec, params) for label, spec, params, _ in agents.values()},
                             seed=episode_seed(TEST_SEED, 0, 0))
drive_seconds = time.perf_counter() - t0
side = SideBySide(drives, vaes={label: vae for label, _, _, vae in agents.values()})
side

# %%
md("On this track: " + "; ".join(f"**{label}** {d['ret']:.0f} in {d['length']} steps" for label, d in drives.items())
   + f" (the two drives took {drive_seconds:.0f} s here, in this one process).")

# %% jupyter={"source_hidden": true} tags=["check"]
firsts = [d["frames"][0] for d in drives.values()]
assert all(np.array_equal(f, firsts[0]) for f in firsts)  # one track for every driver
side.play.value = min(d["length"] for d in drives.values())
assert side.returns() == {k: float(d["rewards"][:side.t].sum()) for k, d in drives.items()}
side.slider.value = 0

# %% [markdown]
# ## What paper scale costs
#
# Every candidate's every episode is played in the real env, so the cost is
# env steps. From the pace of the two drives above (one process, V, M and C
# included), here is what the paper's schedule would take on this machine,
# on `workers` processes and on 64 workers, if the pace scaled perfectly:

# %%
ev, pe = cfg.evolution, pc.evolution
pace = sum(d["length"] for d in drives.values()) / drive_seconds  # env steps per second, one process
paper_episodes = pe.generations * pe.population * pe.rollouts
paper_steps = paper_episodes * pe.max_steps
ours = ev.generations * ev.population * ev.rollouts
days = paper_steps / pace / 86400
print(f"pace: {pace:,.0f} env steps/s in one process; this profile: {ours:,} training episodes per controller")
print(f"paper: {pe.generations:,} generations x {pe.population} x {pe.rollouts} = {paper_episodes:,} episodes"
      f" = {paper_steps / 1e9:.2f} billion env steps ({paper_episodes / ours:,.0f} x this profile)")
print(f"at this pace: {days:,.0f} days in one process, {days / ev.workers:,.0f} on {ev.workers}, "
      f"{days / 64:,.1f} on 64 workers")
for mode, (hist, whose) in curves.items():
    took = recorded_took(mode) if mode not in runs else None
    on = f" on {took[1]} workers" if took and took[1] else ""
    print(f"evolution, {names[mode]}: {sum(h['seconds'] for h in hist) / 60:.1f} min{on} for {len(hist)} "
          f"generations ({whose})")

# %% jupyter={"source_hidden": true} tags=["check"]
assert paper_episodes == 1800 * 64 * 16 and paper_steps > 1.8e9 and pace > 0

# %% [markdown]
# CMA-ES itself is cheap at this size: its covariance has $867^2 \approx 750{,}000$
# entries, and updating it takes milliseconds next to the 1,024 episodes of
# one generation. The cost is all in the env, which is why the next
# notebook moves C's training into M's dream, where a step is a batched
# LSTM call instead of a physics simulation and a rendering.

# %% [markdown]
# ## Summary
#
# **What the paper established** (Ha & Schmidhuber, 2018, with CMA-ES from
# Hansen & Ostermeier, 2001):
#
# * C is one linear layer with a tanh: 867 parameters reading $[z, h]$ for
#   CarRacing, small enough for an evolution strategy.
# * Evolved with CMA-ES (population 64, 16 episodes each, about 1,800
#   generations), V + M + C scored 906 ± 21 over 100 tracks, the first to
#   pass 900; C reading $z$ alone scored 632 ± 251.
#
# **What you built and saw** (the numbers are printed by the cell below):
#
# * you watched CMA-ES learn a valley's direction and curvature from rankings
#   alone, wrote an evolution strategy without a covariance, and raced it
#   against pycma on the valley and on a 64-weight C in a dream;
# * your numpy C equals the library's `Controller`;
# * both agents' learning curves and scores at your profile (yours with
#   `TRAIN` on, else the recorded ones), the budget they had next to the
#   paper's, both driving one track side by side, and what the paper's budget
#   would cost here.

# %%
for name, (m_, _) in race.items():
    print(f"valley, {name:15s}: f(mean) = {valley(m_):.1e}")
for mode, (s, whose) in scores.items():
    print(f"{names[mode]:22s}: {fmt(s)}  [{whose}]")
for label, d in drives.items():
    print(f"{label:32s}: {d['ret']:.0f} on the first test track, live")

# %% [markdown]
# ## Exercises
#
# Each exercise has an estimated time at the `laptop` profile, on the shipped
# models: an estimate, in the table below. A "lab" exercise fits a lab
# session; a "project" retrains part of the pipeline, and the table adds the
# time that stage took in the shipped run's record.

# %%
from wmlib.book.course import exercise_table

md(exercise_table("03_controller"))

# %% [markdown]
# **1.** In the 2-D example, switch off the covariance adaptation
# (`CMA_rankmu=0, CMA_rankone=0` in the options) and count the generations
# needed to reach $f < 10^{-8}$. Now tilt the valley to 0 degrees with
# `CMA_diagonal=True`: why does the diagonal version suffice then?
# <details><summary>Hint</summary>
# Record <code>valley(es.mean)</code> per generation and stop at the first one
# below $10^{-8}$. At 0 degrees the valley's axes are the coordinate axes:
# a diagonal covariance can already hold its shape.</details>

# %% nbgrader={"grade": false, "grade_id": "03-ex1-code", "locked": false, "schema_version": 3, "solution": true}
# Exercise 1: the valley at any tilt (tilted_valley(30.0) is the chapter's valley), and the generations pycma needs.
import numpy as np


def tilted_valley(angle_deg: float = 30.0, curvatures=(1.0, 50.0), x_star=(1.0, 1.0)):
    """The notebook's tilted quadratic valley as a function of x."""
    ### BEGIN SOLUTION
    a = np.deg2rad(angle_deg)
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    A = R @ np.diag(curvatures) @ R.T
    x_star = np.asarray(x_star, float)
    return lambda x: float((np.asarray(x) - x_star) @ A @ (np.asarray(x) - x_star))
    ### END SOLUTION


def generations_to_reach(options: dict | None = None, angle_deg: float = 30.0, target: float = 1e-8,
                         max_generations: int = 2000, seed: int = 3) -> int:
    """Generations pycma needs to bring f(mean) below ``target`` on the valley (with extra ``options``,
    e.g. ``dict(CMA_rankmu=0, CMA_rankone=0)`` to switch the covariance adaptation off)."""
    ### BEGIN SOLUTION
    import cma

    f = tilted_valley(angle_deg)
    es = cma.CMAEvolutionStrategy([-3.0, -2.0], 0.5, dict(popsize=10, seed=seed, verbose=-9, **(options or {})))
    for g in range(1, max_generations + 1):
        X = es.ask()
        es.tell(X, [f(x) for x in X])
        if f(es.mean) < target:
            return g
    return max_generations
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "03-ex1-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** `generations_to_reach()` against
# `generations_to_reach(dict(CMA_rankmu=0, CMA_rankone=0))`: without the
# covariance the search stays round and needs several times more
# generations, because its steps must be small enough for the steep
# direction, so it crawls along the flat one. At 0 degrees the valley's axes
# are the coordinate axes: its 1 : 50 curvatures need two scales and no
# rotation, which is exactly what a diagonal covariance holds, so
# `CMA_diagonal=True` does about as well as the full matrix there.
# <!-- END SOLUTION -->

# %% [markdown]
# **2.** Give your ES a diagonal covariance: one step size per coordinate,
# adapted from the successful steps. How much of the gap to pycma on the
# tilted valley closes, and on the untilted one?
# <details><summary>Hint</summary>
# Keep a vector <code>d</code> of scales, sample <code>mean + sigma * d * y</code>, and move
# <code>d ** 2</code> a little towards the weighted mean of <code>(d * y_best) ** 2</code>.</details>

# %% nbgrader={"grade": false, "grade_id": "03-ex2-code", "locked": false, "schema_version": 3, "solution": true}
# Exercise 2: your ES with one scale per coordinate.
import numpy as np


def diagonal_es(f, x0, sigma0: float, popsize: int, generations: int, seed: int = 0, c_d: float | None = None):
    """An ES with one scale per coordinate (a diagonal covariance) and cumulative step-size adaptation.

    ``f(X [P, n], generation) -> values to minimise [P]``. -> (mean, best value per generation).
    """
    ### BEGIN SOLUTION
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
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "03-ex2-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** On the untilted valley the diagonal ES closes most of the gap: an
# axis-aligned valley needs only per-coordinate scales, and once `d` has
# learned the 1 : 50 ratio the search is as good as round on a sphere. On the
# 30-degree valley it closes little: the long axis runs diagonally, and a
# diagonal covariance can stretch its ellipse only along the coordinate axes,
# never rotate it. Learning the rotation is what CMA-ES's full matrix buys.
# <!-- END SOLUTION -->

# %% [markdown]
# **3.** Continue the V + M run: `train_controller(cfg, "zh", generations=30)`
# resumes from the generations already done. Use the pace printed above to
# estimate the time first. Does the V + M agent pull away from the V-only one?
# <details><summary>Hint</summary>
# Compare the evaluations of the mean (<code>runs[mode].evaluations</code>), not
# the best candidates, and mind their standard deviations.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "03-ex3-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** Estimate first: generations still to run times the seconds per
# generation printed above. Then compare the evaluated means of the two runs
# at equal generations, with their standard deviations: the V + M agent
# usually pulls ahead once C learns to use $h$ (anticipating a bend rather
# than reacting to it), as in the paper's table, but at laptop budgets the
# gap can sit inside the noise of a few evaluation tracks; the shipped run's
# 100-track scores in this chapter are the fairer comparison.
# <!-- END SOLUTION -->

# %% [markdown]
# **4.** Score the single best candidate instead of the mean:
# `evaluate_controller(cfg, "zh", which="best")`. It won its generation on
# `rollouts` episodes; how does it do on 100 fresh tracks, and why?
# <details><summary>Hint</summary>
# The maximum of many noisy scores is biased upwards: the winner's curse.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "03-ex4-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** On fresh tracks the best candidate scores below the score that made it win,
# and usually no better than the mean. It was picked as the maximum over a
# whole population of noisy scores, each measured on a few tracks, so it is
# partly the luckiest draw: the winner's curse. The distribution's mean is an
# average over the population's candidates and does not carry that selection
# bias, which is why the library deploys a mean.
# <!-- END SOLUTION -->

# %% [markdown]
# **5.** Each candidate drives its own track, so part of a generation's ranking is
# track luck. Evolve with every candidate on the same track (a new one each
# generation): `cfg.with_overrides(evolution=dict(same_episodes=True))`, in a
# new artifacts folder (`get_config("carracing", PROFILE, artifacts=...)`).
# Why does the candidates' mean now jump from one generation to the next,
# and does the evaluated mean climb faster?
# <details><summary>Hint</summary>
# The candidates' mean is now one track's difficulty plus the population's
# driving; the evaluated mean plays the same 8 tracks every time. The
# project's laptop run: README, "Every candidate on the same track".</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "03-ex5-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** With one shared track per generation, the generation's average is mostly
# that track's difficulty: a hard track drags every candidate down together,
# so the curve jumps from generation to generation. Within a generation,
# though, the ranking is fairer (no candidate is lucky with its own easy
# track), so selection is cleaner. The evaluated mean, on the same fixed
# tracks every time, is the curve to compare between the two runs; the
# README's section gives the project's answer at laptop scale.
# <!-- END SOLUTION -->

# %% [markdown]
# **6.** Flip the sign of the weight penalty (`cfg.with_overrides(evolution=dict(weight_decay=-0.01))`,
# in a fresh `WM_ARTIFACTS` folder) and watch the norm of the mean grow.
# What happens to the actions when $|W[z, h]|$ is large?
# <details><summary>Hint</summary>
# tanh saturates: the actions become bang-bang, $\pm 1$.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "03-ex6-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** With the sign flipped CMA-ES is paid for large weights, and the norm of the
# mean grows every generation. Once $|W[z, h]|$ is large, tanh saturates:
# steering is full left or full right, gas and brake are fully on or off.
# The car drives bang-bang, jerking between extremes; its scores stop
# improving and become brittle, since a small change of input flips an
# action from one extreme to the other. The penalty keeps C in tanh's
# graded range.
# <!-- END SOLUTION -->

# %% [markdown]
# **7.** The paper's best V-only agent had a hidden layer in C (788 ± 141). With 40
# hidden units, how many parameters is that, and how much bigger is the
# covariance matrix CMA-ES must learn?
# <details><summary>Hint</summary>
# $32 \cdot 40 + 40 + 40 \cdot 3 + 3$ parameters; the covariance grows with
# the square of that.</details>

# %% nbgrader={"grade": false, "grade_id": "03-ex7-code", "locked": false, "schema_version": 3, "solution": true}
# Exercise 7: the sizes of a C with a hidden layer.
import numpy as np


def hidden_layer_sizes(z_size: int = 32, hidden: int = 40, actions: int = 3) -> dict:
    """Parameters of a V-only C with one hidden layer, and of CMA-ES's covariance over them."""
    ### BEGIN SOLUTION
    n = z_size * hidden + hidden + hidden * actions + actions
    linear = z_size * actions + actions
    return dict(params=n, linear_params=linear, covariance_entries=n * n,
                covariance_growth=(n * n) / (linear * linear))
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "03-ex7-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** $32 \cdot 40 + 40 + 40 \cdot 3 + 3 = 1{,}443$ parameters against 99 for the
# linear V-only C. The covariance has $1{,}443^2$, about 2.1 million entries,
# against $99^2 = 9{,}801$: about 212 times more to learn
# (`hidden_layer_sizes()`), and CMA-ES's learning rates for the covariance
# shrink roughly with $n^2$, so it needs far more generations (or a
# restricted covariance, such as the diagonal of exercise 2) to use it.
# <!-- END SOLUTION -->

# %% [markdown]
# **8.** Run `python benchmarks/rollout.py` and compare the env step time with
# V + M + C's inference per step. What would a GPU change here, and what
# would it not?
# <details><summary>Hint</summary>
# The game's physics and drawing run in Python on the CPU; the networks see
# one frame at a time.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "03-ex8-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** Per step the environment (Box2D physics and drawing the frame) costs more
# than V + M + C's inference on one frame. A GPU would speed up the networks,
# which are already the smaller share, and moving one frame to the GPU and
# back each step can eat that gain; it does nothing for the game. What speeds
# up evolution in the real world is more cores running more episodes at once
# (the rollout workers), which is how the shipped car C was evolved.
# <!-- END SOLUTION -->

# %% [markdown]
# ## References
#
# * N. Hansen and A. Ostermeier, *Completely Derandomized Self-Adaptation in
#   Evolution Strategies*, Evolutionary Computation 9(2), 2001 (CMA-ES).
# * N. Hansen, *The CMA Evolution Strategy: A Tutorial*, 2016,
#   arXiv:1604.00772 (the update rules above, including step-size adaptation).
# * D. Ha and J. Schmidhuber, *World Models*, 2018, <https://worldmodels.github.io>
#   (C, its training and the CarRacing results).
