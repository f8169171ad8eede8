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
# 1. opens a dream for you to play in, flown by a C trained in it;
# 2. writes the agent's loop once and runs it in reality and in the dream,
#    swapping a single line;
# 3. plays a whole CMA-ES population of dreams as one batched tensor program,
#    and has you write the dream trainer;
# 4. shows C trained in the dream at this profile and carries it back to the
#    real game: a few games live, and the score its run recorded;
# 5. lets you play in the dream again, with the C of this chapter.
#
# Notebook 05 repeats the training at five temperatures and reproduces the
# paper's table.
#
# **`TRAIN` off** (the default): nothing is trained and nothing is scored on
# 100 games. The chapter uses your own V, M and C where they are on disk at
# this profile (after `python -m wmlib reproduce doom`, the last round's C),
# otherwise the ones that ship with the book and the results their run
# recorded. Your own small pieces (the loop, the dream trainer) always run.
# **`TRAIN` on** (`WM_TRAIN=1`): it builds V and M if they are missing, trains
# C in the dream and scores it in the real game; before each long stage it
# prints how long that stage took when it was measured.

# %% tags=["parameters"]
import os

PROFILE = os.environ.get("WM_PROFILE", "laptop")
TRAIN = os.environ.get("WM_TRAIN", "0") == "1"   # off: shipped models and recorded results
TAU = 1.15  # the dream's temperature (the paper's best)

# %%
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import wmlib  # noqa: F401  (before torch: it sets OMP_WAIT_POLICY=PASSIVE, kinder to shared cores)
import time
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import torch

from wmlib import paper, paths
from wmlib.book import chapter, recorded
from wmlib.book.chapter import fmt, md
from wmlib.config import get_config
from wmlib.models.controller import Controller
from wmlib.agent.dream import dream_rollouts, episode_keys, play_dream
from wmlib.agent.rollout import EpisodeRunner, agent_spec
from wmlib.worlds.envs import make_env
from wmlib.models.mdnrnn import sample_mixture
from wmlib.training.dream import Dreamer, dream_evolution_config, evaluate_in_reality, paper_row, train_in_dream
from wmlib.training.vae import encode_dataset
from wmlib.models.vae import frames_to_tensor
from wmlib.book.widgets import DreamPlayer, describe_done_rule, dream_agent_for, dream_env_for

# One thread for small tensors (on a busy machine, two threads synchronising per small op can be 40x
# slower): the ci profile, and everything with TRAIN off (one dream, a few dozen at once); both cores
# for the big batches of dreams that train C at the laptop profile.
torch.set_num_threads(1 if PROFILE == "ci" or not TRAIN else min(2, os.cpu_count() or 1))
cfg = get_config("doom", PROFILE)
CAP = cfg.dream.max_steps
print("profile:", PROFILE, "| TRAIN:", TRAIN, "| dream:", cfg.dream)

# %% [markdown]
# ## Play first
#
# Before building anything, step into a dream yourself. If you have trained V,
# M and a C at this profile, these are yours (after `python -m wmlib reproduce
# doom`: the last round of iterative training, whose M has also read the games
# of its C); otherwise they are the models that ship with the book (trained at
# the laptop profile, `wmlib/pretrained/doom/`). Press left / stay / right, or
# use the arrow keys with the pointer over the picture: M imagines the next
# frame and V draws it. **Play** lets the C fly it (the autopilot, trained
# only in dreams like this one); press a direction to take over, or the space
# bar to switch the autopilot off. How the dream decides that you died, at
# this profile:

# %%
agent = dream_agent_for(cfg)
print("playing in the dream of", agent["source"])
print(agent["note"])
md(f"**How a dream ends** (`cfg.dream.done_rule = \"{cfg.dream.done_rule}\"` at the {PROFILE} profile): "
   f"{describe_done_rule(cfg.dream.done_rule, cfg.dream.done_threshold)}. The dream also ends at the cap, "
   f"{CAP} steps.")
DreamPlayer(dream_env_for(agent, cfg, tau=TAU), controller=agent["controller"])

# %% [markdown]
# ## V, M and the codes dreams start from
#
# The dream needs three things: M, V (only to *look* at the dream, and for
# the real game), and the codes of real frames where dreams start. In the
# paper every dream starts at a real first frame, and so do the dreams you
# write below. With `TRAIN` on, each call is a no-op when its result is on
# disk (notebooks 00 to 02, or the command line) and builds it otherwise; with
# `TRAIN` off the chapter uses your V and M when they are on disk, else the
# shipped ones. (The library's laptop profile, `dream.start_from="anywhere"`,
# also starts dreams part-way through the recorded games, with M's memory of
# the real steps before: a C that runs for a wall then meets walls that
# random play reached; notebook 07 tells why.)

