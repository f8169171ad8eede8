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
# dream is noisier, and a policy must be robust to survive it.
#
# **Run time.** With `TRAIN` off (the default) this chapter reads the sweep
# that shipped with the book, lets you watch its five controllers in their
# dreams and in the real game, and runs a small sweep of your own: a few
# minutes on 2 CPU cores. With `WM_TRAIN=1` it evolves one controller per
# temperature in your own M's dream and scores each on real games; the cell
# that starts it prints how long the shipped run took for one of them.
#
# The paper's table (Doom, C trained only in the dream, 100 trials each):

# %% tags=["parameters"]
import os

PROFILE = os.environ.get("WM_PROFILE", "laptop")
TRAIN = os.environ.get("WM_TRAIN", "0") == "1"   # off: shipped models and recorded results

# %%
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import wmlib  # noqa: F401  (before torch: it sets OMP_WAIT_POLICY=PASSIVE, kinder to shared cores)
import matplotlib.pyplot as plt
import numpy as np
import torch

from wmlib import paper, paths
from wmlib.book import recorded
from wmlib.book.chapter import announce, fmt, md, source_note
from wmlib.book.plots import plot_temperature
from wmlib.config import get_config
from wmlib.artifacts import read_json
from wmlib.training.dream import format_table

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
# ## The sweep: recorded, or yours
#
# For every $\tau$ of the profile, `temperature_sweep` evolves C in the dream
# (its own run folder per $\tau$, resumable, a no-op once done), scores it on
# fresh dreams at the same $\tau$ and on real games, and writes the table
# (`temperature/table.json` in this profile's folder). The command line does
# the same: `python -m wmlib temperature-sweep doom`.
#
# With `TRAIN` off nothing is trained: the table below is yours if you have
# run the sweep at this profile, else the one the shipped laptop run recorded.

# %%
if TRAIN:
    from wmlib.training.dream import temperature_sweep
    from wmlib.book.chapter import build_world_model

    build_world_model(cfg)  # collect, train V, encode, train M: what is missing
    announce(cfg, f"train C in the dream (tau {cfg.dream.tau:g})",
             what=f"the temperature sweep: C evolved in the dream at each of {len(cfg.dream.taus)} temperatures, "
                  "then scored (each evolution about as long as this one stage of the pipeline)")
    temperature_sweep(cfg)

table = recorded.result(cfg, paths.sweep_dir(cfg) / "table.json")
rows = table.data["rows"] if table is not None else []
if table is None:
    md("**The shipped sweep is not shipped yet** (no `temperature/table.json` in this profile's folder or in "
       "the book's shipped run). Run `python -m wmlib temperature-sweep doom`, or this notebook with "
       "`WM_TRAIN=1`, to make your own; the cells below skip what needs it.")
else:
    print(format_table(rows))
    md(f"Source: {source_note(table, 'python -m wmlib temperature-sweep doom')}. Each row: "
       f"{rows[0]['dream_episodes']} dreams and {rows[0]['real_episodes']} real games, episodes capped at "
       f"{table.data['dream']['max_steps']} steps; C evolved {rows[0]['generations']} generations of "
       f"{table.data['evolution']['population']} candidates x {table.data['evolution']['rollouts']} dreams.")

# %%
if rows:
    png = paths.sweep_dir(cfg) / "temperature.png" if not table.shipped else None
    fig = plot_temperature(rows, png, title=f"doom: {table.label()}", cap=table.data["dream"]["max_steps"])
    plt.show()

# %% tags=["check"]
# The table is what its games say: each row's real score, recomputed from the steps of every real game in that
# temperature's score file (its raw record, from the same run), and its dream score; the paper's column is the
# paper's.
for r in rows:
    path = paths.dream_score(cfg, r["tau"], table.data.get("which", "deployed"))
    path = recorded.shipped_path(cfg, path) if table.shipped else path
    if not path.exists():
        continue
    score = read_json(path)
    games = np.asarray(score["real"]["lengths"] if "lengths" in score["real"] else score["real"]["returns"])
    assert len(games) == r["real_episodes"], (r["tau"], len(games))
    assert np.isclose(games.mean(), r["real_mean"]) and np.isclose(games.std(), r["real_std"]), r["tau"]
    assert np.isclose(score["dream"]["mean"], r["dream_mean"]) and score["tau"] == r["tau"]
    p = paper.DOOM_TEMPERATURE.get(round(r["tau"], 2))
    assert r["paper_real"] == (None if p is None else list(p[1])), r["tau"]
