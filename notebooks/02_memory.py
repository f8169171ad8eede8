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
# # 02 · Memory: M, the MDN-RNN
#
# V compresses **space**: one 64x64 frame becomes a code $z$ of 32 or 64
# numbers. But a single frame cannot tell you where a fireball is heading or
# how fast the car is going. **M compresses time**: it reads the codes one
# after another, together with the actions taken, keeps a summary of the
# past in its LSTM state $h_t$, and predicts what comes next:
#
# $$p(z_{t+1} \mid a_t, z_t, h_t).$$
#
# The future is uncertain (a fireball may or may not be launched next step),
# so M predicts a *distribution*, not a single code: for every latent
# dimension $i$ separately, a mixture of $K = 5$ Gaussians,
#
# $$p(z_{t+1,i}) = \sum_{k=1}^{K} \pi_{ik}\, \mathcal{N}\!\left(z_{t+1,i};\ \mu_{ik},\ \sigma_{ik}^2\right),$$
#
# whose weights $\pi$, means $\mu$ and widths $\sigma$ are computed from the
# LSTM's output. For Doom, M also predicts whether the agent dies after this
# action. Later, C will live entirely inside this model: the dream.
#
# This notebook:
#
# 1. opens with the shipped V and M and a temperature dial tied to pictures;
#    then gets the data and V's codes (a few episodes encoded by the shipped V,
#    or, with `TRAIN` on, your whole dataset encoded by your V);
# 2. has you **build** one step of M (LSTM + mixture head), check it against
#    `wmlib`'s `MDNRNN` with the shipped weights, and count its parameters;
# 3. writes the mixture likelihood and the temperature out by hand, then M's
#    whole loss, and trains your M for a few steps;
# 4. shows M trained at the profile's scale (the shipped M and its recorded
#    training, or yours with `TRAIN` on), and compares it with a model that
#    predicts "nothing changes";
# 5. looks at M's predictions decoded by V, one step ahead and open loop;
# 6. turns the temperature dial and watches a rare future fade away;
# 7. (Doom) checks how well M's death probability matches real deaths;
# 8. lets you drive the car inside M's dream, with the shipped C as autopilot.
#
# **Run time**: with `TRAIN` off (the default) a couple of minutes on 2 cores:
# it records a few episodes, encodes them with the shipped V and trains your
# own small M on them for a few dozen steps; everything at the profile's scale
# comes from the shipped models and the run that trained them. With `TRAIN`
# on (`WM_TRAIN=1`) it builds the data, V and the codes if they are missing,
# then trains M; each long step first prints the time the shipped run took.
# Code cells marked *check* are folded: they assert what the text claims.

# %% tags=["parameters"]
import os

PROFILE = os.environ.get("WM_PROFILE", "laptop")
TRAIN = os.environ.get("WM_TRAIN", "0") == "1"   # off: the shipped V and M and their recorded results
WORLD = "doom"  # or "carracing"

# %%
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import matplotlib.pyplot as plt
import numpy as np
import torch

from wmlib import paper, paths
from wmlib.artifacts import read_json
from wmlib.book import recorded
from wmlib.book.chapter import announce, md
from wmlib.config import get_config
from wmlib.worlds.data import collect, load_dataset
from wmlib.models.mdnrnn import MDNRNN, mixture_density, mixture_nll, sample_mixture, temper
from wmlib.training.mdnrnn import (Transitions, calibration, evaluate_mdnrnn, load_mdnrnn, precision_recall,
                                   teacher_forced, train_mdnrnn, unweight_probability)
from wmlib.training.series import load_series
from wmlib.training.vae import encode_dataset, load_vae, train_vae, write_series
from wmlib.models.vae import decode_codes
from wmlib.book.widgets import TemperatureExplorer, rare_mode_score, shows_fireball

cfg = get_config(WORLD, PROFILE)
SAMPLE = 4  # TRAIN off: recorded episodes that your own M learns from here
print("world:", WORLD, "| profile:", PROFILE, "| TRAIN:", TRAIN, "| M:", cfg.mdnrnn)

# %% [markdown]
# ## A first look: the M that ships with the book
#
# Training takes minutes, so first a V and M already trained at the laptop
# profile (they ship with wmlib, `wmlib/pretrained/`). V encodes a real
# recorded episode; M reads its codes and actions one step at a time and, at
# every step, predicts the next code as a mixture of Gaussians per latent
# dimension. The widget draws that mixture at the step and dimension where it
# has the clearest second mode; slide the temperature $\tau$ and watch the
# rare outcome fade as $\tau$ falls. Below the curve, V draws 16 next frames
# sampled from M's prediction at the slider's $\tau$ (the same random numbers
# at every $\tau$), and counts those that show a fireball: the rare future,
# seen on frames. The step shown is one shortly before a fireball shows in
# the real episode, where M draws one in some of its samples. Later sections rebuild all of this with the M you train.

# %%
from wmlib.book.pretrained import load_shipped_mdnrnn, load_shipped_vae
from wmlib.models.vae import encode_frames

def pick_fireball_step(vae, mix, frames, samples=16, look_ahead=6):
    """A step a few steps before a fireball shows in the real episode at which M, sampled at tau = 1,
    draws one in some but not all of its next frames (None if no step qualifies)."""
    seen, gen = shows_fireball(frames), torch.Generator()
    best, best_gap = None, 1.0
    for t in range(len(frames) - look_ahead):
        if not seen[t + 1:t + 1 + look_ahead].any():
            continue
        parts = [p[0, t].expand(samples, *p.shape[2:]) for p in mix]
        share = shows_fireball(decode_codes(vae, sample_mixture(*parts, 1.0, gen.manual_seed(0)))).mean()
        if 0 < share < 1 and abs(share - 0.3) < best_gap:
            best, best_gap = t, abs(share - 0.3)
    return best


random_play = collect(cfg, episodes=None if TRAIN else min(SAMPLE, cfg.collect.episodes))  # a no-op when on disk
shipped_v, shipped_m = load_shipped_vae(WORLD), load_shipped_mdnrnn(WORLD)
ep = random_play.episode(random_play.n_episodes - 1)
z0 = torch.from_numpy(encode_frames(shipped_v, np.asarray(ep.frames))[0])[None]
first0 = torch.zeros(1, z0.shape[1]); first0[0, 0] = 1  # the episode's first step
with torch.no_grad():
    mix0, _, _ = shipped_m(z0, torch.from_numpy(np.array(ep.actions, np.float32))[None], restart=first0)
detector = shows_fireball if WORLD == "doom" else None
t0 = pick_fireball_step(shipped_v, mix0, np.asarray(ep.frames)) if detector else None
if t0 is None:  # no fireball on its way (or CarRacing): the clearest second mode instead
    t0 = int(np.unravel_index(np.argmax(rare_mode_score(*(p[0].numpy() for p in mix0))), z0.shape[1:])[0])
first_look = TemperatureExplorer(*(p[0, t0].numpy() for p in mix0), vae=shipped_v, samples=16,
                                 detector=detector)
first_look

# %% [markdown]
# The count as a curve: how many of 64 sampled next frames show a fireball,
# from a cold dream to a hot one.

# %%
taus = [0.1, 0.3, 0.5, 0.75, 1.0, 1.15, 1.3, 1.6, 2.0]
if detector:
    counter = TemperatureExplorer(*(p[0, t0].numpy() for p in mix0), vae=shipped_v, samples=64,
                                  detector=detector)
    seen = [counter.detected_at(tau) for tau in taus]
    plt.figure(figsize=(6, 2.6))
    plt.plot(taus, seen, "o-")
    plt.xlabel("temperature tau"); plt.ylabel("frames with a fireball (of 64)")
    plt.title(f"step {t0} of a recorded episode, shipped V and M", fontsize=9)
    plt.show()
    print(dict(zip(taus, seen)))

