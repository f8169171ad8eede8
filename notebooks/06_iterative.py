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
# # 06 · Iterative training: when the agent cheats its dream, show M the truth
#
# A controller evolved inside M's dream is only as good as M is *where the
# controller goes*. Random play (notebook 00) covers some of the game well and
# some of it hardly at all, and CMA-ES is a tireless explorer: if M is wrong
# somewhere in C's favour (a corner where fireballs never hurt, an action that
# M believes is safe), evolution finds it. In notebook 05 you may have met
# such an agent: brilliant in the dream, poor in the game.
#
# The paper ends with a remedy it proposes but does not run at scale, the
# **iterative training procedure**:
#
# 1. play the current C in the real game (with a little exploration) and keep
#    the episodes;
# 2. add them to M's data and train M further;
# 3. evolve C again, inside the corrected dream;
# 4. repeat.
#
# Each round, C's own mistakes become M's training data: the exploit that
# fooled M last round is exactly what M gets to see this round. This notebook
# shows those rounds (`wmlib.training.iterate`) and what changes.
#
# At laptop scale a round also stands in for compute the laptop does not
# have. An M trained with a GPU's compute on the same random games makes
# round 0's C live far longer with no round at all, yet that C survives by
# moving, not by reading the fireballs: M still does not see the shot that
# kills it (notebook 07, "Scale or coverage?", has the numbers). On 2 CPU
# cores such an M would take many hours; a round takes minutes.
#
# **Run time.** With `TRAIN` off (the default) this chapter reads the rounds
# the shipped laptop run recorded and plays its round-0 and round-1
# controllers on the same real game: a few minutes on 2 CPU cores. With
# `WM_TRAIN=1` it builds round 0 (notebooks 00-04's pipeline) if it is not on
# disk and runs the profile's rounds; each long stage first prints how long
# the shipped run took for it.

# %% tags=["parameters"]
import os

PROFILE = os.environ.get("WM_PROFILE", "laptop")
TRAIN = os.environ.get("WM_TRAIN", "0") == "1"   # off: shipped models and recorded results
ROUNDS = None  # None: the profile's number of rounds

# %%
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import wmlib  # noqa: F401  (before torch: it sets OMP_WAIT_POLICY=PASSIVE, kinder to shared cores)

import matplotlib.pyplot as plt
import numpy as np
import torch

from wmlib import paper, paths
from wmlib.book import recorded
from wmlib.book.chapter import announce, fmt, md, source_note
from wmlib.config import get_config
from wmlib.training import iterate as it

torch.set_num_threads(1 if PROFILE == "ci" else min(2, os.cpu_count() or 1))
cfg = get_config("doom", PROFILE)
ROUNDS = cfg.iterate.rounds if ROUNDS is None else ROUNDS
print("profile:", PROFILE, "| TRAIN:", TRAIN, "| rounds:", ROUNDS, "|", cfg.iterate)

# %% [markdown]
# ## Round 0: the ordinary pipeline
#
# Round 0 is what notebooks 00-04 built: random play, V, M, and a C evolved in
# M's dream at $\tau$ = `cfg.dream.tau`. With `TRAIN` on, every call below is a
# no-op when its result is already on disk; with it off, nothing is built.

# %%
if TRAIN:
    from wmlib.training.dream import evaluate_in_reality, train_in_dream
    from wmlib.book.chapter import build_world_model

    build_world_model(cfg)  # collect, train V, encode, train M: what is missing
    announce(cfg, f"train C in the dream (tau {cfg.dream.tau:g})")
    train_in_dream(cfg)
    score0 = evaluate_in_reality(cfg)
    print(f"round 0: dream {score0['dream']['mean']:.0f} +- {score0['dream']['std']:.0f}, "
          f"real {score0['real']['mean']:.0f} +- {score0['real']['std']:.0f} "
          f"(random policy in the paper: {paper.DOOM_RANDOM_POLICY[0]} +- {paper.DOOM_RANDOM_POLICY[1]})")
else:
    print("TRAIN is off: the rounds below are the ones on disk at this profile, else the shipped run's")

# %% [markdown]
# ## One round, step by step
#
# ### 1. C plays the real game
#
# Round 1 starts with round 0's C playing `cfg.iterate.episodes` real games.
# Exploration keeps the new data from being all one behaviour: each episode
# has a rate (cycled from `cfg.iterate.explore`), the chance at every step of
# taking over for a random hold of 1-10 steps. The games are stored as shards,
# like random play, under `iterate/data/`. (With `TRAIN` off, watch round 0's
# C play in the player at the end of this chapter.)