# %%
from wmlib.book.pretrained import world_model_for

if TRAIN:
    chapter.build_world_model(cfg)  # collect, train V, encode, train M: what is missing
wm = world_model_for(cfg)
vae, m = wm["vae"], wm["mdnrnn"]
series = SimpleNamespace(first_mu=wm["first_mu"], first_logvar=wm["first_logvar"])  # the real first frames' codes
mine = not wm["source"].startswith("the shipped")
POS_WEIGHT = (cfg if mine else get_config("doom", recorded.SHIPPED_PROFILE)).mdnrnn.done_pos_weight  # M's own
print(f"{wm['source']}: V: z = {vae.z_size}; M: LSTM {m.hidden}, done head {m.has_done}; "
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
#   probability decides. The loop you write below keeps it simple and ends the
#   dream when that probability passes 0.5 (the original code's rule); the
#   library's dreams follow `cfg.dream.done_rule`, the rule described under
#   the first player for your profile.
#
# The reward is the same in both: +1 per step survived.
#
# Write the loop, and the dream's answer. The loop gets a controller (its
# `act(z, h, c)` takes the code [1, z] and M's memory, each [1, hidden]), the
# first code `z` [1, z] and the world as a function
# `world_step(a, mix, done_logit) -> (next code [1, z], dead)`. M's memory
# starts empty (`m.initial_state(1)` gives `(h, c)`, each [1, 1, hidden]) and
# `m.step(z, a, (h, c), restart)` advances it, with `restart` a tensor `[1.]`
# on the first step and `[0.]` after.

# %% nbgrader={"grade": false, "grade_id": "04-dream-loop", "locked": false, "schema_version": 3, "solution": true}
def live(controller, z, world_step, max_steps):
    """The agent's loop: C acts, M remembers, the world answers. -> (steps survived, codes seen [steps, z])."""
    ### BEGIN SOLUTION
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
    ### END SOLUTION


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
        """M is the world: the next code is sampled from its mixture at tau (sample_mixture, with generator=gen),
        and the agent dies when M's death probability passes 0.5."""
        ### BEGIN SOLUTION
        return sample_mixture(*mix, tau=tau, generator=gen), bool(torch.sigmoid(done_logit)[0] > 0.5)  # <- M
        ### END SOLUTION
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

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "04-dream-loop-test", "locked": true, "points": 3, "schema_version": 3, "solution": false} tags=["check"]
with EpisodeRunner(agent_spec("doom", "zh", vae, m, CAP, real_z="mean")) as runner:  # V's mean code, as yours
    lib_real = runner.run(untrained.get_flat()[None], [1])["returns"][0]
assert lib_real == real_steps, (lib_real, real_steps)

paper_dream = cfg.with_overrides(dream={"start_from": "first"},  # your loop starts at a first frame
                                 mdnrnn={"done_pos_weight": POS_WEIGHT})  # and M's training weight on deaths
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
### BEGIN HIDDEN TESTS
import copy

the_m = m
try:  # an M certain of death ends every dream after one step; one that never expects it, only at the cap
    for bias, expected in ((30.0, 1), (-30.0, 25)):
        m = copy.deepcopy(the_m)
        with torch.no_grad():
            m.done.bias.fill_(bias)
        steps_, codes_ = live(untrained, *dream(z0, 1.0, 5), 25)
        assert steps_ == expected and codes_.shape == (expected, the_m.z_size), (bias, steps_, codes_.shape)
finally:
    m = the_m
a1, b1 = live(untrained, *dream(z0, 1.0, 5), 20), live(untrained, *dream(z0, 1.0, 5), 20)
assert np.array_equal(a1[1], b1[1]), "a dream is its seed's: the same seed, the same codes"
assert not np.array_equal(a1[1], live(untrained, *dream(z0, 1.0, 6), 20)[1]), "another seed, another dream"
### END HIDDEN TESTS

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
                         done_rule=cfg.dream.done_rule, done_pos_weight=POS_WEIGHT)
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

