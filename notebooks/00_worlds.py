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
# # 00 · The worlds
#
# ## Why build an agent in three parts?
#
# Reinforcement learning has a bookkeeping problem. The only teaching signal
# is the reward, and it is thin: one number per step, often zero, and often
# earned long after the decision that deserved it (a fireball dodged now is
# rewarded by the hundreds of steps survived afterwards). Deciding which of
# millions of weights, at which of hundreds of steps, earned that number is
# the *credit assignment* problem, and it is why policies trained on reward
# alone are usually kept small.
#
# *World Models* (Ha & Schmidhuber, 2018) sidesteps it by splitting the agent.
# Most of the weights go into a **world model** that never sees the reward:
# it learns to predict, which gives it a dense target at every step and every
# pixel, and plain backpropagation trains it. Only a **tiny controller** sees
# the reward, and it is small enough to be searched by an evolution strategy
# that needs no gradients at all.
#
# * **V** (vision) squeezes each 64x64 frame into a short code $z$;
# * **M** (memory) learns how those codes move through time, and carries a
#   summary of the past in its LSTM state $h$;
# * **C** (controller) maps $[z, h]$ to an action with a single linear layer.
#
# For CarRacing that is about 4.8 million weights in V and M against 867 in
# C. A baseball batter works the same way: the ball is too fast to track and
# react to, so the swing is aimed at where the batter's own model says the
# ball *will* be. C, too, acts on what M expects, not only on what V sees.

# %% tags=["parameters"]
import os

PROFILE = os.environ.get("WM_PROFILE", "laptop")
TRAIN = os.environ.get("WM_TRAIN", "0") == "1"   # off: a few live episodes, and the shipped run's recorded results

# %%
from wmlib import paper
from wmlib.book.plots import agent_loop_figure

counts = paper.PARAMS["carracing"]
agent_loop_figure(params=dict(V=counts["vae"], M=counts["mdnrnn"], C=counts["controller"]))

# %% [markdown]
# The arrows are the agent's loop, once per step: the world shows a frame, V
# encodes it, C reads $z$ and M's memory $h$ and acts, the world moves on, and
# M folds $z$ and the action into its memory. (Notebook 03 animates this loop
# with a trained agent, in the real world and in M's dream.) The book builds
# the parts in this order: V in notebook 01, M in 02, C in 03, then training
# C inside M's dream in 04 and 05.
#
# Before building any of them we need the worlds the agent lives in, and a
# pile of experience gathered by acting at random.
#
# This notebook:
#
# 1. opens the two worlds the paper used, CarRacing and ViZDoom's Take Cover;
# 2. shows what the agent sees, before and after preprocessing;
# 3. measures how well a random policy does (the paper's baseline);
# 4. records random-play episodes to disk for V and M to learn from.
#
# Every size in this book comes from one **profile**: `ci` (seconds, for
# tests), `laptop` (the default: minutes on 2 CPU cores) or `paper` (the
# paper's sizes, for a GPU and many cores). Set `WM_PROFILE` before starting
# Jupyter to change it.
#
# **Run time**: with `TRAIN` off (the default) this chapter plays a handful
# of episodes live and reads the long measurements (the random baselines over
# the profile's episodes) from the run behind the shipped models: a minute or
# two on 2 cores. With `TRAIN` on (`WM_TRAIN=1` before starting Jupyter) it
# measures both baselines itself and records the profile's whole dataset; each
# long step prints what it is about to do and how long it took when measured.
# Code cells marked *check* are folded: they assert what the text claims.

# %%
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # CarRacing draws with pygame; no window needed
import matplotlib.pyplot as plt
import numpy as np

from wmlib import paper, paths
from wmlib.artifacts import write_json
from wmlib.book import recorded
from wmlib.book.chapter import announce, fmt, md
from wmlib.worlds.baseline import random_baseline
from wmlib.config import get_config
from wmlib.worlds.data import collect, summarize
from wmlib.worlds.envs import make_env

