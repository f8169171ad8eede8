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
# # 07 · When the dream lies
#
# The paper's Doom agent learns entirely inside M's dream and then survives
# the real game. Run at the paper's settings on a laptop, the same recipe
# fails in an instructive way: the controller becomes a champion of the dream
# and dies in the game sooner than a random policy. This chapter is the story
# of how this project found out why, and what made the dream honest enough,
# told from the measurements it recorded along the way:
#
# 1. **the exploit** the dream invites (hold left, then hold right) and how
#    `python -m wmlib diagnose-dream doom` shows it;
# 2. **the levers** that closed it, and what removing each one costs;
# 3. **C's own games**: iterative training, and where dreams start;
# 4. **the search**: how far one CMA-ES run's result spreads from seed to
#    seed, and why the round's C is chosen on real validation games;
# 5. **M's training**: its batches, its learning rate and its epochs against
#    the real score, and what a GPU's compute does;
# 6. **the temperature table** beside the paper's;
# 7. **score against compute**: how far each lever carried the real score,
#    and what the paper's 1,092 would take on this kind of machine.
#
# Nothing here trains. Every table and figure is drawn from the recorded
# results that ship with the book (`wmlib/pretrained/doom/history/*.json`,
# read with `wmlib.book.history`); each arm names the command that re-runs
# it. One cell plays one real game with a shipped controller, to show what
# `diagnose-dream` measures. It runs in a minute or two on 2 CPU cores.

# %% tags=["parameters"]
import os

PROFILE = os.environ.get("WM_PROFILE", "laptop")
TRAIN = os.environ.get("WM_TRAIN", "0") == "1"   # off or on: nothing here trains (the chapter reads recorded results)

# %%
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import wmlib  # noqa: F401  (before torch: it sets OMP_WAIT_POLICY=PASSIVE, kinder to shared cores)
import matplotlib.pyplot as plt
import numpy as np
import torch

from wmlib import paper
from wmlib.book import history
from wmlib.book.plots import plot_seeds
from wmlib.book.chapter import md
from wmlib.config import get_config

torch.set_num_threads(1 if PROFILE == "ci" else min(2, os.cpu_count() or 1))
cfg = get_config("doom", PROFILE)
H = {name: history.load("doom", name) for name in history.names("doom")}
print(f"{len(H)} recorded tables:", ", ".join(H))
S = history.text     # a recorded cell as text: "mean ± std", "+diff ± se", ...
M = history.mean     # ... or its mean
S0 = lambda v: history.text({k: v[k] for k in ("mean", "std")})   # a score without its note

# %% [markdown]
# ## 1. The exploit
#
# At the paper's settings every controller CMA-ES evolved in the laptop M's
# dream found the same cheat. M had learned Doom from random play whose
# actions were held for 1-10 steps, so no recorded game ever held one
# direction long enough to reach a wall. In M's dream, a wall is a place
# where nothing happens to you. In the real game the monsters' fireballs
# find an agent pressed against a wall quite easily.

# %%
levers, exploit = H["levers"], H["exploit"]
paper_row = next(r for r in levers["rows"] if r["setting"].startswith("paper settings"))
rnd = next(r for r in levers["rows"] if r["setting"] == "random policy")
f = exploit["facts"]
md(f"At the paper's settings C scored **{S(paper_row['dream'])}** steps in M's dream and "
   f"**{S(paper_row['real'])}** in the real game, against {S(rnd['real'])} for a random policy "
   f"(`{rnd['command'].strip('`')}`). It held left and, in the real game, died at the wall after about "
   f"{f['paper_settings']['real_at_wall']} steps. Random play with 1-10 step holds reached the left wall in "
   f"{f['data']['episodes_there']} of {f['data']['episodes']} games ({f['data']['near_left_wall_pct']}% of the "
   f"frames); holding left gets there in {f['data']['steps_to_wall']} steps. Held for a whole game, left lives "
   f"{S(f['real_game_constant']['hold_left'])} real steps, right {f['real_game_constant']['hold_right']}, "
   f"standing still {f['real_game_constant']['stay']}: no constant action is safe in the real game.")

# %% [markdown]
# Once the data held actions long enough to reach the walls (the first lever
# below), the cheat moved: a fresh clone's controller held **right** instead.
# The experiment that shows why asks M directly: dream with one action held
# for the whole dream, many times, and count the steps. The table is that
# experiment on a fresh clone's round-0 M, then on the M of one iterative
# round, whose data includes the cheating controller's own games.

# %%
history.show(exploit)
fig, ax = plt.subplots(figsize=(8, 3))
labels = [f"{r['action']}\n{r['m'].split(' (')[0].replace('a fresh clone', 'fresh')}" for r in exploit["rows"]]
colors = ["tab:red" if "right" in r["action"] else "tab:blue" if "left" in r["action"] else "tab:grey"
          for r in exploit["rows"]]
ax.bar(range(len(labels)), [r["dream_steps"] for r in exploit["rows"]], color=colors)
ax.set_xticks(range(len(labels)), labels, fontsize=6)
ax.set_ylabel("steps survived in M's dream")
ax.set_title("one action held for the whole dream (tau 1.15)", fontsize=9)
fig.tight_layout(); plt.show()

# %%
right0 = exploit["rows"][0]["dream_steps"]
left0, still0 = exploit["rows"][1]["dream_steps"], exploit["rows"][2]["dream_steps"]
right1, still1 = exploit["rows"][4]["dream_steps"], exploit["rows"][5]["dream_steps"]
fc = f["fresh_clone_round0"]
md(f"In round 0's M, holding right lives {right0:,} dream steps against {left0} for holding left and "
   f"{still0} for standing still: the fireballs that kill a still agent at the right wall almost never come in "
   f"that dream. The controller evolved there held right in every real game ({S(fc['real'])} real steps, "
   f"dream {S(fc['dream'])}). After one round, in which M trained on that controller's own games, holding right "
   f"lives {right1} dream steps and standing still {still1:,}: the right wall is no longer the kind place. "
   "Each round's controller finds the next kind place; each round's games correct it.")

# %% tags=["check"]
assert right0 > still0 > left0, "round 0's M should be kindest to the right wall"
assert right1 < right0 and still1 > still0, "one round of C's own games should move the kind place"

# %% [markdown]
# ## 2. How `diagnose-dream` shows it
#
# `python -m wmlib diagnose-dream doom` plays a dream-trained controller in a
# few real games and in a few dreams, and reports for each: the share of
# left, stay and right; how many steps it spends at a wall (within
# `wmlib.book.diagnose.WALL_MARGIN` map units of either side); and M's death
# belief over the last few steps before each real death. A wall-holder shows
# one action near 100%, most steps at a wall, and an M that never saw the
# death coming. The recorded diagnoses:

# %%
history.show(H["diagnose"])
reading = H["diagnose"]["facts"]["reading"]
md(f"What the log concluded. The four levers' C: *{reading['levers']}*. The C of the GPU-trained M (section 6): "
   f"*{reading['gpu']}*.")

# %% [markdown]
# The same measurement, live: one real game of a shipped controller, traced
# step by step with the game loop every score in the book uses. Its distance
# to the nearer wall and M's death belief after each step are what
# `diagnose-dream` summarises. The controller is your round 0's C when your
# rounds are on disk at this profile, else round 0's shipped C (`round-0`,
# with round 0's M), else the shipped C.

# %%
from wmlib.book import recorded
from wmlib.book.diagnose import WALL_MARGIN, wall_distance
from wmlib.book.pretrained import load_shipped_controller_params, load_shipped_mdnrnn, load_shipped_vae
from wmlib.book.widgets import play_real_game, round_agents

agents = round_agents(cfg)  # your rounds when on disk at this profile, else the shipped ones (when shipped)
if agents:
    agent, who = agents["round 0"], agents["round 0"]["source"]
elif "round-0" in recorded.shipped_controllers("doom"):
    c0 = recorded.load_controller("doom", "round-0")
    agent = dict(params=c0["params"], vae=load_shipped_vae("doom"),
                 mdnrnn=recorded.load_mdnrnn("doom", c0.get("mdnrnn", "mdnrnn-round-0"))[0])
    who = "the shipped round-0 C"
else:
    agent = dict(params=load_shipped_controller_params("doom"), vae=load_shipped_vae("doom"),
                 mdnrnn=load_shipped_mdnrnn("doom"))
    who = "the shipped C (round 1; round 0's C is not shipped yet)"
game = play_real_game(agent, seed=2024, max_steps=cfg.dream.max_steps, real_z=cfg.dream.real_z)
dist = wall_distance(game["y"])
shares = {w: float(np.mean(s)) for w, s in (("left", game["actions"] < -1 / 3), ("right", game["actions"] > 1 / 3))}
shares["stay"] = 1 - shares["left"] - shares["right"]
fig, (a1, a2) = plt.subplots(2, 1, figsize=(8, 4), sharex=True)
a1.plot(dist, lw=1); a1.axhline(WALL_MARGIN, color="red", ls="--", lw=0.8, label=f"at a wall (< {WALL_MARGIN:g})")
a1.set_ylabel("to the nearer wall"); a1.legend(fontsize=7)
a2.plot(game["done_prob"], lw=1, color="tab:purple"); a2.set_ylabel("M's death belief"); a2.set_xlabel("step")
a1.set_title(f"{who}: one real game (seed 2024)", fontsize=9)
fig.tight_layout(); plt.show()
md(f"{who} lived {game['steps']} steps ({'died' if game['died'] else 'reached the cap'}): left "
   f"{shares['left']:.0%}, stay {shares['stay']:.0%}, right {shares['right']:.0%}; "
   f"{np.mean(dist < WALL_MARGIN):.0%} of its steps at a wall; M's largest death belief in its last five steps "
   f"{np.max(game['done_prob'][-5:]):.2f}.")