# %%
if TRAIN:
    round_data = it.collect_round(cfg, 1)
    first_round = it.new_episodes(round_data, 1)
    lengths = round_data.lengths[first_round]
    shares = it.action_shares(np.concatenate([round_data.episode(i).actions for i in first_round]))
    print(f"{len(first_round)} real games of round 0's C: survived {lengths.mean():.0f} +- {lengths.std():.0f} "
          "steps; actions: " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()))

# %% [markdown]
# If round 0's C found an exploit, it shows here: one action dominates, and the
# games end early. That is the data M never had: in random play nobody held
# one action for long, so nobody showed M where it leads.
#
# ### 2. What did M believe about these games?
#
# Before M trains on them, we ask round 0's M how surprising they are:
# its negative log-likelihood of each next code (nats per latent dimension),
# and how many of the real deaths its done head flagged (probability > 0.5).
# The rounds table keeps this as `new_m_heldout`.

# %%
if TRAIN:
    from wmlib.training.mdnrnn import Transitions
    from wmlib.training.series import load_series

    base = Transitions(load_series(cfg))
    rounds_data = Transitions(it.encode_rounds(cfg, round_data))
    before = it.judge_m(cfg, it.load_round_mdnrnn(cfg, 0), rounds_data, first_round)
    val = it.judge_m(cfg, it.load_round_mdnrnn(cfg, 0), base, base.split(cfg.mdnrnn.val_episodes)[1])
    print(f"round 0's M on random play it never trained on: NLL {val['nll']:.3f}")
    print(f"round 0's M on C's own games:                   NLL {before['nll']:.3f}, "
          f"deaths flagged {before['done_recall'] if before['done_recall'] is not None else '-'} of {before['deaths']}")

# %% [markdown]
# ### 3 and 4. M learns, C evolves again, and we score it
#
# `iterate` runs the rest: M is trained `cfg.iterate.mdnrnn_epochs` more epochs
# on the random data plus every round's games (resuming its weights and its
# optimiser), and CMA-ES evolves C for `cfg.iterate.generations` generations in
# the new dream, starting from last round's C. Then the new C is scored over
# `cfg.dream.real_episodes` real games. Every step is saved: a killed run
# picks up where it stopped. The same from the command line:
# `python -m wmlib iterate doom` (or `python -m wmlib reproduce doom --rounds 1`
# from an empty folder).

# %%
if TRAIN:
    announce(cfg, "iterative round 1", what=f"iterative training, {ROUNDS} round(s)")
    it.iterate(cfg, ROUNDS)

table = recorded.result(cfg, paths.rounds_table(cfg))
rows = [r for r in table.data if r["round"] <= ROUNDS] if table is not None else []
if table is None:
    md("**The shipped rounds are not shipped yet** (no `iterate/rounds.json` here or in the book's shipped run): "
       "run `python -m wmlib iterate doom`, or this notebook with `WM_TRAIN=1`.")
else:
    print(it.format_rounds(rows))
    md(f"Source: {source_note(table, 'python -m wmlib iterate doom')}.")

# %% tags=["check"]
if rows:
    assert [r["round"] for r in rows] == list(range(len(rows)))
    assert all(rows[k]["episodes"] > rows[k - 1]["episodes"] for k in range(1, len(rows)))
    assert all(1 <= r["real"]["mean"] <= 2100 and r["real"]["episodes"] >= 1 for r in rows)
    if TRAIN:
        assert len(rows) == ROUNDS + 1 and not table.shipped
        assert all(rows[k]["episodes"] == rows[0]["episodes"] + k * cfg.iterate.episodes for k in range(ROUNDS + 1))

# %%
if len(rows) > 1:
    judged = rows[1].get("new_m_heldout") or {}
    if judged:
        recall, deaths = judged.get("done_recall"), judged.get("deaths", 0)
        flagged = "no death to flag" if recall is None else f"{recall:.0%} of the {deaths} real deaths flagged"
        md(f"Round 0's M on round 1's new games ({table.label()}): NLL {judged['nll']:.3f} nats per dimension, "
           f"{flagged} (probability > 0.5).")

