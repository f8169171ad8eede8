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
# # 08 · Beyond the paper
#
# The paper ends with two proposals it leaves for later, and the explainer
# retells both:
#
# * **Curiosity.** To push the agent towards the parts of the world M
#   understands worst, reward it for surprising M: flip the sign of M's own
#   prediction loss. A controller that seeks M's surprise plays the games M
#   needs to see.
# * **The car in its own dream.** The paper trains the car's C in the real
#   game only. To train it in M's dream, M must dream the reward too, not only
#   the next frame.
#
# Both follow from the lesson of notebooks 04-07: a dream is only as honest as
# M. Curiosity spends real games where M is wrong; the car needs an M whose
# dream pays what the track would.
#
# This notebook:
#
# 1. defines M's surprise and has you write it;
# 2. follows M's surprise along a real Doom game, step by step;
# 3. shows the measurement: curious data against random play and the current
#    exploration, at equal real games (a recorded result);
# 4. gives M a reward head with a loss that punishes optimism, and shows what
#    a constant prediction aims at under that loss;
# 5. shows the car trained in its own dream on the official tracks (a recorded
#    result), and M's predicted reward beside the real one along a track.
#
# **`TRAIN` off** (the default): nothing is trained. One real Doom game is
# played live with your V, M and C when they are on disk at this profile, else
# with the shipped ones; the measurements are read from the recorded results
# that ship with the book (`wmlib/pretrained/<world>/history/`), and a result
# not recorded yet says so. **`TRAIN` on** (`WM_TRAIN=1`): the chapter runs both
# experiments at this profile, on your own roots: one curious iterative round
# of Doom, and the car's M with a reward head, C evolved in its dream and
# scored on the official tracks. Before each long stage it prints how long that
# stage took when it was measured.

# %% tags=["parameters"]
import os

PROFILE = os.environ.get("WM_PROFILE", "laptop")
TRAIN = os.environ.get("WM_TRAIN", "0") == "1"   # off: shipped models and recorded results

# %%
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import wmlib  # noqa: F401  (before torch: it sets OMP_WAIT_POLICY=PASSIVE, kinder to shared cores)
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from wmlib import paper, paths
from wmlib.book import chapter, history
from wmlib.book.chapter import fmt, md
from wmlib.config import apply_recipe, apply_settings, get_config

torch.set_num_threads(1 if PROFILE == "ci" or not TRAIN else min(2, os.cpu_count() or 1))
cfg = get_config("doom", PROFILE)
car = get_config("carracing", PROFILE)
CAP = cfg.dream.max_steps


def recorded_table(world: str, name: str):
    """A recorded result of ``world``'s history (``wmlib/pretrained/<world>/history/<name>.json``), or None."""
    return history.load(world, name) if name in history.names(world) else None


print("profile:", PROFILE, "| TRAIN:", TRAIN, "| Doom's cap:", CAP, "| iterate:", cfg.iterate)

# %% [markdown]
# ## 1. M's surprise
#
# M is trained to make its loss small on what it sees. Its loss on **one
# step** of a game is its surprise there, in nats:
#
# $$\text{surprise}_t = \frac{1}{N_z}\sum_{i} -\log p_M\big(z_{t+1,i} \mid z_t, a_t, h_t\big)
#   \;+\; \big[-w\, d_t \log p_t - (1 - d_t)\log(1 - p_t)\big]$$
#
# the mixture's negative log-likelihood of the next code, averaged over its
# $N_z$ dimensions (none on the last step, which has no next code), plus
# Doom's done head's loss, where $p_t$ is M's probability that the game ends
# after step $t$, $d_t$ is 1 where it did, and $w$ is the weight M's training
# gave deaths (`mdnrnn.done_pos_weight`). It is exactly M's training loss
# (`wmlib.training.mdnrnn.m_loss`), one step at a time. M lowers it; a
# **curious** controller is evolved to raise the sum of it over the games it
# plays. Same number, the sign flipped.
#
# Write it. `m(z, a, restart=restart)` runs M over a whole game at once (z
# [1, T, z], a [1, T, A], restart [1, T] with 1 on the first step) and returns
# `(mixture, done_logit, state)`: the mixture's parts are `[1, T, z, K]` and
# `done_logit` is `[1, T]` (None for an M without a done head, like the car's).
# The mixture at step $t$ predicts $z_{t+1}$. `mixture_nll(logpi, mu,
# logsigma, target)` is the NLL you wrote in notebook 02.

# %% nbgrader={"grade": false, "grade_id": "08-surprise", "locked": false, "schema_version": 3, "solution": true}
from wmlib.models.mdnrnn import mixture_nll