if rows and not table.shipped:
    assert [r["tau"] for r in rows] == [float(t) for t in cfg.dream.taus]

# %%
if rows:
    best = max(rows, key=lambda r: r["real_mean"])
    pbest = max(paper.DOOM_TEMPERATURE, key=lambda t: paper.DOOM_TEMPERATURE[t][1][0])
    cheats = [f"{r['tau']:g}" for r in rows if r["dream_mean"] > 2 * r["real_mean"]]
    warm = [r for r in rows if r["tau"] >= 1.0]
    harsher = [f"{r['tau']:g}" for r in warm if r["dream_mean"] < r["real_mean"]]
    paper_harsher = [f"{t:g}" for t, ((d, _), (r, _)) in paper.DOOM_TEMPERATURE.items() if t >= 1.0 and d < r]
    md(f"In {table.label()} the controller that lived longest in the real game was evolved at "
       f"$\\tau$ = {best['tau']:g}: {fmt(dict(mean=best['real_mean'], std=best['real_std'], episodes=best['real_episodes']), unit='real steps')} "
       f"(the paper's best: $\\tau$ = {pbest:g}, {paper.DOOM_TEMPERATURE[pbest][1][0]} steps; a random policy "
       f"{paper.DOOM_RANDOM_POLICY[0]}). Temperatures whose C scored more than twice as long in its dream as in "
       f"the game: {', '.join(cheats) or 'none'}. At $\\tau \\geq 1$ the dream was harsher than the game "
       f"(dream score below the real one) at: {', '.join(harsher) or 'none'}; in the paper at: {', '.join(paper_harsher)}.")

# %% [markdown]
# ## One temperature at a time
#
# Step through the sweep: for each $\tau$, the paper's bars beside the
# table's, and that $\tau$'s controller in its own dream (left, V's drawing
# of M's codes) and in the real game (right, the frames it saw until it
# died). The controllers are yours where you evolved them at this profile,
# else the five the shipped run evolved in round 0's M (they read that M,
# shipped beside them). A temperature is played when you first pick it;
# **another game** plays a new seed. Press **Play** to run both films.

# %%
from wmlib.book.widgets import TauStepper, sweep_agents, tau_films

agents = sweep_agents(cfg)
for tau in cfg.dream.taus:
    print(f"tau {tau:4.2f}: " + (agents[float(tau)]["source"] if float(tau) in agents
                                 else "not on disk, not shipped yet"))
films = None
if agents:
    films = tau_films(agents, max_steps=CAP, real_z=cfg.dream.real_z, done_rule=cfg.dream.done_rule,
                      done_pos_weight=cfg.mdnrnn.done_pos_weight)
stepper = TauStepper(rows, films) if rows else None
if stepper is None:
    md("*No table to step through yet (see above).*")
stepper

# %% tags=["check"]
if stepper is not None:
    stepper.slider.value = stepper.slider.options[-1][1]
    assert stepper.tau == rows[-1]["tau"]
    if stepper.film is not None:
        assert 1 <= stepper.film["real"]["steps"] <= CAP and 1 <= stepper.film["dream"]["steps"] <= CAP
        stepper.step.value = stepper.step.max
        assert "step" in stepper.status.value

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
# (With your own ci-profile models V and M have seen a few hundred frames
# and the frames are blur; the shipped laptop models show the room.)

# %%
from wmlib.book.widgets import dream_film

low = min(agents) if agents else None
if low is None:
    md("*No controller for any temperature yet: nothing to watch.*")
else:
    agent = agents[low]
    film = stepper.film_for(low) if stepper is not None else films(low, 0)  # the stepper's first game, if played
    in_dream, in_reality = film["dream"], film["real"]
    print(f"{agent['source']}: {in_dream['steps']} steps in its dream "
          f"({'M killed it' if in_dream['died'] else 'reached the cap'}), {in_reality['steps']} in the real game")