doom_cfg, car_cfg = get_config("doom", PROFILE), get_config("carracing", PROFILE)
LIVE = 4  # TRAIN off: episodes played live, for the look of a baseline and a first dataset
print("profile:", PROFILE, "| TRAIN:", TRAIN)

# %% [markdown]
# ## CarRacing: a top-down track
#
# Gymnasium's `CarRacing-v3` draws a 96x96 picture. Its bottom 12 rows are a
# dashboard (speed, ABS, steering). The paper cropped them away and shrank the
# rest to 64x64: the agent must judge speed from how the road moves, not from
# a gauge. The first ~50 frames are the camera zooming in.

# %%
with make_env("carracing") as car:  # the with-block closes the world, even after an error
    obs, _ = car.reset(seed=1)
    for _ in range(60):  # past the opening zoom
        obs, *_ = car.step(np.array([0.0, 0.3, 0.0]))
    raw = car_raw = car.last_raw_frame  # car_raw: kept for the build-it-yourself cell below
    action_space = car.action_space

fig, axes = plt.subplots(1, 2, figsize=(7, 3.5))
axes[0].imshow(raw); axes[0].set_title(f"raw {raw.shape[1]}x{raw.shape[0]}")
axes[0].axhline(83.5, color="red", lw=1)
axes[1].imshow(obs); axes[1].set_title("what the agent sees: 64x64")
for ax in axes: ax.axis("off")
plt.show()

# %%
assert raw.shape == (96, 96, 3) and obs.shape == (64, 64, 3) and obs.dtype == np.uint8
print("action space:", action_space)  # steer in [-1, 1], gas and brake in [0, 1]

# %% [markdown]
# ## Doom Take Cover: dodge the fireballs
#
# Monsters across a room throw fireballs; the agent can only step left or
# right. The reward is +1 for each tic survived, so the return *is* the
# survival time. Episodes are capped at 2,100 steps, one tic per step. The
# paper's agent outputs one number in $[-1, 1]$ and its wrapper turned it into
# a button: left below $-1/3$, right above $+1/3$, stand still between.

# %%
with make_env("doom") as doom:  # the game engine is a process of its own: close it when done
    obs, _ = doom.reset(seed=3)
    for _ in range(40):
        obs, *_ = doom.step(np.array([0.0]))
    raw = doom_raw = doom.last_raw_frame
fig, axes = plt.subplots(1, 2, figsize=(7, 3.5))
axes[0].imshow(raw); axes[0].set_title(f"rendered {raw.shape[1]}x{raw.shape[0]}")
axes[1].imshow(obs); axes[1].set_title("what the agent sees: 64x64")
for ax in axes: ax.axis("off")
plt.show()

# %%
from wmlib.worlds.envs import doom_action_to_buttons

for a in (-0.9, -0.2, 0.0, 0.2, 0.9):
    print(f"action {a:+.1f} -> [left, right] = {doom_action_to_buttons(a)}")
assert doom_action_to_buttons(-0.5) == [1, 0] and doom_action_to_buttons(0.5) == [0, 1]
assert doom_action_to_buttons(0.3) == [0, 0]

# %% [markdown]
# ## Build it yourself: the agent's view, and play at random
#
# Two small pieces of the worlds, written by you and checked against
# `wmlib`'s (the rest of the book uses the library's versions).
#
# **The agent's view.** Turn a rendered frame into the 64x64 picture the
# agent sees: for CarRacing drop the dashboard (the bottom 12 of its 96 rows)
# and shrink the rest; for Doom shrink the whole 160x120 frame. A bilinear
# resize, as PIL's `Image.resize(..., Image.BILINEAR)` does, is what `wmlib`
# uses; the check accepts any resize within a colour level of it on average.

# %% nbgrader={"grade": false, "grade_id": "00-preprocess", "locked": false, "schema_version": 3, "solution": true}
from PIL import Image