# %% [markdown]
# ### 5. Which C? The dream cannot tell; a few real games can
#
# One CMA-ES run offers several controllers: the mean that scored best in the
# run's periodic dream evaluations (what the run deploys), the final mean, and
# the single best candidate it ever tried. In a dream that is too kind they all
# live about as long, yet in the real game they can differ severalfold. With
# `cfg.iterate.validation_games` > 0 each of them plays that many real games
# on seeds of their own (never the test's), and the longest-lived becomes the
# round's C. With `cfg.iterate.validation_screen` > 0 the best candidate of
# every generation joins them (`gen-G`): all play that many games first, and
# the few best play on to the full count. C's weights still come from the dream alone; the real games only
# choose among what the dream produced, as the round's own real games already
# chose what M learns. `cfg.iterate.ensemble = "min"` goes one step further
# inside the dream: each candidate is dreamed by every round's M and scored by
# its worst, so a place that one M is too kind about is judged by the others.
# `cfg.iterate.restarts` > 1 runs CMA-ES that many times per round (same dream,
# same start, another seed each) and the validation games choose among all
# their candidates (notebook 07 measures what several runs buy).

# %%
for r in rows[1:]:
    chosen = r.get("chosen")
    if not chosen:
        print(f"round {r['round']}: deployed the run's best-evaluated mean (no validation games)")
        continue
    games = max(v["episodes"] for v in chosen["validation"].values())
    final = it.finalists(chosen["validation"], games)
    screened = (f" ({len(chosen['validation'])} candidates screened first)"
                if len(final) < len(chosen["validation"]) else "")
    print(f"round {r['round']}{screened}: " + ", ".join(f"{w} {v['mean']:.0f}" for w, v in final.items())
          + f" over {games} validation games -> {chosen['which']}; dream judged by "
          + ("the worst of every round's M" if r.get("ensemble") == "min" else "the round's own M"))

# %% [markdown]
# ## The rounds, side by side
#
# The real score (what counts) and the dream score (what C was trained on),
# round by round. A C that cheats its dream has a high dream score and a low
# real one; as M learns from C's games the two should come closer.

# %%
if rows:
    k = [r["round"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for name, color in (("real", "tab:orange"), ("dream", "tab:blue")):
        ax.errorbar(k, [r[name]["mean"] for r in rows], [r[name]["std"] for r in rows], marker="o", capsize=3,
                    color=color, label=f"{name} ({table.label()})")
    ax.axhline(paper.DOOM_RANDOM_POLICY[0], color="grey", ls=":", label="random policy (paper)")
    ax.axhline(paper.DOOM_SOLVED, color="green", ls=":", label=f"solved (> {paper.DOOM_SOLVED})")
    ax.axhline(paper.DOOM_TEMPERATURE[1.15][1][0], color="tab:orange", ls="--", alpha=0.5,
               label="paper, real, tau 1.15")
    ax.set_xlabel("round"); ax.set_ylabel("steps survived"); ax.set_xticks(k)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1)); fig.tight_layout(); plt.show()

# %%
score1 = recorded.result(cfg, paths.round_score(cfg, 1))
if rows:
    last = rows[-1]
    text = (f"After {last['round']} round(s) ({table.label()}) C lives {fmt(last['real'], unit='real steps')}, "
            f"from {fmt(rows[0]['real'], unit='real steps')} at round 0 (dream: {rows[0]['dream']['mean']:.0f} -> "
            f"{last['dream']['mean']:.0f}).")
    if score1 is not None and score1.source == table.source:
        text += f" Round 1's score file (`iterate/round-1/score.json`) says the same: {fmt(score1.data['real'])}."
    md(text + f" The paper's one pass (10,000 random episodes, $\\tau$ = 1.15): "
              f"{paper.DOOM_TEMPERATURE[1.15][1][0]} ± {paper.DOOM_TEMPERATURE[1.15][1][1]}; "
              f"a random policy {paper.DOOM_RANDOM_POLICY[0]}.")

# %% tags=["check"]
if score1 is not None and score1.source == table.source and len(rows) > 1:
    assert score1.data["real"]["mean"] == rows[1]["real"]["mean"], "the rounds table and round 1's score disagree"

# %% [markdown]
# ## Before and after, in the real game
#
# Round 0's C and round 1's C play the **same** real game (one seed): the
# step slider (or **Play**) moves both. Each panel says what its agent does at
# that step, how far it is from the nearer wall and what its M believes about
# dying; an agent that has died stays dark on its last frame. The agents are
# yours when your rounds are on disk at this profile, else the shipped ones
# (round 0: the controller shipped as `round-0`, which reads round 0's M;
# round 1: the shipped C). **another game** plays the next seed.

# %%
from wmlib.book.widgets import RoundsPlayer, play_real_game, round_agents

SEED = 2024
agents = round_agents(cfg)


def both_games(seed):
    return {name: play_real_game(a, seed, cfg.dream.max_steps, cfg.dream.real_z) for name, a in agents.items()}


