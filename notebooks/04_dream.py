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
# # 04 · Dreams: training C inside M
#
# M predicts the next code $z_{t+1}$ from $(z_t, a_t, h_t)$, and (for Doom)
# whether the agent dies. Feed M's own sample back as the next input and M
# becomes a world: one the controller can live in without a single real
# frame. The paper's most striking experiment does exactly that for
# ViZDoom *Take Cover*: C is evolved **entirely inside M's dream**, then
# dropped into the real game, where it survives (1092 $\pm$ 556 steps at
# $\tau = 1.15$, against 210 for a random policy).
#
# This notebook:
#
# 1. gets (or builds) V and M for Doom;
# 2. writes the agent's loop once and runs it in reality and in the dream,
#    swapping a single line;
# 3. plays a whole CMA-ES population of dreams as one batched tensor program;
# 4. trains C in the dream, and carries it back to the real game;
# 5. lets you play in the dream yourself.
#
# Notebook 05 repeats the training at five temperatures and reproduces the
# paper's table.
#
# **Run time**: about 40 s at `ci` (measured under nbval on a loaded 2-core
# machine); at `laptop` 30 s measured on 2 cores with the Doom pipeline on disk;
# from an empty folder it first builds V, M and C (the pipeline to round 0:
# about 37 minutes in a fresh clone; notebook 06 adds the iterative round).

# %% tags=["parameters"]
import os

PROFILE = os.environ.get("WM_PROFILE", "laptop")
TAU = 1.15  # the dream's temperature (the paper's best)

# %%
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import wmlib  # noqa: F401  (before torch: it sets OMP_WAIT_POLICY=PASSIVE, kinder to shared cores)
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from wmlib import paper
from wmlib.config import get_config
from wmlib.models.controller import Controller
from wmlib.worlds.data import collect
from wmlib.agent.dream import dream_rollouts, episode_keys, play_dream
from wmlib.worlds.envs import make_env
from wmlib.models.mdnrnn import sample_mixture
from wmlib.agent.rollout import EpisodeRunner
from wmlib.training.dream import (Dreamer, dream_evolution_config, evaluate_in_reality, paper_row, real_spec,
                                  train_in_dream)
from wmlib.training.mdnrnn import load_mdnrnn, train_mdnrnn
from wmlib.training.vae import encode_dataset, load_vae, train_vae
from wmlib.models.vae import frames_to_tensor
from wmlib.book.widgets import DreamPlayer

# One thread for the ci profile's tiny tensors (on a busy machine, two threads synchronising per
# small op can be 40x slower); both cores for the laptop profile's big batches of dreams.
torch.set_num_threads(1 if PROFILE == "ci" else min(2, os.cpu_count() or 1))
cfg = get_config("doom", PROFILE)
CAP = cfg.dream.max_steps
print("profile:", PROFILE, "| dream:", cfg.dream)

# %% [markdown]
# ## Play first
#
# Before building anything, step into a dream yourself. If you have trained V
# and M at this profile, these are yours; otherwise they are the models that
# ship with the book (trained at the laptop profile, `wmlib/pretrained/doom/`).
# Press left / stay / right: M imagines the next frame and V draws it; the bar
# is M's belief that a fireball has just hit you. On the shipped models,
# **Play** lets the shipped C (trained only in this dream) fly it; press a
# direction to take over.

# %%
from wmlib.agent.dream import DreamEnv
from wmlib.book.pretrained import load_shipped_controller_params, world_model_for

wm = world_model_for(cfg)
# The shipped C flies the shipped dream (Play); your own M has no C of its own until you train one below.
autopilot = load_shipped_controller_params("doom") if wm["source"].startswith("the shipped") else None
print("playing in the dream of", wm["source"], "| autopilot:", "the shipped C" if autopilot is not None else "none yet")
DreamPlayer(DreamEnv(wm["mdnrnn"], wm["first_mu"], wm["first_logvar"], tau=TAU, max_steps=CAP, vae=wm["vae"],
                     world="doom", done_rule=cfg.dream.done_rule, done_pos_weight=cfg.mdnrnn.done_pos_weight),
            controller=autopilot)