# %% tags=["check"]
assert len(dist) == game["steps"] and np.all(dist >= -1) and abs(sum(shares.values()) - 1) < 1e-9

# %% [markdown]
# ## 3. The levers, and what each one is worth
#
# Nine changes, each a setting of the laptop profile (`wmlib/config.py`),
# closed the gap between dream and game. The first four make the dream
# harder to cheat; the next three bring the controller's own real games into
# M's data and into the choice of C; the last two train M better at the
# laptop's compute.

# %%
lev = levers["facts"]["levers"]
md("\n".join(["| lever | setting | why |", "|---|---|---|"]
             + [f"| {x['name']} | `{x['config']}` | {x['why']} |" for x in lev]))

# %% [markdown]
# The ablation: the first four levers together (on the shipped V of that
# time), then each removed in turn. Every row names the command that
# re-runs it.

# %%
history.show(levers)
rows = [r for r in levers["rows"] if r["dream"] is not None]
fig, ax = plt.subplots(figsize=(8, 3))
y = np.arange(len(rows))
ax.barh(y - 0.2, [M(r["dream"]) for r in rows], 0.4, label="dream", color="tab:blue")
ax.barh(y + 0.2, [M(r["real"]) for r in rows], 0.4, label="real game", color="tab:orange")
ax.axvline(M(rnd["real"]), color="grey", ls=":", label="random policy (real)")
ax.set_yticks(y, [r["setting"] for r in rows], fontsize=7); ax.invert_yaxis()
ax.set_xlabel("steps survived (mean of 100)"); ax.legend(fontsize=7); fig.tight_layout(); plt.show()

# %%
recipe = next(r for r in levers["rows"] if r["setting"].startswith("first four"))
cont = next(r for r in levers["rows"] if "continuous" in r["setting"])
thr = next(r for r in levers["rows"] if "threshold" in r["setting"])
md(f"Together the four levers lift the real score from {S(paper_row['real'])} to **{S(recipe['real'])}** while "
   f"the dream score falls from {M(paper_row['dream']):.0f} to {M(recipe['dream']):.0f}: a dream that is harder "
   f"to cheat. Let M read the controller's continuous action again and the real score drops to "
   f"{S(cont['real'])}, the wall-holder's; bring back the threshold done rule and it drops to {S(thr['real'])}.")

# %% [markdown]
# That ablation is one CMA-ES run per row, on an M of that time. Section 5
# shows how far one run's result spreads from seed to seed, so the levers
# that act on the dream or on C's input (not on the data or on what M reads,
# which need a new V or M) were switched off again on later Ms (a fresh
# clone's, and one trained longer on the same data), three CMA-ES seeds
# each, every C on the same 100 test games: each seed pairs with the
# lever-on C of the same seed on the same M. A lever can pay on one M and
# not on another.

# %%
def verdict(row, on):
    """How the lever-off arm stands against the lever on, seed by seed (beyond two standard errors)."""
    ahead = sum(p["diff"] > 2 * p["se"] for p in row["paired"])
    behind = sum(p["diff"] < -2 * p["se"] for p in row["paired"])
    n = len(row["paired"])
    return (f"{row['setting']} (`{row['set']}`): {row['mean']:.1f} against {on['mean']:.1f}; "
            f"ahead of the lever on in {ahead} of {n} seeds, behind in {behind} (beyond two standard errors)")


for name in sorted(n for n in H if n.startswith("ablation_seeds")):     # one table per M
    abl = H[name]
    history.show(abl, columns=["setting", "set", "seeds", "mean", "paired"])
    md("\n".join(f"* {verdict(r, abl['rows'][0])}" for r in abl["rows"][1:]))

# %% [markdown]
# ## 4. C's own games: iterative training, and where dreams start
#
# The paper's remedy for a dream that is wrong where the controller goes is
# to let the controller's real games into M's data (notebook 06). Two arms on
# the same fresh clone: dreams that start anywhere along the recorded games
# (random play and the rounds' games), or only at their first frames, as in
# the paper.

# %%
sr = H["starts_rounds"]
history.show(sr)
fig, ax = plt.subplots(figsize=(7, 3))
k = [r["round"] for r in sr["rows"]]
for arm, color in (("anywhere", "tab:orange"), ("first", "tab:green")):
    ax.plot(k, [M(r[f"{arm}_real"]) for r in sr["rows"]], marker="o", color=color, label=f"real, starts {arm}")
    ax.plot(k, [M(r[f"{arm}_dream"]) for r in sr["rows"]], marker="x", ls="--", color=color, alpha=0.6,
            label=f"dream, starts {arm}")
ax.axhline(M(rnd["real"]), color="grey", ls=":", label="random policy")
ax.set_xticks(k); ax.set_xlabel("round"); ax.set_ylabel("steps")
ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1)); fig.tight_layout(); plt.show()

# %%
any_real = [M(r["anywhere_real"]) for r in sr["rows"]]
first_real = [M(r["first_real"]) for r in sr["rows"]]
md(f"With dreams that start anywhere one round lifts the real score from {any_real[0]:.0f} to {any_real[1]:.0f}; "
   f"with first-frame starts it takes two rounds to reach {first_real[2]:.0f}. After that both arms oscillate "
   f"(anywhere {', '.join(f'{x:.0f}' for x in any_real[1:])}; first {', '.join(f'{x:.0f}' for x in first_real[1:])}): "
   "each round's controller finds a new place where the fine-tuned M is too kind, and the next round's games "
   "correct that place. The rounds do not converge on a controller that dodges.")

# %% [markdown]
# ### One round on the best M
#
# On the fresh clone's M one round helped. Does it help an M whose round-0
# controllers already live near the solved line, and does it carry one past
# the paper's score? Round 1 run at three CMA-ES seeds on M a (each seed's
# own round-0 controller plays the round's real games), every controller on
# the same 100 test games as its round 0:

# %%
r1 = H.get("round1_seeds")
if r1 is not None and r1["rows"]:
    history.show(r1)
    ra_ = [r for r in r1["rows"] if r["m"].startswith("M a")]
    if ra_:
        up_ = [r for r in ra_ if r["paired"]["diff"] > 2 * r["paired"]["se"]]
        down_ = [r for r in ra_ if r["paired"]["diff"] < -2 * r["paired"]["se"]]
        r0m, r1m = (np.mean([M(r[k]) for r in ra_]) for k in ("round0", "round1"))
        md(f"On M a round 1 lives {r1m:.1f} real steps over {len(ra_)} seeds (round 0: {r0m:.1f}); paired per seed "
           + ", ".join(S(r["paired"]) for r in ra_) + ": "
           + (f"ahead beyond twice the standard error at {len(up_)} seed(s), behind at {len(down_)}. ")
           + (f"Above the paper's {paper.DOOM_TEMPERATURE[1.15][1][0]:,} on average? "
              + ("Yes." if r1m > paper.DOOM_TEMPERATURE[1.15][1][0] else "No."))
           + (" The round that lifted the poorer M's controller does not lift the good M's on average: it corrects "
              "a dream where C's own games show it wrong, perhaps because M a's round-0 controllers left it less to "
              "correct." if r1m <= r0m else ""))
    rb_ = [r for r in r1["rows"] if r["m"].startswith("M b")]
    if len(rb_) > 1:  # the fresh clone's own M: what `reproduce doom --rounds 1` gives on this box, seed by seed
        b0m, b1m = (np.mean([M(r[k]) for r in rb_]) for k in ("round0", "round1"))
        md(f"On M b, the fresh clone's M, round 1 lives {b1m:.1f} real steps over {len(rb_)} seeds (round 0: "
           f"{b0m:.1f}; paired per seed " + ", ".join(S(r["paired"]) for r in rb_) + "): "
           + ("above" if b1m > 750 else "below") + " the solved line of 750 on average"
           + ("" if b1m > 750 else f", though {sum(M(r['round1']) > 750 for r in rb_)} of its {len(rb_)} seeds "
              + ("ends" if sum(M(r['round1']) > 750 for r in rb_) == 1 else "end") + " above it") + ".")

# %% [markdown]
# ## 5. The search: one CMA-ES run is one draw
#
# The same round, the same M, the same dream, five CMA-ES seeds: how far
# apart do their controllers end up in the real game?

# %%
rv = H["round1_variants"]
history.show(rv)
seeds = [r for r in rv["rows"] if r["variant"].startswith("tau 1.15") and ("seed" in r["variant"] or "default" in r["variant"])]
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.scatter([M(r["dream"]) for r in seeds], [M(r["real"]) for r in seeds], color="tab:orange")
for r in seeds:
    ax.annotate(r["variant"].replace("tau 1.15, ", "").split(" (")[0], (M(r["dream"]), M(r["real"])), fontsize=6)
ax.set_xlabel("dream score (100 dreams)"); ax.set_ylabel("real score (100 games)")
ax.set_title("five CMA-ES seeds of one round", fontsize=9); fig.tight_layout(); plt.show()