player = None
if agents:
    for name, a in agents.items():
        print(f"{name}: {a['source']}")
    player = RoundsPlayer(both_games(SEED), seed=SEED, record=both_games)
else:
    md("*Round 0's and round 1's controllers are not on disk or shipped yet: no player.*")
player

# %% tags=["check"]
if player is not None:
    lived = {name: f["steps"] for name, f in player.films.items()}
    print("steps lived on seed", SEED, ":", lived)
    assert player.slider.max == max(lived.values())
    player.slider.value = player.slider.max
    assert not any(player.alive.values()) and "after" in player.status.value
    player.slider.value = 0
    assert all(player.alive.values())

# %% [markdown]
# ## Build it yourself: one round in miniature
#
# A round is four moves, and each is a few lines on top of pieces you have
# met: **play** the current C in the real game with a little exploration,
# keeping what it saw; **add** those games to M's data (V's codes of every
# frame); **fine-tune** M on them; **re-evolve** C in the corrected dream,
# starting from the old C. Below, at the `ci` profile's sizes (three games,
# short episodes, a few gradient steps, two generations of four candidates),
# on round 0's C and M: yours if your rounds are on disk, else the shipped
# ones. You write M's loss yourself and check it against the library's
# (`wmlib.training.mdnrnn.m_loss`), which the real rounds train with.

# %% nbgrader={"grade": false, "grade_id": "06-play-and-add", "locked": false, "schema_version": 3, "solution": true}
import copy

import cma
import torch.nn.functional as F

from wmlib.agent.dream import dream_rollouts
from wmlib.agent.rollout import EpisodeRunner, agent_spec
from wmlib.book.pretrained import load_shipped_controller_params, load_shipped_mdnrnn, load_shipped_vae
from wmlib.models.vae import encode_frames

TINY = get_config("doom", "ci")                      # the miniature's sizes
TINY_CAP = 3 * TINY.dream.max_steps                  # long enough for most games to end in a death
GAMES = TINY.iterate.episodes
if agents:
    base = agents["round 0"]
else:                                                # round 0 not shipped yet: start from the shipped C and M
    base = dict(params=load_shipped_controller_params("doom"), vae=load_shipped_vae("doom"),
                mdnrnn=load_shipped_mdnrnn("doom"), source="the shipped C and M (standing in for round 0)")
print("round 0 here:", base.get("source", ""))

# 1. play: round 0's C, each game with its own exploration rate (the chance per step of a random hold)
explore = np.resize(np.asarray(cfg.iterate.explore, np.float64), GAMES)
spec = agent_spec("doom", "zh", base["vae"], base["mdnrnn"], TINY_CAP, lockstep=GAMES, real_z=cfg.dream.real_z)
with EpisodeRunner(spec) as runner:
    played = runner.run(np.repeat(base["params"][None], GAMES, 0), [it.DATA_SEED + i for i in range(GAMES)],
                        explore=explore, keep=True)
games = played["episodes"]

# 2. add them to M's data: for every game, V's code (mean and log-variance, encode_frames with base["vae"]) of
#    every frame C saw, beside the game's actions and dones: new_data is a list of
#    dict(mu=[T, z], logvar=[T, z], actions=[T, 1], dones=[T]), one per game, in the order played
new_data = []
### BEGIN SOLUTION
for g in games:
    mu, logvar = encode_frames(base["vae"], g["frames"])
    new_data.append(dict(mu=mu, logvar=logvar, actions=g["actions"], dones=g["dones"]))
### END SOLUTION
print("games played:", [len(g["actions"]) for g in games], "steps; actions:",
      it.action_shares(np.concatenate([g["actions"] for g in games])))

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "06-play-and-add-test", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["check"]
assert len(new_data) == GAMES and all(set(d) >= {"mu", "logvar", "actions", "dones"} for d in new_data)
assert all(d["mu"].shape == d["logvar"].shape == (len(d["actions"]), base["mdnrnn"].z_size) for d in new_data)
### BEGIN HIDDEN TESTS
for d, g in zip(new_data, games):
    mu, logvar = encode_frames(base["vae"], g["frames"])
    assert np.allclose(d["mu"], mu, atol=1e-5) and np.allclose(d["logvar"], logvar, atol=1e-5)
    assert np.array_equal(d["actions"], g["actions"]) and np.array_equal(d["dones"], g["dones"])
### END HIDDEN TESTS