# %% [markdown]
# ## Get or build V and M
#
# Each call is a no-op when its result is on disk (notebooks 00 to 02, or the
# command line) and builds it otherwise. The dream needs three things: M, V
# (only to *look* at the dream, and for the real game), and the codes of real
# frames where dreams start. In the paper every dream starts at a real first
# frame, and so do the dreams you write below. The library's laptop profile
# (`dream.start_from="anywhere"`) also starts dreams part-way through the
# recorded games, with M's memory of the real steps before: a C that runs for
# a wall then meets walls that random play reached, which a dream begun in the
# middle of the room may never reach (README, "The dream transfers").

# %%
collect(cfg)
train_vae(cfg)
series = encode_dataset(cfg)
train_mdnrnn(cfg)
vae, m = load_vae(cfg), load_mdnrnn(cfg)
print(f"V: z = {vae.z_size}; M: LSTM {m.hidden}, done head {m.has_done}; "
      f"{len(series.first_mu)} real first frames to start dreams from")

# %% [markdown]
# ## One loop, two worlds
#
# The agent's loop is the same wherever it lives. At every step C reads the
# code and M's memory, $a_t = \tanh(W [z_t, c_t, h_t])$ (Doom's C reads the
# LSTM's cell state $c$ too: 1,088 weights, no bias), and M updates its
# memory from $(z_t, a_t)$. Only the **world's answer** differs:
#
# * in **reality** the game moves on and V encodes the new frame,
#   $z_{t+1} = \mu_V(\text{frame}_{t+1})$; the game says when the agent dies;
# * in the **dream** M's own prediction becomes the next code,
#   $z_{t+1} \sim p_M(z_{t+1} \mid a_t, z_t, h_t;\ \tau)$, and M's death
#   probability decides: below, the dream ends when it passes 0.5 (the original
#   code's rule); the library can also draw death from it (`cfg.dream.done_rule`).
#
# The reward is the same in both: +1 per step survived.

# %%
def live(controller, z, world_step, max_steps):
    """The agent's loop: C acts, M remembers, the world answers. -> (steps survived, codes seen)."""
    h, c = m.initial_state(1)
    codes = []
    with torch.no_grad():
        for t in range(max_steps):
            a = controller.act(z, h[0], c[0])                                       # C
            mix, done_logit, (h, c) = m.step(z, a, (h, c), torch.tensor([float(t == 0)]))  # M
            z, dead = world_step(a, mix, done_logit)                                # the world
            codes.append(z[0].numpy())
            if dead:
                return t + 1, np.stack(codes)
    return max_steps, np.stack(codes)


def see(frame):
    """V: a real frame -> the mean of its code, [1, z]."""
    return vae.encode(frames_to_tensor(frame[None]))[0]


def reality(env, seed):
    frame, _ = env.reset(seed=seed)

    def step(a, mix, done_logit):
        frame, _, terminated, truncated, _ = env.step(a[0].numpy())                 # <- the game
        return see(frame), terminated or truncated
    return see(frame), step


def dream(z0, tau, seed):
    gen = torch.Generator().manual_seed(seed)

    def step(a, mix, done_logit):
        return sample_mixture(*mix, tau=tau, generator=gen), bool(torch.sigmoid(done_logit)[0] > 0.5)  # <- M
    return z0, step

# %% [markdown]
# An untrained C (small random weights) in both worlds, from the same first
# frame of the real game:

# %%
rng = np.random.default_rng(0)
n_params = Controller("doom", m.z_size, m.hidden).n_params
untrained = Controller("doom", m.z_size, m.hidden).set_flat(rng.normal(size=n_params) * 0.1)
with make_env("doom", max_steps=CAP) as game:  # the engine is a process: closed on leaving, even on errors
    z0, real_step = reality(game, seed=1)
    real_steps, real_codes = live(untrained, z0, real_step, CAP)