# %%
spread = rv["facts"]["seed_spread"]
dreams = sorted(M(r["dream"]) for r in seeds)
md(f"Five seeds end at {', '.join(f'{x:g}' for x in spread['reals'])} real steps ({S(spread['summary'])} over the "
   f"seeds), while four of them score {dreams[1]:.0f}-{dreams[-1]:.0f} in the dream: the dream cannot tell good "
   "seeds from bad ones. Only real games can.")

# %% [markdown]
# ### Which C? Twenty real validation games choose
#
# One CMA-ES run offers several controllers: the mean it deploys, the final
# mean, the best single candidate. Each plays 20 validation games on seeds of
# their own, never the test's, and the best becomes the round's C. Cells are
# *validation mean / test mean ± std*.

# %%
wc = H["which_c"]
history.show(wc)
pairs = [(v["validation"], M(v["test"])) for r in wc["rows"] for v in (r["deployed"], r["final"], r["best"])
         if isinstance(v, dict) and "validation" in v]

# %% [markdown]
# Do the validation games order the controllers as the test games do? What
# matters for a choice is the *order*, not the numbers, so the measure is
# Spearman's rank correlation: replace each score by its rank (0 for the
# lowest, 1 for the next, ...) and take the ordinary correlation of the two
# lists of ranks. It is 1 when both lists put the controllers in the same
# order, -1 when one reverses the other. Write it (scores rarely tie here:
# ignore ties).

# %% nbgrader={"grade": false, "grade_id": "07-rank-correlation", "locked": false, "schema_version": 3, "solution": true}
def rank_correlation(x, y):
    """Spearman's rank correlation of two lists of scores of the same length, without ties -> a float."""
    ### BEGIN SOLUTION
    def ranks(v):
        order = np.argsort(v)
        out = np.empty(len(v))
        out[order] = np.arange(len(v))
        return out

    return float(np.corrcoef(ranks(np.asarray(x, float)), ranks(np.asarray(y, float)))[0, 1])
    ### END SOLUTION

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "07-rank-correlation-test", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["check"]
assert np.isclose(rank_correlation([1, 2, 3, 4], [10, 20, 30, 40]), 1.0)
assert np.isclose(rank_correlation([1, 2, 3, 4], [40, 30, 20, 10]), -1.0)
### BEGIN HIDDEN TESTS
g = np.random.default_rng(0)
for _ in range(5):
    a, b = g.normal(size=12), g.normal(size=12)
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    expected = 1 - 6 * np.sum((ra - rb) ** 2) / (12 * (12 ** 2 - 1))   # Spearman's formula, without ties
    assert np.isclose(rank_correlation(a, b), expected), (rank_correlation(a, b), expected)
    assert np.isclose(rank_correlation(a, np.exp(3 * b)), rank_correlation(a, b)), "only the order counts"
### END HIDDEN TESTS

# %%
val, test = np.array(pairs).T
rho = rank_correlation(val, test)
fig, ax = plt.subplots(figsize=(4, 3.5))
ax.scatter(val, test, s=12); ax.plot([150, 800], [150, 800], color="grey", ls=":", lw=0.8)
ax.set_xlabel("validation games (20)"); ax.set_ylabel("test games (100)")
ax.set_title(f"{len(pairs)} distinct validation / test pairs", fontsize=9); fig.tight_layout(); plt.show()
facts = wc["facts"]
md(f"Over the {len(pairs)} validation / test pairs in the table the rank correlation is {rho:.2f} (the log: "
   f"{facts['spearman']} over all {facts['cs_ranked']} Cs, several listed twice). Within a run the choice took the "
   f"controller with the better test score in {facts['right_choice'][0]} of {facts['right_choice'][1]} runs, "
   f"adding {facts['gain_over_deployed']} steps to the deployed controller on average. C's weights still come "
   "from the dream alone; real games only choose among what the dream produced.")

# %% tags=["check"]
assert rho > 0.8, "the validation games should rank controllers as the test games do"

# %% [markdown]
# The default now offers every generation's best candidate too (screened on
# 5 games, the best three on 20), and a longer run may evolve several CMA-ES
# runs per round and let the validation games choose among all of them:

# %%
history.show(H["screen"])
history.show(H["restarts"])
rf = H["restarts"]["facts"]
md(f"Screening every generation's best gives {S(H['screen']['facts']['over_seeds'])} over three seeds against "
   f"{S(H['screen']['facts']['three_cs_over_seeds'])} with three controllers per run. Three CMA-ES runs per round "
   f"add {S(rf['paired_three'])} steps on the same 100 test games (paired standard error; longer in "
   f"{rf['paired_three']['longer_in']} of 100) for {rf['paired_three']['minutes']} more minutes; two runs of half "
   f"the generations add {S(rf['paired_two_by_ten'])}: the gain is bought with more search, not another split of it.")

# %% [markdown]
# ## 6. M's training against the real score
#
# The largest effects measured at laptop scale came from M, not from C: how
# it is batched, how its learning rate falls, and how long it trains. The
# held-out NLL barely moves; the real score of the controller its dream
# teaches moves a lot.

# %%
history.show(H["m_batching"])
history.show(H["lr_schedule"])
lr = H["lr_schedule"]["facts"]
md(f"On the same data, V, seed and compute, letting M's rate decay makes round 0's controller live "
   f"{S(lr['paired_seed0'])} steps longer on the same 100 test games (longer in {lr['paired_seed0']['longer_in']}), "
   f"and {S(lr['paired_seed1'])} at a second CMA-ES seed.")

# %%
history.show(H["m_epochs"], columns=["m", "nll", "real0_seeds", "real0_mean", "real1"])
history.show(H["m_epochs_gpu"])
ep = H["m_epochs_gpu"]["rows"]
epochs = [40, 80, 160]
fig, a1 = plt.subplots(figsize=(6, 3))
a1.plot(epochs, [r["real0_mean"] for r in ep], marker="o", color="tab:orange", label="round 0, real (mean of 3 seeds)")
for e, r in zip(epochs, ep):
    a1.scatter([e] * 3, [M(x) for x in r["real0_seeds"]], color="tab:orange", s=8, alpha=0.5)
a1.set_xscale("log", base=2); a1.set_xticks(epochs, [str(e) for e in epochs])
a1.set_xlabel("M's epochs (cosine rate, same data)"); a1.set_ylabel("real steps")
a2 = a1.twinx()
a2.plot(epochs, [r["nll"] for r in ep], marker="s", color="tab:blue", label="held-out NLL")
a2.set_ylabel("held-out NLL (nats / dim)")
fig.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.12, 0.88)); fig.tight_layout(); plt.show()

# %%
nll = [r["nll"] for r in ep]
real = [r["real0_mean"] for r in ep]
md(f"From {epochs[0]} to {epochs[-1]} epochs the held-out NLL moves from {nll[0]} to {nll[-1]} while round 0's "
   f"controller goes from {real[0]} to {real[-1]} real steps (mean of three CMA-ES seeds; the {epochs[-1]}-epoch M "
   "was trained on a GPU with the laptop recipe). A small step in M's fit is a large step in what its dream teaches.")

# %% tags=["check"]
assert real == sorted(real) and nll == sorted(nll, reverse=True)

# %% [markdown]
# ### How much of one run is its seed's luck?
#
# Every score above is one CMA-ES run's. The same M, the same dream and the
# same 100 test games, with only CMA-ES's seed changed, give controllers far
# apart; choosing among three runs on 20 real validation games (the lever
# rounds 1 and later use) is a weak judge of which is best; and M itself,
# trained twice by the same seeded command, is not the same M twice.

# %%
rs = H["round0_seeds"]
history.show(rs)
f = rs["facts"]
ms_ = list(dict.fromkeys(r["m"] for r in rs["rows"]))   # the Ms in the record's order
plot_seeds({f"M {m}": [M(r["test"]) for r in rs["rows"] if r["m"] == m] for m in ms_}); plt.show()
rows80_ = [r for r in rs["rows"] if r["m"].startswith("80")]
best = max(rows80_, key=lambda r: M(r["test"]))
worst = min(rows80_, key=lambda r: M(r["test"]))
md(f"On the {f['m80_one_run']['seeds']} seeds of the earlier default's M (80 epochs) one run's controller lives "
   f"{f['m80_one_run']['mean']} ± {f['m80_one_run']['std']} real steps (mean ± std over seeds; from "
   f"{M(worst['test'])} to {M(best['test'])}). Three runs chosen on 20 validation games score "
   f"{f['m80_chosen']['mean']} ± {f['m80_chosen']['std']} over {f['m80_chosen']['groups']} such choices: a little "
   "better than one run, for three times the search.")
tw_, a_, b_ = f["m160_twins"], f["m160_one_run"], f["default_one_run"]
md(f"The same seeded command trained the 160-epoch M twice on the same data and V, on the same box: M a while other "
   f"runs loaded the box, M b from a fresh clone with the box idle. Their first training losses agree to six digits "
   f"({tw_['first_losses_a'][2]:.7f} and {tw_['first_losses_b'][2]:.7f} at step 3); floating-point rounding then "
   f"compounds over {tw_['steps']:,} steps into Ms with held-out NLLs of {tw_['val_nll_a']} and {tw_['val_nll_b']}, "
   f"whose dreams teach controllers living {a_['mean']} ± {a_['std']} and {b_['mean']} ± {b_['std']} real steps "
   f"({a_['seeds']} CMA-ES seeds each). Paired over the same 100 test games, seed by seed, M b's controller lives "
   + ", ".join(f"{p['mean']:+.1f} ± {p['se']:.1f}" for p in tw_["paired_b_minus_a"])
   + " steps against M a's (± the standard error): "
   + ("every one beyond twice its standard error. " if all(abs(p["mean"]) > 2 * p["se"] for p in tw_["paired_b_minus_a"])
      else "not every one beyond twice its standard error. ")
   + "M's training run is a draw, as CMA-ES's seed is: a recipe measured on one M is measured once.")