def my_surprise(m, z, actions, dones=None, pos_weight=1.0):
    """M's loss at each step of one game -> numpy [T]: the next code's NLL (nats per dim; 0 on the last
    step) plus, for an M with a done head, its loss on whether the game ended there (deaths weighted
    ``pos_weight``). z [T, z] and actions [T, A] as float tensors; dones [T] booleans (None: no done head)."""
    T = z.shape[0]
    restart = torch.zeros(1, T)
    restart[0, 0] = 1.0
    with torch.no_grad():
        mix, done_logit, _ = m(z[None], actions[None], restart=restart)
        ### BEGIN SOLUTION
        out = torch.zeros(T, dtype=torch.float64)
        nll = mixture_nll(*(p[0, :-1] for p in mix), z[1:]).mean(-1)  # step t's mixture predicts z[t + 1]
        out[:-1] += nll.double()
        if done_logit is not None:
            y = torch.as_tensor(np.asarray(dones, np.float32))
            bce = torch.nn.functional.binary_cross_entropy_with_logits(
                done_logit[0], y, reduction="none", pos_weight=torch.tensor(float(pos_weight)))
            out += bce.double()
        ### END SOLUTION
    return out.numpy()

# %% [markdown]
# ## 2. M's surprise along a real game
#
# A controller plays one real game of Doom (the first of the test games); M
# reads every frame's code as usual, and after every step we ask how
# surprised it was by what came next (`wmlib.agent.curiosity.played_surprise`,
# the library's version of your function, computed as the game is played).
# The agent is yours when your V, M and C are on disk at this profile, else
# the one that ships with the book. Here C and M read V's mean code of each
# frame (`real_z = "mean"`), so the game's codes are the ones V gives.
#
# Drag the slider, or press **Play**: the frame the agent saw, the curve of
# M's surprise along the whole game, and what it was made of at that step.
# Where does it peak? Look at the frames there: a fireball launched, a monster
# stepping into view, the agent's own death.

# %%
from wmlib.agent.curiosity import played_surprise
from wmlib.agent.episode import agent_spec, episode_seed
from wmlib.book.widgets import SurpriseTrace, dream_agent_for
from wmlib.training.controller import TEST_SEED

agent = dream_agent_for(cfg)  # yours when on disk at this profile (your last round's C and M), else the shipped
POS_WEIGHT = agent["done_pos_weight"]
SEED = episode_seed(TEST_SEED, 0, 0)
spec = agent_spec("doom", "zh", agent["vae"], agent["mdnrnn"], CAP, real_z="mean")
game = played_surprise(spec, agent["controller"], SEED, POS_WEIGHT)
trace = SurpriseTrace(game, label=f"{agent['source']}: one real game")
trace

# %%
s = game["surprise"]
peak = int(np.argmax(s))
at_death = game["died"] and peak == game["steps"] - 1
md(f"{agent['source']} lived **{game['steps']}** steps ({'died' if game['died'] else 'reached the cap'}). "
   f"M's surprise summed to {s.sum():.0f} nats over the game: {np.nansum(game['z']):.0f} from the codes (an NLL "
   f"of continuous codes can be below zero where M is sharp and right) and {game['done'].sum():.0f} from the done "
   f"head. It peaked at step {peak} with {s[peak]:.1f} nats"
   + (", the death itself: M trains its done head to weigh a death "
      f"{POS_WEIGHT:g} times, so a death it did not see coming is the largest surprise a game can hold. "
      if at_death else " (drag the slider there: what happened?). ")
   + "A curious controller is evolved to make the game's sum large.")

# %% [markdown]
# Your function on the same game: V's codes of the frames the agent saw, the
# actions it played, and the death (if any) on the last step. It should give
# the same surprise, step by step, as the library's, which scored the game
# while it was played.

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "08-surprise-test", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["check"]
from wmlib.agent.curiosity import surprise_along
from wmlib.models.vae import encode_frames
from wmlib.worlds.envs import resize_frame

seen = np.stack([resize_frame(f) for f in game["frames"][:-1]])  # the 64x64 frames, as the game gave them to V
codes = torch.from_numpy(encode_frames(agent["vae"], seen)[0])
acts = torch.from_numpy(np.asarray(game["actions"], np.float32))
dones = np.zeros(game["steps"], bool)
dones[-1] = game["died"]
mine = my_surprise(agent["mdnrnn"], codes, acts, dones, POS_WEIGHT)
assert mine.shape == (game["steps"],), mine.shape
assert np.allclose(mine, game["surprise"], atol=2e-3), np.abs(mine - game["surprise"]).max()
### BEGIN HIDDEN TESTS
from wmlib.models.mdnrnn import MDNRNN

torch.manual_seed(0)
tiny = MDNRNN(3, 1, 5, n_mixtures=2, done_head=True).eval()
z_, a_ = torch.randn(9, 3), torch.rand(9, 1) * 2 - 1
d_ = np.zeros(9, bool)
d_[-1] = True
for w in (1.0, 7.0):  # deaths weighted as M was trained
    ref = surprise_along(tiny, z_.numpy(), a_.numpy(), d_, w)["surprise"]
    assert np.allclose(my_surprise(tiny, z_, a_, d_, w), ref, atol=1e-5), w
car_m = MDNRNN(3, 3, 5, n_mixtures=2).eval()  # no done head: only the codes surprise it
a3 = torch.rand(9, 3)
ref = surprise_along(car_m, z_.numpy(), a3.numpy())["surprise"]
assert np.allclose(my_surprise(car_m, z_, a3), ref, atol=1e-5) and my_surprise(car_m, z_, a3)[-1] == 0
### END HIDDEN TESTS