# %% nbgrader={"grade": false, "grade_id": "04-dream-trainer", "locked": false, "schema_version": 3, "solution": true}
from wmlib.agent.evolution import generation_seed, new_strategy, numpy_global_seed


def my_dream_trainer(generations, population, rollouts, sigma0=0.1, weight_decay=0.01, seed=0):
    """CMA-ES in the dream -> (the final mean of C's weights, mean steps survived per generation).

    Generation g: ask for candidates inside ``numpy_global_seed(generation_seed(seed, g, 0))``; dream
    ``rollouts`` episodes each with ``dream_rollouts`` (as above, ``max_steps=short``, seeded with
    ``generation_seed(seed, g, 1)``); fitness = mean steps - weight_decay * mean squared weight; tell inside
    ``numpy_global_seed(generation_seed(seed, g, 2))``; append the mean steps of the whole population."""
    es = new_strategy(n_params, sigma0, population)  # pycma's CMA-ES, starting from C = 0
    curve = []
    ### BEGIN SOLUTION
    for g in range(generations):
        with numpy_global_seed(generation_seed(seed, g, 0)):
            candidates = np.asarray(es.ask())                                     # [P, n_params]
        steps = dream_rollouts(m, "doom", candidates, series.first_mu, series.first_logvar, rollouts, TAU, short,
                               seed=generation_seed(seed, g, 1), done_rule=cfg.dream.done_rule,
                               done_pos_weight=POS_WEIGHT)                     # [P, rollouts] steps survived
        fitness = steps.mean(axis=1) - weight_decay * np.mean(candidates ** 2, axis=1)
        with numpy_global_seed(generation_seed(seed, g, 2)):
            es.tell(list(candidates), list(-fitness))                             # pycma minimises
        curve.append(steps.mean())
    ### END SOLUTION
    return es.mean, curve


my_c, my_curve = my_dream_trainer(generations=3, population=8, rollouts=2)
print("mean steps survived per generation:", np.round(my_curve, 1))

# %% [markdown]
# The library's `evolve` is this loop plus a checkpoint every generation,
# periodic evaluations of the mean and the bookkeeping of the best. Given the
# same fitness, it finds the same C:

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "04-dream-trainer-test", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["check"]
import tempfile

from wmlib.agent.evolution import evolve
from wmlib.config import EvolutionConfig

mine = EvolutionConfig(population=8, rollouts=2, generations=3, sigma0=0.1, weight_decay=0.01, seed=0)
with tempfile.TemporaryDirectory() as run_dir:
    lib = evolve(mine, n_params, lambda sols, g, s: dream_rollouts(
        m, "doom", sols, series.first_mu, series.first_logvar, 2, TAU, short, seed=s,
        done_rule=cfg.dream.done_rule, done_pos_weight=POS_WEIGHT), run_dir, progress=False)
assert np.allclose(lib.mean_params, my_c), "your trainer and the library's evolve disagree"
assert np.allclose([h["mean"] for h in lib.history], my_curve)

# %% [markdown]
# ## Training C in the dream
#
# `train_in_dream` runs CMA-ES (the same `evolve` loop as in the real world)
# with dreams as the only source of fitness: each generation, every candidate
# lives `rollouts` dreams at temperature $\tau$, starting from the codes of
# real frames; its fitness is the mean number of steps survived (minus a
# small weight penalty). Every few generations the distribution's mean is
# scored on more dreams; the best of those means is the controller we deploy.
# The run is checkpointed every generation (it resumes after a kill, and is
# a no-op once done). With `TRAIN` off the cell shows the learning curve that
# was recorded: yours when on disk, else the shipped run's.

# %%
from wmlib.agent.evolution import HISTORY

ecfg = dream_evolution_config(cfg).evolution
print(f"population {ecfg.population} x {ecfg.rollouts} dreams, {ecfg.generations} generations, cap {CAP}")
result = None
if TRAIN:
    stage = f"train C in the dream (tau {TAU:g})"
    if not (paths.dream_dir(cfg, TAU) / "evolution.pt").exists():
        chapter.announce(cfg, stage)
    result = train_in_dream(cfg, TAU)
    hist, whose = result.history, "your run"
else:
    rec = recorded.result(cfg, paths.dream_dir(cfg, TAU) / HISTORY)
    hist, whose = (rec.data, rec.label()) if rec else (None, "not recorded yet")