# %% nbgrader={"grade": false, "grade_id": "06-fine-tune", "locked": false, "schema_version": 3, "solution": true}
def episode_tensors(ep, generator):
    """One game as M's training tensors: a sampled code per step, the next code, the action, death."""
    T = len(ep["actions"])
    mu, std = torch.from_numpy(ep["mu"]), torch.from_numpy(ep["logvar"]).mul(0.5).exp()
    z = mu + std * torch.randn(mu.shape, generator=generator)
    restart, z_mask = torch.zeros(1, T), torch.ones(1, T)
    restart[0, 0], z_mask[0, -1] = 1.0, 0.0          # the game starts at step 0; its last step has no next code
    return dict(z=z[None], z_next=torch.cat([z[1:], z[-1:]])[None], a=torch.from_numpy(ep["actions"]).float()[None],
                done=torch.from_numpy(ep["dones"].astype(np.float32))[None], restart=restart, z_mask=z_mask,
                valid=torch.ones(1, T))


def my_m_loss(m, t, pos_weight):
    """Mixture NLL of the next code (nats per dimension, averaged over the steps of z_mask) + the death head's
    binary cross-entropy with the deaths weighted pos_weight times (averaged over every step)."""
    ### BEGIN SOLUTION
    (logpi, mu, logsigma), done_logit, _ = m(t["z"], t["a"], None, restart=t["restart"])
    x = t["z_next"].unsqueeze(-1)
    log_normal = -0.5 * ((x - mu) / logsigma.exp()) ** 2 - logsigma - 0.5 * np.log(2 * np.pi)
    nll = -torch.logsumexp(logpi + log_normal, dim=-1).mean(-1)              # [1, T]
    z_loss = (nll * t["z_mask"]).sum() / t["z_mask"].sum()
    y = t["done"]
    bce = pos_weight * y * F.softplus(-done_logit) + (1 - y) * F.softplus(done_logit)
    return z_loss + bce.mean()
    ### END SOLUTION


# 3. fine-tune a copy of M on the new games (the real rounds also keep the random data in the mix)
m_old = base["mdnrnn"]
m_new = copy.deepcopy(m_old).train()
opt = torch.optim.Adam(m_new.parameters(), lr=cfg.mdnrnn.lr)
pw = cfg.mdnrnn.done_pos_weight
fixed = [episode_tensors(ep, torch.Generator().manual_seed(i)) for i, ep in enumerate(new_data)]
with torch.no_grad():
    before = float(np.mean([my_m_loss(m_old, t, pw) for t in fixed]))
# Three epochs over the new games: epoch e draws its codes with torch.Generator().manual_seed(100 + e), one game
# at a time (episode_tensors), your loss, gradients clipped at norm 1, one Adam step per game.
### BEGIN SOLUTION
for epoch in range(3):
    gen = torch.Generator().manual_seed(100 + epoch)
    for ep in new_data:
        loss = my_m_loss(m_new, episode_tensors(ep, gen), pw)
        opt.zero_grad(); loss.backward()
        torch.nn.utils.clip_grad_norm_(m_new.parameters(), 1.0); opt.step()
### END SOLUTION
m_new.eval()
with torch.no_grad():
    after = float(np.mean([my_m_loss(m_new, t, pw) for t in fixed]))
print(f"M's loss on the round's games: {before:.3f} before fine-tuning, {after:.3f} after")

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "06-m-loss-test", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["check"]
from wmlib.training.mdnrnn import m_loss

with torch.no_grad():
    t = fixed[0]
    library, _, _ = m_loss(m_old, t, None, pw, "cpu", amp=False)
    assert torch.allclose(my_m_loss(m_old, t, pw), library, rtol=1e-4, atol=1e-4), (my_m_loss(m_old, t, pw), library)
### BEGIN HIDDEN TESTS
with torch.no_grad():  # every game (each ends in a death or the cap), and deaths weighted otherwise
    for t in fixed:
        for weight in (1.0, 25.0):
            assert torch.allclose(my_m_loss(m_new, t, weight), m_loss(m_new, t, None, weight, "cpu", amp=False)[0],
                                  rtol=1e-4, atol=1e-4), weight
### END HIDDEN TESTS

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "06-fine-tune-test", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["check"]
assert after < before, "a few steps on the round's games should lower M's loss on them"
### BEGIN HIDDEN TESTS
assert all(torch.equal(u, v) for u, v in zip(m_old.state_dict().values(), base["mdnrnn"].state_dict().values()))
assert not all(torch.equal(u, v) for u, v in zip(m_new.state_dict().values(), m_old.state_dict().values())), "M moved"
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "06-re-evolve", "locked": false, "schema_version": 3, "solution": true}
# 4. re-evolve C in the corrected dream, from round 0's C, each candidate judged by the worse of both Ms' dreams;
#    the dreams start at the first frames of the round's games
starts_mu = np.stack([d["mu"][0] for d in new_data]); starts_logvar = np.stack([d["logvar"][0] for d in new_data])