mf_ = f["m_seed1_one_run"]
three_ = [a_["mean"], b_["mean"], mf_["mean"]]
md(f"A third M of the same settings, with only M's seed changed (1 for 0) on the same data and V, teaches controllers "
   f"living {mf_['mean']} ± {mf_['std']} real steps ({mf_['seeds']} CMA-ES seeds; held-out NLL {mf_['val_nll']}). "
   f"Over the three Ms the default's controller lives {np.mean(three_):.1f} real steps on average, "
   + (f"above the {paper.DOOM_SOLVED} that count as solved" if np.mean(three_) > paper.DOOM_SOLVED
      else f"below the {paper.DOOM_SOLVED} that count as solved")
   + f", with {sum(x > paper.DOOM_SOLVED for x in three_)} of the three Ms above it.")
fast = [M(r["test"]) for r in rs["rows"] if "buckets" in r["m"]]
within = min(a_["mean"], b_["mean"]) <= np.mean(fast) <= max(a_["mean"], b_["mean"])
md(f"M trained 160 epochs at the laptop default of that time: a fresh clone's `python -m wmlib reproduce doom` ends after "
   f"{f['default_minutes']} min on 2 cores (that is M b), "
   f"{sum(t > paper.DOOM_SOLVED for t in b_['tests'])} of its {b_['seeds']} seeds above the "
   f"{paper.DOOM_SOLVED} steps that count as solved. Batching the same windows by length (recipe `doom-m-buckets`) "
   f"trains M faster; its M's controllers lived {', '.join(f'{x:.1f}' for x in fast)} real steps "
   f"({len(fast)} seeds), " + ("within the spread of the two Ms above: neither shown better nor worse."
                                if within else f"{'below' if np.mean(fast) < b_['mean'] else 'above'} both Ms above; "
                                "but it is one more M, so it says as much about M's luck as about the batching."))

# %% tags=["check"]
assert b_["tests"] == [M(r["test"]) for r in rs["rows"] if r["m"] == b_["m"]] and len(b_["tests"]) == b_["seeds"]
m80 = [M(r["test"]) for r in rs["rows"] if r["m"].startswith("80")]
assert np.isclose(np.mean(m80), f["m80_one_run"]["mean"], atol=0.1) and len(m80) == f["m80_one_run"]["seeds"]
assert all(g["test"] == max((r for r in rs["rows"] if r["m"].startswith("80") and r["seed"] in g["seeds"]),
                            key=lambda r: r["validation"])["test"]["mean"] for g in f["m80_groups"])

# %% [markdown]
# ### A smaller M, on one thread
#
# At the laptop's batch (8 windows of 100 steps) each LSTM step multiplies
# matrices of 8 rows: too small to pay for a second thread's
# synchronisation. On one thread a 256-unit M (the size of the paper's car
# M) trains faster than on two, while Doom's 512-unit M gains nothing from
# the second thread (`python benchmarks/mdnrnn_threads.py` measures both).
# So the minutes the 512-unit M spent on 160 epochs buy the smaller M 270
# epochs with time to spare. Two
# such Ms (M's seeds 0 and 1) on the data and V of the Intel box's fresh
# clone, beside the 512-unit Ms trained on the same data:

# %%
same_data_ = [k for k in ("m_h_one_run", "m_i_one_run", "m_j_one_run", "m_k_one_run") if k in f]
if len(same_data_) < 4:
    md("No record of the 256-unit Ms yet.")
else:
    longer_ = [k for k in ("m_l_one_run", "m_m_one_run") if k in f]    # the same two seeds of M, 540 epochs
    plot_seeds({f[k]["m"].split(" (")[0].replace(": ", "\n"): f[k]["tests"] for k in same_data_ + longer_},
               fontsize=6); plt.show()
    h_, i_, j_, k_ = (f[k] for k in same_data_)
    small_ = [j_["mean"], k_["mean"]]
    n_ = sum(x > paper.DOOM_SOLVED for x in small_)
    md(f"On the same data and V, the 512-unit M of 160 epochs (M h, {h_['m_minutes']} min of training) teaches "
       f"controllers living {h_['mean']} ± {h_['std']} real steps, the 512-unit M of "
       f"240 epochs (M i, {i_['m_minutes']} min) {i_['mean']} ± {i_['std']}; the two 256-unit Ms of 270 epochs "
       f"({j_['m_minutes']} min each, trained side by side) {j_['mean']} ± {j_['std']} and {k_['mean']} ± {k_['std']} "
       f"({j_['seeds']} CMA-ES seeds each). "
       + (f"Both smaller Ms beat both larger ones, in less time: the laptop default's M is now the smaller one. "
          if min(small_) > max(h_["mean"], i_["mean"]) else "")
       + (f"Both are above the {paper.DOOM_SOLVED} steps that count as solved." if n_ == 2 else
          f"{n_} of the two is above the {paper.DOOM_SOLVED} steps that count as solved: M's training run is still "
          "a draw."))
    if len(longer_) == 2:
        l_, m2_ = (f[k] for k in longer_)
        md(f"Twice the epochs for the same two seeds of M (recipe `doom-m540`, {l_['m_minutes']} and "
           f"{m2_['m_minutes']} min, side by side): {l_['mean']} ± {l_['std']} and {m2_['mean']} ± {m2_['std']} "
           f"against {j_['mean']} and {k_['mean']} at 270 epochs; "
           + ("both higher" if l_["mean"] > j_["mean"] and m2_["mean"] > k_["mean"] else
              "both lower" if l_["mean"] < j_["mean"] and m2_["mean"] < k_["mean"] else "one higher, one lower")
           + f", {sum(x['mean'] > paper.DOOM_SOLVED for x in (l_, m2_))} of the two above {paper.DOOM_SOLVED}.")
    r1k_ = [r for r in H["round1_seeds"]["rows"] if r["m"].startswith("M k")]
    if r1k_:
        md(f"One iterative round on M k (`--rounds 1`, {np.mean([r['round1_minutes'] for r in r1k_]):.1f} min a round): "
           f"{np.mean([M(r['round1']) for r in r1k_]):.1f} real steps over its {len(r1k_)} CMA-ES seeds, paired against "
           "each seed's round 0 " + ", ".join(f"{r['paired']['diff']:+.1f} ± {r['paired']['se']:.1f}" for r in r1k_)
           + (": level, none beyond twice its standard error. The round helps a run whose first controller lives far short of solved "
              "(section 4), and M k's is already near solved." if all(abs(r["paired"]["diff"]) < 2 * r["paired"]["se"] for r in r1k_)
              else "."))

# %% [markdown]
# ### Dropout: every dream its own M
#
# If M's luck decides what its dream teaches, a controller should not be
# able to rely on one M's flaws. "Dropout's Dream Land" (Wellmer and Kwok,
# 2021) trains M with dropout and keeps dropout on in the dream: each dream
# episode zeroes its own share of M's units, so every episode is dreamt by a
# slightly different M, and a cheat that one M allows is punished by most of
# the others. Two arms on the same M (trained with dropout 0.1 on its LSTM
# output, on the same data and V as the default's M b): C evolved in the plain
# dream (recipe `doom-dropout`) and in dreams with one mask per episode
# (recipe `doom-dream-dropout`, `dream.dropout = 0.1`), three CMA-ES seeds
# each, every C on the same 100 test games.

# %%
dd = H["dropout"]
history.show(dd)
fd = dd["facts"]
arms_ = list(dict.fromkeys((r["m"], r["dream"]) for r in dd["rows"]))   # (M, dream) in the record's order
plot_seeds({f"{m.split(': ')[-1]}\n{d}": [M(r["test"]) for r in dd["rows"] if (r["m"], r["dream"]) == (m, d)]
            for m, d in arms_}, fontsize=6); plt.show()

# %%
def arm_(m, masked):
    return next(v for k, v in fd["arms"].items() if k.startswith(m) and ("mask" in k) == masked)

def agreement(ps):
    """"ahead" or "behind" when every seed's paired difference is beyond twice its standard error that way."""
    if all(p["diff"] > 2 * p["se"] for p in ps):
        return "ahead"
    if all(p["diff"] < -2 * p["se"] for p in ps):
        return "behind"
    return None

def paired_words(ps):
    """Seed-by-seed paired differences, and whether they agree beyond twice their standard errors."""
    out = ", ".join(f"{p['diff']:+.1f} ± {p['se']:.1f}" for p in ps)
    way = agreement(ps)
    return out + (f": {way} on every seed, each beyond twice its standard error" if way else
                  ": the seeds do not agree in sign beyond twice their standard errors")

ms_d = [m for m in fd["paired_masked_minus_plain"] if fd["paired_masked_minus_plain"][m]]
for m in ms_d:
    plain_, masked_ = arm_(m, False), arm_(m, True)
    md(f"On {m.split(': ')[-1]}, controllers evolved in masked dreams live {masked_['mean']} ± {masked_['std']} real "
       f"steps ({masked_['seeds']} CMA-ES seeds) against {plain_['mean']} ± {plain_['std']} in its plain dream. "
       f"Paired over the same 100 test games, seed by seed (masked minus plain, ± the standard error): "
       + paired_words(fd["paired_masked_minus_plain"][m]) + ".")