if hist:
    gens = [h["generation"] + 1 for h in hist]
    plt.figure(figsize=(7, 3))
    plt.plot(gens, [h["mean"] for h in hist], label="population mean")
    plt.plot(gens, [h["max"] for h in hist], label="best candidate")
    ev = [h for h in hist if "eval_mean" in h]
    plt.plot([e["generation"] + 1 for e in ev], [e["eval_mean"] for e in ev], "o", label="the mean, scored")
    plt.axhline(CAP, color="black", ls="-.", lw=0.8, label="cap")
    plt.title(f"C evolved in the dream at tau {TAU:g}: {whose}", fontsize=10)
    plt.xlabel("generation"); plt.ylabel("steps survived in the dream"); plt.legend(fontsize=8); plt.show()
else:
    print("no learning curve recorded yet: run with TRAIN on, or `python -m wmlib reproduce doom`")

# %% tags=["check"]
if TRAIN:
    assert len(hist) == result.generations == ecfg.generations
if hist:
    assert [h["generation"] for h in hist] == list(range(len(hist)))
    assert all(0 < h["mean"] <= h["max"] for h in hist)

# %% [markdown]
# ## Back to reality
#
# Now the controller meets the real game: V encodes the real frames, M keeps
# its memory from the real codes, C acts, as in the loop above. With `TRAIN`
# on, `evaluate_in_reality` scores the C you just trained on `real_episodes`
# real games and, for comparison, on `dream_episodes` fresh dreams (both are
# saved, and reused while nothing changed). With `TRAIN` off, the C that flies
# the dream player plays a few real games here, live, and the scores come from
# the recorded runs.

# %%
score = None
if TRAIN:
    if not paths.dream_score(cfg, TAU, "deployed").exists():
        chapter.announce(cfg, "score C in the real game")
    score = evaluate_in_reality(cfg, TAU)
    whose = "your run"
else:
    rec = recorded.result(cfg, paths.dream_score(cfg, TAU, "deployed"))
    score, whose = (rec.data, rec.label()) if rec else (None, "not recorded yet")
if score:
    print(f"C trained in the dream at tau {TAU} in one pass (round 0; {whose}), cap {CAP}: "
          f"dream {fmt(score['dream'], 0)}; real {fmt(score['real'], 0)}")
if paper_row(TAU):
    (pd, ps), (rd, rs) = paper_row(TAU)
    print(f"paper at tau {TAU}: dream {pd} ± {ps}, real {rd} ± {rs} (random policy {paper.DOOM_RANDOM_POLICY[0]})")

# %% tags=["check"]
if TRAIN:
    assert score["real"]["episodes"] == cfg.dream.real_episodes and score["dream"]["episodes"] == cfg.dream.dream_episodes
if score:
    assert all(1 <= r <= get_config("doom", score.get("profile", PROFILE)).dream.max_steps
               for r in score["real"]["returns"] + score["dream"]["returns"])

# %% [markdown]
# The C of the dream player, live in the real game: the first game is
# recorded (drag the slider, or press **Play**), the others are only counted.

# %%
from wmlib.book.widgets import SideBySide, record_drive
from wmlib.training.controller import TEST_SEED
from wmlib.agent.rollout import episode_seed

LIVE = {"ci": 2, "laptop": 3, "paper": 3}[PROFILE]
live_spec = agent_spec("doom", "zh", agent["vae"], agent["mdnrnn"], CAP, real_z=agent["real_z"])
seeds = [episode_seed(TEST_SEED, 0, i) for i in range(LIVE)]  # the first of the test games
t0 = time.perf_counter()
game = record_drive(live_spec, agent["controller"], seeds[0], more_seeds=seeds[1:])
live_seconds = time.perf_counter() - t0
lengths = game["games"]["lengths"]
print(f"{agent['source']}: {LIVE} real games, live: {lengths} steps (cap {CAP}); "
      f"played in {live_seconds:.0f} s")
SideBySide({f"round {agent['round']}'s C" if agent["round"] else "C": game}, interval=30, scale=2)

# %%
from wmlib.artifacts import read_json
from wmlib.book.pretrained import shipped_card

if agent["source"].startswith("the shipped"):
    real, whose_real = shipped_card("doom")["scores"].get("real"), "the shipped models' card"
else:  # your own round's score file (never the shipped run's: it scored another C)
    path = paths.round_score(cfg, agent["round"]) if agent["round"] else paths.dream_score(cfg, cfg.dream.tau,
                                                                                          "deployed")
    real, whose_real = (read_json(path)["real"], "your run") if path.exists() else (None, "")