# %% [markdown]
# ### Surprise is not learning progress
#
# Read the curve again with the explainer's caveat in mind. Some of M's
# surprise is *ignorance*: a wall it never saw the agent reach, a death it
# did not expect. More games there teach M, and the surprise falls. Some of it
# is *noise*: when a monster launches a fireball is a roll of the game's dice,
# and no amount of data lets M predict the moment. A controller rewarded for
# raw surprise is paid just as well for standing where fireballs fly as for
# going where M is wrong, and it is paid for living longer (more steps, more
# surprise to sum). The measure the explainer points to is **learning
# progress**: how much M's surprise *falls* when it trains on the new games.
# Exercise 2 measures it.

# %% tags=["check"]
assert np.isfinite(game["surprise"]).all() and (game["surprise"] >= -50).all()
assert np.isnan(game["z"][-1]) and np.isfinite(game["z"][:-1]).all()
assert 1 <= game["steps"] <= CAP and len(game["frames"]) == game["steps"] + 1

# %% [markdown]
# ## 3. Curious data, measured
#
# `iterate.explore_policy` chooses who plays an iterative round's new real
# games (`wmlib.training.explore`):
#
# * `current`: the previous round's C with its exploration (notebook 06, the
#   paper's round);
# * `random`: the random play that collected M's first data;
# * `curious`: a CMA-ES search in the **real** game, started from the previous
#   round's C, whose fitness is M's summed surprise on each candidate's game.
#   Every game it plays is kept as the round's data, so every arm plays the
#   same number of real games.
#
# Why in the real game, and not in the dream, where games are free? In the
# dream the next code is M's own sample, so M's surprise there is only the
# spread of its own prediction: an M that is confidently wrong (the wall the
# dream lets C cheat at, notebook 07) is not surprised in its own dream, and
# that is exactly where the data is needed.
#
# Each arm then finishes the round as notebook 06 did: M fine-tuned on the new
# games, C evolved in the new M's dream and chosen by real validation games.
# Then we ask what the new data was worth: how well the new M knows **the
# games its next C actually plays** (its NLL of each next code, and the share
# of real deaths its done head flagged), the new C's real score, and how far
# its dream score is from its real one. `experiments/curiosity.py` runs every
# arm over several seeds from one round 0 and writes the table below.

# %%
cur = recorded_table("doom", "curiosity")
METRIC_NAMES = {"m_next.nll": "M's NLL on C's next games (nats / dim)", "m_next.done_recall": "deaths M flagged",
                "real.mean": "real score (steps)", "dream.mean": "dream score", "gap": "dream - real",
                "new_m_heldout.nll": "the new games' NLL under round 0's M"}


def cell(v, digits=3):
    """mean ± std over the seeds; one seed has no spread, so only its value."""
    if v is None or v.get("mean") is None:
        return "-"
    return f"{v['mean']:.{digits}f}" + (f" ± {v['std']:.{digits}f}" if v.get("seeds", 2) > 1 else "")


if cur is None:
    md("**Not recorded yet.** No run of `experiments/curiosity.py` ships with this copy of the book "
       "(`wmlib/pretrained/doom/history/curiosity.json`). Make one with "
       "`python experiments/curiosity.py --artifacts <a root with round 0> --out curiosity.json` "
       "(exercise 3), or run this chapter with `TRAIN` on for one curious round at your profile.")
else:
    arms = [a for a in ("current", "random", "curious") if a in cur["summary"]]
    lines = ["| arm | " + " | ".join(METRIC_NAMES.values()) + " |", "|---|" + "---|" * len(METRIC_NAMES)]
    r0 = cur["round0"]
    lines.append(f"| round 0 (every arm's start) | {r0['nll']:.3f} | "
                 f"{'-' if r0['done_recall'] is None else format(r0['done_recall'], '.3f')} | {r0['real']:.1f} | | | |")
    for arm in arms:
        row = cur["summary"][arm]
        lines.append(f"| {arm} | " + " | ".join(cell(row.get(k), 1 if k in ("real.mean", "dream.mean", "gap")
                                                   else 3) for k in METRIC_NAMES) + " |")
    seeds = sorted({s for arm in arms for s in cur["runs"][arm]})
    md("\n".join(lines) + f"\n\n*Measured:* the {cur['profile']} profile, seeds {', '.join(seeds)} (mean ± std over "
       f"the seeds where there are several), {cur['games']} real games judging each M; settings: {', '.join(cur['settings']) or 'as the profile'}. "
       f"*Re-run:* `python experiments/curiosity.py --profile {cur['profile']} --seeds {' '.join(seeds)}`.")

# %%
if cur is not None:
    fig, axes = plt.subplots(1, 3, figsize=(10, 3))
    for ax, key, label in zip(axes, ("m_next", "real", "curious"), ("M's NLL on C's next games", "real score",
                                                                   "curious search: M's surprise per game")):
        for i, arm in enumerate(arms):
            runs = cur["runs"][arm]
            if key == "curious":
                for s, r in runs.items():
                    if r.get("curious"):
                        ax.plot(np.arange(1, len(r["curious"]["surprise_mean"]) + 1), r["curious"]["surprise_mean"],
                                marker="o", label=f"seed {s}")
                continue
            vals = [r[key]["nll"] if key == "m_next" else r[key]["mean"] for r in runs.values()]
            ax.scatter([i] * len(vals), vals, s=14)
            ax.plot([i - 0.2, i + 0.2], [np.mean(vals)] * 2, color="black")
        if key == "curious":
            ax.set_xlabel("generation"); ax.legend(fontsize=6)
        else:
            ax.set_xticks(range(len(arms)), arms)
        ax.set_title(label, fontsize=8)
    fig.tight_layout(); plt.show()