# %%
def filmstrip(ax_row, frames, label):
    picks = np.linspace(0, len(frames) - 1, len(ax_row)).astype(int)
    for ax, i in zip(ax_row, picks):
        ax.imshow(frames[i]); ax.set_title(f"t={i}", fontsize=7); ax.axis("off")
    ax_row[0].text(-0.1, 0.5, label, transform=ax_row[0].transAxes, ha="right", va="center", fontsize=8)


if low is not None:
    fig, axes = plt.subplots(2, 8, figsize=(13, 3.6))
    filmstrip(axes[0], in_dream["frames"], f"dream\ntau {low}")
    filmstrip(axes[1], in_reality["frames"], "real\ngame")
    plt.suptitle(f"the same controller (trained at tau {low}): its dream, and the real game up to its end",
                 fontsize=9)
    plt.tight_layout(); plt.show()

# %% [markdown]
# M's own opinion tells the same story. Below, the same controller lives a
# dream at each temperature of the sweep (the same seed), and we plot M's
# death probability at every step: at low $\tau$ it stays flat and low,
# because the dangerous futures have been sharpened away.

# %%
lengths = {}
if low is not None:
    plt.figure(figsize=(8, 3))
    for tau in cfg.dream.taus:
        run = dream_film(agent, low, CAP, done_rule=cfg.dream.done_rule, done_pos_weight=cfg.mdnrnn.done_pos_weight,
                         dream_tau=tau, draw=False)  # no V: M's verdicts only
        lengths[float(tau)] = run["steps"]
        plt.plot(run["done_prob"], lw=1, label=f"dream at tau {tau:g} ({run['steps']} steps)")
    plt.axhline(cfg.dream.done_threshold, color="red", ls="--", lw=0.8)
    plt.xlabel("step"); plt.ylabel("M's death probability"); plt.legend(fontsize=7); plt.show()

# %% tags=["check"]
if low is not None:
    assert in_dream["frames"].shape[1:] == (64, 64, 3) and len(in_dream["frames"]) == in_dream["steps"] + 1
    assert len(in_reality["frames"]) == in_reality["steps"] + 1 and 1 <= in_reality["steps"] <= CAP
    assert ((in_dream["done_prob"] >= 0) & (in_dream["done_prob"] <= 1)).all()
    assert lengths[low] == in_dream["steps"]  # the same dream, replayed without drawing it

# %% [markdown]
# ## Build it yourself: a sweep in miniature
#
# The sweep is a loop: for each $\tau$, evolve C in the dream at that
# temperature, then score the result twice, in fresh dreams and in real
# games, and write one row. Below you write that loop at the `ci` profile's
# sizes (a handful of candidates, two generations, episodes capped short),
# on your V and M if you have trained them at this profile, else on the
# shipped ones. The numbers will be small and noisy; the loop is the point.
# CMA-ES comes from `pycma` directly and the dreams from
# `wmlib.agent.dream.dream_rollouts`, which plays a whole population of
# dreams as one batch.

# %% nbgrader={"grade": false, "grade_id": "05-sweep", "locked": false, "schema_version": 3, "solution": true}
import cma

from wmlib.agent.dream import dream_rollouts
from wmlib.agent.rollout import EpisodeRunner, agent_spec
from wmlib.book.pretrained import world_model_for
from wmlib.models.controller import param_count

SMALL = get_config("doom", "ci")           # the sizes of the miniature: population, generations, episodes
MINI_CAP = 3 * SMALL.dream.max_steps       # long enough for a random policy to die in most games
wm = world_model_for(cfg)                  # your V and M at this profile, else the shipped ones
print("models:", wm["source"])
TEST = 123_456                             # dreams and games no generation trained on


def my_dreams(tau, params, n, seed):
    """[P, n] steps survived in M's dream at tau, for each row of params."""
    return dream_rollouts(wm["mdnrnn"], "doom", np.atleast_2d(params), wm["first_mu"], wm["first_logvar"],
                          rollouts=n, tau=tau, max_steps=MINI_CAP, seed=seed,
                          done_rule=cfg.dream.done_rule, done_pos_weight=cfg.mdnrnn.done_pos_weight)