def my_preprocess(frame, world):
    """A rendered frame (H x W x 3, uint8) -> what the agent sees: 64 x 64 x 3, uint8.

    CarRacing (96 x 96): drop the dashboard rows, then shrink. Doom (120 x 160): shrink the whole frame.
    """
    ### BEGIN SOLUTION
    if world == "carracing":
        frame = frame[:84]  # rows 84-95 are the dashboard
    return np.asarray(Image.fromarray(frame).resize((64, 64), Image.BILINEAR), dtype=np.uint8)
    ### END SOLUTION


mine = {"carracing": my_preprocess(car_raw, "carracing"), "doom": my_preprocess(doom_raw, "doom")}
fig, axes = plt.subplots(1, 2, figsize=(6, 3))
for ax, (world, frame) in zip(axes, mine.items()):
    ax.imshow(frame); ax.set_title(f"{world}: your preprocessing", fontsize=9); ax.axis("off")
plt.show()

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "00-preprocess-test", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["check"]
# Your frames against the library's (wmlib.worlds.envs: preprocess_car for the car, resize_frame for Doom).
from wmlib.worlds.envs import preprocess_car, resize_frame

library = {"carracing": preprocess_car(car_raw), "doom": resize_frame(doom_raw)}
for world, frame in mine.items():
    assert frame.shape == (64, 64, 3) and frame.dtype == np.uint8, (world, frame.shape, frame.dtype)
    gap = np.abs(frame.astype(np.float64) - library[world]).mean()
    assert gap < 1.0, f"{world}: your frame differs from the library's by {gap:.1f} colour levels on average"
### BEGIN HIDDEN TESTS
probe = np.full((96, 96, 3), 100, np.uint8)
probe[84:] = (255, 0, 0)                              # a red dashboard: none of it may reach the agent
assert np.abs(my_preprocess(probe, "carracing").astype(int) - 100).max() <= 1, "the dashboard rows must be cut"
ramp = np.repeat(np.linspace(0, 255, 96)[:, None, None], 96, 1).repeat(3, 2).astype(np.uint8)
assert np.abs(my_preprocess(ramp, "carracing").astype(float) - preprocess_car(ramp)).mean() < 1.0  # rows in place
doom_probe = np.full((120, 160, 3), 100, np.uint8)
doom_probe[-10:] = (255, 0, 0)                        # Doom keeps its bottom rows: the floor in front of you
assert my_preprocess(doom_probe, "doom")[-1, :, 0].min() > 200, "Doom's frame is shrunk whole, not cropped"
### END HIDDEN TESTS

# %% [markdown]
# **Random play with held actions.** To record experience for V and M, the
# paper's Doom agent did not pick a fresh random action every step: it drew
# a uniform action in $[-1, 1]$ and *held* it for a random 1 to `hold_max`
# steps, then drew again (the section "Recording random play" below says
# why). Write that policy as a class whose instances are called once per
# step. Draw every random number from `self.rng` (a numpy `Generator`).

# %% nbgrader={"grade": false, "grade_id": "00-hold-policy", "locked": false, "schema_version": 3, "solution": true}
class MyHoldPolicy:
    """Doom's data-collection policy: a uniform action in [-1, 1], held for a random 1..hold_max steps.

    ``policy(obs)`` is called once per step (the frame is not used) and returns the action, a float32
    array of shape (1,).
    """

    def __init__(self, rng, hold_max=10):
        self.rng, self.hold_max = rng, hold_max
        ### BEGIN SOLUTION
        self.action, self.steps_left = np.zeros(1, np.float32), 0
        ### END SOLUTION

    def __call__(self, obs=None):
        ### BEGIN SOLUTION
        if self.steps_left == 0:
            self.action = self.rng.uniform(-1.0, 1.0, size=1).astype(np.float32)
            self.steps_left = int(self.rng.integers(1, self.hold_max + 1))
        self.steps_left -= 1
        return self.action.copy()
        ### END SOLUTION

# %% [markdown]
# Yours beside `wmlib`'s (`wmlib.worlds.policies.DoomRandomPolicy`), at your
# profile's `hold_max`: the actions over time, and how long each was held.

# %%
from wmlib.worlds.policies import DoomRandomPolicy