# %%
def standard_error(a: dict, b: dict) -> float:
    """Of the difference of two arms' means over their seeds (each std is over seeds, ddof 0: corrected
    to the sample's); 0 with one seed each."""
    var = lambda v: v["std"] ** 2 / max(v["seeds"] - 1, 1)   # (std^2 * n / (n - 1)) / n
    return float(np.sqrt(var(a) + var(b)))


if cur is not None and {"curious", "current"} <= set(arms):
    sm, said, verdicts = cur["summary"], [], []
    for key, sign, what in (("m_next.nll", -1, "M's NLL on the next C's games"),
                            ("m_next.done_recall", 1, "the share of real deaths M flagged"),
                            ("real.mean", 1, "the next C's real score")):
        c, b = sm["curious"].get(key) or {}, sm["current"].get(key) or {}
        if c.get("mean") is None or b.get("mean") is None:
            continue
        gain = sign * (c["mean"] - b["mean"])  # > 0: curious data did better
        two_se = 2 * standard_error(c, b)
        clear = abs(c["mean"] - b["mean"]) > two_se
        verdicts.append(0 if not clear else int(np.sign(gain)))
        word = "no clear difference" if not clear else "better" if gain > 0 else "worse"
        said.append(f"{what}: {c['mean']:.3g} with curious data against {b['mean']:.3g}, {word} "
                    f"({'beyond' if clear else 'within'} twice the standard error over seeds, "
                    f"{two_se:.2g})")
    seeds = min(sm["curious"]["real.mean"]["seeds"], sm["current"]["real.mean"]["seeds"])
    if seeds < 2:  # one seed has no spread: every difference would look "beyond" it
        said = [f"{what}: {c:.3g} with curious data against {b:.3g}" for what, c, b in
                (("M's NLL on the next C's games", sm["curious"]["m_next.nll"]["mean"], sm["current"]["m_next.nll"]["mean"]),
                 ("the share of real deaths M flagged", sm["curious"]["m_next.done_recall"]["mean"],
                  sm["current"]["m_next.done_recall"]["mean"]),
                 ("the next C's real score", sm["curious"]["real.mean"]["mean"], sm["current"]["real.mean"]["mean"]))]
        verdict = ("One seed per arm: no verdict. CMA-ES's seed alone moves a C's real score by about "
                   f"{history.load('doom', 'round0_seeds')['facts']['m80_one_run']['std']:.0f} steps on one M "
                   "(notebook 07), more than these arms differ by.")
    elif not verdicts or not any(verdicts):
        verdict = ("No difference beyond twice the standard error over seeds: at this size the arms cannot be told "
                   "apart.")
    elif min(verdicts) >= 0:
        verdict = "Raw surprise **helped**, beyond twice the standard error over seeds, where it differed at all."
    else:
        verdict = ("Raw surprise did **not** help on every count: where it lost, the curious search was paid for "
                   "what M cannot learn, or for longer games (the caveat above).")
    md("Curious data against the current exploration, at equal real games. " + "; ".join(said) + ". " + verdict)

# %% [markdown]
# Your own curious round: with `TRAIN` on the chapter runs one round of
# `iterate` with `iterate.explore_policy = "curious"` on top of your round 0
# (building V, M and round 0's C first where they are missing, as notebooks
# 04 and 06 do). The round lives in a root of its own beside yours, whose
# round-0 stages are links to yours (`wmlib.training.explore.arm_root`), so
# it never mixes with notebook 06's round 1. Then M of each round is judged on
# the games its own C plays next.

# %%
mine = None
if TRAIN:
    from wmlib.training.dream import train_in_dream
    from wmlib.training.explore import arm_root
    from wmlib.training.iterate import iterate, judge_next_games, score_round

    chapter.build_world_model(cfg)  # collect, train V, encode, train M: what is missing
    if not (paths.dream_dir(cfg, cfg.dream.tau) / "evolution.pt").exists():
        chapter.announce(cfg, f"train C in the dream (tau {cfg.dream.tau:g})")
    train_in_dream(cfg)
    score_round(cfg, 0)
    root = arm_root(cfg, Path(paths.root(cfg)) / "beyond-curious")
    ccfg = apply_settings(get_config("doom", PROFILE, artifacts=str(root)), ["iterate.explore_policy=curious"])
    if not paths.round_score(ccfg, 1).exists():
        chapter.announce(ccfg, "iterative round 1", "one curious iterative round")
    row = iterate(ccfg, rounds=1, progress=PROFILE != "ci")[1]
    mine = {"round 0": dict(judge=judge_next_games(cfg, 0), real=score_round(cfg, 0)["real"]),
            "curious round 1": dict(judge=judge_next_games(ccfg, 1), real=row["real"], curious=row["curious"])}
    md("| your run | M's NLL on C's next games | deaths M flagged | real score |\n|---|---|---|---|\n" + "\n".join(
        f"| {k} | {v['judge']['nll']:.3f} | {'-' if v['judge']['done_recall'] is None else format(v['judge']['done_recall'], '.2f')} "
        f"| {fmt(v['real'])} |" for k, v in mine.items())
       + f"\n\nThe curious search: M's summed surprise per game, by generation: "
       + ", ".join(f"{x:.0f}" for x in row["curious"]["surprise_mean"])
       + f" ({PROFILE} profile; at ci the models are too small for any claim).")