def evolve_in_dream(tau, population=SMALL.evolution.population, generations=SMALL.evolution.generations,
                    rollouts=2):
    """C evolved by CMA-ES in M's dream at tau, from C = 0 (sigma 0.1, pycma seed 1; generation g's dreams
    seeded 1000 + g) -> its final mean, [n] weights."""
    m = wm["mdnrnn"]
    es = cma.CMAEvolutionStrategy(np.zeros(param_count("doom", m.z_size, m.hidden, "zh")), 0.1,
                                  {"popsize": population, "seed": 1, "verbose": -9})
    for g in range(generations):
        pop = np.asarray(es.ask())
        es.tell(list(pop), list(-my_dreams(tau, pop, rollouts, seed=1000 + g).mean(axis=1)))  # pycma minimises
    return np.asarray(es.result.xfavorite)     # the final mean


def my_sweep(taus, dreams=SMALL.dream.dream_episodes, games=SMALL.dream.real_episodes):
    """One row per tau, in the order given: the C evolved at that tau (evolve_in_dream), scored in ``dreams``
    fresh dreams at the same tau (my_dreams with seed TEST) and in ``games`` real games (``game.run`` on seeds
    TEST, TEST + 1, ...: its "returns" are the steps survived). A row is a dict with the keys tau, params,
    dream_mean, dream_std, real_mean, real_std, paper_dream and paper_real (the paper's [mean, std] at that tau
    from paper.DOOM_TEMPERATURE, as lists, or None)."""
    m = wm["mdnrnn"]
    spec = agent_spec("doom", "zh", wm["vae"], m, MINI_CAP, lockstep=games, real_z=cfg.dream.real_z)
    rows = []
    with EpisodeRunner(spec) as game:
        ### BEGIN SOLUTION
        for tau in taus:
            c = evolve_in_dream(tau)
            d = my_dreams(tau, c, dreams, TEST)[0]
            r = game.run(np.repeat(c[None], games, 0), [TEST + i for i in range(games)])["returns"]
            p = paper.DOOM_TEMPERATURE.get(round(tau, 2))
            rows.append(dict(tau=tau, params=c, dream_mean=float(d.mean()), dream_std=float(d.std()),
                             real_mean=float(r.mean()), real_std=float(r.std()),
                             paper_dream=None if p is None else list(p[0]), paper_real=None if p is None else list(p[1])))
        ### END SOLUTION
    return rows


mine = my_sweep([float(t) for t in cfg.dream.taus])
print(format_table(mine))

# %% [markdown]
# Check it against the library: a batched dream must give, episode by
# episode, what the one-at-a-time dream environment (`DreamEnv` and
# `play_dream`, the reference `wmlib` tests its batched path against) gives
# for the same controller and the same episode keys; and your rows must have
# the fields the library's table has.

# %% tags=["check"]
from wmlib.agent.dream import DreamEnv, episode_keys, play_dream
from wmlib.models.controller import Controller

row = mine[-1]
ctrl = Controller("doom", wm["mdnrnn"].z_size, wm["mdnrnn"].hidden, "zh").set_flat(row["params"])
env = DreamEnv(wm["mdnrnn"], wm["first_mu"], wm["first_logvar"], tau=row["tau"], max_steps=MINI_CAP,
               done_rule=cfg.dream.done_rule, done_pos_weight=cfg.mdnrnn.done_pos_weight)
keys = episode_keys(TEST, 1, 3)[0]
one_by_one = [play_dream(env, ctrl, int(k)) for k in keys]
assert np.allclose(one_by_one, my_dreams(row["tau"], row["params"], 3, TEST)[0]), one_by_one

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "05-sweep-test", "locked": true, "points": 3, "schema_version": 3, "solution": false} tags=["check"]
library_fields = {"tau", "params", "dream_mean", "dream_std", "real_mean", "real_std", "paper_dream", "paper_real"}
assert [r["tau"] for r in mine] == [float(t) for t in cfg.dream.taus], "one row per tau, in the order given"
assert all(library_fields <= set(r) for r in mine)
assert all(1 <= r["dream_mean"] <= MINI_CAP and 1 <= r["real_mean"] <= MINI_CAP for r in mine)
### BEGIN HIDDEN TESTS
for r in mine:  # every number of a row is what its C earns, evolved at the row's own temperature
    p = paper.DOOM_TEMPERATURE.get(round(r["tau"], 2))
    assert r["paper_dream"] == (None if p is None else list(p[0])) and r["paper_real"] == (None if p is None else list(p[1]))
    assert np.allclose(r["params"], evolve_in_dream(r["tau"])), f"tau {r['tau']}: C was not evolved at this tau"
    d = my_dreams(r["tau"], r["params"], SMALL.dream.dream_episodes, TEST)[0]
    assert np.isclose(r["dream_mean"], d.mean()) and np.isclose(r["dream_std"], d.std()), r["tau"]