(_, _), (rd, rs) = paper_row(TAU)
md(f"The C that flies the dream player, {agent['source']}, survives "
   + (f"{fmt(real)} in the real game ({whose_real})" if real else "an unrecorded number of steps")
   + f"; live here, {np.mean(lengths):.0f} steps on average over {LIVE} games. The paper's C: {rd} ± {rs} "
   f"at tau {TAU:g}; a random policy: {paper.DOOM_RANDOM_POLICY[0]}.")

# %% jupyter={"source_hidden": true} tags=["check"]
assert len(lengths) == LIVE and all(1 <= n <= CAP for n in lengths) and lengths[0] == game["length"]
assert game["frames"].shape[0] == game["length"] + 1

# %% [markdown]
# ### What your number means
#
# Three numbers matter: the paper's (1092 $\pm$ 556 at $\tau = 1.15$, with M
# trained on 10,000 random episodes for 400 epochs), a random policy's (about
# 210), and yours. At the ci profile V and M have seen a few hundred frames:
# no claim. At the laptop profile M has seen far fewer games for far fewer
# epochs than the paper's, and a C trained in a single pass lands well above
# random and below the paper; the cell below prints what the recorded run
# measured. If the dream score is far above the real one, **your agent
# cheated its dream**: it found something M gets wrong (a place or an action
# M believes is safe) and exploited it. Notebook 05 shows such a cheat,
# notebook 06 fixes it the paper's way, by letting C's own real games correct
# M, and notebook 07 tells how the project found where the laptop-scale dream
# lies.

# %%
budget = (f"M from {cfg.collect.episodes} random games, {cfg.mdnrnn.epochs} epochs; "
          f"C from {ecfg.generations} generations of {ecfg.population} x {ecfg.rollouts} dreams")
ref = recorded.result(get_config("doom", recorded.SHIPPED_PROFILE), paths.dream_score(
    get_config("doom", recorded.SHIPPED_PROFILE), TAU, "deployed"))
expected = {"ci": "no claim (V and M have seen a few hundred frames)",
            "laptop": (f"{ref.label()}: real {fmt(ref.data['real'], 0)}, dream {fmt(ref.data['dream'], 0)}"
                       if ref else "no recorded laptop run in this copy of wmlib yet"),
            "paper": "the paper's {} ± {}".format(*paper_row(TAU)[1])}[PROFILE]
print(f"{PROFILE} profile: {budget}")
if score:
    real_mean, dream_mean = score["real"]["mean"], score["dream"]["mean"]
    print(f"{whose}: real {real_mean:.0f}, dream {dream_mean:.0f} | random policy {paper.DOOM_RANDOM_POLICY[0]}")
    if dream_mean > 2 * real_mean and PROFILE != "ci":
        print("the dream flatters this C: it exploits M's mistakes (notebook 05 shows how, 06 how to fix it)")
print(f"expected at {PROFILE}: {expected}")

# %% [markdown]
# ## Play in the dream
#
# Your turn to be C, or to watch one. Each click (or arrow key, with the
# pointer over the picture) is one action (left, stay, right); M imagines the
# next moment, V draws it, and the bar shows what the done rule acts on, as
# the note beside the picture says. **Play** hands the wheel to the autopilot:
# with `TRAIN` on, the C you just trained; otherwise the C of the first player
# (yours when on disk, else the shipped one). Press a direction to take over
# for a few steps, or the space bar to switch the autopilot off and on. The
# $\tau$ slider changes the dream's temperature as you go. When the dream
# ends, a click or a tick starts a new one. At the ci profile V and M are
# barely trained, so the picture is mostly blur; at the laptop profile you
# will see the room, the monsters and their fireballs.

# %%
if TRAIN:
    player = DreamPlayer(Dreamer(cfg, TAU, mdnrnn=m, series=encode_dataset(cfg)).env(vae=vae),
                         controller=result.deployed_params)
else:
    player = DreamPlayer(dream_env_for(agent, cfg, tau=TAU), controller=agent["controller"], seed=1)
player