def dreams(m, params, n, seed):
    return dream_rollouts(m, "doom", np.atleast_2d(params), starts_mu, starts_logvar, rollouts=n,
                          tau=cfg.dream.tau, max_steps=TINY_CAP, seed=seed, done_rule=cfg.dream.done_rule,
                          done_pos_weight=pw)


# CMA-ES from round 0's C (sigma 0.1, population TINY.evolution.population, pycma seed 1) for
# TINY.iterate.generations generations; generation g scores each candidate by the worse of its mean steps in
# dreams(m_old, ..., 2, seed 10 + g) and dreams(m_new, ..., 2, seed 10 + g); c_new is the final mean.
### BEGIN SOLUTION
es = cma.CMAEvolutionStrategy(np.asarray(base["params"], np.float64), 0.1,
                              {"popsize": TINY.evolution.population, "seed": 1, "verbose": -9})
for g in range(TINY.iterate.generations):
    pop = np.asarray(es.ask())
    worst = np.minimum(dreams(m_old, pop, 2, 10 + g).mean(1), dreams(m_new, pop, 2, 10 + g).mean(1))
    es.tell(list(pop), list(-worst))
c_new = np.asarray(es.result.xfavorite)
### END SOLUTION

# 5. score both Cs on the same few real games (each with its own M)
scores = {}
for name, (params, m) in {"round 0": (base["params"], m_old), "your round 1": (c_new, m_new)}.items():
    spec = agent_spec("doom", "zh", base["vae"], m, TINY_CAP, lockstep=2, real_z=cfg.dream.real_z)
    with EpisodeRunner(spec) as runner:
        scores[name] = runner.run(np.repeat(np.asarray(params)[None], 2, 0), [123, 124])["returns"]
print("real steps on two test games (capped at", TINY_CAP, "):", {k: v.tolist() for k, v in scores.items()})
print("dream steps in the new M:", {k: float(dreams(m_new, p, 4, 999).mean())
                                    for k, p in {"round 0": base["params"], "your round 1": c_new}.items()})

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "06-re-evolve-test", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["check"]
assert c_new.shape == np.shape(base["params"]) and not np.allclose(c_new, base["params"]), "C should move"
### BEGIN HIDDEN TESTS
ref_es = cma.CMAEvolutionStrategy(np.asarray(base["params"], np.float64), 0.1,
                                  {"popsize": TINY.evolution.population, "seed": 1, "verbose": -9})
for g in range(TINY.iterate.generations):
    ref_pop = np.asarray(ref_es.ask())
    ref_es.tell(list(ref_pop), list(-np.minimum(dreams(m_old, ref_pop, 2, 10 + g).mean(1),
                                                dreams(m_new, ref_pop, 2, 10 + g).mean(1))))
assert np.allclose(c_new, ref_es.result.xfavorite), "evolved from round 0's C, judged by the worse of both dreams"
### END HIDDEN TESTS

# %% [markdown]
# At this size the scores say little (two games, a capped episode, a C moved
# by two generations); the loop is the point. The library's round
# (`wmlib.training.iterate`) does the same with 100 games, M fine-tuned
# `cfg.iterate.mdnrnn_epochs` epochs on random play plus every round's games,
# C evolved `cfg.iterate.generations` generations, and real validation games
# to choose the round's C.

# %% [markdown]
# ## Summary
#
# **The paper** proposes iterative training (play C, retrain M on C's games,
# retrain C, repeat) as the way to a world model that covers what the agent
# actually does; its reported Doom agent (1092 $\pm$ 556 at $\tau$ = 1.15) came
# from a single pass on 10,000 random episodes and 400 epochs of M.
#
# **The numbers** are in the rounds table above, yours or the shipped run's.
# At reader scale, random play leaves holes in M that C finds; each round
# shows M the consequences of C's own behaviour, where M was wrong. The
# rounds table says how much that buys per round at your profile;
# `python -m wmlib iterate doom --rounds N` runs more rounds (each
# resumable), and `python -m wmlib reproduce doom --rounds 1` runs the whole
# recipe from an empty folder. Notebook 07 tells what more rounds, more
# CMA-ES runs and a longer-trained M did at laptop scale.

# %% [markdown]
# ## Exercises
#
# Each exercise has an estimated time at the `laptop` profile, on the shipped
# models: an estimate, in the table below. A "lab" exercise fits a lab
# session; a "project" retrains part of the pipeline, and the table adds the
# time that stage took in the shipped run's record.