b_ = next(v for k, v in fd["arms"].items() if "M b" in k)
dreams_ = lambda masked: np.mean([r["dream_score"] for r in dd["rows"]
                                  if r["m"] in ms_d and ("mask" in r["dream"]) == masked])
harder_ = dreams_(True) < dreams_(False)
def lift_(m):
    """Masked minus plain on M m: the mean over CMA-ES seeds of the paired differences, and its standard error."""
    d = [p["diff"] for p in fd["paired_masked_minus_plain"][m]]
    return np.mean(d), np.std(d, ddof=1) / np.sqrt(len(d))
lifted_ = all(lift_(m)[0] > 2 * lift_(m)[1] for m in ms_d)
m_means_ = [arm_(m, False)["mean"] for m in ms_d] + [b_["mean"], f["m160_one_run"]["mean"], mf_["mean"]]
spread_ = max(m_means_) - min(m_means_)
verdict_ = ("lifted the real score on every M measured, beyond twice the standard error over CMA-ES seeds" if lifted_ else
            "did not lift the real score beyond twice the standard error over CMA-ES seeds on every M measured ("
            + ", ".join(f"{m.split(': ')[-1]}: {lift_(m)[0]:+.1f} ± {lift_(m)[1]:.1f}" for m in ms_d)
            + "): at this size the lever is not kept, and the default dreams plainly")
md(f"Dropout in M's training alone (the plain dream) on the same data and V: "
   + ", ".join(f"{m.split(': ')[-1]} {arm_(m, False)['mean']} ± {arm_(m, False)['std']}" for m in ms_d)
   + f" against M b's {b_['mean']} ± {b_['std']} and M a's {f['m160_one_run']['mean']} ± {f['m160_one_run']['std']} "
   f"without it (held-out NLL "
   + ", ".join(f"{fd['val_nll'][k]}" for k in ("d", "e") if k in fd["val_nll"]) + f" against {fd['val_nll']['b']}). "
   + (f"Each M is one draw, and the draws spread wider ({spread_:.0f} steps between the Ms' means) than the "
      "masks moved any M's mean. " if spread_ > max(abs(lift_(m)[0]) for m in ms_d) else "")
   + (f"The masked dreams are harder (lower dream scores), and they {verdict_}." if harder_
      else f"The masked dreams {verdict_}."))

# %% tags=["check"]
for m in ms_d:
    got = [M(r["test"]) for r in dd["rows"] if r["m"] == m and "mask" in r["dream"]]
    assert np.isclose(np.mean(got), arm_(m, True)["mean"], atol=0.1) and len(got) == arm_(m, True)["seeds"]

# %% [markdown]
# ### C's inputs: the cell state drowns the rest
#
# Doom's C reads $[z, c, h]$ with one weight per input, as in the paper. But
# $c$, the LSTM's cell state, is not squashed by a tanh as $h$ is: along the
# recorded games its norm is tens of times $z$'s. CMA-ES starts every weight
# with the same step ($\sigma_0 = 0.1$), so from its first generation a few
# large cells decide the action, and what V sees and M's $h$ barely count.
# CMA-ES adapts its covariance, but a handful of generations cannot undo
# scales this uneven. The lever (`dream.input_scale`): search C as if each
# input (`rms`) or each block $z$, $c$, $h$ (`block`) had a root mean
# square of 1 along the recorded games. C is linear, so that is the same
# controller as weights $W / \mathrm{rms}$ on the raw inputs: CMA-ES searches
# scaled coordinates, and the deployed C is an ordinary one. Each arm below
# ran on a copy of an M whose raw-input controllers were measured before,
# three CMA-ES seeds, every C on the same 100 test games.

# %%
xs = H.get("input_scale")
if xs is None:
    md("No record of the input-scale arms yet.")
else:
    history.show(xs)
    fx = xs["facts"]
    n_ = fx["norms_b"]
    md(f"Along M b's {n_['steps']:,} recorded steps the mean norm of $z$ is {n_['z']}, of $h$ {n_['h']}, and of $c$ "
       f"{n_['c']}; one cell's RMS is as small as {n_['c_unit_rms'][0]}, another's as large as {n_['c_unit_rms'][1]} "
       f"(`{fx['norms_command']}`).")
    arms_x = list(dict.fromkeys((r["m"], r["search"]) for r in xs["rows"]))
    plot_seeds({f"{m.split(' (')[0]}\n{sr_.split(' (')[-1].rstrip(')')}": [M(r["test"]) for r in xs["rows"]
                                                                         if (r["m"], r["search"]) == (m, sr_)]
                for m, sr_ in arms_x}, fontsize=6); plt.show()

# %%
if xs is not None:
    for key_, ps_ in fx["paired_minus_raw"].items():
        m_, search_ = key_.split(" | ")
        a_x, raw_x = fx["arms"][key_], next(v for k, v in fx["arms"].items() if k.startswith(m_) and "raw" in k)
        md(f"On {m_.split(' (')[0]}, {search_}: {a_x['mean']} ± {a_x['std']} real steps ({a_x['seeds']} CMA-ES seeds) "
           f"against {raw_x['mean']} ± {raw_x['std']} with raw inputs. Paired over the same 100 test games, seed by "
           f"seed (scaled minus raw, ± the standard error): " + paired_words(ps_) + ".")
    lift_x = {k: (np.mean([p["diff"] for p in ps_]), np.std([p["diff"] for p in ps_], ddof=1) / np.sqrt(len(ps_)))
              for k, ps_ in fx["paired_minus_raw"].items()}
    up_x = [k for k, (d_, se_) in lift_x.items() if d_ > 2 * se_]
    down_x = [k for k, (d_, se_) in lift_x.items() if d_ < -2 * se_]
    short_ = lambda k: f"{k.split(' (')[0]} {k.split(' | ')[1].split(' (')[-1].rstrip(')')}"
    md("Mean over CMA-ES seeds of the paired differences (scaled minus raw, ± its standard error over seeds): "
       + ", ".join(f"{short_(k)} {d_:+.1f} ± {se_:.1f}" for k, (d_, se_) in lift_x.items()) + ". "
       + (f"Up beyond twice its standard error: {', '.join(short_(k) for k in up_x)}. " if up_x else "")
       + (f"Down beyond twice its standard error: {', '.join(short_(k) for k in down_x)}. " if down_x else "")
       + ("Scaling C's inputs lifts the real score on every M measured." if len(up_x) == len(lift_x) else
          "The scaled search lifts some Ms and sinks others: like M's own training run, the search's coordinates "
          "change which of the dream's cheats C finds, not whether it finds one. Scaling C's inputs is not kept."
          if up_x and any(d_ < 0 for d_, _ in lift_x.values()) else
          "Scaling C's inputs is not shown to help: it is not kept."))
    rms_ms_ = [k.split(" | ")[0] for k in lift_x if "rms" in k]
    mean_of_ = lambda search: np.mean([v["mean"] for k, v in fx["arms"].items()
                                       if k.split(" | ")[0] in rms_ms_ and search in k.split(" | ")[1]])
    md(f"Over the {len(rms_ms_)} Ms with both searches, the mean of the Ms' means: raw {mean_of_('raw'):.1f}, "
       f"scaled {mean_of_('rms'):.1f}.")
    ch_ = fx.get("choice", {})
    if ch_:
        md("If neither search is reliably better, run both and let real games choose: for each M, the C of the "
           "better of two runs on 20 real validation games (never the test games), averaged over every pair of "
           "runs. Two raw runs against one raw and one scaled run (the same cost): "
           + "; ".join(f"{m.split(' (')[0]} {c['raw_two']} against {c['raw_and_rms']} (one raw run {c['raw_one']}, "
                       f"one scaled {c['rms_one']})" for m, c in ch_.items())
           + f". Over these {len(ch_)} Ms: {np.mean([c['raw_two'] for c in ch_.values()]):.1f} against "
           f"{np.mean([c['raw_and_rms'] for c in ch_.values()]):.1f}.")
        gain_ = np.array([c["raw_and_rms"] - c["raw_two"] for c in ch_.values()])
        gse_ = gain_.std(ddof=1) / np.sqrt(len(gain_))
        md(f"Per M, the mixed pair minus the raw pair: {gain_.mean():+.1f} ± {gse_:.1f} over the Ms: "
           + ("beyond twice its standard error: a second search of another kind pays more than a second seed."
              if gain_.mean() > 2 * gse_ else
              f"not beyond twice its standard error: it rescues the M whose raw search fails on every seed "
              f"(+{gain_.max():.1f}) and costs up to {-gain_.min():.1f} elsewhere; {len(gain_)} Ms do not show "
              "that a second kind of search beats a second seed."
              if gain_.max() > 2 * abs(gain_.min()) else
              "not beyond twice its standard error."))

# %% [markdown]
# ### Which M teaches?
#
# Six Ms trained on the same data and V (three with the default's
# settings, two with dropout, one on windows batched by length) teach
# controllers of very different worth,
# while their held-out NLLs differ in the fourth decimal. The dream itself
# can be asked instead: how long does standing still, or holding one side,
# or pressing at random, live in each M's dream?