# %% jupyter={"source_hidden": true} tags=["check"]
before = first_look.density.copy()
first_look.tau.value = 0.1
assert not np.allclose(first_look.density, before)  # the dial reshapes the predicted mixture
first_look.tau.value = 1.0

# %% [markdown]
# ## Get or build what M learns from
#
# M learns from V's codes of recorded episodes: per frame, the mean and
# log-variance of V's code (`encode_dataset` runs V over every recorded frame
# and stores them).
#
# With `TRAIN` on, each call below builds what is missing (the data, V, the
# codes) and is a no-op when it is already on disk, from notebooks 00 and 01
# or the command line. With `TRAIN` off the chapter uses your V, M and codes
# when all three are on disk at this profile; otherwise the V and M that ship
# with the book, and the shipped V encodes a few recorded episodes into a
# temporary folder: enough for your own M below.

# %%
import tempfile
from pathlib import Path

if TRAIN:
    announce(cfg, "collect", f"record {cfg.collect.episodes} episodes of random play")
    collect(cfg)
    announce(cfg, "train V")
    train_vae(cfg)
    announce(cfg, "encode", "encode every recorded frame with V")
    encode_dataset(cfg)
OWN = TRAIN or all(p.exists() for p in (paths.vae_file(cfg), paths.mdnrnn_file(cfg), paths.series_dir(cfg) / "meta.json"))
if OWN:
    dataset, series, vae = load_dataset(cfg), load_series(cfg), load_vae(cfg)
    v_source = f"your V ({PROFILE} profile)"
else:
    dataset = random_play
    if dataset.n_episodes > SAMPLE:  # a full dataset without your V and M: encode the same first episodes only
        dataset = collect(cfg, episodes=SAMPLE, root=Path(tempfile.mkdtemp()) / "data", progress=False)
    vae, v_source = shipped_v, "the shipped V (laptop profile)"
    series = write_series(vae, dataset, Path(tempfile.mkdtemp()) / "series", progress=False)
print(f"{v_source}: {series.n_episodes} episodes, {dataset.n_frames} frames, z_size {series.z_size}")

# %% [markdown]
# ## Build one step of M
#
# The LSTM reads $[z_t, a_t]$ (Doom adds a *restart* flag, 1 on the first
# step of an episode). Its output layer gives, for each of the $N_z$
# dimensions, $K$ logits, $K$ means and $K$ log standard deviations:
# $3 K N_z$ numbers, plus one death logit for Doom.
#
# The paper's counts (422,368 for CarRacing, 1,678,785 for Doom) come from an
# LSTM with **one** bias vector, as TensorFlow builds it. PyTorch's LSTM
# layers have two (`b_ih` and `b_hh`, redundant: only their sum matters).
# Without biases, and with a constant 1 appended to the input, that weight
# column *is* the single bias.
#
# The layers are given below; write one step with them: zero the memory
# where an episode restarts, read the input, update $(h, c)$ with the
# `nn.LSTMCell`, and turn $h$ into the mixture. The head's output, viewed as
# `[B, 3, N_z, K]`, holds the logits, the means and the log standard
# deviations in that order; a log-softmax over the $K$ logits makes each
# dimension's weights sum to one.

# %% nbgrader={"grade": false, "grade_id": "02-mdn-step", "locked": false, "schema_version": 3, "solution": true}
from torch import nn

from wmlib.models.mdnrnn import doom_action_levels


class MyM(nn.Module):
    def __init__(self, z_size, action_size, hidden, K=5, done_head=False):
        super().__init__()
        self.z_size, self.K, self.reads_restart = z_size, K, done_head
        n_in = z_size + action_size + int(done_head) + 1          # + the constant 1
        self.cell = nn.LSTMCell(n_in, hidden, bias=False)
        self.head = nn.Linear(hidden, 3 * K * z_size)
        self.done = nn.Linear(hidden, 1) if done_head else None

    def step(self, z, a, restart, state):
        """z [B, z], a [B, A], restart [B] (1: this step starts an episode), state (h, c) each [B, hidden]
        -> ((logpi, mu, logsigma) each [B, z, K], done logit [B] or None, (h, c)).

        The LSTM's input is [z, a, restart (only when the M has a done head), 1], in that order."""
        ### BEGIN SOLUTION
        h, c = (s * (1 - restart[:, None]) for s in state)       # a new episode forgets
        parts = [z, a] + ([restart[:, None]] if self.reads_restart else []) + [torch.ones_like(z[:, :1])]
        h, c = self.cell(torch.cat(parts, -1), (h, c))
        out = self.head(h).view(-1, 3, self.z_size, self.K)
        logpi, mu, logsigma = torch.log_softmax(out[:, 0], -1), out[:, 1], out[:, 2]
        done = self.done(h)[:, 0] if self.done is not None else None
        return (logpi, mu, logsigma), done, (h, c)
        ### END SOLUTION

# %% [markdown]
# At the paper's sizes it has the paper's parameter counts:

# %%
for world in ("carracing", "doom"):
    pc = get_config(world, "paper")
    mine = MyM(pc.vae.z_size, pc.action_size, pc.mdnrnn.hidden, pc.mdnrnn.n_mixtures, pc.mdnrnn.done_head)
    n = sum(p.numel() for p in mine.parameters())
    print(f"{world:10s} LSTM {pc.mdnrnn.hidden}: {n:,} parameters (paper {paper.PARAMS[world]['mdnrnn']:,})")

# %% [markdown]
# Now give your step the shipped M's weights and let both read the same real
# episode, step by step: they must predict the same mixtures and the same
# death logits. (The shipped Doom M reads the action as the game plays it,
# left / stay / right as -1 / 0 / +1, not C's raw number: `doom_action_levels`.)

# %%
def my_m_from(m):
    mine = MyM(m.z_size, m.action_size, m.hidden, m.n_mixtures, m.has_done)
    weights = [m.lstm.weight_ih_l0, m.lstm.weight_hh_l0, m.mdn.weight, m.mdn.bias]
    weights += [m.done.weight, m.done.bias] if m.has_done else []
    with torch.no_grad():
        for p, w in zip(mine.parameters(), weights):
            p.copy_(w)
    return mine.eval()


mine = my_m_from(shipped_m)
a_raw = torch.from_numpy(np.array(ep.actions, np.float32))[None]
a0 = doom_action_levels(a_raw) if getattr(shipped_m, "discrete_actions", False) else a_raw  # what the game plays
with torch.no_grad():
    lib_mix, lib_done, _ = shipped_m(z0, a_raw, restart=first0)
state, worst = (torch.zeros(1, shipped_m.hidden),) * 2, 0.0
with torch.no_grad():
    for t in range(min(40, z0.shape[1])):
        (lp, mu_t, ls), done_t, state = mine.step(z0[:, t], a0[:, t], first0[:, t], state)
        diffs = [lp - lib_mix.logpi[:, t], mu_t - lib_mix.mu[:, t], ls - lib_mix.logsigma[:, t]]
        diffs += [done_t - lib_done[:, t]] if lib_done is not None else []
        worst = max([worst] + [float(d.abs().max()) for d in diffs])
print(f"largest difference from the shipped M over 40 steps: {worst:.2e}")

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "02-mdn-step-test", "locked": true, "points": 3, "schema_version": 3, "solution": false} tags=["check"]
for world in ("carracing", "doom"):
    pc = get_config(world, "paper")
    mine_paper = MyM(pc.vae.z_size, pc.action_size, pc.mdnrnn.hidden, pc.mdnrnn.n_mixtures, pc.mdnrnn.done_head)
    assert sum(p.numel() for p in mine_paper.parameters()) == paper.PARAMS[world]["mdnrnn"], world