else:
    print("TRAIN is off: no round is played here (WM_TRAIN=1 runs one curious round at this profile)")

# %% tags=["check"]
if TRAIN:
    assert mine["curious round 1"]["curious"]["generations"] == cfg.iterate.episodes // cfg.iterate.curious_population
    assert all(np.isfinite(v["judge"]["nll"]) for v in mine.values())
if cur is not None:
    assert set(cur["summary"]) == set(cur["runs"]) and all(cur["runs"][a] for a in cur["runs"])

# %% [markdown]
# ## 4. The car's dream: M learns the reward
#
# In Doom the dream pays +1 for every step survived, so M needs only to know
# when the agent dies. The car is paid by the track: a little less than
# nothing every step, and a bonus for each new tile of road. To train the car
# in its dream, M gets a **reward head**: from the same hidden state that
# predicts the next code it predicts the step's reward, trained on the
# recorded games (`mdnrnn.reward_head`). The dream then pays C what M
# predicts (`wmlib.agent.dream`: `m.predict_reward(h)` each step).
#
# A dream that pays too much is one to cheat: C will steer to wherever M is
# too generous. So the reward head's squared error counts **over**-prediction
# $k$ times (`mdnrnn.reward_pessimism`, a lever a JAX reproduction of the
# car's dream used):
#
# $$\ell(\hat r, r) = \begin{cases} k\,(\hat r - r)^2 & \hat r > r \\ (\hat r - r)^2 & \text{otherwise.} \end{cases}$$
#
# With $k = 1$ the best constant prediction is the mean reward. With $k > 1$
# it is an *expectile*: the value $e$ where $k$ times the over-shoots balance
# the under-shoots, $k \sum_{r < e} (e - r) = \sum_{r > e} (r - e)$, below the
# mean. On the car's rewards (most steps a small loss, one in a few a tile's
# bonus) the difference is large: the pessimistic M expects the bonus only
# where it is sure of it.

# %%
from wmlib.models.mdnrnn import reward_loss

# rewards shaped like a random drive's: -0.1 a step, a tile's bonus (1000 / number of tiles, plus the step's -0.1)
# on one step in ten
rewards = torch.tensor([-0.1] * 9 + [1000 / 300 - 0.1], dtype=torch.float64)
grid = torch.linspace(-0.3, 0.6, 9001, dtype=torch.float64)
fig, ax = plt.subplots(figsize=(6, 3))
best = {}
for k, color in ((1.0, "tab:blue"), (5.0, "tab:red")):
    loss = reward_loss(grid[:, None], rewards, k).mean(1)
    best[k] = float(grid[loss.argmin()])
    ax.plot(grid, loss, color=color, label=f"k = {k:g}: best constant {best[k]:+.3f}")
    ax.axvline(best[k], color=color, ls=":", lw=0.8)
ax.axvline(float(rewards.mean()), color="grey", lw=0.6, label="the mean reward")
ax.set_xlabel("a constant prediction of every step's reward"); ax.set_ylabel("mean loss")
ax.legend(fontsize=7); fig.tight_layout(); plt.show()
md(f"With $k = 1$ the best constant is the mean, {best[1.0]:+.3f} a step; with $k = 5$ it is {best[5.0]:+.3f}: "
   "a dream that expects to lose a little every step unless M is sure a tile is coming.")

# %% tags=["check"]
assert abs(best[1.0] - float(rewards.mean())) < 1e-3, "with k = 1 the best constant is the mean"
assert best[5.0] < 0 < best[1.0], "the pessimistic head aims below the mean"
e = best[5.0]
assert abs(5 * float((e - rewards[rewards < e]).sum()) - float((rewards[rewards > e] - e).sum())) < 0.01

# %% [markdown]
# ## 5. The car trained in its own dream
#
# `experiments/recipes/carracing-dream.toml` is the recipe: the reward head
# with $k = 5$, dreams at $\tau = 1$ that start anywhere along the recorded
# random games (M's memory of the real steps before), and C evolved in the
# dream alone, never driving a real track until it is scored on the official
# renderer. `experiments/car_dream.py` trains that M once and evolves C with
# several CMA-ES seeds. Beside it: the paper's car, trained in the real game.

# %%
# every recorded lever of the car's dream: car_dream.json (the recipe) and car_dream_<lever>.json beside it
car_runs = [recorded_table("carracing", n) for n in history.names("carracing") if n.startswith("car_dream")]
cd = car_runs[0] if car_runs else None
v_only, full = paper.CARRACING_SCORES["World Model, V only (C reads z)"], paper.CARRACING_SCORES[
    "World Model, full (C reads z and h)"]