# %% jupyter={"source_hidden": true} tags=["check"]
before, steps = bytes(player.image.value), player.steps
player.step("stay")
assert bytes(player.image.value) != before and (player.steps == steps + 1 or player.steps == 0)
assert 0.0 <= player.death.value <= 1.0
steps = player.steps
assert player.on_key({"type": "keydown", "key": "ArrowLeft"}) == "left"   # the keys drive it too
assert player.steps in (steps + 1, 0) and (player.steps == 0 or player.last_action[0] == -1.0)

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
# * **Yours**: the real and dream scores printed above, at your profile (with
#   `TRAIN` off, the recorded run's, and a few real games played live). A
#   dream score far above the real one means C exploits M's mistakes: the
#   paper's own remedy, iterative training, is notebook 06.
# * What you train anywhere is found: after `python -m wmlib reproduce doom`
#   the dream player's autopilot is your last round's C, in that round's M.

# %% [markdown]
# ## Exercises
#
# Each exercise has an estimated time at the `laptop` profile, on the shipped
# models: an estimate, in the table below. A "lab" exercise fits a lab
# session; a "project" retrains part of the pipeline, and the table adds the
# time that stage took in the shipped run's record.

# %%
from wmlib.book.course import exercise_table

md(exercise_table("04_dream"))

# %% [markdown]
# **1.** Your profile ends dreams by `cfg.dream.done_rule`. Train with the other
# rule (`"threshold"`: die when M's weighted death probability passes 0.5, as
# the original code did; `"sample"`: a draw from M's un-weighted probability)
# via `cfg.with_overrides(dream={"done_rule": ...})` in a fresh `WM_ARTIFACTS`.
# Is the dream harder or easier? Does the real score change?
# <details><summary>Hint</summary>
# With the threshold, a state M thinks is 5% deadly per step is perfectly
# safe. <code>done_rule_lengths</code> (below) scores the same controllers on the
# same dreams under each rule.</details>

# %% nbgrader={"grade": false, "grade_id": "04-ex1-code", "locked": false, "schema_version": 3, "solution": true}
# Exercise 1: the same controllers and dreams under each done rule.
import time
import numpy as np


def done_rule_lengths(m, params, first_mu, first_logvar, rollouts: int = 8, tau: float = 1.15,
                      max_steps: int = 100, seed: int = 0, done_pos_weight: float = 1.0,
                      rules=("threshold", "sample", "never")) -> dict:
    """Mean steps survived by each controller (rows of ``params``) under each done rule -> {rule: [P]}.

    The same episode keys for every rule: the dreams differ only in how M's death head ends them.
    ``done_pos_weight`` is the weight M's done head was trained with (``cfg.mdnrnn.done_pos_weight``).
    """
    ### BEGIN SOLUTION
    from wmlib.agent.dream import dream_rollouts, world_of

    world = world_of(m)
    return {rule: dream_rollouts(m, world, params, first_mu, first_logvar, rollouts, tau, max_steps, seed=seed,
                                 done_rule=rule, done_pos_weight=done_pos_weight).mean(axis=1)
            for rule in rules}
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "04-ex1-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** `done_rule_lengths(m, population, series.first_mu, series.first_logvar,
# done_pos_weight=cfg.mdnrnn.done_pos_weight)` shows it before any training:
# under the threshold rule a dream ends only where M's weighted probability
# passes 0.5, so states M rates moderately deadly are perfectly safe and
# dreams last longer; under "sample" every step risks death with M's
# un-weighted probability, like the game's own dice, and dreams are shorter
# and more varied. An easier dream gives evolution more room for an exploit,
# so the threshold rule's C tends to score higher in its dream and lower, or
# no better, in the real game; the two runs' real scores settle it.
# <!-- END SOLUTION -->

# %% [markdown]
# **2.** Play in the dream at $\tau = 0.1$ and at $\tau = 1.3$
# (`Dreamer(cfg, tau).env(vae=vae)`). In which can you stand still and live?
# <details><summary>Hint</summary>
# Press "stay" every step; <code>stand_still</code> (below) does it for you on the
# same first frames at each temperature.</details>

# %% nbgrader={"grade": false, "grade_id": "04-ex2-code", "locked": false, "schema_version": 3, "solution": true}
# Exercise 2: steps survived by always pressing "stay", per temperature.
import time
import numpy as np