assert worst < 1e-4, worst
### BEGIN HIDDEN TESTS
with torch.no_grad():  # a batch of three rows, the first and last restarting from a busy memory
    g = torch.Generator().manual_seed(0)
    zb = torch.randn(3, shipped_m.z_size, generator=g)
    ab = torch.tensor([-1.0, 0.0, 1.0])[:, None].repeat(1, shipped_m.action_size)
    busy = tuple(torch.randn(3, shipped_m.hidden, generator=g) for _ in range(2))
    restart = torch.tensor([1.0, 0.0, 1.0])
    (lp_b, mu_b, ls_b), done_b, (h_b, c_b) = mine.step(zb, ab, restart, busy)
    (lp_e, _, _), _, _ = mine.step(zb, ab, restart, (torch.zeros(3, shipped_m.hidden),) * 2)
    assert torch.allclose(lp_b[[0, 2]], lp_e[[0, 2]], atol=1e-6) and not torch.allclose(lp_b[1], lp_e[1])
    lib_b, lib_done_b, (lib_h, lib_c) = shipped_m.step(zb, ab, tuple(s[None] for s in busy), restart=restart)
    assert torch.allclose(lp_b, lib_b.logpi, atol=1e-5) and torch.allclose(ls_b, lib_b.logsigma, atol=1e-5)
    assert torch.allclose(h_b, lib_h[0], atol=1e-5) and torch.allclose(c_b, lib_c[0], atol=1e-5)
    if lib_done_b is not None:
        assert torch.allclose(done_b, lib_done_b, atol=1e-5)
    assert torch.allclose(lp_b.exp().sum(-1), torch.ones(3, shipped_m.z_size), atol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ## The loss: mixture negative log-likelihood, by hand
#
# M is trained to make the real next code likely. Per dimension the loss is
#
# $$-\log \sum_k \pi_{ik}\, \frac{1}{\sigma_{ik}\sqrt{2\pi}}
#   \exp\!\left(-\frac{(z_{t+1,i} - \mu_{ik})^2}{2\sigma_{ik}^2}\right).$$
#
# Write it literally, as the formula reads (`torch.exp` of the Gaussians,
# weighted, summed, then `-torch.log`). It works, until a target lands far
# from every component: each exponential underflows to 0 and the log of 0 is
# infinite. The library adds the components in log space instead
# ($\log\sum\exp$, shifted by the largest term), which is the same number
# whenever the literal version is finite.

# %% nbgrader={"grade": false, "grade_id": "02-nll", "locked": false, "schema_version": 3, "solution": true}
def nll_by_hand(logpi, mu, logsigma, x):
    """logpi, mu, logsigma [..., K], target x [...] -> the mixture's negative log-likelihood of x [...]."""
    ### BEGIN SOLUTION
    sigma = logsigma.exp()
    gauss = torch.exp(-0.5 * ((x[..., None] - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    return -torch.log((logpi.exp() * gauss).sum(-1))
    ### END SOLUTION


g = torch.Generator().manual_seed(0)
logpi = torch.log_softmax(torch.randn(4, 6, 5, generator=g), -1)
mu, logsigma = torch.randn(4, 6, 5, generator=g), 0.5 * torch.randn(4, 6, 5, generator=g)
x = torch.randn(4, 6, generator=g)
print("by hand:", nll_by_hand(logpi, mu, logsigma, x)[0, :3])
print("library:", mixture_nll(logpi, mu, logsigma, x)[0, :3])

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "02-nll-test", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["check"]
assert torch.allclose(nll_by_hand(logpi, mu, logsigma, x), mixture_nll(logpi, mu, logsigma, x), atol=1e-5)
### BEGIN HIDDEN TESTS
g2 = torch.Generator().manual_seed(1)
lp2 = torch.log_softmax(3 * torch.randn(7, 5, generator=g2), -1)
mu2, ls2 = torch.randn(7, 5, generator=g2), 0.3 * torch.randn(7, 5, generator=g2)
x2 = torch.randn(7, generator=g2)
assert torch.allclose(nll_by_hand(lp2, mu2, ls2, x2), mixture_nll(lp2, mu2, ls2, x2), atol=1e-4)
### END HIDDEN TESTS

# %%
far = torch.full_like(x, 1000.0)
print("a target far from every component, by hand:", nll_by_hand(logpi, mu, logsigma, far)[0, :3])
print("                                    library:", mixture_nll(logpi, mu, logsigma, far)[0, :3])

# %% jupyter={"source_hidden": true} tags=["check"]
assert torch.isfinite(mixture_nll(logpi, mu, logsigma, far)).all()  # log-sum-exp does not underflow

# %% [markdown]
# ## Temperature, by hand
#
# When M dreams, the next code is *sampled*. The temperature $\tau$ changes
# how adventurous the samples are: it divides the logits, and scales each
# Gaussian's variance by $\tau$,
#
# $$\pi_k(\tau) = \mathrm{softmax}_k\!\left(\frac{\log \pi_k}{\tau}\right), \qquad
#   \sigma_k(\tau) = \sigma_k \sqrt{\tau}.$$
#
# As $\tau \to 0$ the sample becomes the mean of the most likely component;
# $\tau > 1$ makes rare outcomes (a fireball out of nowhere) more frequent.
# Write the tempered mixture, in logs as M keeps it.

# %% nbgrader={"grade": false, "grade_id": "02-temperature", "locked": false, "schema_version": 3, "solution": true}
def my_temper(logpi, logsigma, tau):
    """M's mixture at temperature tau > 0 -> (log pi(tau), log sigma(tau)), the same shapes [..., K]."""
    ### BEGIN SOLUTION
    return torch.log_softmax(logpi / tau, -1), logsigma + 0.5 * np.log(tau)
    ### END SOLUTION


lp_mine, ls_mine = my_temper(logpi, logsigma, 0.5)
print("weights at tau 0.5, yours:  ", lp_mine.exp()[0, 0])
print("weights at tau 0.5, library:", temper(logpi, logsigma, 0.5)[0].exp()[0, 0])

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "02-temperature-test", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["check"]
for tau in (0.1, 0.5, 1.0, 1.3):
    lp_tau, ls_tau = temper(logpi, logsigma, tau)
    mine_lp, mine_ls = my_temper(logpi, logsigma, tau)
    assert torch.allclose(mine_lp.exp(), lp_tau.exp(), atol=1e-6) and torch.allclose(mine_ls, ls_tau, atol=1e-6), tau
### BEGIN HIDDEN TESTS
raw_logits = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(2))  # logits that are not normalised
assert torch.allclose(my_temper(raw_logits, logsigma[:3, :4], 0.7)[0].exp(), temper(raw_logits, logsigma[:3, :4], 0.7)[0].exp(), atol=1e-6)
assert torch.allclose(my_temper(raw_logits, logsigma[:3, :4], 0.7)[0].exp().sum(-1), torch.ones(3, 4), atol=1e-6)
### END HIDDEN TESTS

# %% jupyter={"source_hidden": true} tags=["check"]
most_likely_mean = torch.gather(mu, -1, logpi.argmax(-1, keepdim=True)).squeeze(-1)
assert torch.equal(sample_mixture(logpi, mu, logsigma, tau=0.0), most_likely_mean)  # tau 0: no dice at all

# %% [markdown]
# ## M's whole loss, and your M in training
#
# For a batch of sequences, M's loss is the mixture NLL per dimension, in log
# space, averaged over the steps that have a next code; for Doom add the
# death head's binary cross-entropy, with deaths weighted `done_pos_weight`
# times (they are rare), averaged over the valid steps. Write both, and a
# function that runs your step along a batch of sequences.
#
# A batch `t` is a dict of tensors: `z` and `z_next` [B, T, z] (this step's
# code and the next one), `a` [B, T, A], `restart`, `done`, `valid` and
# `z_mask` [B, T] (`valid`: a real step, not padding; `z_mask`: a step that
# has a next code).

# %% nbgrader={"grade": false, "grade_id": "02-m-loss", "locked": false, "schema_version": 3, "solution": true}
import torch.nn.functional as F


def my_m_loss(mix, done_logit, t, pos_weight):
    """mix = (logpi, mu, logsigma) [B, T, z, K] and done_logit [B, T] (None without a done head) from
    run_my_m -> the loss, a scalar."""
    ### BEGIN SOLUTION
    logpi, mu, logsigma = mix
    log_n = -0.5 * ((t["z_next"][..., None] - mu) / logsigma.exp()) ** 2 - logsigma - 0.5 * np.log(2 * np.pi)
    nll = -torch.logsumexp(logpi + log_n, -1).mean(-1)                    # [B, T]: nats per dimension
    loss = (nll * t["z_mask"]).sum() / t["z_mask"].sum()
    if done_logit is not None:
        bce = F.binary_cross_entropy_with_logits(done_logit, t["done"], reduction="none",
                                                 pos_weight=torch.tensor(pos_weight))
        loss = loss + (bce * t["valid"]).sum() / t["valid"].sum()
    return loss
    ### END SOLUTION


def run_my_m(mine, t):
    """Your step along a batch of sequences, from an empty memory -> (mix [B, T, z, K] x 3, done [B, T] or None)."""
    ### BEGIN SOLUTION
    B, T, _ = t["z"].shape
    state, mixes, dones = (torch.zeros(B, mine.cell.hidden_size),) * 2, [], []
    for i in range(T):
        mix, done, state = mine.step(t["z"][:, i], t["a"][:, i], t["restart"][:, i], state)
        mixes.append(mix)
        dones.append(done)
    mix = [torch.stack([m_[k] for m_ in mixes], 1) for k in range(3)]
    return mix, (torch.stack(dones, 1) if dones[0] is not None else None)
    ### END SOLUTION

# %% [markdown]
# The data side comes from the library: `Transitions` holds V's codes as
# $(\mu, \log\sigma^2)$ per step, `make_batches` cuts episodes into
# sequences, and `batch_tensors` draws fresh codes $z = \mu + \sigma\varepsilon$
# for each batch. On one such batch your loss equals `wmlib`'s `m_loss` for an
# M with the same weights.

# %%
from wmlib.training.mdnrnn import batch_tensors, m_loss, make_batches

data = Transitions.load(cfg) if OWN else Transitions(series)
train_eps, val_eps = data.split(cfg.mdnrnn.val_episodes)
lib_m = MDNRNN(series.z_size, cfg.action_size, 64, cfg.mdnrnn.n_mixtures, cfg.mdnrnn.done_head)
batch = make_batches(cfg, data, train_eps, np.random.default_rng(0))[0]
t = batch_tensors(data, batch, torch.Generator().manual_seed(0), "cpu")
with torch.no_grad():
    ours = my_m_loss(*run_my_m(my_m_from(lib_m), t), t, cfg.mdnrnn.done_pos_weight)
    lib = m_loss(lib_m, t, None, cfg.mdnrnn.done_pos_weight, "cpu", amp=False)[0]
print(f"your loss {float(ours):.5f}, wmlib's {float(lib):.5f}")

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "02-m-loss-test", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["check"]
assert torch.allclose(ours, lib, atol=1e-4)
### BEGIN HIDDEN TESTS
with torch.no_grad():  # deaths in the batch, weighted 1 and 7 times; and a batch whose last steps are padding
    t_dead = {k: v.clone() if torch.is_tensor(v) else v for k, v in t.items()}
    t_dead["done"][:, -1] = 1.0
    t_dead["valid"][0, -2:] = 0.0
    t_dead["z_mask"][0, -3:] = 0.0
    for pw in (1.0, 7.0):
        assert torch.allclose(my_m_loss(*run_my_m(my_m_from(lib_m), t_dead), t_dead, pw),
                              m_loss(lib_m, t_dead, None, pw, "cpu", amp=False)[0], atol=1e-4), pw
### END HIDDEN TESTS

# %% [markdown]
# A short training loop for your M (LSTM 64, whatever the profile): Adam,
# gradients clipped at 1 as in the paper. For simplicity it starts every
# sequence from an empty memory; with `batching="stream"` the library carries
# the memory from one chunk of a Doom stream to the next (truncated
# backpropagation, below). The batches and the optimiser are given; write the
# loop.

# %% nbgrader={"grade": false, "grade_id": "02-training-loop", "locked": false, "schema_version": 3, "solution": true}
import copy

STEPS = {"ci": 15, "laptop": 40, "paper": 300}[PROFILE]
torch.manual_seed(0)
my_m = MyM(series.z_size, cfg.action_size, 64, cfg.mdnrnn.n_mixtures, cfg.mdnrnn.done_head)
my_m_start = copy.deepcopy(my_m.state_dict())  # kept for the check
opt = torch.optim.Adam(my_m.parameters(), lr=1e-3)
batches, gen, my_losses = make_batches(cfg, data, train_eps, np.random.default_rng(0)), torch.Generator(), []
gen.manual_seed(0)
# For step in range(STEPS): t = batch_tensors(data, batches[step % len(batches)], gen, "cpu") (fresh z every
# batch), your loss with cfg.mdnrnn.done_pos_weight, backward, clip the gradients' norm at 1
# (nn.utils.clip_grad_norm_), one Adam step; append loss.item() to my_losses.
### BEGIN SOLUTION
for step in range(STEPS):
    t = batch_tensors(data, batches[step % len(batches)], gen, "cpu")   # fresh z every batch
    loss = my_m_loss(*run_my_m(my_m, t), t, cfg.mdnrnn.done_pos_weight)
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(my_m.parameters(), 1.0)
    opt.step()
    my_losses.append(loss.item())
### END SOLUTION
plt.figure(figsize=(5, 2.4)); plt.plot(my_losses); plt.xlabel("step"); plt.ylabel("your M's loss"); plt.show()

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "02-training-loop-test", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["check"]
assert len(my_losses) == STEPS and np.isfinite(my_losses).all()
assert np.mean(my_losses[-3:]) < np.mean(my_losses[:3]), "the loss should fall"
### BEGIN HIDDEN TESTS
ref = MyM(series.z_size, cfg.action_size, 64, cfg.mdnrnn.n_mixtures, cfg.mdnrnn.done_head)
ref.load_state_dict(my_m_start)
ref_opt, ref_gen, ref_losses = torch.optim.Adam(ref.parameters(), lr=1e-3), torch.Generator().manual_seed(0), []
REPLAYED = min(STEPS, 6)  # the first steps, written out: a wrong loss, order or missing step shows within them
for step in range(REPLAYED):
    tb = batch_tensors(data, batches[step % len(batches)], ref_gen, "cpu")
    ref_loss = my_m_loss(*run_my_m(ref, tb), tb, cfg.mdnrnn.done_pos_weight)
    ref_opt.zero_grad()
    ref_loss.backward()
    nn.utils.clip_grad_norm_(ref.parameters(), 1.0)
    ref_opt.step()
    ref_losses.append(ref_loss.item())
assert np.allclose(my_losses[:REPLAYED], ref_losses, rtol=1e-4), (my_losses[:REPLAYED], ref_losses)
### END HIDDEN TESTS

# %% [markdown]
# ## Training M
#
# Three details from the paper:
#
# * **Fresh noise every batch.** V stored a mean and a variance per frame, not
#   a single code. Every batch re-samples $z = \mu + \sigma \epsilon$, so M
#   learns the dynamics, not V's particular draws.
# * **What is predicted.** Step $t$ reads $(z_t, a_t)$ and is scored on
#   $z_{t+1}$ and on "did the episode end after $a_t$". The last step of an
#   episode has no next frame but is exactly where the death is: it still
#   trains the death head. Deaths are rare (one step per episode, and
#   episodes last hundreds of steps), so they are weighted `done_pos_weight`
#   times more.
# * **Long episodes, short memory of gradients (Doom).** Episodes are
#   concatenated into a few parallel streams, cut into chunks of `seq_len`
#   steps. The LSTM state flows from chunk to chunk, but gradients stop at
#   the chunk edge: truncated backpropagation through time. At each episode
#   start the state is zeroed and the restart flag is 1. That is the paper
#   profile's `batching="stream"`. CarRacing, and Doom at the laptop profile,
#   train on short windows cut from each episode, each from an empty memory
#   (`batching="windows"`): on two CPU cores, 8 short windows per batch give
#   many more gradient steps than 32 long streams in the same minutes, and a
#   dream whose C transfers better (notebook 07 and `experiments/README.md`
#   have the measurements). `batching="buckets"` batches those same windows
#   by length, so a batch of short windows is not padded to `seq_len`: faster
#   per epoch, not the default (notebook 07 says why). Yours:
#   `cfg.mdnrnn.batching`.
# * **A rate that decays (Doom, laptop).** The original kept Adam's rate at
#   $10^{-3}$ for 400 epochs. With far fewer epochs on a laptop, the rate
#   falls along a cosine to $10^{-5}$ (`cfg.mdnrnn.lr_schedule`): M settles
#   into a lower held-out NLL, and its dream's C lived longer in the real
#   game (notebook 07 again).
#
# `train_mdnrnn` resumes after an interruption and is a no-op once trained.
# With `TRAIN` off the next cell shows the M of your profile (yours when you
# have trained V, M and the codes, else the shipped one) and the training
# curve recorded when it was trained.

# %%
from wmlib.book.pretrained import shipped_card


def chapter_m():
    """The shipped M this chapter is about: the one trained on random play (for Doom, round 0's of the
    iterative training; the shipped Doom M is round 1's, which also read C's real games)."""
    if WORLD == "doom" and recorded.controller_file(WORLD, "mdnrnn-round-0").exists():
        return recorded.load_mdnrnn(WORLD, "mdnrnn-round-0")[0], "the shipped M trained on random play (round 0)"
    card = shipped_card(WORLD)
    note = f" (round {card['round']} of iterative training; round 0's M is not shipped yet)" if card.get("round") else ""
    return shipped_m, "the shipped M" + note


def result_of(path):
    """A recorded result that goes with the M in use: yours when M is yours, else the shipped run's."""
    if OWN:
        return recorded.result(cfg, path)
    shipped = recorded.shipped_path(cfg, path)
    return recorded.Result(read_json(shipped), "shipped", shipped) if shipped.exists() else None


if TRAIN:
    announce(cfg, "train M")
    train_mdnrnn(cfg)
    evaluate_mdnrnn(cfg)  # held-out NLL against "no change", saved as mdnrnn/eval.json
m, m_source = (load_mdnrnn(cfg), f"your M ({PROFILE} profile)") if OWN else chapter_m()
log_res = result_of(paths.mdnrnn_dir(cfg) / paths.LOG)
print(f"M: {m_source}; training log: {log_res.label() if log_res else 'not shipped yet'}")

# %%
log = log_res.data if log_res else None
if log:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    axes[0].plot(log["step"], log["z_loss"], lw=0.8, label="z: NLL per dim")
    if "done_loss" in log:
        axes[0].plot(log["step"], log["done_loss"], lw=0.8, label="done: weighted BCE")
    axes[0].set_xlabel("training step"); axes[0].set_ylabel("loss (nats)"); axes[0].legend()
    axes[1].plot(log["epoch"], log["val_nll"], "o-")
    axes[1].set_xlabel("epoch"); axes[1].set_ylabel("held-out NLL per dim (nats)")
    fig.suptitle(f"M's training, {log_res.label()}", fontsize=9)
    plt.tight_layout(); plt.show()
else:
    print("no recorded training log for this M yet (not shipped yet)")

# %% jupyter={"source_hidden": true} tags=["check"]
# Predicting V's prior N(0, 1) for every dimension scores 0.5 log(2 pi e) = 1.42 nats: M must do at least that.
if log:
    assert np.isfinite(log["loss"]).all()
    assert log["val_nll"][-1] < 0.5 * np.log(2 * np.pi * np.e) + 0.1
if log and (PROFILE != "ci" or log_res.shipped):  # a ci V has seen 256 frames: its codes are mostly noise
    # the first epoch against the last: with many epochs most of the fall happens early, so fifths of the run can
    # differ by less than the noise of one batch
    ends = log["epoch_step"]
    first, last = np.mean(log["z_loss"][:ends[0]]), np.mean(log["z_loss"][ends[-2] if len(ends) > 1 else 0:])
    assert last < first - 0.05, f"M's loss should fall while training (first epoch {first:.3f}, last {last:.3f})"

# %% [markdown]
# ## Is M better than "nothing changes"?
#
# Consecutive frames look alike, so a lazy predictor, $z_{t+1} = z_t$, is
# already decent. To give it a likelihood we put a Gaussian around $z_t$ with
# a per-dimension variance fitted on the training set's steps
# $z_{t+1} - z_t$. We compare per latent dimension on held-out episodes, in
# nats (lower is better). The paper reports no such number. The evaluation
# is the one recorded for this M on the held-out episodes of its own data
# (`python -m wmlib eval-mdnrnn doom` writes it).

# %%
eval_res = result_of(paths.mdnrnn_dir(cfg) / paths.MDNRNN_EVAL)
if eval_res is None and OWN:  # your M, not evaluated yet: a few seconds
    eval_res = recorded.Result(evaluate_mdnrnn(cfg), "yours", paths.mdnrnn_dir(cfg) / paths.MDNRNN_EVAL)
res = eval_res.data if eval_res else None
if res:
    nll, base = np.array(res["nll_per_dim"]), np.array(res["baseline_nll_per_dim"])
    dims = np.arange(len(nll))
    plt.figure(figsize=(10, 3))
    plt.bar(dims - 0.2, base, 0.4, label=f"no change (mean {res['baseline_nll']:.3f})", color="lightgrey")
    plt.bar(dims + 0.2, nll, 0.4, label=f"M (mean {res['nll']:.3f})")
    plt.xlabel("latent dimension"); plt.ylabel("held-out NLL (nats)"); plt.legend()
    plt.title(f"{res['steps']:,} held-out steps, {eval_res.label()}", fontsize=9); plt.show()
    death = (f" Its death head, at the threshold 0.5: precision {res['done_precision']:.2f}, recall "
             f"{res['done_recall']:.2f} over {res['deaths']} held-out deaths." if "done_precision" in res else "")
    md(f"{m_source[0].upper() + m_source[1:]}: held-out NLL **{res['nll']:.3f}** nats per dimension against "
       f"**{res['baseline_nll']:.3f}** for \"no change\" ({eval_res.label()}, `{res.get('profile', PROFILE)}` "
       f"profile); M is better on {res['dims_better_than_baseline']} of {len(nll)} dimensions.{death}")
else:
    print("no recorded evaluation of this M yet (not shipped yet): `python -m wmlib eval-mdnrnn doom` makes one")

# %% jupyter={"source_hidden": true} tags=["check"]
if res:
    assert np.isfinite(nll).all() and np.isfinite(base).all() and len(nll) == series.z_size
if res and res.get("profile", PROFILE) != "ci":  # an M trained at ci has seen a few hundred steps: no claim
    assert res["nll"] < res["baseline_nll"], "a trained M should beat the no-change baseline"

# %% [markdown]
# ## One step ahead, seen through V
#
# From here on, the M of your profile (above) works on the held-out episodes
# of the codes this chapter loaded. Feed M a held-out episode's real codes and
# actions (teacher forcing) and,
# at each step, take the mean of its most likely component as the predicted
# next code. V decodes it into a picture. Rows: the real next frame, V's
# reconstruction of it, and M's prediction.

# %%
episode = series.episode(int(val_eps[0]))
T = len(episode["mu"])
z = torch.from_numpy(episode["mu"])[None]
a = torch.from_numpy(np.array(episode["actions"]))[None]
restart = torch.zeros(1, T); restart[0, 0] = 1
with torch.no_grad():
    mix, done_logit, _ = m(z, a, restart=restart)
predicted = sample_mixture(*mix, tau=0.0)[0].numpy()  # [T, z]: prediction of z_{t+1}

# %%
cols = np.linspace(0, T - 2, 8).astype(int)
real_next = np.asarray(dataset.episode(int(val_eps[0])).frames)[cols + 1]
rows = [("real next frame", real_next),
        ("V's reconstruction", decode_codes(vae, episode["mu"][cols + 1])),
        ("M's prediction", decode_codes(vae, predicted[cols]))]
fig, axes = plt.subplots(3, len(cols), figsize=(1.4 * len(cols), 4.6))
for r, (name, frames) in enumerate(rows):
    axes[r, 0].set_title(name, loc="left", fontsize=9)
    for j, f in enumerate(frames):
        axes[r, j].imshow(f); axes[r, j].axis("off")
plt.tight_layout(); plt.show()

# %%
err_m = np.mean((predicted[:-1] - episode["mu"][1:]) ** 2)
err_same = np.mean((episode["mu"][:-1] - episode["mu"][1:]) ** 2)
expected = (mix[0][0].exp() * mix[1][0]).sum(-1).numpy()  # the mixture's mean: the best guess under squared error
err_expected = np.mean((expected[:-1] - episode["mu"][1:]) ** 2)
err_average = np.mean((episode["mu"][1:] - episode["mu"][1:].mean(0)) ** 2)
print(f"squared error of the predicted code: M's most likely component {err_m:.4f}, M's mixture mean "
      f"{err_expected:.4f}, no change {err_same:.4f}, the episode's average code {err_average:.4f}")

# %% jupyter={"source_hidden": true} tags=["check"]
assert predicted.shape == (T, series.z_size) and np.isfinite(err_m)
if not m_source.startswith("your") or PROFILE != "ci":  # an M trained at ci has seen a few hundred steps: no claim
    # The picture row shows one likely future (a mode); under squared error the best guess is the mixture's mean,
    # and that must beat "nothing changes"; any of M's guesses must beat the episode's average code.
    assert err_expected < err_same, f"M's mean should predict better than 'nothing changes' ({err_expected}, {err_same})"
    assert err_m < err_average and err_expected < err_average, (err_m, err_expected, err_average)

# %% [markdown]
# ## Open loop: M imagines
#
# Now M gets only the first code. At each step it samples the next code
# ($\tau = 1$) and reads its own sample back, while we feed the actions the
# real episode took. This is how the dream works: no frames, no V encoder,
# just M talking to itself.

# %%
steps = min(T - 1, 64)
gen = torch.Generator().manual_seed(0)
zt, state, imagined = z[:, 0], m.initial_state(1), []
with torch.no_grad():
    for t in range(steps):
        r = torch.ones(1) if t == 0 else torch.zeros(1)
        mix_t, _, state = m.step(zt, a[:, t], state, restart=r)
        zt = sample_mixture(*mix_t, tau=1.0, generator=gen)
        imagined.append(zt[0].numpy())
imagined = np.stack(imagined)

cols = np.linspace(0, steps - 1, 8).astype(int)
fig, axes = plt.subplots(2, len(cols), figsize=(1.4 * len(cols), 3.2))
for j, c in enumerate(cols):
    axes[0, j].imshow(np.asarray(dataset.episode(int(val_eps[0])).frames)[c + 1]); axes[0, j].axis("off")
    axes[1, j].imshow(decode_codes(vae, imagined[c][None])[0]); axes[1, j].axis("off")
    axes[0, j].set_title(f"t={c + 1}", fontsize=8)
axes[0, 0].set_ylabel("real"); axes[1, 0].set_ylabel("imagined")
plt.suptitle("top: the real episode; bottom: M's open-loop dream with the same actions", fontsize=9)
plt.tight_layout(); plt.show()

# %% jupyter={"source_hidden": true} tags=["check"]
# The dream reads its own samples back. With the same dice, sampling each step from the *real* code instead
# (teacher forcing) gives the same first step, and other ones after it.
gen, state, forced = torch.Generator().manual_seed(0), m.initial_state(1), []
with torch.no_grad():
    for t in range(steps):
        mix_t, _, state = m.step(z[:, t], a[:, t], state, restart=torch.ones(1) if t == 0 else torch.zeros(1))
        forced.append(sample_mixture(*mix_t, tau=1.0, generator=gen)[0].numpy())
forced = np.stack(forced)
assert imagined.shape == (steps, series.z_size) and np.isfinite(imagined).all()
assert np.allclose(imagined[0], forced[0], atol=1e-6) and not np.allclose(imagined[1:], forced[1:], atol=1e-3)

# %% [markdown]
# ## The temperature dial
#
# Find, along the held-out episode, the step and latent dimension where M's
# prediction has the clearest second mode (a less likely, separate outcome),
# and draw that mixture at several temperatures. A component's weight
# relative to the most likely one is $(\pi_k / \pi_{\text{top}})^{1/\tau}$: as
# $\tau$ falls the rare mode fades away and the dream becomes predictable
# (at the ci profile M is barely trained, so the modes are faint); that is why the paper's
# agent trained at $\tau = 0.1$ learned to exploit a world where fireballs
# rarely come (notebook 05 shows that exploit).

# %%
score = rare_mode_score(*(p[0].numpy() for p in mix))  # [T, z]
t_best, d_best = np.unravel_index(np.argmax(score), score.shape)
one = [p[0, t_best, d_best] for p in mix]  # this step's mixture for that dimension, [K]
xs = np.linspace(float((one[1] - 4 * one[2].exp() * np.sqrt(2)).min()),
                 float((one[1] + 4 * one[2].exp() * np.sqrt(2)).max()), 400)
plt.figure(figsize=(7, 3))
for tau in (2.0, 1.0, 0.5, 0.1):
    plt.plot(xs, mixture_density(*one, xs, tau).numpy(), label=f"tau = {tau}")
plt.xlabel(f"next z[{d_best}] at step {t_best}"); plt.ylabel("density"); plt.legend(); plt.show()
weights = {tau: temper(one[0], one[2], tau)[0].exp().numpy() for tau in (2.0, 1.0, 0.5, 0.1)}
top, rare = np.argsort(-weights[1.0])[:2]  # the most likely component, and the runner-up
print("runner-up weight:", {tau: round(float(w[rare]), 4) for tau, w in weights.items()})
print("runner-up / top: ", {tau: round(float(w[rare] / w[top]), 4) for tau, w in weights.items()})

# %% jupyter={"source_hidden": true} tags=["check"]
ratio = [weights[tau][rare] / weights[tau][top] for tau in (2.0, 1.0, 0.5, 0.1)]
assert all(a > b for a, b in zip(ratio, ratio[1:])), "the rare mode should fade as tau falls"

# %% [markdown]
# Slide $\tau$ yourself (0.1 to 2) and pick other dimensions. The dashed
# curve is $\tau = 1$, the distribution M learned.

# %%
explorer = TemperatureExplorer(*(p[0, t_best].numpy() for p in mix), dim=int(d_best))
explorer

# %% jupyter={"source_hidden": true} tags=["check"]
before = explorer.density.copy()
explorer.tau.value = 0.1
assert not np.allclose(explorer.density, before)
explorer.tau.value = 1.0

# %% [markdown]
# ## (Doom) Does M know when you die?
#
# The death head outputs $p(\text{done}_t)$. Over the held-out episodes we
# bin the predicted probabilities and compare each bin's mean prediction
# with how often a death really followed. Because deaths were weighted
# `done_pos_weight` times in the loss, M's odds are inflated by that factor;
# dividing the odds back gives the orange curve. How the dream uses this
# probability to end an episode is a setting of the profile (the cell below
# says which).

# %%
DONE_RULES = {
    "threshold": f"a dream episode ends as soon as M's own (weighted) death probability passes "
                 f"{cfg.dream.done_threshold:g}, as in the original code: deterministic given the codes",
    "sample": f"at every step of a dream, death is drawn with M's *un-weighted* probability (its odds divided by "
              f"`done_pos_weight` = {cfg.mdnrnn.done_pos_weight:g}, the orange curve): a dream may end at a step "
              f"whose probability is small, and may survive one whose weighted probability passes 0.5",
    "never": "a dream episode ends only at the step cap; M's death head is ignored"}
md(f"At the `{PROFILE}` profile `cfg.dream.done_rule = \"{cfg.dream.done_rule}\"`: "
   f"{DONE_RULES[cfg.dream.done_rule]}." if m.has_done else
   "This world's M has no death head: a dream ends only at the step cap.");

# %%
if m.has_done:
    pred = teacher_forced(m, data, val_eps)
    raw = calibration(pred["done_prob"], pred["done"])
    fixed = calibration(unweight_probability(pred["done_prob"], cfg.mdnrnn.done_pos_weight), pred["done"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    axes[0].plot([0, 1], [0, 1], "k:", lw=1)
    axes[0].plot(raw["predicted"], raw["observed"], "o-", label="M's probability")
    axes[0].plot(fixed["predicted"], fixed["observed"], "s-", label="odds / pos_weight")
    axes[0].set_xlabel("predicted death probability"); axes[0].set_ylabel("observed death rate")
    axes[0].legend(fontsize=8)
    p_ep = torch.sigmoid(done_logit[0]).numpy()
    axes[1].plot(p_ep, lw=1, label="M's death probability")
    axes[1].axvline(T - 1, color="red", ls="--", label="real death" if episode["dones"][-1] else "episode cut")
    axes[1].plot(unweight_probability(p_ep, cfg.mdnrnn.done_pos_weight), lw=1, label="un-weighted")
    axes[1].axhline(0.5, color="grey", lw=0.5)
    axes[1].set_xlabel("step of a held-out episode"); axes[1].legend(fontsize=8)
    plt.tight_layout(); plt.show()
    pr = precision_recall(pred["done_prob"], pred["done"])
    print(f"{len(val_eps)} held-out episodes here, {int(pred['done'].sum())} deaths; at 0.5: precision "
          f"{pr['precision']:.2f}, recall {pr['recall']:.2f}")

# %% jupyter={"source_hidden": true} tags=["check"]
if m.has_done:
    assert ((pred["done_prob"] >= 0) & (pred["done_prob"] <= 1)).all()
    assert raw["count"].sum() == len(pred["done"])

# %% [markdown]
# ## Drive in M's dream
#
# M is a world now: give it an action and it answers with the next code. The
# car's M has no death head, so its dreams only end at the cap. Here the
# shipped car V, M and C (laptop profile) let you drive in the dream: the
# **autopilot** is the shipped C, reading $z$ and $h$ as it did on the real
# track. Press **Play** to let it drive, press a direction to take over for a
# few steps, switch the autopilot off to drive alone, and slide $\tau$ to make
# the dream calmer or wilder. (Notebook 04 does the same for Doom, where M
# also decides when you die.)

# %%
from wmlib.agent.dream import DreamEnv
from wmlib.book.pretrained import load_shipped_checkpoint, load_shipped_controller_params
from wmlib.book.widgets import DreamPlayer

car_starts = load_shipped_checkpoint("carracing", "mdnrnn")  # the first-frame codes dreams start from
car_dream = DreamEnv(load_shipped_mdnrnn("carracing"), car_starts["first_mu"].float().numpy(),
                     car_starts["first_logvar"].float().numpy(), tau=1.0, max_steps=1000,
                     vae=load_shipped_vae("carracing"))
car_player = DreamPlayer(car_dream, controller=load_shipped_controller_params("carracing"))
car_player

# %% jupyter={"source_hidden": true} tags=["check"]
before = bytes(car_player.image.value)
car_player.play.value += 1          # one tick of Play: the autopilot drives
assert car_player.drivers == ["C"] and bytes(car_player.image.value) != before
car_player.buttons["left"].click()  # you take over
assert car_player.drivers[-1] == "you"
car_player.tau.value = 0.5
assert car_dream.tau == 0.5
car_player.tau.value = 1.0
car_player.new_dream()

# %% [markdown]
# ## Summary
#
# **What the paper established** (Ha & Schmidhuber, 2018, building on the
# mixture density networks of Bishop, 1994, and the MDN-RNNs of Graves,
# 2013, and Ha & Eck, 2017):
#
# * M is an LSTM with a mixture density head: for **each** latent dimension
#   its own mixture of 5 Gaussians over the next code (and, for Doom, a death
#   logit); 422,368 parameters for CarRacing and 1,678,785 for Doom.
# * Sampled at a temperature $\tau$, M becomes a world an agent can act in;
#   low $\tau$ removes rare futures, which matters for training in the dream.
#
# **What you built and measured** (your numbers are printed by the cell below):
#
# * your own LSTM + mixture step, equal to the shipped M with its weights;
#   your loss, equal to `wmlib`'s; a few steps of training with it;
# * M at your profile's scale (shipped, or yours with `TRAIN` on), its
#   recorded training and its held-out NLL against the "nothing changes"
#   baseline, its one-step and open-loop predictions seen through V, and
#   (Doom) how well its death probability matches real deaths and how the
#   dream turns it into an end;
# * the rare mode dying as $\tau$ falls, on the mixture and on decoded frames.

# %%
print(f"{WORLD}, {m_source}:")
if res:
    print(f"  held-out NLL {res['nll']:.3f} nats per dimension against {res['baseline_nll']:.3f} for 'no change'; "
          f"better on {res['dims_better_than_baseline']}/{len(nll)} dimensions  ({eval_res.label()})")
print(f"  your own small M: loss {my_losses[0]:.3f} -> {my_losses[-1]:.3f} over {len(my_losses)} steps  "
      f"[{PROFILE} profile]")
if detector:
    print("shipped V and M, frames with a fireball of 64 sampled:", dict(zip(taus, seen)))

# %% [markdown]
# ## Exercises
#
# Each exercise has an estimated time at the `laptop` profile, on the shipped
# models: an estimate, in the table below. A "lab" exercise fits a lab
# session; a "project" retrains part of the pipeline, and the table adds the
# time that stage took in the shipped run's record.

# %%
from wmlib.book.course import exercise_table

md(exercise_table("02_memory"))

# %% [markdown]
# **1.** Replace the mixture by a single Gaussian per dimension (`n_mixtures=1`
# via `cfg.with_overrides(mdnrnn={"n_mixtures": 1})` and a fresh
# `WM_ARTIFACTS`). How much held-out NLL do you lose, and on which
# dimensions?
# <details><summary>Hint</summary>
# Compare <code>res["nll_per_dim"]</code> of the two runs dimension by dimension;
# the dimensions whose predictions had a clear second mode
# (<code>rare_mode_score</code>) should lose most.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "02-ex1-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** The held-out NLL rises, and the loss is concentrated: the dimensions whose
# mixtures had a clear second mode (high `rare_mode_score`: a fireball
# appears or not, the agent turns or not) lose most, the smooth dimensions
# hardly anything. One Gaussian must cover a two-way future with one wide
# bump, so sampling it in a dream gives codes *between* the outcomes: half a
# fireball, a blur, rather than a fireball or none. That is why the paper's M
# is a mixture.
# <!-- END SOLUTION -->

# %% [markdown]
# **2.** Train without re-sampling (use V's mean codes as inputs and targets).
# What happens to the validation NLL measured on sampled codes? Why?
# <details><summary>Hint</summary>
# In your loop above, build each batch with <code>mean_code_batch</code> (below)
# instead of <code>batch_tensors</code>. M learns widths that are too narrow for
# codes with V's noise in them.</details>

# %% nbgrader={"grade": false, "grade_id": "02-ex2-code", "locked": false, "schema_version": 3, "solution": true}
# Exercise 2: a batch of V's mean codes, without the fresh noise.
import numpy as np
import torch


def mean_code_batch(data, batch, device="cpu") -> dict:
    """Like ``wmlib.training.mdnrnn.batch_tensors`` but with V's mean codes: no fresh noise per batch."""
    ### BEGIN SOLUTION
    from wmlib.training.mdnrnn import batch_tensors

    t = batch_tensors(data, batch, torch.Generator().manual_seed(0), device)
    idx = batch.idx
    nxt = np.where(batch.valid & ~batch.last, idx + 1, idx)
    t["z"] = torch.from_numpy(np.asarray(data.mu[idx], np.float32)).to(device)
    t["z_next"] = torch.from_numpy(np.asarray(data.mu[nxt], np.float32)).to(device)
    return t
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "02-ex2-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** Trained on the means, M never sees V's noise, so it learns narrow
# Gaussians: its NLL on mean codes looks good, but measured on sampled codes
# $z = \mu + \sigma\varepsilon$ it is worse than the re-sampling M's, because
# the targets land outside those narrow widths. Re-sampling every batch
# teaches M widths that include V's own uncertainty (and works as data
# augmentation: a new version of every code each epoch). The dream feeds M
# its own samples, noisy codes, so the wider, honest widths are the ones it
# needs.
# <!-- END SOLUTION -->

# %% [markdown]
# **3.** Set `done_pos_weight` to 1. Redraw the calibration plot and the
# precision/recall. Which is better for a dream that must end when the
# agent would die?
# <details><summary>Hint</summary>
# Weighting positives by $w$ multiplies the predicted odds by about $w$:
# <code>unweight_probability</code> undoes it.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "02-ex3-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** With weight 1 the probabilities are calibrated (the curve hugs the
# diagonal) but small: deaths are rare, so the probability seldom passes 0.5
# and recall at 0.5 collapses; a dream that ends on "probability above 0.5"
# would almost never end. The weight inflates the odds about $w$ times:
# recall rises, precision falls, calibration is lost. Which is better depends
# on the done rule: a threshold rule needs the weighted head (the original
# code's choice), a sampled death needs calibrated probabilities (the
# weighted head with its odds divided by $w$, `done_rule="sample"`). Mixing
# them, a calibrated head with a 0.5 threshold, is what fails.
# <!-- END SOLUTION -->

# %% [markdown]
# **4.** Dream open loop at $\tau = 0.1$ and $\tau = 1.5$ from the same first
# code. Which one stays close to the real episode for longer, and which
# one looks more like Doom?
# <details><summary>Hint</summary>
# Re-run the open-loop cell with <code>tau=</code> changed, or call
# <code>open_loop_drift</code> (below), and compare the squared distance to the
# real codes step by step.</details>

# %% nbgrader={"grade": false, "grade_id": "02-ex4-code", "locked": false, "schema_version": 3, "solution": true}
# Exercise 4: how fast an open-loop dream drifts from the real codes.
import numpy as np
import torch


def open_loop_drift(m, z, a, tau: float, seed: int = 0) -> np.ndarray:
    """M dreams from the first real code with the real actions; squared distance to the real codes per step.

    ``z`` [T, z] real codes, ``a`` [T, A] actions -> [T - 1] mean squared distance per step.
    """
    ### BEGIN SOLUTION
    from wmlib.models.mdnrnn import sample_mixture

    z, a = torch.as_tensor(np.asarray(z, np.float32)), torch.as_tensor(np.asarray(a, np.float32))
    gen = torch.Generator().manual_seed(seed)
    zt, state, out = z[:1], m.initial_state(1), []
    with torch.no_grad():
        for t in range(len(z) - 1):
            mix, _, state = m.step(zt, a[t:t + 1], state, restart=torch.tensor([float(t == 0)]))
            zt = sample_mixture(*mix, tau=tau, generator=gen)
            out.append(float(((zt[0] - z[t + 1]) ** 2).mean()))
    return np.array(out)
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "02-ex4-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** At $\tau = 0.1$ the dream follows M's most likely future: smooth and calm,
# it stays closer to the real codes for more steps, and looks too quiet
# (fireballs fade instead of flying). At $\tau = 1.5$ it drifts away within a
# few steps, yet its frames look more like Doom: things happen, fireballs
# appear. Tracking one recorded episode and being a plausible game are
# different goals; a dream to train in needs the second, which is why the
# paper trains at $\tau$ near 1 and not at 0.1 (notebook 05).
# <!-- END SOLUTION -->

# %% [markdown]
# **5.** Increase `seq_len` for Doom and compare training speed
# (`benchmarks/mdnrnn.py`) and validation NLL. What does the LSTM gain
# from longer gradient paths?
# <details><summary>Hint</summary>
# A fireball takes tens of steps to cross the room: a memory that must
# link its launch to a death needs gradients at least that long.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "02-ex5-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** Longer sequences give longer gradient paths: the LSTM can learn to keep a
# fireball's launch in memory until it arrives, and a death's cause many
# steps back. Per step of data the cost is similar, but each batch is longer,
# so there are fewer updates per epoch and each takes longer; with a fixed
# budget of minutes a laptop may end with a worse NLL even when longer
# sequences would win given time. The measurement decides at your profile:
# report steps per second and held-out NLL for both lengths, at equal wall
# time.
# <!-- END SOLUTION -->

# %% [markdown]
# ## References
#
# * C. M. Bishop, *Mixture Density Networks*, technical report NCRG/94/004,
#   Aston University, 1994.
# * A. Graves, *Generating Sequences With Recurrent Neural Networks*, 2013,
#   arXiv:1308.0850 (an LSTM with a mixture density output).
# * D. Ha and D. Eck, *A Neural Representation of Sketch Drawings*, 2017,
#   arXiv:1704.03477 (sketch-rnn: MDN-RNN sampling with a temperature).
# * S. Hochreiter and J. Schmidhuber, *Long Short-Term Memory*, Neural
#   Computation 9(8), 1997.
# * D. Ha and J. Schmidhuber, *World Models*, 2018, <https://worldmodels.github.io>.