def lever(run) -> str:
    """What a recorded run changed: the reward head's pessimism, and its settings beyond the recipe."""
    rounds = run["seeds"][0].get("rounds") or []
    return (f"pessimism k = {run['mdnrnn']['reward_pessimism']:g}" + (f", {len(rounds)} iterative round(s)"
                                                                      if rounds else ""))


def over_seeds(run, what: str, k: int = 0) -> dict:
    """A run's real or dream score: mean ± std over its CMA-ES seeds (each a mean over its tracks)."""
    means = [(s if k == 0 else s["rounds"][k - 1])[what]["mean"] for s in run["seeds"]]
    return dict(mean=float(np.mean(means)), std=float(np.std(means)), seeds=len(means))


if cd is None:
    md("**Not recorded yet.** No run of `experiments/car_dream.py` ships with this copy of the book "
       "(`wmlib/pretrained/carracing/history/car_dream.json`). Make one with "
       "`python experiments/car_dream.py <a car root> --seeds 0 1 2 --out car-dream`, or run this chapter with "
       "`TRAIN` on. For reference, the paper's car trained in the **real** game: V only "
       f"{v_only[0]} ± {v_only[1]}, full agent {full[0]} ± {full[1]}.")
else:
    lines = ["| the car evolved in M's dream | CMA-ES seeds | in the dream | on the official tracks |",
             "|---|---|---|---|"]
    for run in car_runs:
        seeds = ", ".join(str(s["seed"]) for s in run["seeds"])
        lines.append(f"| {lever(run)} | {seeds} | {cell(over_seeds(run, 'dream'), 1)} | "
                     f"{cell(over_seeds(run, 'real'), 1)} |")
        for k in range(1, len(run["seeds"][0].get("rounds") or []) + 1):
            lines.append(f"| ... after iterative round {k} | {seeds} | {cell(over_seeds(run, 'dream', k), 1)} | "
                         f"{cell(over_seeds(run, 'real', k), 1)} |")
    lines += [f"| random policy | | | {fmt(cd['random'])} |",
              f"| the paper: V only, trained in the real game | | | {v_only[0]} ± {v_only[1]} |",
              f"| the paper: full agent, trained in the real game | | | {full[0]} ± {full[1]} |"]
    said = []
    for run in car_runs:
        m = run["m"]
        said.append(f"{lever(run)}: M's held-out reward error {m.get('reward_mse', float('nan')):.4f} (a constant's "
                    f"{m.get('reward_baseline_mse', float('nan')):.4f}); each seed over "
                    f"{run['seeds'][0]['real']['episodes']} official tracks")
    md("\n".join(lines) + "\n\nMean ± std over the CMA-ES seeds (one seed: its value alone). *Measured:* the "
       f"{cd['profile']} profile, dreams at tau {cd['dream']['tau']:g} starting {cd['dream']['start_from']}; "
       + "; ".join(said) + f". *Re-run:* `python experiments/car_dream.py <a car root> --profile {cd['profile']} "
       "--seeds 0 1 2` (with `--set mdnrnn.reward_pessimism=1` for k = 1, `--rounds 1` for a round).")
    best = max(car_runs, key=lambda r: over_seeds(r, "real")["mean"])
    gain = over_seeds(best, "real")["mean"] - cd["random"]["mean"]
    md(f"The best recorded lever, {lever(best)}, drives {abs(gain):.1f} {'more' if gain > 0 else 'less'} than the "
       "random policy on the official tracks: " + ("the car learned something in its dream." if gain > 0 else
       "at this scale the car does **not** learn to drive in its own dream. The traces below show why: the "
       "dream pays C for what M believes of the road C actually takes, not for what the track pays."))

# %% [markdown]
# What does the dream pay, and what does the track? One official track driven
# by the first seed's dream-trained C: every step's real reward and the reward
# M predicted for it, reading the same codes and actions (so this is what C's
# dream would have paid on that drive). The running sums show whether the
# dream is generous or stingy on the road C actually takes.

# %%
def draw_trace(tr, title):
    real, pred = np.asarray(tr["real"]), np.asarray(tr["predicted"])
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(8, 4), sharex=True)
    a1.plot(real, lw=0.6, color="tab:green", label="the track's reward")
    a1.plot(pred, lw=0.8, color="tab:red", label="M's predicted reward")
    a1.set_ylabel("reward per step"); a1.legend(fontsize=7)
    a2.plot(np.cumsum(real), color="tab:green", label="real return so far")
    a2.plot(np.cumsum(pred), color="tab:red", label="what the dream would pay so far")
    a2.set_xlabel("step"); a2.set_ylabel("return"); a2.legend(fontsize=7)
    a1.set_title(title, fontsize=9); fig.tight_layout(); plt.show()
    return real, pred


for run in [r for r in car_runs if r.get("trace")]:  # each lever's first seed on the first official track
    tr = run["trace"]
    real, pred = draw_trace(tr, f"{lever(run)}: CMA-ES seed {tr['seed']}'s C, official track seed {tr['track_seed']} "
                                "(recorded)")
    md(f"{lever(run).capitalize()}: along this track the car earned {real.sum():.1f}; M's reward head would have "
       f"paid {pred.sum():.1f}. M predicted a tile's bonus (above zero) on {np.mean(pred > 0):.0%} of the steps; "
       f"the track paid one on {np.mean(real > 0):.0%}.")