dream_steps, dream_codes = live(untrained, *dream(z0, TAU, seed=1), CAP)
print(f"{n_params} parameters; survived {real_steps} steps in reality, {dream_steps} in the dream (tau {TAU})")

# %% [markdown]
# The library's loops are these, only batched: `wmlib.agent.rollout.EpisodeRunner`
# plays real episodes (several in lockstep, for a whole population; with
# `cfg.dream.real_z = "sample"` it feeds C a sampled code $\mu + \sigma\epsilon$, as
# the original code did, rather than the mean we use here) and
# `wmlib.agent.dream.DreamEnv` is the dream as a gymnasium environment. The same
# real episode gives the same score; at $\tau = 0$ (no randomness: always the
# most likely next code) the dream gives the same codes.

# %%
with EpisodeRunner(real_spec(cfg.with_overrides(dream={"real_z": "mean"}))) as runner:
    lib_real = runner.run(untrained.get_flat()[None], [1])["returns"][0]
assert lib_real == real_steps, (lib_real, real_steps)

paper_dream = cfg.with_overrides(dream={"start_from": "first"})  # your loop starts at a first frame
env = Dreamer(paper_dream, 0.0, mdnrnn=m, series=series).env()
obs, _ = env.reset(seed=3)
lib_codes = []
while len(lib_codes) < 30:
    z, c, h = env.split_obs(obs)
    obs, _, terminated, truncated, _ = env.step(untrained.act(z, h, c))
    lib_codes.append(env.split_obs(obs)[0])
    if terminated or truncated:
        break
_, my_codes = live(untrained, *dream(torch.from_numpy(env.split_obs(env.reset(seed=3)[0])[0])[None], 0.0, 0),
                   len(lib_codes))
k = min(len(lib_codes), len(my_codes))
assert np.allclose(np.stack(lib_codes)[:k], my_codes[:k], atol=1e-4)

# %% [markdown]
# ## A population of dreams at once
#
# CMA-ES asks for a population of controllers (the paper: 64), each scored
# on several episodes (16). In reality every episode needs its own game.
# A dream is only tensors, so `dream_rollouts` advances **all** $P \times R$
# dreams together: one LSTM step for the whole batch, each row with its own
# controller weights, finished dreams dropped from the batch as they end.
# Its randomness is counter-based (the noise of step $t$ of episode $k$ is a
# hash of $(k, t)$), so dream $k$ is the same whether played alone or as row
# 917 of a batch:

# %%
P, R, short = 8, 4, min(CAP, 200)
population = rng.normal(size=(P, n_params)) * 0.1
t0 = time.perf_counter()
batched = dream_rollouts(m, "doom", population, series.first_mu, series.first_logvar, R, TAU, short, seed=7,
                         done_rule=cfg.dream.done_rule, done_pos_weight=cfg.mdnrnn.done_pos_weight)
t_batched = time.perf_counter() - t0
env = Dreamer(paper_dream, TAU, mdnrnn=m, series=series).env(max_steps=short)
keys = episode_keys(7, P, R)
t0 = time.perf_counter()
single = np.array([[play_dream(env, Controller("doom", m.z_size, m.hidden).set_flat(population[p]), int(keys[p, r]))
                    for r in range(R)] for p in range(P)])
t_single = time.perf_counter() - t0
print(f"{P * R} dreams, {int(batched.sum())} agent-steps: batched {t_batched:.2f} s, one at a time "
      f"{t_single:.2f} s (x{t_single / t_batched:.1f})")

# %%
assert np.array_equal(batched, single)

# %% [markdown]
# ## Write the dream trainer yourself
#
# Training C in the dream is an evolution strategy whose fitness comes from
# `dream_rollouts`: ask CMA-ES for a population, let every candidate live
# `rollouts` dreams, tell CMA-ES how long each survived (minus a small
# penalty on large weights), repeat. The loop below is the whole idea. The
# only extra lines seed pycma's sampler per generation, as the library does so
# that a run resumed after a kill repeats exactly; with them, your trainer
# and the library's `evolve` should end at the same C.