# %%
mdx = H.get("m_dreams")
if mdx is not None:
    history.show(mdx)
    rows_m = mdx["rows"]
    rg_ = mdx["facts"]["real_game"]
    md(f"Their controllers live from {min(M(r['real']) for r in rows_m)} to {max(M(r['real']) for r in rows_m)} real "
       f"steps. In the real game standing still lives {rg_['stay']} steps, holding left {rg_['hold_left']} and "
       f"holding right {rg_['hold_right']}; {rg_['text']}.")
    real_m = np.array([M(r["real"]) for r in rows_m])
    pols_ = {"stay": "stay", "left": "hold left", "right": "hold right", "random": "random"}
    corr_ = {k: float(np.corrcoef([r[k] for r in rows_m], real_m)[0, 1]) for k in pols_}
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.scatter([r["stay"] for r in rows_m], real_m)
    for r in rows_m:
        ax.annotate(r["m"].split(" (")[0], (r["stay"], M(r["real"])), textcoords="offset points", xytext=(4, 4))
    ax.axhline(paper.DOOM_SOLVED, ls=":", c="gray")
    ax.set_xlabel("standing still: mean steps lived in the M's dream")
    ax.set_ylabel("its Cs: real steps (3 seeds)")
    plt.show()
    best2 = sorted(rows_m, key=lambda r: -M(r["real"]))[:2]
    mildest2 = sorted(rows_m, key=lambda r: r["stay"])[:2]
    md(f"Correlation over the {len(rows_m)} Ms between how long a constant action lives in the dream and how "
       "long the M's controllers live in the real game: "
       + ", ".join(f"{pols_[k]} {v:+.2f}" for k, v in corr_.items()) + ". "
       + ("The two Ms that teach best are the two whose dream lets standing still live least long: a hint that a "
          "dream lenient to idleness teaches a controller to idle. "
          if {r["m"] for r in best2} == {r["m"] for r in mildest2} else
          "The Ms that teach best are not simply those whose dream punishes standing still: "
          f"standing still dies soonest in the dreams of {' and '.join(r['m'].split(' (')[0] for r in mildest2)}, "
          f"while {' and '.join(r['m'].split(' (')[0] for r in best2)} teach best. ")
       + f"{len(rows_m)} Ms are too few for a law; unlike the NLL (from {min(r['nll'] for r in rows_m)} to "
       f"{max(r['nll'] for r in rows_m)}), this measure costs seconds of dreaming and no real game.")

# %% [markdown]
# ### A hotter dream?
#
# Every M above lets standing still live longer in its dream than in the
# game. The temperature $\tau$ is the paper's knob for an honest dream: it
# flattens M's mixture weights and widens each Gaussian, so more of what M
# thinks could happen does happen. Does heating the dream take the idler's
# refuge away? The same constant actions in each M's dream at five
# temperatures, every temperature from the same starts, beside the same
# actions played in real games:

# %%
heat = H.get("dream_heat")
if heat is not None:
    history.show(heat)
    real_h = heat["facts"]["real_game"]
    md(f"In {heat['facts']['real_games']} real games standing still lives {S(real_h['stay'])} steps, holding left "
       f"{S(real_h['left'])}, holding right {S(real_h['right'])}, a random action each step {S(real_h['random'])}.")
    ms_h = list(dict.fromkeys(r["m"] for r in heat["rows"]))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    for ax, pol, label in ((axes[0], "stay", "standing still"), (axes[1], "right", "holding right")):
        for m_ in ms_h:
            rr = [r for r in heat["rows"] if r["m"] == m_]
            ax.plot([r["tau"] for r in rr], [r[pol] for r in rr], marker="o", label=m_.split(" (")[0])
        ax.axhline(M(real_h[pol]), ls=":", c="k", label="the real game")
        ax.set_xlabel(r"$\tau$")
        ax.set_title(label)
    axes[0].set_ylabel("mean steps lived in the dream")
    axes[1].legend(fontsize=7)
    plt.show()

    def change(pol):  # each M's survival at the hottest tau over its survival at the coldest
        out = []
        for m_ in ms_h:
            rr = sorted((r for r in heat["rows"] if r["m"] == m_), key=lambda r: r["tau"])
            out.append(rr[-1][pol] / rr[0][pol])
        return np.array(out)

    taus_h = sorted({r["tau"] for r in heat["rows"]})
    stay_c, right_c = change("stay"), change("right")
    hot_stay = [r["stay"] / M(real_h["stay"]) for r in heat["rows"] if r["tau"] == taus_h[-1]]
    hot_lo, hot_hi = min(hot_stay), max(hot_stay)
    md(f"From $\\tau$ = {taus_h[0]:g} to {taus_h[-1]:g}, holding right's dream life changes by a factor of "
       f"{right_c.min():.2f} to {right_c.max():.2f} across the {len(ms_h)} Ms, standing still's by "
       f"{stay_c.min():.2f} to {stay_c.max():.2f}"
       + (": the heat takes away the refuge of holding one side more than the refuge of standing still. "
          if np.mean(stay_c) > np.mean(right_c) + 0.1 else
          ": heat shortens both, by at most about half, and by different amounts in different Ms. ")
       + f"At the hottest temperature standing still lives {hot_lo:.1f} to {hot_hi:.1f} times as long as in the game"
       + (": what lets the idler live is not M's uncertainty about the next frame, which $\\tau$ scales, but what "
          "M believes about a world where nothing moves." if hot_lo > 1.2 else "."))
    md_ = H.get("m_dreams")
    if md_ is not None:  # how kind each M's dream is at the default tau, against how well its Cs live
        kind_ = {r["m"]: r["kindness"] for r in heat["rows"] if r["tau"] == 1.15}
        both_ = [(kind_[r["m"]], M(r["real"])) for r in md_["rows"] if r["m"] in kind_]
        if len(both_) > 2:
            r_ = float(np.corrcoef(*zip(*both_))[0, 1])
            md(f"At $\\tau$ = 1.15 the dreams are {min(k for k, _ in both_):.2f} to {max(k for k, _ in both_):.2f} "
               f"times as kind as the game (the mean of the four policies' ratios); over the {len(both_)} Ms that "
               f"kindness and the real score of the Ms' controllers correlate at {r_:+.2f}.")

# %% [markdown]
# Whatever a constant action does, the question that counts is the
# controller's. Round 0's C evolved at $\tau$ = 1.6 on each M, three CMA-ES
# seeds, every C on the same 100 test games as the same seed's C at the
# paper's 1.15:

# %%
hotc = H.get("hot_dream")
if hotc is not None:
    history.show(hotc)
    gain_h = np.array([M(r["hot"]) - M(r["raw"]) for r in hotc["rows"]])
    spread_h = float(np.std([M(r["raw"]) for r in hotc["rows"]], ddof=1)) if len(gain_h) > 1 else 0.0
    se_h = gain_h.std(ddof=1) / np.sqrt(len(gain_h))
    ahead_h, behind_h = ([r["m"].split(" (")[0] for r in hotc["rows"] if agreement(r["paired"]) == way]
                         for way in ("ahead", "behind"))
    md(f"Over the {len(gain_h)} Ms: tau 1.15 {np.mean([M(r['raw']) for r in hotc['rows']]):.1f}, tau 1.6 "
       f"{np.mean([M(r['hot']) for r in hotc['rows']]):.1f}; per M the hotter dream changes the mean by "
       + ", ".join(f"{g:+.1f}" for g in gain_h)
       + f" ({gain_h.mean():+.1f} +- {se_h:.1f} over Ms). "
       + (f"Ahead beyond twice the standard error on every seed: {', '.join(ahead_h)}. " if ahead_h else
          "No M is ahead beyond twice the standard error on every seed. ")
       + (f"Behind on every seed: {', '.join(behind_h)}. " if behind_h else "")
       + (("A hotter dream helps on average" + (", but less than the spread between Ms' own means "
                                                    f"({spread_h:.1f}): M's own training run still decides more."
                                                    if gain_h.mean() < spread_h else "."))
          if gain_h.mean() > 2 * se_h else
          "Over these Ms the hotter dream is not ahead beyond twice its standard error: M's own training run "
          f"(the Ms' means spread by {spread_h:.1f} at 1.15) decides more than the temperature."))
    xs_ = H.get("input_scale")
    if xs_ is not None:  # the raw runs' validation games (the same 20 games) are recorded with the input-scale arms
        raw_v = {}
        for r in xs_["rows"]:
            if r["search"].startswith("raw"):
                raw_v.setdefault(r["m"].split(" (")[0], {})[r["seed"]] = (r["validation"], M(r["test"]))
        best_ = {}
        for r in hotc["rows"]:
            name_ = r["m"].split(" (")[0]
            if name_ in raw_v:
                hot_v = list(zip(r["hot_validation"], r["hot_seeds"]))
                best_[name_] = (max(raw_v[name_].values())[1], max([*raw_v[name_].values(), *hot_v])[1])
        if best_:
            b3, b6 = np.mean([v[0] for v in best_.values()]), np.mean([v[1] for v in best_.values()])
            md(f"As a second kind of search instead: on the {len(best_)} Ms whose 1.15 runs played the same 20 "
               f"validation games, the best-validated of the three 1.15 runs lives {b3:.1f} real steps on average, "
               f"the best-validated of all six runs {b6:.1f}: more runs chosen on real games "
               + ("help a little, whatever their temperature." if b6 > b3 else "do not help here."))
    if heat is not None:
        kind_at = {t: np.mean([r["kindness"] for r in heat["rows"] if r["tau"] == t]) for t in (1.15, 1.6)}
        honester = kind_at[1.6] < kind_at[1.15]
        md(f"By the constant actions' measure the hotter dream is {'more' if honester else 'no more'} honest (on "
           f"average {kind_at[1.15]:.2f} times as kind as the game at 1.15, {kind_at[1.6]:.2f} at 1.6)"
           + (", yet its controllers do not live longer: the refuge C finds is not the one a constant action "
              "measures." if honester and gain_h.mean() < 2 * se_h else "."))