def stand_still(m, first_mu, first_logvar, taus=(0.1, 1.3), episodes: int = 8, max_steps: int = 100,
                done_rule: str = "threshold", done_pos_weight: float = 1.0, seed: int = 0) -> dict:
    """Steps survived in ``DreamEnv`` by a player who always presses "stay" (action 0) -> {tau: [episodes]}.

    Episode e has key ``episode_keys(seed, 1, episodes)[0, e]`` at every temperature, so the temperatures
    see the same first frames and differ only in how M samples the future (and a C with zero weights,
    which acts tanh(0) = 0, scores the same in ``dream_rollouts``).
    """
    ### BEGIN SOLUTION
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
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "04-ex2-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** At $\tau = 0.1$ standing still often lives to the cap: the dream follows
# M's most likely future, in which no fireball is launched at you, so doing
# nothing is safe. At $\tau = 1.3$ rare futures are sampled often, fireballs
# come, and standing still dies. A controller evolved in the cold dream
# learns exactly that doing nothing works, the exploit notebook 05 takes
# apart.
# <!-- END SOLUTION -->

# %% [markdown]
# **3.** Score the *final* mean (`evaluate_in_reality(cfg, TAU, which="mean")`)
# and the best single candidate (`which="best"`). Which transfers best, and why
# might the best candidate in the dream be a poor choice?
# <details><summary>Hint</summary>
# The best candidate won on a few dreams, against a whole population.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "04-ex3-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** The means (final, or best-evaluated) usually transfer better than the best
# single candidate. That candidate won its generation on a few dreams, so it
# is partly the luckiest draw (the winner's curse of notebook 03), and partly
# the one that found the most of M's errors in its favour: both are
# properties of the dream, not of the game. A mean averages over the
# population's candidates and carries less of either; notebook 06's
# validation games choose among them with a few real games.
# <!-- END SOLUTION -->

# %% [markdown]
# **4.** Time `dream_rollouts` against one `DreamEnv` at a time for growing
# populations (`benchmarks/dream.py`). Where does batching stop paying on
# your machine, and why?
# <details><summary>Hint</summary>
# <code>batching_speedup(m, series.first_mu, series.first_logvar, populations=(1, 4, 16, 64))</code>
# (below) times both paths and checks that they gave every dream the same length.</details>

# %% nbgrader={"grade": false, "grade_id": "04-ex4-code", "locked": false, "schema_version": 3, "solution": true}
# Exercise 4: batched dreams against one dream at a time.
import time
import numpy as np


def batching_speedup(m, first_mu, first_logvar, populations=(1, 4, 16), rollouts: int = 2, tau: float = 1.15,
                     max_steps: int = 50, seed: int = 0, scale: float = 0.1) -> list[dict]:
    """Time ``dream_rollouts`` against ``play_dream`` on one ``DreamEnv`` for growing populations.

    The done rule is "never", so every dream runs to ``max_steps`` and both paths count the same
    agent-steps. -> one row per population: dict(population, batched_s, single_s, speedup, same),
    where ``same`` says that the two paths gave every episode the same length.
    """
    ### BEGIN SOLUTION
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
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "04-ex4-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** One dream at a time pays Python's and PyTorch's per-call overhead at every
# step; a batch pays it once for all its dreams. So the speed-up grows with
# the population while overhead dominates, then flattens once the tensor
# work itself fills the cores (on 2 cores, from a few dozen dreams on), and
# finished dreams leaving the batch make the last steps cheaper still. Beyond
# that point only more cores or a GPU help. `same` in every row shows that
# speed did not change a single dream.
# <!-- END SOLUTION -->

# %% [markdown]
# **5.** The controller never saw a real frame while learning. Which parts of the
# agent did see real frames, and when?
# <details><summary>Hint</summary>
# Follow the data: random play, V, the codes, M, the dream.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "04-ex5-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** V saw real frames when it was trained, on random play (notebook 01). M
# never saw a frame: it learned from V's codes of those frames (notebook 02),
# and in iterative training from V's codes of C's own real games (notebook
# 06). C learned in M's dream only: its fitness never touched the game. Real
# frames come back at test time, when C plays the game through V (the frame
# to a code) and M (the memory).
# <!-- END SOLUTION -->

# %% [markdown]
# ## References
#
# * D. Ha and J. Schmidhuber, *World Models* (2018), sections "VizDoom Experiment:
#   Learning Inside of a Dream" (training inside the dream, and transferring the
#   policy to the actual environment) and "Cheating the World Model".
# * J. Schmidhuber, *On Learning to Think: Algorithmic Information Theory for Novel
#   Combinations of Reinforcement Learning Controllers and Recurrent Neural World
#   Models* (2015): a controller that learns inside an RNN world model.
# * N. Hansen, *The CMA Evolution Strategy: A Tutorial* (2016).