# %%
from wmlib.agent.evolution import generation_seed, new_strategy, numpy_global_seed


def my_dream_trainer(generations, population, rollouts, sigma0=0.1, weight_decay=0.01, seed=0):
    es = new_strategy(n_params, sigma0, population)  # pycma's CMA-ES, starting from C = 0
    curve = []
    for g in range(generations):
        with numpy_global_seed(generation_seed(seed, g, 0)):
            candidates = np.asarray(es.ask())                                     # [P, n_params]
        steps = dream_rollouts(m, "doom", candidates, series.first_mu, series.first_logvar, rollouts, TAU, short,
                               seed=generation_seed(seed, g, 1), done_rule=cfg.dream.done_rule,
                               done_pos_weight=cfg.mdnrnn.done_pos_weight)      # [P, rollouts] steps survived
        fitness = steps.mean(axis=1) - weight_decay * np.mean(candidates ** 2, axis=1)
        with numpy_global_seed(generation_seed(seed, g, 2)):
            es.tell(list(candidates), list(-fitness))                             # pycma minimises
        curve.append(steps.mean())
    return es.mean, curve


my_c, my_curve = my_dream_trainer(generations=3, population=8, rollouts=2)
print("mean steps survived per generation:", np.round(my_curve, 1))

# %% [markdown]
# The library's `evolve` is this loop plus a checkpoint every generation,
# periodic evaluations of the mean and the bookkeeping of the best. Given the
# same fitness, it finds the same C:

# %% jupyter={"source_hidden": true} tags=["check"]
import tempfile

from wmlib.agent.evolution import evolve
from wmlib.config import EvolutionConfig

mine = EvolutionConfig(population=8, rollouts=2, generations=3, sigma0=0.1, weight_decay=0.01, seed=0)
with tempfile.TemporaryDirectory() as run_dir:
    lib = evolve(mine, n_params, lambda sols, g, s: dream_rollouts(
        m, "doom", sols, series.first_mu, series.first_logvar, 2, TAU, short, seed=s,
        done_rule=cfg.dream.done_rule, done_pos_weight=cfg.mdnrnn.done_pos_weight), run_dir, progress=False)
assert np.allclose(lib.mean_params, my_c), "your trainer and the library's evolve disagree"
assert np.allclose([h["mean"] for h in lib.history], my_curve)

# %% [markdown]
# ## Training C in the dream
#
# `train_in_dream` runs CMA-ES (the same `evolve` loop as in the real world)
# with dreams as the only source of fitness: each generation, every candidate
# lives `rollouts` dreams at temperature $\tau$, starting from the codes of
# real first frames; its fitness is the mean number of steps survived (minus
# a small weight penalty). Every few generations the distribution's mean is
# scored on more dreams; the best of those means is the controller we deploy.
# The run is checkpointed every generation (it resumes after a kill, and is
# a no-op once done).

# %%
ecfg = dream_evolution_config(cfg).evolution
print(f"population {ecfg.population} x {ecfg.rollouts} dreams, {ecfg.generations} generations, cap {CAP}")
result = train_in_dream(cfg, TAU)
hist = result.history
gens = [h["generation"] + 1 for h in hist]
plt.figure(figsize=(7, 3))
plt.plot(gens, [h["mean"] for h in hist], label="population mean")
plt.plot(gens, [h["max"] for h in hist], label="best candidate")
ev = result.evaluations
plt.plot([e["generation"] + 1 for e in ev], [e["mean"] for e in ev], "o", label="the mean, scored")
plt.axhline(CAP, color="black", ls="-.", lw=0.8, label="cap")
plt.xlabel("generation"); plt.ylabel("steps survived in the dream"); plt.legend(fontsize=8); plt.show()