def holds(actions):
    """How many steps each action was held (the last hold, maybe cut short, left out)."""
    changes = np.flatnonzero(np.diff(np.asarray(actions)[:, 0]) != 0) + 1
    return np.diff(np.concatenate([[0], changes]))


def play(policy, steps):
    return np.stack([policy() for _ in range(steps)])


HOLD = doom_cfg.collect.hold_max
yours, theirs = (play(P(np.random.default_rng(0), HOLD), 3000) for P in (MyHoldPolicy, DoomRandomPolicy))
fig, axes = plt.subplots(1, 2, figsize=(10, 2.6))
axes[0].plot(yours[:200, 0], drawstyle="steps-post", label="yours")
axes[0].plot(theirs[:200, 0], drawstyle="steps-post", alpha=0.6, label="wmlib's")
axes[0].set_xlabel("step"); axes[0].set_ylabel("action"); axes[0].legend(fontsize=8)
axes[1].hist([holds(yours), holds(theirs)], bins=np.arange(1, HOLD + 2) - 0.5, label=["yours", "wmlib's"])
axes[1].set_xlabel("steps an action is held"); axes[1].legend(fontsize=8)
plt.show()

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "00-hold-policy-test", "locked": true, "points": 3, "schema_version": 3, "solution": false} tags=["check"]
# Your policy against wmlib's DoomRandomPolicy: the same kind of actions, held as long, as often.
acts = play(MyHoldPolicy(np.random.default_rng(1), 4), 20_000)
assert acts.shape == (20_000, 1) and acts.dtype == np.float32, (acts.shape, acts.dtype)
assert np.abs(acts).max() <= 1, "actions lie in [-1, 1]"
assert 1 <= holds(acts).min() and holds(acts).max() <= 4, "each action is held 1 to hold_max steps"
### BEGIN HIDDEN TESTS
def shares(h, most):
    return np.bincount(h, minlength=most + 1)[1:] / len(h)


lib = holds(play(DoomRandomPolicy(np.random.default_rng(2), 4), 20_000))
assert np.abs(shares(holds(acts), 4) - shares(lib, 4)).max() < 0.03, "holds of 1-4 steps, each as often as wmlib's"
firsts = acts[np.concatenate([[0], np.flatnonzero(np.diff(acts[:, 0]) != 0) + 1]), 0]   # one value per hold
assert np.abs(np.quantile(firsts, [0.1, 0.5, 0.9]) - [-0.8, 0.0, 0.8]).max() < 0.06, "uniform on [-1, 1]"
assert (holds(play(MyHoldPolicy(np.random.default_rng(3), 1), 500)) == 1).all(), "hold_max 1: a new action each step"
### END HIDDEN TESTS

# %% [markdown]
# ## How good is acting at random?
#
# The paper reports that a random policy survives **210 ± 108** steps in Take
# Cover. "Random" there means a fresh uniform action every step. Today's
# ViZDoom matches that number at difficulty (skill) 4; skill 5, which the
# paper's old wrapper used, ends episodes far sooner in today's engine
# (exercise 1 measures it), so this book uses skill 4.
#
# A baseline needs many episodes: the spread from game to game is half the
# mean. With `TRAIN` off the cell plays a few live, to see what random play
# looks like, and the next cell shows the measurement over the profile's
# number of episodes from the run behind the shipped models (or your own, once
# you have run it: `python -m wmlib baseline doom --episodes 100`).

# %%
def recorded_baseline(cfg):
    """The random baseline of ``cfg``'s world: your measurement at the profile's episodes or 100, else the shipped run's."""
    for n in dict.fromkeys((cfg.collect.baseline_episodes, 100)):
        res = recorded.result(cfg, paths.baseline_file(cfg, n))
        if res is not None:
            return res
    return None