# %% [markdown]
# ### Dreams begun just before a death
#
# A dream begun anywhere along the recorded games mostly begins in a quiet
# stretch: a controller can score well there without ever dodging. What if a
# share of the dreams began in the last moments before the recorded player
# died, so the search is decided where dodging matters? With
# `--set dream.death_share=0.5` half the dreams begin within the last 40
# recorded steps before a death of the last player recorded: random play in
# round 0, round 0's controller (its 100 real games) in round 1; on M a
# also a fifth (`dream.death_share=0.2`); and round 1's dreams alone, on
# the plain arm's own round 0 (`--set iterate.death_share=0.5`). Recipe:
# `experiments/recipes/doom-death-starts.toml`. Three CMA-ES seeds per arm,
# every controller on the same 100 test games as the plain arm's controller
# of the same seed and round:

# %%
deaths = H.get("death_starts")
if deaths is not None and deaths["rows"]:
    history.show(deaths)
    only_ = lambda r: r.get("weighted") == "round 1 only"   # round 0 shared: the plain arm's own controller
    name_ = lambda r: (f"{r['m'].split(' (')[0]}, round {r['round']}"
                       + (" (its dreams alone weighted)" if only_(r) else ""))
    for r in deaths["rows"]:
        md(f"{name_(r)}: dreams begun anywhere {S0(r['plain'])}, "
           f"{r['share']:.0%} of them just before a death {S0(r['death'])} real steps; paired per seed "
           "(death-weighted minus plain, ± the standard error): " + paired_words(r["paired"]) + "."
           + (" What the round itself did (round 1 minus round 0 at the same seed): plain "
              + ", ".join(S(p) for p in r["round_gain_plain"]) + "; death-weighted "
              + ", ".join(S(p) for p in r["round_gain_death"]) + "." if "round_gain_plain" in r else ""))
    gain_d = np.array([M(r["death"]) - M(r["plain"]) for r in deaths["rows"]])
    ahead_d = [name_(r) for r in deaths["rows"] if agreement(r["paired"]) == "ahead"]
    md(f"Over the {len(gain_d)} comparisons (M, round, share) the death-weighted starts change the mean by "
       + ", ".join(f"{g:+.1f}" for g in gain_d) + ": "
       + ("ahead on every seed of every comparison, beyond twice the standard error: kept."
          if len(ahead_d) == len(gain_d) else
          (f"ahead on every seed beyond twice the standard error only in {'; '.join(ahead_d)}, " if ahead_d else
           "not ahead on every seed beyond twice the standard error anywhere, ")
          + "so not kept as a default"
          + (", and behind on average in round 0: a controller chosen on the last moments of random play is not "
             "the one that keeps the real game from reaching them."
             if np.mean([g for g, r in zip(gain_d, deaths["rows"]) if r["round"] == 0] or [0]) < 0 else ".")))
    for r in (r for r in deaths["rows"] if only_(r)):
        g_ = M(r["death"]) - M(r["plain"])
        md(f"Weighting round {r['round']}'s dreams alone, on the same round 0, moves {r['m'].split(' (')[0]}'s round "
           f"{r['round']} by {g_:+.1f} on average"
           + (": ahead, but not beyond twice the standard error on every seed, a hint rather than a kept lever"
              if g_ > 0 and agreement(r["paired"]) != "ahead" else "")
           + f"; its mean, {M(r['death']):.1f}, is {'above' if M(r['death']) > 750 else 'below'} the solved line.")
    for r in (r for r in deaths["rows"] if "round_gain_plain" in r and not only_(r)):
        d_ = np.array([p["diff"] for p in r["paired"]])
        level_ = abs(d_.mean()) < 2 * d_.std(ddof=1) / np.sqrt(len(d_)) if len(d_) > 1 else False
        md(f"After round {r['round']} on {r['m'].split(' (')[0]} the death-weighted arm's own round lifts it by "
           f"{np.mean([p['diff'] for p in r['round_gain_death']]):+.1f} on average against the plain round's "
           f"{np.mean([p['diff'] for p in r['round_gain_plain']]):+.1f}"
           + (", from a weaker round 0, and the two arms end level within the spread over seeds: weighting the "
              "round's controller's deaths makes up for what the weighting cost round 0, no more." if level_ else "."))

# %% [markdown]
# ### Scale or coverage?
#
# Is the gap at laptop scale the random data's coverage, or M's training
# compute? An M trained with a GPU's compute on the **same** 200 random games,
# with no iterative round:

# %%
ms = H["m_scale"]
history.show(ms)
gpu = next(r for r in ms["rows"] if "best" in r["m"])
laptop = ms["rows"][0]
md(f"With {ms['facts']['times_laptop_transitions']}x the laptop M's transitions (the best held-out NLL, "
   f"{gpu['nll']} against {laptop['nll']}), round 0's controller lives {S(gpu['real'])} real steps where the laptop "
   f"M's controller held right ({S0(laptop['real'])}); over four CMA-ES seeds {S(ms['facts']['four_seeds'])}. "
   "So the gap is mostly M's compute, not the coverage of the random data. The iterative round is the laptop's way "
   "around the missing compute. How does the GPU M's controller live? *" + reading["gpu"] + "*.")

# %% [markdown]
# ## 7. The temperature table beside the paper's
#
# The sweep on today's default M (round 0, before any iterative round), at
# several CMA-ES seeds per $\tau$: each seed's controller plays 100 dreams and
# 100 real games, and the table gives the mean over the seeds with their
# spread (one run per $\tau$ is one draw: section 5). Notebook 05 shows the
# shipped run's own sweep and lets you play its five controllers.

# %%
from wmlib.book.plots import plot_temperature

tw = H["temperature_h256"]     # today's default M; the 160-epoch M's sweep below
history.show(tw, columns=["tau", "dream", "real", "real_seeds", "command"])
temp_rows = [dict(tau=r["tau"], dream_mean=M(r["dream"]), dream_std=r["dream"]["std"], real_mean=M(r["real"]),
               real_std=r["real"]["std"], paper_dream=list(paper.DOOM_TEMPERATURE[round(r["tau"], 2)][0]),
               paper_real=list(paper.DOOM_TEMPERATURE[round(r["tau"], 2)][1])) for r in tw["rows"]]
n_seeds = len(tw["rows"][0]["real_seeds"])
fig = plot_temperature(temp_rows, title=f"laptop profile, 256-unit M, round 0: mean and spread over {n_seeds} CMA-ES "
                       "seeds, beside the paper", cap=2100)
plt.show()

# %% tags=["check"]
assert all(r["paper_dream"] == [M(x["paper_dream"]), x["paper_dream"]["std"]] for r, x in zip(temp_rows, tw["rows"])), \
    "the log's paper columns should be wmlib.paper's numbers"

# %%
d = [r["dream_mean"] for r in temp_rows]
rl = [r["real_mean"] for r in temp_rows]
kinder = [f"{r['tau']:g}" for r in temp_rows if r["dream_mean"] > r["real_mean"]]
paper_harsher = [f"{t:g}" for t, ((pd, _), (pr, _)) in paper.DOOM_TEMPERATURE.items() if pd < pr]
hardens, rises = d[-1] < d[0], rl[-1] > rl[0]
md(f"From $\\tau$ = {temp_rows[0]['tau']:g} to {temp_rows[-1]['tau']:g} the dream "
   f"{'hardens' if hardens else 'does not harden'} ({d[0]:.0f} steps to {d[-1]:.0f}) and the real score "
   f"{'rises' if rises else 'does not rise'} ({' -> '.join(f'{x:.0f}' for x in rl)})"
   + (": the paper's lesson in the paper's direction. A cold dream is easy to cheat and its controller does not "
      "transfer; a warm one teaches a controller that lives." if hardens and rises else ".")
   + f" Here the dream scored above the game at $\\tau$ = {', '.join(kinder) or 'none'}; the paper's dream scored "
   f"below its game at {', '.join(paper_harsher)}. Each $\\tau$ is the mean of {n_seeds} CMA-ES runs, the bars their "
   "spread (section 5 shows why one run is not enough).")

# %% [markdown]
# The same sweep, three CMA-ES seeds per $\tau$, on the earlier default's
# 512-unit M of 160 epochs (M b):

# %%
history.show(H["temperature_m160"], columns=["tau", "dream", "real", "real_seeds"])

# %% [markdown]
# The same sweep on the earlier default M (80 epochs), one CMA-ES run per $\tau$:

# %%
history.show(H["temperature_w80"], columns=["tau", "dream", "real"])

# %% [markdown]
# On an earlier M (40 epochs at a constant rate) the same sweep found only the
# hottest dream's controller leaving the wall:

# %%
history.show(H["temperature_w40_constant"], columns=["tau", "dream", "real"])

# %% [markdown]
# ## 8. What a fresh clone costs
#
# Each default was timed from a fresh clone on a 2-core box: the real score
# after round 0 (where `python -m wmlib reproduce doom` stops) and after one
# iterative round (`--rounds 1`), against the wall time. The 160-epoch
# default ran on two boxes: each trained its own M from the same seeded
# command. The default now trains the smaller M on one thread (section 6,
# "A smaller M, on one thread"); its first table is that default's fresh
# clone.