games = SMALL.dream.real_episodes
spec = agent_spec("doom", "zh", wm["vae"], wm["mdnrnn"], MINI_CAP, lockstep=games, real_z=cfg.dream.real_z)
with EpisodeRunner(spec) as game:
    real = game.run(np.repeat(np.asarray(mine[-1]["params"])[None], games, 0), [TEST + i for i in range(games)])["returns"]
assert np.isclose(real.mean(), mine[-1]["real_mean"]) and np.isclose(real.std(), mine[-1]["real_std"])
### END HIDDEN TESTS

# %%
fig = plot_temperature(mine, title=f"your miniature sweep ({wm['source']}; ci sizes)", cap=MINI_CAP)
plt.show()

# %% [markdown]
# ## Summary
#
# * The temperature sets how adventurous M's dream is. Too cold, and the
#   dream forgets the rare events that kill you: the controller masters the
#   dream (near the cap) and fails in reality, the paper's $\tau = 0.1$ row.
# * In the paper a warmer dream ($\tau \approx 1.15$) was *harsher* than the
#   game: its controller scored less in the dream than in reality, above the
#   750 steps that count as solved. Whether a warm dream is harsher or kinder
#   than the game depends on M; at laptop scale it can stay kinder (see the
#   line below and notebook 07).
# * The dream score alone is not evidence: compare it with the real score,
#   as the sweep's table does for every $\tau$.

# %%
if rows:
    by_tau = {round(r["tau"], 2): r for r in rows}
    line = ", ".join(f"{t:g}: dream {by_tau[t]['dream_mean']:.0f} / real {by_tau[t]['real_mean']:.0f}"
                     for t in sorted(by_tau))
    md(f"**Yours** ({table.label()}; mean steps, dream / real, per $\\tau$): {line}. The paper's M saw "
       f"10,000 random episodes; the laptop M sees {get_config('doom', 'laptop').collect.episodes}. "
       "Notebook 07 shows how one CMA-ES run's score spreads from seed to seed.")
else:
    md("**Yours**: no table yet (run the sweep, then this cell).")

# %% [markdown]
# ## Exercises
#
# Each exercise has an estimated time at the `laptop` profile, on the shipped
# models: an estimate, in the table below. A "lab" exercise fits a lab
# session; a "project" retrains part of the pipeline, and the table adds the
# time that stage took in the shipped run's record.

# %%
from wmlib.book.course import exercise_table

md(exercise_table("05_temperature"))

# %% [markdown]
# **1.** Add temperatures between 1.0 and 1.5 (`temperature_sweep(cfg, taus=[...])`,
# or `my_sweep([...])` in miniature). Where does the real score peak for
# your M, and is it where the paper's did?
# <details><summary>Hint</summary>
# Each new temperature is one more evolution in the dream; in miniature,
# <code>my_sweep([1.0, 1.1, 1.2, 1.3, 1.4, 1.5])</code> runs in minutes.</details>

# %% nbgrader={"grade": false, "grade_id": "05-ex1-recorded", "locked": false, "schema_version": 3, "solution": true}
# Exercise 1, from the recorded sweep: where the real score peaks, beside the paper's peak.
### BEGIN SOLUTION
if rows:
    peak = max(rows, key=lambda r: r["real_mean"])
    paper_peak = max(paper.DOOM_TEMPERATURE, key=lambda t: paper.DOOM_TEMPERATURE[t][1][0])
    md(f"In {table.label()} the real score peaks at $\\tau$ = {peak['tau']:g}: "
       f"{fmt(dict(mean=peak['real_mean'], std=peak['real_std'], episodes=peak['real_episodes']), unit='steps')}; "
       f"the paper's peak is at $\\tau$ = {paper_peak:g}.")
### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "05-ex1-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** The recorded sweep's peak is rendered by the cell above (yours replaces it
# once you have run the sweep). With finer temperatures between 1.0 and 1.5,
# expect a broad optimum rather than a sharp one: neighbouring temperatures
# differ by less than the spread of one CMA-ES run from seed to seed
# (notebook 07), so a single sweep cannot place the peak precisely. Where it
# lies depends on M: an M that is kinder than the game needs a warmer dream
# to be harsh enough, so a laptop M can peak above the paper's 1.15.
# <!-- END SOLUTION -->

# %% [markdown]
# **2.** Train at $\tau = 0.1$ with the other done rule than your profile's
# (`cfg.dream.done_rule`: `"threshold"` or `"sample"`;
# `cfg.with_overrides(dream={"done_rule": ...})`, a fresh `WM_ARTIFACTS`).
# Does random death close the exploit?
# <details><summary>Hint</summary>
# At $\tau = 0.1$ the fireballs are sharpened away: ask whether the done rule
# can bring back a danger the dream no longer shows.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "05-ex2-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** Only partly. Sampling death from M's un-weighted probability makes a few
# cold dreams end where the threshold never would, so the dream score drops
# a little and C is pushed to avoid M's riskiest states. But the cause of the
# exploit is upstream of the done head: at $\tau = 0.1$ the dream rarely
# produces a dangerous state at all, so there is little risk for either rule
# to act on. The dream stays much kinder than the game, and the real score
# stays low.
# <!-- END SOLUTION -->

# %% [markdown]
# **3.** The dream's first frame comes from real episodes. What happens if every
# dream starts from the same first frame? From a code drawn from V's prior?
# <details><summary>Hint</summary>
# <code>start_codes</code> (below) builds the three kinds of start and
# <code>scores_by_start(m, series.first_mu, series.first_logvar, dream_params(cfg, 1.15), 1.15)</code>
# scores one controller from each (pass <code>done_rule</code> and
# <code>done_pos_weight</code> to dream as your profile does).</details>

# %% nbgrader={"grade": false, "grade_id": "05-ex3-code", "locked": false, "schema_version": 3, "solution": true}
# Exercise 3: where dreams start, and a controller's score from each kind of start.
import numpy as np


def start_codes(first_mu, first_logvar, how: str, index: int = 0):
    """The first-frame codes dreams start from -> (mu, logvar), each [n, z].

    ``"real"``: every recorded first frame (what the library does); ``"same"``: only frame ``index``;
    ``"prior"``: V's prior N(0, I) (mean 0, log-variance 0), so each dream starts from a fresh draw
    from the prior instead of any real frame.
    """
    ### BEGIN SOLUTION
    mu, logvar = np.asarray(first_mu, np.float32), np.asarray(first_logvar, np.float32)
    if how == "real":
        return mu, logvar
    if how == "same":
        return mu[index:index + 1], logvar[index:index + 1]
    if how == "prior":
        return np.zeros_like(mu[:1]), np.zeros_like(logvar[:1])
    raise ValueError(f"unknown start {how!r}: use 'real', 'same' or 'prior'")
    ### END SOLUTION


def scores_by_start(m, first_mu, first_logvar, params, tau: float = 1.15, rollouts: int = 16, max_steps: int = 100,
                    seed: int = 0, done_rule: str = "threshold", done_pos_weight: float = 1.0) -> dict:
    """Steps survived by one controller ``params`` [n] when dreams start from each kind of first code
    -> {how: [rollouts]} (same episode keys for every start)."""
    ### BEGIN SOLUTION
    from wmlib.agent.dream import dream_rollouts, world_of

    world = world_of(m)
    out = {}
    for how in ("real", "same", "prior"):
        mu, logvar = start_codes(first_mu, first_logvar, how)
        out[how] = dream_rollouts(m, world, np.asarray(params)[None], mu, logvar, rollouts, tau, max_steps,
                                  seed=seed, done_rule=done_rule, done_pos_weight=done_pos_weight)[0]
    return out
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "05-ex3-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** From one first frame every dream begins alike: the scores vary less (at
# $\tau = 0$ not at all), and a C evolved that way can overfit that start. From
# the prior, dreams begin at codes no real frame produces: M has never seen
# such states, its predictions there are unreliable, and the scores measure
# M's confusion more than C's skill. Real first frames, varied and realistic,
# are what the library uses.
# <!-- END SOLUTION -->

