# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Temperature: how hard should the dream be?
#
# A controller trained in M's dream can only be as good as the dream is
# honest. M is an imperfect model of Doom, and an optimiser as relentless as
# CMA-ES will find its flaws: any policy that makes *M* believe the agent is
# safe scores well, whether or not it would survive the real game. The
# paper's lever against this is the temperature $\tau$ of the dream: it
# divides the mixture logits and scales each Gaussian's variance,
#
# $$\pi_k(\tau) \propto \pi_k^{1/\tau}, \qquad \sigma_k(\tau) = \sigma_k\sqrt{\tau}.$$
#
# At low $\tau$ the dream always picks M's most likely next moment: rare
# events, like a monster deciding to shoot, almost never happen, and the
# agent learns to live in a world without fireballs. At higher $\tau$ the
# dream is noisier than the game, and a policy must be robust to survive it.
#
# **Run time**: under a minute at `ci` with 04's artifacts built (up to 3 minutes on a loaded
# 2-core machine); at `laptop` it trains five controllers in the dream, one per
# temperature, each about 5-10 minutes on 2 cores (measured: 41 minutes for the
# whole notebook, with 04's tau 1.15 already built, on a 2-core box running one other job).
#
# The paper's table (Doom, C trained only in the dream, 100 trials each):

# %% tags=["parameters"]
import os

PROFILE = os.environ.get("WM_PROFILE", "laptop")

# %%
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import wmlib  # noqa: F401  (before torch: it sets OMP_WAIT_POLICY=PASSIVE, kinder to shared cores)
import matplotlib.pyplot as plt
import numpy as np
import torch

from wmlib import paper
from wmlib.config import get_config
from wmlib.worlds.data import collect
from wmlib.training.controller import record_episode
from wmlib.book.plots import plot_temperature
from wmlib.training.dream import Dreamer, dream_params, format_table, real_spec, record_dream, temperature_sweep
from wmlib.training.mdnrnn import train_mdnrnn
from wmlib.training.vae import encode_dataset, load_vae, train_vae

# One thread for the ci profile's tiny tensors; both cores for the laptop profile's batches of dreams.
torch.set_num_threads(1 if PROFILE == "ci" else min(2, os.cpu_count() or 1))
cfg = get_config("doom", PROFILE)
CAP = cfg.dream.max_steps
print(f"{'tau':>5} | {'dream':>12} | {'real game':>12}")
for tau, ((dm, ds), (rm, rs)) in paper.DOOM_TEMPERATURE.items():
    print(f"{tau:5.2f} | {dm:5d} +- {ds:4d} | {rm:5d} +- {rs:4d}")
print(f"random policy in the real game: {paper.DOOM_RANDOM_POLICY[0]} +- {paper.DOOM_RANDOM_POLICY[1]}; "
      f"solved: > {paper.DOOM_SOLVED}")

# %% [markdown]
# Read it row by row: at $\tau = 0.1$ the dream is nearly solved (2086 of a
# possible 2100 steps) and the real game is not (193: *worse than random*).
# From $\tau = 1.0$ the dream gets harder and the real score jumps; the best
# transfer is at $\tau = 1.15$, and at 1.3 the dream is so hostile that
# learning slows.
#
# ## Get or build V and M
#
# As in notebook 04, each call is a no-op when its result is on disk.

# %%
collect(cfg)
train_vae(cfg)
encode_dataset(cfg)
train_mdnrnn(cfg)
vae = load_vae(cfg)

# %% [markdown]
# ## The sweep
#
# For every $\tau$ of the profile, `temperature_sweep` trains C in the dream
# (its own run folder per $\tau$, resumable, a no-op once done), scores it on
# fresh dreams at the same $\tau$ and on real games, and writes the table
# (JSON) to the `temperature` folder of this profile; below we draw the plot
# and save it (PNG) beside the table. The same from the command line:
# `python -m wmlib temperature-sweep doom`.

# %%
sweep = temperature_sweep(cfg)
rows = sweep["rows"]
print(format_table(rows))
print(f"dream: {cfg.dream.dream_episodes} dreams, real: {cfg.dream.real_episodes} games, cap {CAP} steps; "
      f"table: {sweep['json']}")

# %%
png = os.path.join(os.path.dirname(sweep["json"]), "temperature.png")
fig = plot_temperature(rows, png, title=f"doom, profile {PROFILE}", cap=CAP)
plt.show()