# %%
if "stages_h256_intel" in H:
    history.show(H["stages_h256_intel"])
history.show(H["stages_m160"])
history.show(H["stages_m160_intel"])
history.show(H["stages_w80"])
da = H["defaults_on_amd"]
fig, ax = plt.subplots(figsize=(6, 3))
for r in da["rows"]:
    pts = [r["round0"], r["round1"]]
    ax.plot([p["at_minutes"] for p in pts], [p["mean"] for p in pts], marker="o", label=r["run"])
ax.axhline(paper.DOOM_SOLVED, color="green", ls=":", lw=0.8, label=f"solved (> {paper.DOOM_SOLVED})")
ax.set_xlabel("minutes from a fresh clone (2-core AMD box)"); ax.set_ylabel("real steps (100 games)")
ax.legend(fontsize=6); fig.tight_layout(); plt.show()
md(f"*Re-run:* `{da['command']}`. Conditions per run: {da['measured']}.")

# %% [markdown]
# ## 9. Score against compute: what would 1,092 take?
#
# Every M of the laptop recipe recorded above, on one axis: the minutes its
# pipeline takes from a fresh clone on the 2-core box the default was timed
# on (the stages other than M, plus M's minutes scaled by its epochs; one
# iterative round adds its own minutes). Dots are CMA-ES seeds on the 100
# test games, rings each M's mean. The dashed line is a least-squares fit of
# the M-arms' means against the doublings of the minutes; the grey vertical
# marks the 45 minutes a default may take. Each M counts once, however many
# seeds it has: the Ms of one command are themselves draws.

# %%
from wmlib.book import compute_curve

doom_curve = compute_curve.doom_curve()
doom_fit, budget = doom_curve.fit, doom_curve.budget
solved, paper_real = doom_curve.targets["solved"], doom_curve.targets["paper"]
fig, ax = plt.subplots(figsize=(7, 3.6))
compute_curve.draw(doom_curve, ax); fig.tight_layout(); plt.show()
md("| arm | minutes | CMA-ES seeds | mean ± spread | table |\n|---|---|---|---|---|\n" + "\n".join(
    f"| {a.label} | {a.compute:.1f} | {len(a.seeds)} | {a.mean:.1f} ± {a.spread:.1f} | {a.source} |"
    for a in doom_curve.arms))
minutes = compute_curve.doom_minutes()
solved_at, paper_at = doom_fit.compute_for(solved), doom_fit.compute_for(paper_real)
round_arms = [a for a in doom_curve.arms if a.lever == "one iterative round"]
md(f"The line gains **{doom_fit.per_doubling:+.1f} real steps per doubling** of the minutes, but the Ms' means "
   f"scatter {doom_fit.residual:.1f} about it: at the same minutes, which M a run draws matters as much as "
   f"a doubling. At {budget} minutes the line expects {doom_fit.score_at(budget):.1f}; it crosses "
   f"{solved} at {solved_at:.0f} min (M about {(solved_at - minutes['other']) / minutes['m_per_epoch']:.0f} epochs) "
   f"and the paper's {paper_real} at {paper_at:.0f} min ({paper_at / 60:.1f} h, M about "
   f"{(paper_at - minutes['other']) / minutes['m_per_epoch']:,.0f} epochs) if the trend held that far. One iterative round "
   + "; ".join(f"on {a.label.split(',')[0]} lands {a.mean - doom_fit.score_at(a.compute):+.1f} from the line at its "
               f"{a.compute:.0f} min" for a in round_arms)
   + (": within the Ms' scatter about the line, so a round bought about what the same minutes of M's epochs would. "
      if all(abs(a.mean - doom_fit.score_at(a.compute)) <= doom_fit.residual for a in round_arms) else ". ")
   + "Re-run: `python experiments/score_against_compute.py`.")

# %% [markdown]
# ## Summary
#
# * A dream-trained controller is only as good as M is where the controller
#   goes. At laptop scale M's dream was kind exactly where random play never
#   went (against a wall), and CMA-ES found that place every time.
# * `diagnose-dream` makes the cheat visible: one action, most steps at a
#   wall, and an M that does not see the death coming.
# * Closing it took levers on the data (long holds), on what M reads (the
#   game's discrete action), on how the dream kills (sampled deaths), on what
#   C sees (a sampled code), on where dreams start, and then C's own games
#   (iterative training) and real validation games to choose among the
#   controllers the dream cannot tell apart.
# * One CMA-ES run is one draw; its spread across seeds was the largest
#   effect measured in the search, and only real games rank the results.
#   M's training run is a draw too: the same seeded command, run twice on
#   one box, gave Ms whose dreams taught controllers far apart.
# * The largest single gains came from M's training at the same data: small
#   batches, a decaying rate, more epochs. The held-out NLL hardly moves;
#   the dream's lessons do.
# * The temperature table keeps the paper's direction at laptop scale, with
#   a dream that stays kinder than the game.

# %% [markdown]
# ## Exercises
#
# Each exercise has an estimated time at the `laptop` profile, on the shipped
# models: an estimate, in the table below. A "lab" exercise fits a lab
# session; a "project" retrains part of the pipeline, and the table adds the
# time that stage took in the shipped run's record.

# %%
from wmlib.book.course import exercise_table

md(exercise_table("07_when_the_dream_lies"))

# %% [markdown]
# **1.** Run `python -m wmlib diagnose-dream doom` on your own round-0 controller
# (after `python -m wmlib reproduce doom`). Which action does it prefer,
# and does M see its deaths coming?
# <details><summary>Hint</summary>
# Read the action shares and M's death probability over the last steps before
# each real death.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "07-ex1-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** A round-0 controller usually prefers one action, holding a direction (the
# exploit its dream allowed), and before its real deaths M's death
# probability stays low: M does not see them coming, because random play
# never showed it what holding one direction leads to. That is the diagnosis
# behind iterative training (notebook 06).
# <!-- END SOLUTION -->

# %% [markdown]
# **2.** Re-run one ablation row (its command is in the table) at the `ci`
# profile with `--profile ci`: does the direction of the effect survive at
# that size? Why might it not?
# <details><summary>Hint</summary>
# Compare the effect with the spread of the ci scores.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "07-ex2-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** Often it does not. At `ci` everything is tiny (a handful of episodes, a few
# epochs, short episodes, few games per score), so the noise of one score is
# large against an effect measured at laptop scale; a direction survives only
# when the effect is larger than that noise. `ci` exists to check that the
# code runs, not to measure; a claim needs the profile it was measured at and
# its spread.
# <!-- END SOLUTION -->

# %% [markdown]
# **3.** The validation games choose among a run's controllers. How many
# validation games would you need for the choice to match the test's in
# most runs? Sketch an experiment with `wmlib.training.iterate.validate`.
# <details><summary>Hint</summary>
# The standard error of a mean over $n$ games is the games' spread over
# $\sqrt n$.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "07-ex3-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** The choice is right when the gap $g$ between the two best candidates'
# true means exceeds the noise of their validation means: with a spread $s$
# per game, about $(2 s / g)^2$ games per candidate for a two-standard-error
# margin, many more when candidates are close. Experiment: take several
# runs' candidates, call `validate` with growing game counts on seeds of
# their own, and count how often its choice is the one the 100-game test
# ranks first; plot agreement against games.
# <!-- END SOLUTION -->

# %% [markdown]
# **4.** From `which_c.json`, compute how much the choice adds to the deployed
# controller, run by run. Where does it lose?
# <details><summary>Hint</summary>
# Load it with <code>wmlib.book.history</code> (as this chapter does) and subtract the
# deployed controller's test score from the chosen one's, run by run.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "07-ex4-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** Subtract, for each run, the deployed mean's test score from the chosen
# controller's: the differences are mostly positive (the choice usually picks
# a controller that lives longer), with a few runs where it loses, those
# where the candidates were close and the validation games' noise picked the
# worse one. The mean gain and how many runs lose are what the exercise
# computes; the losses are the price of choosing with few games
# (exercise 3).
# <!-- END SOLUTION -->

# %% [markdown]
# **5.** `m_epochs_gpu.json` has three doublings. Fit the real score against
# $\log_2$(epochs): where would the line cross the paper's
# `paper.DOOM_TEMPERATURE[1.15]` real score, and what would that cost on 2
# cores (`stages_w80.json`)?
# <details><summary>Hint</summary>
# <code>np.polyfit(np.log2(epochs), scores, 1)</code>; the cost of M's training grows
# in proportion to its epochs.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "07-ex5-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** Fit score = $a + b \log_2(\text{epochs})$ to the three points, solve for
# the paper's real score, and convert epochs to time with the 80-epoch stage
# time of `stages_w80.json` (M's time grows in proportion to its epochs). The
# extrapolation lands many doublings beyond the measured range, so the
# number is a guess with a wide error: three points fix a line but not
# whether the gains keep coming, and notebook 07 shows that a longer-trained
# M lives longer without learning to read the fireballs.
# <!-- END SOLUTION -->

# %% [markdown]
# ## References
#
# * D. Ha and J. Schmidhuber, *World Models* (2018), sections "Cheating the World
#   Model" and "Iterative Training Procedure".
# * N. Hansen, *The CMA Evolution Strategy: A Tutorial* (2016).
# * Z. Wellmer and J. T. Kwok, *Dropout's Dream Land: Generalization from Learned
#   Simulators to Reality* (ECML PKDD 2021): dropout kept on in the dream, each mask a dream.
# * `experiments/README.md`: every recipe and analysis, its command and what it measured.