# %% [markdown]
# **4.** Iterative training, which the paper proposes but does not finish, is
# notebook 06 (`python -m wmlib iterate doom`). Run two rounds at
# $\tau = 0.1$ (`dream={"tau": 0.1}`): does the exploit at low $\tau$ shrink?
# <details><summary>Hint</summary>
# Compare each round's dream and real scores in the rounds table.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "05-ex4-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** It shrinks but does not vanish. Each round adds C's real games, deaths
# included, to M's data, so the places where the cold dream was wrong in C's
# favour get corrected, and the dream score falls towards the real one. But
# $\tau = 0.1$ still sharpens rare futures away: however well M knows that a
# fireball may come, the cold dream rarely samples it. Rounds fix M's
# knowledge; the temperature decides how much of it the dream shows.
# <!-- END SOLUTION -->

# %% [markdown]
# **5.** Score each controller at *every* temperature's dream (not only its own).
# Which dream's score predicts the real score best?
# <details><summary>Hint</summary>
# <code>cross_temperature_scores(m, series.first_mu, series.first_logvar,
# [dream_params(cfg, t) for t in cfg.dream.taus], cfg.dream.taus)</code> (below)
# gives the matrix, and <code>dream_predicts_reality(scores, [r["real_mean"] for r in rows])</code>
# the rank correlation of each dream's column with the real scores.</details>

# %% nbgrader={"grade": false, "grade_id": "05-ex5-code", "locked": false, "schema_version": 3, "solution": true}
# Exercise 5: every controller in every temperature's dream, and which dream ranks them as the game does.
import numpy as np


def cross_temperature_scores(m, first_mu, first_logvar, params, taus, rollouts: int = 16, max_steps: int = 100,
                             seed: int = 0, done_rule: str = "threshold", done_pos_weight: float = 1.0) -> np.ndarray:
    """Mean steps survived by controller i (``params[i]``) in the dream at ``taus[j]`` -> [controllers, taus].

    Every controller meets the same dreams (the same episode keys) at a given temperature, so a
    row-to-row difference is the controllers', not the luck of the draw. In the notebook, ``params``
    is ``[dream_params(cfg, tau) for tau in cfg.dream.taus]``: entry (i, i) is controller i in its own dream.
    """
    ### BEGIN SOLUTION
    from wmlib.agent.dream import dream_rollouts, world_of

    world = world_of(m)
    scores = np.zeros((len(params), len(taus)))
    for i, p in enumerate(params):
        for j, tau in enumerate(taus):
            steps = dream_rollouts(m, world, np.asarray(p)[None], first_mu, first_logvar, rollouts, float(tau),
                                   max_steps, seed=seed, done_rule=done_rule, done_pos_weight=done_pos_weight)
            scores[i, j] = steps.mean()
    return scores
    ### END SOLUTION


def dream_predicts_reality(scores: np.ndarray, real) -> np.ndarray:
    """For each dream temperature (column of ``scores``), the rank correlation between the controllers'
    dream scores and their real scores ``real`` [controllers] -> [taus] (nan where a column is constant).

    The column with the highest value is the dream whose ranking of controllers best matches the game's.
    """
    ### BEGIN SOLUTION
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
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "05-ex5-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** A warm dream ranks the controllers most like the game does: it is the
# harsh one, where standing still or holding one direction fails, as it does
# in the real game. At $\tau = 0.1$ nearly every controller lives to the cap,
# so its column carries almost no information (a constant column has no
# rank correlation at all). That is the chapter's lesson turned into a
# measurement: a dream is useful for training exactly when its scores order
# controllers as reality does.
# <!-- END SOLUTION -->

# %% [markdown]
# ## References
#
# * D. Ha and J. Schmidhuber, *World Models* (2018), sections "VizDoom Experiment:
#   Learning Inside of a Dream" and "Cheating the World Model" (the temperature table).
# * D. Ha and D. Eck, *A Neural Representation of Sketch Drawings* (2017): the
#   temperature of a mixture density RNN's samples.
# * A. Graves, *Generating Sequences With Recurrent Neural Networks* (2013): an
#   RNN with a mixture density output, and biased sampling from it.
# * N. Hansen, *The CMA Evolution Strategy: A Tutorial* (2016).