if cd is not None and not any(r.get("trace") for r in car_runs):
    md("These records have no per-step trace (an older `experiments/car_dream.py`): re-run it to draw one.")

# %% [markdown]
# With `TRAIN` on, the car's dream at your profile: random play, V and the
# codes on your car root (what notebooks 01-03 built; each built here when
# missing), M with the recipe's reward head trained in a root of its own
# beside it (an M without the head stays as it was), C evolved in M's dream,
# then scored on the official tracks and traced along the first.

# %%
car_score = None
if TRAIN:
    from wmlib.artifacts import link_stages
    from wmlib.training.dream import dream_params, evaluate_in_reality, real_reward_trace, train_in_dream
    from wmlib.training.mdnrnn import evaluate_mdnrnn, train_mdnrnn
    from wmlib.training.pipeline import pipeline

    recipe = Path(wmlib.__file__).resolve().parents[1] / "experiments" / "recipes" / "carracing-dream.toml"
    for stage, run in pipeline(car)[:3]:  # collect, train V, encode: get-or-build on your car root
        run()
    dcfg = apply_recipe(get_config("carracing", PROFILE, artifacts=str(Path(paths.root(car)) / "car-dream")), recipe)
    link_stages(paths.run_dir(car), paths.run_dir(dcfg), ("data", "vae", "series"))
    if not paths.mdnrnn_file(dcfg).exists():
        chapter.announce(car, "train M", "train M with a reward head")
    train_mdnrnn(dcfg, progress=PROFILE != "ci")
    m_eval = evaluate_mdnrnn(dcfg)
    if not paths.dream_score(dcfg, dcfg.dream.tau, "deployed").exists():
        chapter.announce(dcfg, "train C in the dream", "evolve the car's C in M's dream and score it")
    train_in_dream(dcfg, progress=PROFILE != "ci")
    car_score = evaluate_in_reality(dcfg)
    my_trace = real_reward_trace(dcfg, dream_params(dcfg, dcfg.dream.tau))
    print(f"your car ({PROFILE}): dream {fmt(car_score['dream'])}; official tracks {fmt(car_score['real'])}; "
          f"M's reward error {m_eval['reward_mse']:.4f} (a constant: {m_eval['reward_baseline_mse']:.4f})")
    draw_trace(my_trace, f"your dream-trained car ({PROFILE} profile), official track seed {my_trace['seed']}")

# %% tags=["check"]
if TRAIN:
    assert car_score["real"]["episodes"] == car.dream.real_episodes
    assert abs(my_trace["real_return"] - car_score["real"]["returns"][0]) < 1e-3, "the trace is the first scored track"
    assert len(my_trace["real"]) == len(my_trace["predicted"]) == my_trace["steps"]
for run in [r for r in car_runs if r.get("trace")]:
    assert len(run["trace"]["real"]) == len(run["trace"]["predicted"]) == run["trace"]["steps"]

# %% [markdown]
# ## Summary
#
# * M's surprise at a step is its own training loss there: the next code's
#   NLL plus the done head's loss. Curiosity flips its sign: a curious C is
#   evolved in the real game to make M's summed surprise large, and its games
#   become M's data.
# * Surprise peaks where the game does something M did not expect, and some
#   of that is dice M can never learn: surprise is not learning progress.
# * Whether curious data makes the dream more honest is a measurement: M's
#   NLL and death recall on the games its next C plays, the dream-vs-real gap
#   and the real score, against random and current exploration at equal real
#   games, over seeds (section 3).
# * The car's dream needs M to predict the reward. A loss that counts
#   over-prediction $k$ times aims M at an expectile below the mean, so the
#   dream does not promise tiles it is unsure of.
# * The paper's car, trained in the real game: V only
#   632 ± 251, full agent 906 ± 21. The dream-trained car's score, and M's
#   reward beside the track's, are in section 5 when recorded.

# %% [markdown]
# ## Exercises
#
# Each exercise has an estimated time at the `laptop` profile, on the shipped
# models: an estimate, in the table below. A "lab" exercise fits a lab
# session; a "project" retrains part of the pipeline, and the table adds the
# time that stage took in the shipped run's record.

# %%
from wmlib.book.course import exercise_table

md(exercise_table("08_beyond_the_paper"))

# %% [markdown]
# **1.** The best constant under the pessimistic loss is an expectile. Write
# it without a grid: the $e$ where $k \sum_{r < e}(e - r) = \sum_{r > e}(r - e)$.
# How far below the mean does $k = 5$ put it on the rewards of section 4, and
# on a track where every third step pays a tile?
# <details><summary>Hint</summary>
# The left side minus the right side grows with $e$ (it is the loss's slope,
# halved), so bisect between the smallest and the largest reward:
# <code>expectile(rewards, k)</code> (below).</details>

# %% nbgrader={"grade": false, "grade_id": "08-ex1-code", "locked": false, "schema_version": 3, "solution": true}
# Exercise 1: the expectile that the pessimistic reward loss aims at.
import numpy as np