# %%
assert len(hist) == result.generations == ecfg.generations
assert all(0 < h["mean"] <= CAP for h in hist)

# %% [markdown]
# ## Back to reality
#
# Now the controller meets the real game for the first time: V encodes the
# real frames, M keeps its memory from the real codes, C acts, as in the
# loop above. `evaluate_in_reality` scores it on `real_episodes` real games and,
# for comparison, on `dream_episodes` fresh dreams (both are saved, and reused
# while nothing changed).

# %%
score = evaluate_in_reality(cfg, TAU)
print(f"tau {TAU}, cap {CAP}: dream {score['dream']['mean']:.0f} +- {score['dream']['std']:.0f} over "
      f"{score['dream']['episodes']} dreams; real {score['real']['mean']:.0f} +- {score['real']['std']:.0f} over "
      f"{score['real']['episodes']} games")
if paper_row(TAU):
    (pd, ps), (rd, rs) = paper_row(TAU)
    print(f"paper at tau {TAU}: dream {pd} +- {ps}, real {rd} +- {rs} (random policy {paper.DOOM_RANDOM_POLICY[0]})")

# %% tags=["check"]
assert score["real"]["episodes"] == cfg.dream.real_episodes and score["dream"]["episodes"] == cfg.dream.dream_episodes
assert all(1 <= r <= CAP for r in score["real"]["returns"] + score["dream"]["returns"])

# %% [markdown]
# ### What your number means
#
# Three numbers matter: the paper's (1092 $\pm$ 556 at $\tau = 1.15$, with M
# trained on 10,000 random episodes for 400 epochs), a random policy's (about
# 210), and yours. At the ci profile V and M have seen a few hundred frames:
# no claim. At the laptop profile (200 random episodes, 80 epochs of M) a C
# trained in a single pass survived 670-720 real steps over the three CMA-ES
# seeds we measured: well above random, below the paper (README, "M trained
# longer"). If the dream score is far above the real one,
# **your agent cheated its dream**: it found something M gets wrong (a place or
# an action M believes is safe) and exploited it. Notebook 05 shows such a
# cheat; notebook 06 fixes it the paper's way, by letting C's own real games
# correct M.
#
# How much of the gap is M's training budget? On a GPU, an M trained on the
# same 200 random games with ~35x the laptop's transitions (105 s on one H100
# at the paper's batch of 100 x 500 steps) gives a dream whose C survives
# 668 $\pm$ 106 real steps (the mean of four CMA-ES seeds' 100-game scores,
# each seed above 570; README, "Scale or coverage?"). At laptop scale the
# dream's flaws are mostly M's missing compute, not missing data.

# %%
expected = {"ci": "no claim (V and M have seen a few hundred frames)",
            "laptop": "~670-720 steps after one pass (three CMA-ES seeds on one fresh clone; README: \"M trained longer\")",
            "paper": "the paper's 1092 +- 556"}[PROFILE]
real, dreamt = score["real"]["mean"], score["dream"]["mean"]
print(f"yours: real {real:.0f}, dream {dreamt:.0f} | random policy {paper.DOOM_RANDOM_POLICY[0]} | "
      f"expected at {PROFILE}: {expected}")
if dreamt > 2 * real and PROFILE != "ci":
    print("the dream flatters this C: it exploits M's mistakes (notebook 05 shows how, 06 how to fix it)")

# %% [markdown]
# ## Play in the dream
#
# Your turn to be C, or to watch yours. Each click is one action (left, stay,
# right); M imagines the next moment, V draws it, and the bar shows M's
# probability that this step killed you. **Play** hands the wheel to the C you
# just trained (the autopilot); press a direction to take over for a few steps.
# The $\tau$ slider changes the dream's temperature as you go. When the dream
# ends (a click or a tick then starts a new one). At the ci profile V and M are barely trained, so
# the picture is mostly blur; at the laptop profile you will see the room,
# the monsters and their fireballs.