# %%
from wmlib.book.course import exercise_table

md(exercise_table("06_iterative"))

# %% [markdown]
# **1.** **No exploration.** Set `iterate={"explore": (0.0,)}` in a fresh
# `WM_ARTIFACTS`. Does M still learn what it needs?
# <details><summary>Hint</summary>
# Without exploration, a C that never dodges never shows M what dodging
# does. <code>exploration_shares</code> (below) counts the actions M gets to see at
# several exploration rates.</details>

# %% nbgrader={"grade": false, "grade_id": "06-ex1-code", "locked": false, "schema_version": 3, "solution": true}
# Exercise 1: the actions M gets to see from C's games, with and without exploration.
import numpy as np
import torch


def explored_actions(m, params, first_mu, first_logvar, rate: float, steps: int = 200, tau: float = 1.0,
                     seed: int = 0) -> np.ndarray:
    """The actions a controller ``params`` [n] takes in one dream when, as in the iterative rounds, at
    every step it has the chance ``rate`` of handing over to a random action held for 1-10 steps.

    The dream runs ``steps`` steps (done rule "never": only the action mix is of interest) -> [steps, A].
    """
    ### BEGIN SOLUTION
    from wmlib.agent.dream import DreamEnv, world_of
    from wmlib.models.controller import Controller

    world = world_of(m)
    env = DreamEnv(m, first_mu, first_logvar, tau=tau, max_steps=steps, done_rule="never", world=world)
    ctrl = Controller(world, m.z_size, m.hidden).set_flat(params)
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    hold, held, actions = 0, None, []
    for _ in range(steps):
        z, c, h = env.split_obs(obs)
        a = ctrl.act(z, h, c)
        if hold == 0 and rate > 0 and rng.random() < rate:
            hold, held = int(rng.integers(1, 11)), rng.uniform(env.action_space.low, env.action_space.high)
        if hold > 0:
            hold, a = hold - 1, held.astype(np.float32)
        actions.append(a)
        obs, _, _, _, _ = env.step(a)
    return np.stack(actions)
    ### END SOLUTION


def exploration_shares(m, params, first_mu, first_logvar, rates=(0.0, 0.1, 0.3), steps: int = 200,
                       seed: int = 0) -> dict:
    """Share of left / stay / right (Doom's thresholds) in C's dream at each exploration rate -> {rate: dict}."""
    ### BEGIN SOLUTION
    from wmlib.training.iterate import action_shares

    return {rate: action_shares(explored_actions(m, params, first_mu, first_logvar, rate, steps, seed=seed))
            for rate in rates}
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "06-ex1-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** Only what C already does. Without exploration the round's games show M one
# behaviour, C's own (often one action held, the exploit), so M learns its
# consequences well and nothing about the alternatives: a C that never
# dodges never shows M what dodging does. `exploration_shares` makes it
# visible: at rate 0 the mix is C's own, with exploration left, stay and
# right all appear. The next round's C can only be as good as M is where the
# new C goes, so some exploration is what lets a round improve on the last.
# <!-- END SOLUTION -->

# %% [markdown]
# **2.** **Cold start.** Set `iterate={"warm_start": False}`: each round's CMA-ES
# starts from zero weights. Compare the rounds tables.
# <details><summary>Hint</summary>
# Look at the first generation's mean in each round's <code>history</code>.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "06-ex2-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** Each cold round's first generations score like an untrained C (the
# history's first entries), and the round spends its few generations getting
# back to where the last round ended; a warm start begins from last round's
# C and spends them improving it, in a dream that now punishes its exploit.
# With the profile's few generations per round, cold rounds usually end lower
# or no higher; with many generations the two converge, and a cold start may
# escape a bad basin a warm one stays in.
# <!-- END SOLUTION -->

# %% [markdown]
# **3.** **Who learns?** Run one round where M is not fine-tuned
# (`iterate={"mdnrnn_epochs": 1}`) and one with 20 epochs. Which part of the
# loop limits progress at your profile?
# <details><summary>Hint</summary>
# If M barely trained, the new dream is the old dream: what can C learn
# there that it did not already know?</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "06-ex3-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** With one epoch M hardly changes, so C re-evolves in nearly the old dream
# and keeps its exploit: any gain comes from C's extra generations alone. If
# 20 epochs improve the round's real score clearly more, M's knowledge of C's
# games was the bottleneck; if both rounds end alike, the limit is elsewhere,
# in C's search (generations, restarts), in the choice of C (validation
# games), or in what the new data covers (exploration). At laptop scale
# notebook 07's records point to M and the choice of C.
# <!-- END SOLUTION -->