# %% tags=["check"]
assert [r["tau"] for r in rows] == [float(t) for t in cfg.dream.taus]
assert all(1 <= r["dream_mean"] <= CAP and 1 <= r["real_mean"] <= CAP for r in rows)
assert os.path.exists(sweep["json"]) and os.path.exists(png)

# %%
best = max(rows, key=lambda r: r["real_mean"])
print(f"your best temperature: tau {best['tau']:.2f}, real {best['real_mean']:.0f} +- {best['real_std']:.0f} "
      f"(paper's best: tau 1.15, 1092 +- 556; random policy {paper.DOOM_RANDOM_POLICY[0]})")
cheats = [r["tau"] for r in rows if r["dream_mean"] > 2 * r["real_mean"]]
print("temperatures whose C cheated its dream (dream score > 2x real):", cheats or "none")

# %% [markdown]
# ## One temperature at a time
#
# Step through the sweep: for each $\tau$, the paper's bars beside yours, and
# that $\tau$'s controller in its own dream (top strip, V's decoding of M's
# codes) and in the real game (bottom strip, the frames it saw until it died).

# %%
from wmlib.book.widgets import TauStepper

films = {}
for r in rows:
    p_tau = dream_params(cfg, r["tau"])
    films[r["tau"]] = dict(dream=record_dream(cfg, r["tau"], p_tau, vae)["frames"],
                           real=record_episode(cfg, "zh", p_tau, spec=real_spec(cfg))["frames"])
stepper = TauStepper(rows, films)
stepper

# %% tags=["check"]
stepper.slider.value = stepper.slider.options[-1][1]
assert stepper.tau == rows[-1]["tau"]

# %% [markdown]
# ## The exploit, made visible
#
# Take the controller trained at the lowest temperature and watch it twice:
# once in the dream it was trained in, once in the real game. In the dream,
# V decodes M's codes into frames; look for fireballs. At $\tau = 0.1$ M
# almost always predicts its most likely next frame, and "no monster fires"
# is more likely than any particular shot, so fireballs rarely appear, and
# when one does it tends to fade instead of flying at the agent. The real
# monsters do not care what M finds likely.
#
# (At the ci profile V and M have seen a few hundred frames and the frames
# are blur; run this notebook at the laptop profile to see the room.)

# %%
low = min(cfg.dream.taus)
params = dream_params(cfg, low)
dreamer = Dreamer(cfg, low)
in_dream = record_dream(cfg, low, params, vae, dreamer=dreamer)
in_reality = record_episode(cfg, "zh", params, spec=real_spec(cfg))
print(f"C trained at tau {low}: {in_dream['ret']:.0f} steps in its dream "
      f"({'M killed it' if in_dream['died'] else 'reached the cap'}), {in_reality['ret']:.0f} in the real game")


# %%
def filmstrip(ax_row, frames, label):
    picks = np.linspace(0, len(frames) - 1, len(ax_row)).astype(int)
    for ax, i in zip(ax_row, picks):
        ax.imshow(frames[i]); ax.set_title(f"t={i}", fontsize=7); ax.axis("off")
    ax_row[0].text(-0.1, 0.5, label, transform=ax_row[0].transAxes, ha="right", va="center", fontsize=8)


fig, axes = plt.subplots(2, 8, figsize=(13, 3.6))
filmstrip(axes[0], in_dream["frames"], f"dream\ntau {low}")
filmstrip(axes[1], in_reality["frames"], "real\ngame")
plt.suptitle(f"the same controller (trained at tau {low}): its dream, and the real game up to its death", fontsize=9)
plt.tight_layout(); plt.show()

# %% [markdown]
# M's own opinion tells the same story. Below, the same controller lives a
# dream at each temperature of the sweep, and we plot M's death probability
# at every step: at low $\tau$ it stays flat far from the 0.5 line, because
# the dangerous futures have been sharpened away.

# %%
plt.figure(figsize=(8, 3))
lengths = {}
for tau in cfg.dream.taus:
    run = record_dream(cfg, low, params, dreamer=dreamer, dream_tau=tau)  # no V: M's verdicts only
    lengths[tau] = run["ret"]
    plt.plot(run["done_prob"], lw=1, label=f"dream at tau {tau:g} ({run['ret']:.0f} steps)")
plt.axhline(cfg.dream.done_threshold, color="red", ls="--", lw=0.8)
plt.xlabel("step"); plt.ylabel("M's death probability"); plt.legend(fontsize=7); plt.show()