# %%
player = DreamPlayer(Dreamer(cfg, TAU, mdnrnn=m, series=series).env(vae=vae), controller=result.deployed_params)
player

# %%
before, steps = bytes(player.image.value), player.steps
player.step("stay")
assert bytes(player.image.value) != before and (player.steps == steps + 1 or player.steps == 0)
assert 0.0 <= player.death.value <= 1.0

# %% [markdown]
# ## Summary
#
# * The agent's loop is one loop: C acts on $[z, c, h]$, M updates its
#   memory, the world answers. Swap the world's answer (the game and V for
#   M's own sample and death probability) and the agent lives in a dream.
# * Dreams are pure tensor programs: a whole CMA-ES population of them runs
#   as one batch, many times faster than one at a time, with the same
#   results episode by episode (counter-based noise).
# * **The paper**: C evolved only in the dream survived 1092 $\pm$ 556 steps
#   in the real game at $\tau = 1.15$ (solved: > 750; random policy 210).
# * **Yours**: the real and dream scores printed above, at your profile. A
#   dream score far above the real one means C exploits M's mistakes: the
#   paper's own remedy, iterative training, is notebook 06.
#
# ## Exercises
#
# 1. Your profile ends dreams by `cfg.dream.done_rule`. Train with the other
#    rule (`"threshold"`: die when M's weighted death probability passes 0.5, as
#    the original code did; `"sample"`: a draw from M's un-weighted probability)
#    via `cfg.with_overrides(dream={"done_rule": ...})` in a fresh `WM_ARTIFACTS`.
#    Is the dream harder or easier? Does the real score change? *Hint: with
#    the threshold, a state M thinks is 5% deadly per step is perfectly safe.*
#    <details><summary>Solution</summary>
#    <code>notebooks/solutions/dream.py</code>: <code>done_rule_lengths</code> scores the
#    same controllers on the same dreams under each rule, e.g.
#    <code>done_rule_lengths(m, population, series.first_mu, series.first_logvar,
#    done_pos_weight=cfg.mdnrnn.done_pos_weight)</code> (tested in
#    <code>tests/test_solutions.py</code>).</details>
# 2. Play in the dream at $\tau = 0.1$ and at $\tau = 1.3$
#    (`Dreamer(cfg, tau).env(vae=vae)`). In which can you stand still and live?
#    <details><summary>Solution</summary>
#    <code>notebooks/solutions/dream.py</code>: <code>stand_still</code> presses "stay" in
#    <code>DreamEnv</code> at each temperature, on the same first frames.</details>
# 3. Score the *final* mean (`evaluate_in_reality(cfg, TAU, which="mean")`)
#    and the best single candidate (`which="best"`). Which transfers best, and why
#    might the best candidate in the dream be a poor choice?
# 4. Time `dream_rollouts` against one `DreamEnv` at a time for growing
#    populations (`benchmarks/dream.py`). Where does batching stop paying on
#    your machine, and why?
#    <details><summary>Solution</summary>
#    <code>notebooks/solutions/dream.py</code>: <code>batching_speedup(m, series.first_mu,
#    series.first_logvar, populations=(1, 4, 16, 64))</code> returns the speed-up per
#    population, and checks that both paths gave every dream the same length.</details>
# 5. The controller never saw a real frame while learning. Which parts of the
#    agent did see real frames, and when?
#
# ## References
#
# * D. Ha and J. Schmidhuber, *World Models* (2018), sections "VizDoom Experiment:
#   Learning Inside of a Dream" (training inside the dream, and transferring the
#   policy to the actual environment) and "Cheating the World Model".
# * J. Schmidhuber, *On Learning to Think: Algorithmic Information Theory for Novel
#   Combinations of Reinforcement Learning Controllers and Recurrent Neural World
#   Models* (2015): a controller that learns inside an RNN world model.
# * N. Hansen, *The CMA Evolution Strategy: A Tutorial* (2016).