def expectile(rewards, k: float = 5.0, tol: float = 1e-10) -> float:
    """The constant e minimising mean(k (e - r)^2 where e > r, else (e - r)^2): the root of
    k * sum(e - r for r < e) - sum(r - e for r > e), by bisection on [min(r), max(r)]."""
    ### BEGIN SOLUTION
    r = np.asarray(rewards, np.float64)
    lo, hi = float(r.min()), float(r.max())
    slope = lambda e: k * np.clip(e - r, 0, None).sum() - np.clip(r - e, 0, None).sum()
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if slope(mid) < 0 else (lo, mid)
    return 0.5 * (lo + hi)
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "08-ex1-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** `expectile(rewards, 1)` is the mean and `expectile(rewards, 5)` matches the grid's
# minimiser of section 4. With a tile on one step in ten the pessimistic constant is below zero: M
# expects to lose a little on a step it cannot tell apart. With a tile every third step the mean is far
# above zero and the $k = 5$ expectile rises with it, but stays well below the mean: the more often a
# bonus comes, the more of it a pessimistic M is willing to promise. Pessimism shrinks the dream's
# rewards most where they are rare and uncertain, which is where a controller would otherwise cheat.
# <!-- END SOLUTION -->

# %% [markdown]
# **2.** Surprise is not learning progress. Score one real game with round
# 0's M and with the M of round 1, which trained on more games: at which steps
# did the surprise fall (M learned something), and at which did it stay (noise)?
# <details><summary>Hint</summary>
# <code>progress_along(m_before, m_after, z, actions, dones, pos_weight)</code> (below) gives
# both surprises and their difference per step; the shipped Ms are
# <code>recorded.load_mdnrnn("doom", "mdnrnn-round-0")</code> and <code>load_shipped_mdnrnn("doom")</code>,
# and the game's codes are those of section 2's check.</details>

# %% nbgrader={"grade": false, "grade_id": "08-ex2-code", "locked": false, "schema_version": 3, "solution": true}
# Exercise 2: learning progress, the fall in M's surprise from one M to the next on the same game.
import numpy as np


def progress_along(m_before, m_after, z, actions, dones=None, pos_weight: float = 1.0) -> dict:
    """M's surprise at every step of one game (z [T, z], actions [T, A], dones [T]) under two Ms ->
    dict(before [T], after [T], progress [T] = before - after, learned: the share of steps where the
    surprise fell)."""
    ### BEGIN SOLUTION
    from wmlib.agent.curiosity import surprise_along

    before = surprise_along(m_before, z, actions, dones, pos_weight)["surprise"]
    after = surprise_along(m_after, z, actions, dones, pos_weight)["surprise"]
    progress = before - after
    return dict(before=before, after=after, progress=progress, learned=float(np.mean(progress > 0)))
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "08-ex2-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** On most steps the later M is less surprised: it trained on more games, so its NLL
# of ordinary frames falls a little everywhere. The large spikes behave differently. Where the spike was
# the agent reaching a place random play never showed M (a wall, holding one direction), the surprise
# falls a lot: that was ignorance, and the round's games cured it. Where the spike is a fireball being
# launched or a death that follows one, it stays about as high under both Ms: when the monsters fire is
# the game's dice, noise no data can teach. A curious controller paid for raw surprise is paid for both;
# one paid for the progress would stop visiting the second kind once M stopped learning there.
# <!-- END SOLUTION -->

# %% [markdown]
# **3.** Run the measurement yourself at the `laptop` profile, two arms and one
# seed: `python experiments/curiosity.py --artifacts <your root after
# python -m wmlib reproduce doom> --out mine.json --arms current curious
# --seeds 0`. Does the curious round's M know its C's next games better than
# the current round's? Is its real score higher?
# <details><summary>Hint</summary>
# Compare <code>m_next</code> and <code>real</code> of the two arms in <code>mine.json</code>, and the
# curious search's surprise by generation: did it rise? One seed is one draw (notebook 07, section 5).</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "08-ex3-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** The curious search's surprise per game rises over its generations: CMA-ES finds
# games M predicts badly (longer ones, and ones with more fireballs). Whether that data is worth more is
# what `m_next` says: the curious M may know its next C's games better (lower NLL, more deaths flagged)
# when the curious games covered places the current C's games never reached, or worse when the search
# was paid for noise and for long games. The real score of one seed cannot settle it: the spread of one
# CMA-ES run across seeds is as large as most effects measured at laptop scale, so a claim needs the
# three seeds of `curiosity.json` and a difference beyond twice its standard error over them.
# <!-- END SOLUTION -->

# %% [markdown]
# ## References
#
# * D. Ha and J. Schmidhuber, *World Models* (2018), section "Discussion": rewarding
#   the agent for exploring where M's prediction is poor, by flipping the sign of M's loss.
# * J. Schmidhuber, *Formal Theory of Creativity, Fun, and Intrinsic Motivation
#   (1990-2010)* (2010): curiosity as learning progress, not raw prediction error.
# * D. Pathak, P. Agrawal, A. Efros and T. Darrell, *Curiosity-driven Exploration by
#   Self-supervised Prediction* (2017), and Y. Burda et al., *Large-Scale Study of
#   Curiosity-Driven Learning* (2018): the "noisy TV" that raw surprise cannot leave.
# * W. Newey and J. Powell, *Asymmetric Least Squares Estimation and Testing* (1987): expectiles.