def play_baseline(cfg, episodes):
    """Play ``episodes`` random-policy episodes now; with TRAIN on, keep the result as your measurement."""
    if TRAIN:
        announce(cfg, "baseline", f"{cfg.world}'s random baseline over {episodes} episodes")
    cap = cfg.collect.max_steps if cfg.world == "carracing" else None  # Doom: until the game ends (its own cap)
    base = random_baseline(cfg.world, episodes=episodes, workers=cfg.collect.workers, max_steps=cap)
    if TRAIN:  # the same file `python -m wmlib baseline` writes
        score = base["returns"]
        write_json(paths.baseline_file(cfg, episodes), dict(
            world=cfg.world, episodes=episodes, skill=4, mean=float(score.mean()), std=float(score.std()),
            command=f"python -m wmlib baseline {cfg.world} --episodes {episodes}"))
    return base


n = doom_cfg.collect.baseline_episodes if TRAIN else min(LIVE, doom_cfg.collect.baseline_episodes)
doom_base = play_baseline(doom_cfg, n)
steps = doom_base["lengths"]
mean, std = paper.DOOM_RANDOM_POLICY
print(f"Doom random policy, {n} episodes played now: {steps.mean():.1f} +- {steps.std():.1f} steps "
      f"(paper: {mean} +- {std})")

# %%
doom_rec = recorded_baseline(doom_cfg)
md(f"Over **{doom_rec.data['episodes']}** episodes ({doom_rec.label()}), Doom's random policy survives "
   f"**{fmt(doom_rec.data, unit='steps')}**; the paper: {mean} ± {std}. "
   f"Command: `{doom_rec.data.get('command', 'python -m wmlib baseline doom --episodes 100')}`."
   if doom_rec else "No recorded Doom baseline yet (not shipped yet): `python -m wmlib baseline doom --episodes 100` "
   "measures it.");

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.hist(steps, bins=20, color="tab:blue", alpha=0.7, label=f"played now ({n} episodes)")
ax.axvline(steps.mean(), color="tab:blue")
if doom_rec:
    ax.axvline(doom_rec.data["mean"], color="tab:green", ls="--",
               label=f"{doom_rec.label()} ({doom_rec.data['episodes']} episodes)")
ax.axvspan(mean - std, mean + std, color="tab:orange", alpha=0.2, label=f"paper: {mean} ± {std}")
ax.axvline(mean, color="tab:orange")
ax.set_xlabel("steps survived"); ax.set_ylabel("episodes"); ax.legend(fontsize=8)
plt.show()

# %% jupyter={"source_hidden": true} tags=["check"]
# Within the paper's band: the mean lies inside 210 +- 108 (a few episodes are a small sample, but their seeds are
# fixed, so this is the same check every run); so does the recorded measurement over many episodes.
assert abs(steps.mean() - mean) < std, steps.mean()
if doom_rec:
    assert abs(doom_rec.data["mean"] - mean) < std, doom_rec.data

# %% [markdown]
# CarRacing's reward is -0.1 per frame plus 1000/N for each of the N track
# tiles visited; a uniform random policy mostly spins on the spot. (With the
# `ci` profile episodes are cut to a few dozen steps.)