# %% [markdown]
# **4.** **Curiosity** (the paper's other proposal): instead of exploring at random,
# prefer the actions M predicts worst. Sketch how you would score a candidate
# controller by M's prediction error in the dream.
# <details><summary>Hint</summary>
# In a dream, M's "error" on its own samples is its own uncertainty: score it
# with M's negative log-likelihood of each next code.</details>

# %% nbgrader={"grade": false, "grade_id": "06-ex4-code", "locked": false, "schema_version": 3, "solution": true}
# Exercise 4: a curiosity score in the dream, and a fitness with a bonus for it.
import numpy as np
import torch


@torch.no_grad()
def dream_surprise(m, params, first_mu, first_logvar, steps: int = 50, tau: float = 1.0, seed: int = 0) -> np.ndarray:
    """A curiosity score per controller (rows of ``params`` [P, n]): M's mean negative log-likelihood
    (nats per latent dimension, at tau = 1) of each next code of the controller's dream -> [P].

    In a dream M's "error" on its own samples is its own uncertainty: high where M cannot tell what
    comes next. Deaths are ignored (every dream runs ``steps`` steps). On C's real games the same
    score is ``wmlib.training.iterate.judge_m``'s NLL.
    """
    ### BEGIN SOLUTION
    from wmlib.agent.dream import world_of
    from wmlib.models.controller import batched_act, controller_inputs
    from wmlib.models.mdnrnn import mixture_nll, sample_mixture

    world = world_of(m)
    params = torch.as_tensor(np.asarray(params, np.float32))
    P = params.shape[0]
    gen = torch.Generator().manual_seed(seed)
    mu, logvar = torch.as_tensor(np.asarray(first_mu, np.float32)), torch.as_tensor(np.asarray(first_logvar, np.float32))
    idx = torch.randint(len(mu), (P,), generator=gen)
    z = mu[idx] + torch.exp(0.5 * logvar[idx]) * torch.randn(P, m.z_size, generator=gen)
    h, c = m.initial_state(P)
    total = torch.zeros(P)
    for t in range(steps):
        a = batched_act(world, params, controller_inputs(world, z, h[0], c[0])[:, None])[:, 0]
        mix, _, (h, c) = m.step(z, a, (h, c), torch.full((P,), float(t == 0)))
        z = sample_mixture(*mix, tau=tau, generator=gen)
        total += mixture_nll(*mix, z).mean(-1)
    return (total / steps).numpy()
    ### END SOLUTION


def curious_fitness(survival, surprise, weight: float = 10.0) -> np.ndarray:
    """CMA-ES fitness with a curiosity bonus: mean steps survived [P, R] (or [P]) plus ``weight`` x surprise [P]."""
    ### BEGIN SOLUTION
    survival = np.asarray(survival, float)
    return (survival.mean(axis=1) if survival.ndim == 2 else survival) + weight * np.asarray(surprise, float)
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "06-ex4-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** Score each candidate by its steps survived plus a weight times M's
# surprise: the mean negative log-likelihood, under M, of the codes of its
# dream (`dream_surprise`, `curious_fitness`). Candidates that lead into
# states M predicts badly are preferred, and their real games in the next
# round fill exactly those gaps. The risk: in its own dream M's surprise is
# its uncertainty, which may be noise it can never reduce (the game's dice),
# so a curious C can chase randomness instead of useful errors; keep the
# weight small, or measure surprise on real games, where it is M's true
# error (`judge_m`).
# <!-- END SOLUTION -->

# %% [markdown]
# **5.** **The same game, more seeds.** Press **another game** a few times. On how
# many seeds does round 1's C outlive round 0's? What does round 0's C do
# in the games where it dies first?
# <details><summary>Hint</summary>
# Watch the action panels and the distance to the nearer wall.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "06-ex5-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** Count it yourself: round 1's C should outlive round 0's on most seeds,
# about as often as the rounds table's means and spreads suggest, but not on
# all, since single games are noisy. In the games round 0's C loses, it
# typically does what its dream allowed: it holds one action and runs along
# (or into) a wall, where the round-0 M believed it safe, and M's death
# probability stays low until the fireball hits. Round 1's M saw those games,
# and its C moves.
# <!-- END SOLUTION -->

# %% [markdown]
# ## References
#
# * D. Ha and J. Schmidhuber, *World Models* (2018), section "Iterative Training Procedure".
# * J. Schmidhuber, *On Learning to Think* (2015): a controller and a model trained in alternation.
# * N. Hansen, *The CMA Evolution Strategy: A Tutorial* (2016).