# %%
assert in_dream["frames"].shape[1:] == (64, 64, 3) and len(in_dream["frames"]) == in_dream["ret"] + 1
assert len(in_reality["frames"]) >= in_reality["ret"] and 1 <= in_reality["ret"] <= CAP
assert ((in_dream["done_prob"] >= 0) & (in_dream["done_prob"] <= 1)).all()
assert lengths[low] == in_dream["ret"]  # the same dream, replayed

# %% [markdown]
# ## Summary
#
# * The temperature sets how adventurous M's dream is. Too cold, and the
#   dream forgets the rare events that kill you: the controller masters the
#   dream (near the cap) and fails in reality, the paper's $\tau = 0.1$ row.
# * A warmer dream ($\tau \approx 1.15$ in the paper) is harder than the game,
#   so whatever survives it also survives the real thing: the paper's agent
#   scored 1092 $\pm$ 556 in reality, above the 750 that counts as solved.
# * The dream score alone is not evidence: compare it with the real score,
#   as the sweep's table does for every $\tau$.
# * **Yours**: the table above, at your profile. The paper's M saw 10,000
#   random episodes for 400 epochs; the laptop M sees 200 for 80. On one
#   fresh clone the laptop sweep gave real scores rising with $\tau$ (303,
#   422, 664, 670, 744 steps from 0.1 to 1.3) while the dream got harder
#   (1998 down to 1317): the paper's direction, noisier than the paper's
#   (one CMA-ES run varies by ~100 steps; README, results table).
#
# ## Exercises
#
# 1. Add temperatures between 1.0 and 1.5 (`temperature_sweep(cfg, taus=[...])`).
#    Where does the real score peak for your M, and is it where the paper's did?
# 2. Train at $\tau = 0.1$ with the other done rule than your profile's
#    (`cfg.dream.done_rule`: `"threshold"` or `"sample"`;
#    `cfg.with_overrides(dream={"done_rule": ...})`, a fresh `WM_ARTIFACTS`).
#    Does random death close the exploit?
# 3. The dream's first frame comes from real episodes. What happens if every
#    dream starts from the same first frame? From a code drawn from V's prior?
#    <details><summary>Solution</summary>
#    <code>notebooks/solutions/temperature.py</code>: <code>start_codes</code> builds the
#    three kinds of start and <code>scores_by_start(m, series.first_mu, series.first_logvar,
#    dream_params(cfg, 1.15), 1.15)</code> scores one controller from each, with
#    <code>m = wmlib.training.mdnrnn.load_mdnrnn(cfg)</code> and
#    <code>series = encode_dataset(cfg)</code> (tested in
#    <code>tests/test_solutions.py</code>).</details>
# 4. Iterative training, which the paper proposes but does not finish, is
#    notebook 06 (`python -m wmlib iterate doom`). Run two rounds at
#    $\tau = 0.1$ (`dream={"tau": 0.1}`): does the exploit at low $\tau$ shrink?
# 5. Score each controller at *every* temperature's dream (not only its own).
#    Which dream's score predicts the real score best?
#    <details><summary>Solution</summary>
#    <code>notebooks/solutions/temperature.py</code>: <code>cross_temperature_scores(m,
#    series.first_mu, series.first_logvar, [dream_params(cfg, t) for t in cfg.dream.taus],
#    cfg.dream.taus)</code> gives the matrix (rows: controllers, columns: dreams), and
#    <code>dream_predicts_reality(scores, [r["real_mean"] for r in rows])</code> the rank
#    correlation of each dream's column with the real scores. Pass
#    <code>done_rule=cfg.dream.done_rule, done_pos_weight=cfg.mdnrnn.done_pos_weight</code>
#    to both solutions to dream as your profile does.</details>
#
# ## References
#
# * D. Ha and J. Schmidhuber, *World Models* (2018), sections "VizDoom Experiment:
#   Learning Inside of a Dream" and "Cheating the World Model" (the temperature table).
# * D. Ha and D. Eck, *A Neural Representation of Sketch Drawings* (2017): the
#   temperature of a mixture density RNN's samples.
# * A. Graves, *Generating Sequences With Recurrent Neural Networks* (2013): an
#   RNN with a mixture density output, and biased sampling from it.
# * N. Hansen, *The CMA Evolution Strategy: A Tutorial* (2016).