# %%
n = car_cfg.collect.baseline_episodes if TRAIN else min(LIVE // 2, car_cfg.collect.baseline_episodes)
car_base = play_baseline(car_cfg, n)
r = car_base["returns"]
print(f"CarRacing random policy, {n} episodes played now: {r.mean():.1f} +- {r.std():.1f} "
      f"(episodes of {car_base['lengths'].mean():.0f} steps)")
car_rec = recorded_baseline(car_cfg)
md(f"Over **{car_rec.data['episodes']}** episodes ({car_rec.label()}): **{fmt(car_rec.data)}**, where "
   f"{paper.CARRACING_SOLVED} counts as solved." if car_rec else
   "No recorded CarRacing baseline yet (not shipped yet): `python -m wmlib baseline carracing --episodes 100`.")

# %% jupyter={"source_hidden": true} tags=["check"]
# The baseline, re-measured by hand: replay its first episode step by step and add up what the game pays
# (-0.1 a frame, 1000/N for each new tile of N, -100 for leaving the map); the same return, in as many steps.
import inspect

from wmlib.worlds.data import collection_seed
from wmlib.worlds.policies import UniformRandomPolicy

seed = collection_seed(inspect.signature(random_baseline).parameters["seed"].default, 0)  # its first episode
policy, total, steps, over = UniformRandomPolicy("carracing", np.random.default_rng(seed)), 0.0, 0, False
with make_env("carracing", max_steps=car_cfg.collect.max_steps, renderer="fast") as env:
    env.reset(seed=seed)
    while not over:
        _, reward, terminated, truncated, _ = env.step(policy())
        total, steps, over = total + reward, steps + 1, terminated or truncated
assert steps == car_base["lengths"][0] and np.isclose(total, r[0]), (steps, total, car_base)
tiles = (r + 0.1 * car_base["lengths"]) / 1000   # the share of the track each episode visited
assert ((tiles >= -0.1 - 1e-9) & (tiles <= 1 + 1e-9)).all(), tiles
if car_rec:  # far from solved: one standard deviation above the mean is still well below it
    assert car_rec.data["mean"] + car_rec.data["std"] < paper.CARRACING_SOLVED, car_rec.data

# %% [markdown]
# ## Recording random play
#
# V and M learn from experience, so we record episodes of random play. The
# data-collection policies follow the paper:
#
# * **Doom** holds a uniform action for a random number of steps (held actions
#   cover more of the room than per-step noise, so it survives a little longer
#   than the baseline above; the cell below says how long at your profile);
# * **CarRacing** uses a smooth random walk: steering drifts left and right,
#   gas stays mostly on. (The original code used a random-weight controller,
#   which needs V's codes before V exists and tends to repeat one behaviour per
#   episode.) Its frames are drawn by the book's fast renderer
#   (`collect.renderer="fast"`): gymnasium's own polygons and physics, the same
#   pixels within a tenth of a colour level, about five times faster. Every
#   score in the book is still measured on gymnasium's renderer.
#
# `collect` writes whole episodes as shards of plain `.npy` files, in parallel
# worker processes. A killed run resumes where it stopped, and reading
# memory-maps the shards, so training never needs the whole dataset in RAM
# (the original code needed about 125 GB for the car data). The same step is
# `python -m wmlib collect doom --episodes N --workers W` on the command line.
#
# With `TRAIN` off only a few episodes are recorded here, enough to look at
# and for the next chapters' build-it-yourself cells; the models that ship with
# the book were trained on the profile's full dataset. A later full collection
# (`TRAIN` on, or the command line) resumes from them.

# %%
paper_hold = get_config("doom", "paper").collect.hold_max
md(f"At the `{PROFILE}` profile Doom's random play holds each action for **1 to {doom_cfg.collect.hold_max}** "
   f"steps (`cfg.collect.hold_max`; the paper's code held 1 to {paper_hold}), and the profile records "
   f"{doom_cfg.collect.episodes} Doom and {car_cfg.collect.episodes} CarRacing episodes.");

# %%
record = {cfg.world: None if TRAIN else min(LIVE, cfg.collect.episodes) for cfg in (doom_cfg, car_cfg)}
if TRAIN:
    announce(doom_cfg, "collect", f"record {doom_cfg.collect.episodes} Doom episodes of random play")
doom_data = collect(doom_cfg, episodes=record["doom"])
if TRAIN:
    announce(car_cfg, "collect", f"record {car_cfg.collect.episodes} CarRacing episodes of random play")
car_data = collect(car_cfg, episodes=record["carracing"])
print(summarize(doom_data))
print(summarize(car_data))

# %% jupyter={"source_hidden": true} tags=["check"]
assert doom_data.n_episodes >= (record["doom"] or doom_cfg.collect.episodes)
assert car_data.n_episodes >= (record["carracing"] or car_cfg.collect.episodes)
ep = doom_data.episode(0)
assert ep.frames.shape == (len(ep), 64, 64, 3) and ep.frames.dtype == np.uint8
assert ep.actions.shape == (len(ep), 1) and np.abs(ep.actions).max() <= 1

# %%
def filmstrip(frames, n=8, title=""):
    idx = np.linspace(0, len(frames) - 1, n).astype(int)
    fig, axes = plt.subplots(1, n, figsize=(1.6 * n, 1.9))
    for ax, i in zip(axes, idx):
        ax.imshow(frames[i]); ax.set_title(f"t={i}", fontsize=8); ax.axis("off")
    fig.suptitle(title)
    plt.show()


filmstrip(doom_data.episode(0).frames, title="a random Doom episode")
filmstrip(car_data.episode(0).frames, title="a random CarRacing episode")

# %% [markdown]
# ## Summary
#
# **What the paper established** (Ha & Schmidhuber, 2018):
#
# * An agent split into a large world model (V and M, trained by prediction)
#   and a tiny controller (C, trained on reward by evolution) sidesteps much
#   of the credit-assignment problem.
# * Its worlds: CarRacing (frames cropped and shrunk to 64x64, 1,000-step
#   episodes) and Doom Take Cover, where a random policy survives 210 ± 108
#   steps.
#
# **What you measured** (printed by the cell below):
#
# * the two worlds as this book builds them: 64x64x3 frames, Doom at skill 4
#   with one tic per step, a 2,100-step cap and actions thresholded at ±1/3;
# * the random baselines of both worlds: a few episodes played live, and the
#   measurement over many episodes (recorded, or yours with `TRAIN` on);
# * random-play episodes on disk under `artifacts/<world>/<profile>/data`,
#   ready for V (notebook 01).

# %%
print(f"Doom random policy: {doom_base['lengths'].mean():.1f} +- {doom_base['lengths'].std():.1f} steps "
      f"over {len(doom_base['lengths'])} episodes played now (paper: {paper.DOOM_RANDOM_POLICY[0]} +- "
      f"{paper.DOOM_RANDOM_POLICY[1]})  [{PROFILE} profile]")
print(f"CarRacing random policy: {car_base['returns'].mean():.1f} +- {car_base['returns'].std():.1f} "
      f"over {len(car_base['returns'])} episodes played now")
for rec, world in ((doom_rec, "Doom"), (car_rec, "CarRacing")):
    print(f"{world} random policy, {rec.label()}: {fmt(rec.data)}" if rec else f"{world}: no recorded baseline yet")
print(f"recorded: {doom_data.n_episodes} Doom and {car_data.n_episodes} CarRacing episodes")

# %% [markdown]
# ## Exercises
#
# Each exercise has an estimated time at the `laptop` profile, on the shipped
# models: an estimate, in the table below. A "lab" exercise fits a lab
# session; a "project" retrains part of the pipeline, and the table adds the
# time that stage took in the shipped run's record.

# %%
from wmlib.book.course import exercise_table

md(exercise_table("00_worlds"))

# %% [markdown]
# **1.** Re-measure the Doom random baseline at skill 5
# (`wmlib.worlds.envs.DoomTakeCoverEnv(skill=5)`). Why might the paper's number have
# come from a different difficulty than its code suggests?
# <details><summary>Hint</summary>
# Play episodes with a uniform random action per step, as
# <code>random_baseline</code> does, and compare the mean lengths; then look at
# which skill the original wrapper passed to the game.</details>

# %% nbgrader={"grade": false, "grade_id": "00-ex1-code", "locked": false, "schema_version": 3, "solution": true}
# Exercises 1 and 2: write random_survival (a random policy at any skill, holding its actions).
import numpy as np


def random_survival(skill: int = 4, hold=(1, 1), episodes: int = 20, seed: int = 0, max_steps: int = 2100):
    """Steps survived by a random policy that holds a uniform action in [-1, 1] for ``hold`` steps
    (a range, inclusive; (1, 1) is a fresh action every step, as in the paper's baseline) -> int array."""
    ### BEGIN SOLUTION
    from wmlib.worlds.envs import DoomTakeCoverEnv

    rng = np.random.default_rng(seed)
    lengths = []
    with DoomTakeCoverEnv(skill=skill, max_steps=max_steps) as env:
        for e in range(episodes):
            env.reset(seed=seed + e)
            steps, left, action = 0, 0, 0.0
            while True:
                if left == 0:
                    action, left = rng.uniform(-1, 1), int(rng.integers(hold[0], hold[1] + 1))
                _, _, terminated, truncated, _ = env.step(np.array([action], np.float32))
                steps, left = steps + 1, left - 1
                if terminated or truncated:
                    break
            lengths.append(steps)
    return np.array(lengths)
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "00-ex1-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** `random_survival(skill=5)` against `random_survival(skill=4)` (the
# function above, 20 episodes each): at skill 5 today's engine ends
# episodes far sooner than at skill 4, and skill 4 is the one that matches the
# paper's 210 ± 108. So the paper's baseline was most likely measured under
# a setting other than the one its released wrapper passes: an older
# ViZDoom whose difficulty levels behaved differently, or a run made before
# the wrapper's setting changed. A baseline is only comparable when the
# engine version and the difficulty are stated with it, which is why this
# book states skill 4 and measures it.
# <!-- END SOLUTION -->

# %% [markdown]
# **2.** Hold the random Doom action for exactly 1 step instead of your profile's
# range (printed above). How does the survival time change, and what does
# that say about the data V and M will see?
# <details><summary>Hint</summary>
# <code>random_survival(skill=4, hold=(1, 1))</code> from exercise 1 takes
# the hold range as an argument. Longer holds reach the walls.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "00-ex2-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** With a fresh action every step the agent jitters around where it started
# and survives about as long as the paper's random baseline; held actions
# carry it across the room, out of the fireballs' paths and to the walls, and
# it lives longer (compare `random_survival(hold=(1, 1))` with
# `random_survival(hold=(1, hold_max))`). For V and M this is coverage: held
# actions show the room's edges, the corners and long runs of one action,
# which per-step noise never reaches. What M never saw it cannot dream, and a
# controller that later walks to a wall would be walking into M's blind spot.
# <!-- END SOLUTION -->

# %% [markdown]
# **3.** Plot the CarRacing frames of the first 60 steps. What does the zoom-in do
# to the data, and should collection skip those frames?
# <details><summary>Hint</summary>
# Reuse <code>filmstrip</code> on <code>car_data.episode(0).frames[:60]</code>; every
# episode starts with the same zoom, so those frames are over-represented.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "00-ex3-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** The first frames of every episode are the camera zooming in on the car:
# alike across episodes and unlike anything later. They are a fixed slice of
# every episode, so V spends part of its code on a view that never recurs
# while driving, and M learns a zoom dynamic that only matters at the start.
# Skipping (or down-weighting) them would give V's bits to the driving
# frames; the catch is that dreams start from recorded first frames (notebook
# 04), so a collection that skips the zoom must also start dreams after it.
# Keeping them is the simple choice, and the one the paper made.
# <!-- END SOLUTION -->

# %% [markdown]
# **4.** Collect the same Doom data with 1 and with 2 workers and check, shard by
# shard, that the episodes are identical. Which design choice makes that true?
# <details><summary>Hint</summary>
# Each episode's seed depends on its index, not on the worker that plays it.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "00-ex4-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** Episode *i* is played with the game seed `collection_seed(seed, i)` and a
# policy whose random generator is seeded from the same index, so it is the
# same game whichever worker plays it and in whatever order; each shard holds
# a fixed range of indices. Check it with `collect(cfg, workers=1)` and
# `collect(cfg, workers=2)` into two artifacts folders, then
# `np.array_equal(a.episode(i).frames, b.episode(i).frames)` (and the
# actions) for every *i*. The same choice makes a killed collection resume
# without changing a single episode.
# <!-- END SOLUTION -->

# %% [markdown]
# ## References
#
# * D. Ha and J. Schmidhuber, *World Models*, 2018, <https://worldmodels.github.io>
#   (and its interactive article).
# * M. Kempka et al., *ViZDoom: A Doom-based AI Research Platform for Visual
#   Reinforcement Learning*, IEEE CIG 2016.
# * R. S. Sutton and A. G. Barto, *Reinforcement Learning: An Introduction*,
#   2nd ed., 2018 (credit assignment and delayed reward).
