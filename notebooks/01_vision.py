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
# # 01 · Vision: V, the variational autoencoder
#
# A 64x64 colour frame is 12,288 numbers. The controller C in *World Models*
# has fewer than 1,100 parameters: it cannot read pixels. **V** squeezes each
# frame into a short code $z$ (32 numbers for CarRacing, 64 for Doom) from
# which the frame can be drawn again. Everything downstream, M's predictions,
# C's decisions and the dream itself, lives in the space of these codes.
#
# This notebook:
#
# 1. opens with the V that ships with the book, in a latent explorer; then
#    explains why V is a *variational* autoencoder and writes its loss out;
# 2. has you **build** V: the encoder, the decoder and a short training loop,
#    each checked against `wmlib`'s `ConvVAE` (same weights, same outputs);
# 3. shows V trained at the profile's scale on the random-play frames of both
#    worlds: the shipped V and its recorded training, or yours with `TRAIN` on;
# 4. looks at reconstructions, at how much each latent dimension is used, and
#    lets you move through the code space, and edit a frame to see its code;
# 5. shows the paper's caveat: V spends its bits on what is large, not on what
#    matters;
# 6. encodes the recorded frames for M (notebook 02).
#
# **Run time**: with `TRAIN` off (the default) a couple of minutes on 2 cores:
# it records a few episodes, trains your own V on a slice for a few dozen
# steps, and uses the shipped V for the rest. With `TRAIN` on (`WM_TRAIN=1`)
# it trains V on the profile's whole dataset, then encodes every frame; the
# training cell prints the time the shipped run measured for it first.
# Code cells marked *check* are folded: they assert what the text claims.

# %% tags=["parameters"]
import os

PROFILE = os.environ.get("WM_PROFILE", "laptop")
TRAIN = os.environ.get("WM_TRAIN", "0") == "1"   # off: the shipped V and its recorded results

# %%
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import matplotlib.pyplot as plt
import numpy as np
import torch

from wmlib import paper, paths
from wmlib.book import recorded
from wmlib.book.chapter import announce, md
from wmlib.book.pretrained import vae_for
from wmlib.config import get_config
from wmlib.worlds.data import check_renderer, collect, collection_seed, play_episode, summarize
from wmlib.worlds.envs import make_env
from wmlib.worlds.policies import random_policy
from wmlib.book.plots import pixel_error, plot_kl_per_dim, plot_reconstructions, plot_vae_log
from wmlib.training.vae import encode_dataset, heldout_frames, heldout_report, load_vae, train_vae
from wmlib.models.vae import (ConvVAE, encode_frames, frames_to_tensor, kl_per_dim, reconstruct, tensor_to_frames,
                              vae_loss)

torch.set_num_threads(min(2, os.cpu_count() or 1))
cfgs = {w: get_config(w, PROFILE) for w in ("carracing", "doom")}
SAMPLE = 4  # TRAIN off: random-play episodes to record (a later full collection resumes from them)
print("profile:", PROFILE, "| TRAIN:", TRAIN)

# %% [markdown]
# V learns from the random-play episodes of notebook 00. `collect` picks up
# whatever is already on disk (and is a no-op when the data is complete), so
# this notebook also runs on its own. With `TRAIN` off it makes sure of a few
# episodes only: enough for your own V below; the shipped V saw the profile's
# whole dataset.

# %%
data = {}
for w, cfg in cfgs.items():
    if TRAIN:
        announce(cfg, "collect", f"record {cfg.collect.episodes} {w} episodes of random play")
    data[w] = collect(cfg, episodes=None if TRAIN else min(SAMPLE, cfg.collect.episodes))
    print(summarize(data[w]))

# %% [markdown]
# ## A first look: the V that ships with the book
#
# Training V takes minutes, so here first is one already trained: the
# laptop-profile V that ships with wmlib (`wmlib/pretrained/`, with its model
# card). Each slider sets one latent dimension of a real held-out frame's code
# (the 8 that vary most); V's decoder draws the result. Later in this notebook
# the same widget runs on the V of your profile (yours once you have trained
# one, else this one).

# %%
from wmlib.book.pretrained import load_shipped_vae
from wmlib.book.widgets import LatentExplorer

shipped_vae = load_shipped_vae("carracing")
look = heldout_frames(cfgs["carracing"], 64)
first_look = LatentExplorer(shipped_vae, *encode_frames(shipped_vae, look), n_sliders=8, start=len(look) // 2,
                            frames=look)
first_look

# %% [markdown]
# Try the **frame** slider (another real frame's code), then **randomise z**:
# a code drawn from $\mathcal N(0, I)$, which no frame produced. That V draws
# something road-like even then is the smooth code space this notebook explains.

# %% jupyter={"source_hidden": true} tags=["check"]
before = first_look.frame
first_look.sliders[0].value = first_look.sliders[0].min
assert not np.array_equal(before, first_look.frame)  # the slider drives the decoded picture
first_look.random_button.click()
assert not np.allclose(first_look.code, first_look.mu[first_look.picker.value])  # a code from the prior
first_look.pick(len(look) // 2)

# %% [markdown]
# ## Why a *variational* autoencoder?
#
# A plain autoencoder maps a frame $x$ to one point $z = E(x)$ and back,
# $\hat x = D(z)$, and is trained to make $\hat x$ close to $x$. Nothing says
# what the codes *between* training frames decode to: the encoder may scatter
# its points across a wide space, and most of that space is never visited.
# That matters here, because M will *invent* codes when it dreams. A code M
# makes up must decode to a plausible frame.
#
# A VAE's encoder outputs a Gaussian $q(z \mid x) = \mathcal N(\mu(x), \sigma(x)^2)$
# instead of a point; the decoder sees a *sample*
# $z = \mu + \sigma \odot \varepsilon$, $\varepsilon \sim \mathcal N(0, I)$, and
# the loss adds the KL divergence from $q$ to the prior $\mathcal N(0, I)$:
#
# $$
# \mathcal L(x) = \underbrace{\sum_{i=1}^{64 \cdot 64 \cdot 3} (x_i - \hat x_i)^2}_{\text{reconstruction}}
# \;+\; \max\Big(\underbrace{\tfrac12 \sum_{j=1}^{N_z} \big(\mu_j^2 + \sigma_j^2 - \log \sigma_j^2 - 1\big)}_{\mathrm{KL}(q(z\mid x)\,\|\,\mathcal N(0, I))},\; \kappa N_z\Big)
# $$
#
# Two things follow.
#
# * **The KL caps the information in each code.** Noise of size $\sigma$ is
#   added to every code; to tell frames apart the encoder must place their
#   means further apart than that noise, and the KL charges for every nat of
#   such precision. V keeps only what buys a large drop in squared error.
# * **The codes fill a smooth blob around the origin.** The KL pulls every
#   $q(z \mid x)$ towards $\mathcal N(0, I)$ and the noise forces neighbouring
#   codes to decode to similar pictures, so the space between training codes
#   decodes to sensible frames: exactly where M's invented codes land.
#
# The paper adds a **floor** (its `kl_tolerance`, written $\kappa = 0.5$ here:
# $\tau$ is kept for M's temperature in notebook 02): an image's KL
# counts as at least $\kappa N_z$ nats (16 for the car, 32 for Doom). Below the
# floor the KL term is constant, so V may spend that many nats for free and
# is not pushed into encoding nothing. Both terms are averaged over the batch.

# %% [markdown]
# ## Build V yourself
#
# Encoder: four 4x4 convolutions with stride 2 (32, 64, 128, 256 channels,
# ReLU) take 64x64 down to 2x2x256 = 1,024 numbers, then two linear layers give
# $\mu$ and $\log\sigma^2$. Decoder: a linear layer lifts $z$ to 1,024 numbers
# (no activation), read as a 1x1 image with 1,024 channels, and four
# transposed convolutions with kernels 5, 5, 6, 6 and stride 2 grow it back to
# 64x64x3, the last with a sigmoid so pixels land in $[0, 1]$.
#
# Write it in three short pieces. First the encoder, a stack that ends in a
# flat vector of 1,024 numbers:

# %% nbgrader={"grade": false, "grade_id": "01-encoder", "locked": false, "schema_version": 3, "solution": true}
from torch import nn


def my_encoder():
    """[B, 3, 64, 64] -> [B, 1024]: four Conv2d(kernel 4, stride 2), 3 -> 32 -> 64 -> 128 -> 256 channels,
    each followed by a ReLU, then a Flatten. Return one ``nn.Sequential``."""
    ### BEGIN SOLUTION
    chans = [3, 32, 64, 128, 256]
    layers = []
    for c_in, c_out in zip(chans, chans[1:]):
        layers += [nn.Conv2d(c_in, c_out, kernel_size=4, stride=2), nn.ReLU()]
    return nn.Sequential(*layers, nn.Flatten())
    ### END SOLUTION


h = my_encoder()(torch.zeros(1, 3, 64, 64))
print("encoder output:", tuple(h.shape))  # 2 x 2 x 256

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "01-encoder-test", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["check"]
assert tuple(my_encoder()(torch.zeros(2, 3, 64, 64)).shape) == (2, 1024)
### BEGIN HIDDEN TESTS
lib_enc, enc = ConvVAE(32).encoder, my_encoder()
assert [p.shape for p in enc.parameters()] == [p.shape for p in lib_enc.parameters()], "the layers' shapes"
with torch.no_grad():
    for p, q in zip(enc.parameters(), lib_enc.parameters()):
        p.copy_(q)
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(enc(x), lib_enc(x), atol=1e-5), "the same weights give the same features (strides, ReLUs)"
### END HIDDEN TESTS

# %% [markdown]
# Then the decoder, which grows a 1x1 "image" of 1,024 channels into a frame:

# %% nbgrader={"grade": false, "grade_id": "01-decoder", "locked": false, "schema_version": 3, "solution": true}
def my_decoder():
    """[B, 1024, 1, 1] -> [B, 3, 64, 64] in [0, 1]: four ConvTranspose2d with stride 2, channels
    1024 -> 128 -> 64 -> 32 -> 3 and kernels 5, 5, 6, 6; a ReLU after each but the last, which gets a
    Sigmoid. Return one ``nn.Sequential``."""
    ### BEGIN SOLUTION
    spec = [(1024, 128, 5), (128, 64, 5), (64, 32, 6), (32, 3, 6)]
    layers = []
    for c_in, c_out, k in spec:
        layers += [nn.ConvTranspose2d(c_in, c_out, kernel_size=k, stride=2), nn.ReLU()]
    layers[-1] = nn.Sigmoid()  # the last layer squashes pixels into [0, 1]
    return nn.Sequential(*layers)
    ### END SOLUTION


print("decoder output:", tuple(my_decoder()(torch.zeros(1, 1024, 1, 1)).shape))

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "01-decoder-test", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["check"]
with torch.no_grad():
    out = my_decoder()(torch.randn(2, 1024, 1, 1))
assert tuple(out.shape) == (2, 3, 64, 64) and 0 <= float(out.min()) and float(out.max()) <= 1
### BEGIN HIDDEN TESTS
lib_dec, dec = ConvVAE(32).decoder, my_decoder()
assert [p.shape for p in dec.parameters()] == [p.shape for p in lib_dec.parameters()], "the layers' shapes"
with torch.no_grad():
    for p, q in zip(dec.parameters(), lib_dec.parameters()):
        p.copy_(q)
    h = torch.randn(2, 1024, 1, 1, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(dec(h), lib_dec(h), atol=1e-5), "the same weights draw the same picture"
### END HIDDEN TESTS

# %% [markdown]
# And V itself: the two heads for $\mu$ and $\log\sigma^2$, the linear lift
# before the decoder, and the sampling step $z = \mu + \sigma \odot \varepsilon$
# (the *reparameterisation trick*: the noise is an input, so gradients flow
# through $\mu$ and $\sigma$). The layers are given (in the order `wmlib`'s
# `ConvVAE` lists them); write what V does with them.

# %% nbgrader={"grade": false, "grade_id": "01-vae", "locked": false, "schema_version": 3, "solution": true}
class MyV(nn.Module):
    def __init__(self, z_size):
        super().__init__()
        self.enc, self.to_mu, self.to_logvar = my_encoder(), nn.Linear(1024, z_size), nn.Linear(1024, z_size)
        self.lift, self.dec = nn.Linear(z_size, 1024), my_decoder()

    def encode(self, x):
        """frames [B, 3, 64, 64] -> (mu, logvar), each [B, z_size]"""
        ### BEGIN SOLUTION
        h = self.enc(x)
        return self.to_mu(h), self.to_logvar(h)
        ### END SOLUTION

    def decode(self, z):
        """codes [B, z_size] -> frames [B, 3, 64, 64]: lift to 1,024 numbers, read as a 1x1 image"""
        ### BEGIN SOLUTION
        return self.dec(self.lift(z)[:, :, None, None])
        ### END SOLUTION

    def forward(self, x):
        """-> (reconstruction, mu, logvar); the decoder sees z = mu + sigma * eps, eps from torch.randn_like(mu)"""
        ### BEGIN SOLUTION
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decode(z), mu, logvar
        ### END SOLUTION

# %% [markdown]
# Does it match the paper? Count the parameters, then copy your weights into
# `wmlib`'s `ConvVAE` (the two modules list their tensors in the same order
# and shapes, or the copy fails) and check that both give the same codes and
# the same pictures.

# %%
for world, cfg in cfgs.items():
    n = sum(p.numel() for p in MyV(cfg.vae.z_size).parameters())
    print(f"{world:9s} z = {cfg.vae.z_size}: {n:,} parameters (paper: {paper.PARAMS[world]['vae']:,})")

torch.manual_seed(0)
mine = MyV(32).eval()
vae = ConvVAE(32).eval()
lib_names = list(vae.state_dict())
vae.load_state_dict(dict(zip(lib_names, mine.state_dict().values())))
x = frames_to_tensor(data["carracing"].episode(0).frames[:8])
with torch.no_grad():
    (mu_a, lv_a), (mu_b, lv_b) = mine.encode(x), vae.encode(x)
    same_picture = torch.allclose(mine.decode(mu_a), vae.decode(mu_b), atol=1e-6)
print("same codes:", torch.allclose(mu_a, mu_b, atol=1e-6), "| same pictures:", same_picture)

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "01-vae-test", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["check"]
for world, cfg in cfgs.items():
    assert sum(p.numel() for p in MyV(cfg.vae.z_size).parameters()) == paper.PARAMS[world]["vae"]
    assert [p.shape for p in MyV(cfg.vae.z_size).parameters()] == [p.shape for p in ConvVAE(cfg.vae.z_size).parameters()]
assert torch.allclose(mu_a, mu_b, atol=1e-6) and torch.allclose(lv_a, lv_b, atol=1e-6) and same_picture
### BEGIN HIDDEN TESTS
with torch.no_grad():  # the sampled code: the same noise gives the same picture as the library's V
    torch.manual_seed(7)
    recon_a, mu_f, lv_f = mine(x)
    torch.manual_seed(7)
    recon_b, _, _ = vae(x)
    assert torch.allclose(mu_f, mu_b, atol=1e-6) and torch.allclose(lv_f, lv_b, atol=1e-6)
    assert torch.allclose(recon_a, recon_b, atol=1e-5), "z = mu + exp(logvar / 2) * eps, eps ~ N(0, I)"
    assert not torch.allclose(recon_a, mine.decode(mu_a), atol=1e-4), "forward decodes a sample, not the mean"
### END HIDDEN TESTS

# %% [markdown]
# ## The loss, written out
#
# Now the loss above in a few lines of torch: the squared error summed over
# each image's 12,288 pixel values, plus the image's KL floored at
# $\kappa N_z$, both averaged over the batch. The cell after it checks it
# against `wmlib.models.vae.vae_loss`, the function training uses, once with
# the floor active (an untrained V's codes sit near the prior, so their KL is
# tiny) and once with codes pushed far from the prior so the floor is
# inactive.

# %% nbgrader={"grade": false, "grade_id": "01-loss", "locked": false, "schema_version": 3, "solution": true}
def paper_loss(x, recon, mu, logvar, kl_tolerance=0.5):
    """The paper's V loss, averaged over the batch: frames x and recon [B, 3, 64, 64], codes mu, logvar [B, z]."""
    ### BEGIN SOLUTION
    z_size = mu.shape[1]
    recon_loss = ((recon - x) ** 2).sum(dim=(1, 2, 3))            # summed over the 12,288 pixels
    kl = 0.5 * (mu ** 2 + logvar.exp() - logvar - 1).sum(dim=1)   # nats per image
    kl = torch.clamp(kl, min=kl_tolerance * z_size)               # the floor
    return (recon_loss + kl).mean()                               # averaged over the batch
    ### END SOLUTION


x = frames_to_tensor(data["carracing"].episode(0).frames[:16])
with torch.no_grad():
    recon, mu, logvar = vae(x)
print("loss of an untrained V:", float(paper_loss(x, recon, mu, logvar)))

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "01-loss-test", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["check"]
for shift, floor_active in ((0.0, True), (3.0, False)):  # codes moved 3 away from the prior: KL > floor
    ours = paper_loss(x, recon, mu + shift, logvar)
    lib, _, kl = vae_loss(x, recon, mu + shift, logvar, kl_tolerance=0.5)
    print(f"codes shifted by {shift:g}: loss {float(ours):.3f}, KL term {float(kl):.2f} (floor 16)")
    assert torch.allclose(ours, lib, rtol=1e-5)
    assert (float(kl) == 16.0) == floor_active
### BEGIN HIDDEN TESTS
g = torch.Generator().manual_seed(3)
mu_r, lv_r = 2 * torch.randn(5, 32, generator=g), torch.randn(5, 32, generator=g)
xs, rs = torch.rand(5, 3, 64, 64, generator=g), torch.rand(5, 3, 64, 64, generator=g)
for tol in (0.0, 0.5, 4.0):  # no floor, the paper's, and one above every image's KL
    assert torch.allclose(paper_loss(xs, rs, mu_r, lv_r, kl_tolerance=tol),
                          vae_loss(xs, rs, mu_r, lv_r, kl_tolerance=tol)[0], rtol=1e-5), tol
each = torch.stack([paper_loss(xs[i:i + 1], rs[i:i + 1], mu_r[i:i + 1], lv_r[i:i + 1]) for i in range(5)])
assert torch.allclose(paper_loss(xs, rs, mu_r, lv_r), each.mean(), rtol=1e-5), "the floor is per image, then the mean"
### END HIDDEN TESTS

# %% [markdown]
# ## Train your V on a slice
#
# Training is a loop of four moves: draw a batch, run V, score it with the
# loss, and let Adam step against the gradient. Here it runs on a slice of
# the CarRacing training frames for a few dozen steps (fewer, on smaller
# batches, at `ci`), with a learning rate of $10^{-3}$ rather than the
# paper's $10^{-4}$ so that so few steps show progress. The batches and the
# optimiser are given; write the loop.

# %% nbgrader={"grade": false, "grade_id": "01-training-loop", "locked": false, "schema_version": 3, "solution": true}
import copy

STEPS, BATCH = {"ci": (10, 8), "laptop": (40, 32), "paper": (300, 32)}[PROFILE]
ds = data["carracing"]
train_eps, _ = ds.split(cfgs["carracing"].vae.val_episodes)
slice_frames = ds.gather_frames(ds.frame_indices(train_eps)[:1000])


def batch(step):
    """Step ``step``'s batch: BATCH frames of the slice as floats [BATCH, 3, 64, 64] in [0, 1]."""
    pick = np.random.default_rng(step).choice(len(slice_frames), min(BATCH, len(slice_frames)), replace=False)
    return frames_to_tensor(slice_frames[pick])


torch.manual_seed(0)
my_v = MyV(32)
my_v_start = copy.deepcopy(my_v.state_dict())  # kept for the check
opt = torch.optim.Adam(my_v.parameters(), lr=1e-3)
torch.manual_seed(1)                           # the noise of V's samples
losses = []
# For step in range(STEPS): run my_v on batch(step), score it with paper_loss, take one Adam step,
# and append the loss (a float: loss.item()) to losses.
### BEGIN SOLUTION
for step in range(STEPS):
    x = batch(step)
    recon, mu, logvar = my_v(x)
    loss = paper_loss(x, recon, mu, logvar)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
### END SOLUTION
print(f"{STEPS} steps on {len(slice_frames)} frames: loss {losses[0]:.0f} -> {losses[-1]:.0f}")

# %% jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "01-training-loop-test", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["check"]
assert len(losses) == STEPS and np.isfinite(losses).all()
assert np.mean(losses[-3:]) < np.mean(losses[:3]), "the loss should fall"
### BEGIN HIDDEN TESTS
ref = MyV(32)  # the same loop, written out: your losses and weights must be the ones it gives
ref.load_state_dict(my_v_start)
ref_opt, ref_losses = torch.optim.Adam(ref.parameters(), lr=1e-3), []
torch.manual_seed(1)
REPLAYED = min(STEPS, 6)  # the first steps, written out: a wrong loss, order or missing step shows within them
for step in range(REPLAYED):
    xb = batch(step)
    rb, mb, lb = ref(xb)
    ref_loss = paper_loss(xb, rb, mb, lb)
    ref_opt.zero_grad()
    ref_loss.backward()
    ref_opt.step()
    ref_losses.append(ref_loss.item())
assert np.allclose(losses[:REPLAYED], ref_losses, rtol=1e-3), (losses[:REPLAYED], ref_losses)
### END HIDDEN TESTS

# %% [markdown]
# Your trained weights, copied into the library's `ConvVAE`, reconstruct the
# frames exactly as your own module does: from here on the library's model
# and training code take over, at the profile's scale.

# %%
trained = ConvVAE(32).eval()
trained.load_state_dict(dict(zip(trained.state_dict(), my_v.state_dict().values())))
my_v.eval()
with torch.no_grad():
    mine_recon = tensor_to_frames(my_v.decode(my_v.encode(frames_to_tensor(slice_frames[:6]))[0]))
fig, axes = plt.subplots(1, 2, figsize=(11, 2.6), gridspec_kw=dict(width_ratios=[1, 3]))
axes[0].plot(losses); axes[0].set_xlabel("step"); axes[0].set_ylabel("loss per image")
axes[1].imshow(np.concatenate([np.concatenate(list(slice_frames[:6]), 1), np.concatenate(list(mine_recon), 1)]))
axes[1].set_title("top: frames; bottom: your V after the slice", fontsize=9); axes[1].axis("off")
plt.show()

# %% jupyter={"source_hidden": true} tags=["check"]
assert np.array_equal(reconstruct(trained, slice_frames[:6]), mine_recon)  # the library's V = yours

# %% [markdown]
# ## Training V at the profile's scale
#
# `train_vae(cfg)` streams shuffled batches of 100 frames from the shards on
# disk (memory stays one batch, however big the dataset), with Adam at
# $10^{-4}$ as in the paper. It runs on a GPU with mixed precision when there
# is one. It checkpoints every epoch and every few hundred steps; kill it and
# call it again, and it resumes at the same epoch and step, with the same
# result as a run that never stopped. When V is already trained it just
# returns the checkpoint. The last episodes of each dataset are held out to
# measure V on frames it never trained on. From a terminal:
# `python -m wmlib train-vae carracing`, then `python -m wmlib vae-report`
# for the held-out error.
#
# With `TRAIN` on, the next cell does both for the two worlds. With it off,
# the V used from here on is yours if you have trained one at this profile
# (here or on the command line), else the V that ships with the book; its
# training curve and held-out error come from the run that trained it.

# %%
if TRAIN:
    for w, cfg in cfgs.items():
        announce(cfg, "train V", f"train the {w} V on {data[w].n_episodes} episodes")
        train_vae(cfg)
        heldout_report(cfg)  # V's error on the held-out episodes, saved as vae/heldout.json
vaes, sources = {}, {}
for w, cfg in cfgs.items():
    vaes[w], sources[w] = vae_for(cfg)
    print(f"{w:9s} {sources[w]}")
logs = {w: recorded.result(cfg, paths.vae_dir(cfg) / paths.LOG) for w, cfg in cfgs.items()}
heldout = {w: recorded.result(cfg, paths.vae_dir(cfg) / paths.VAE_HELDOUT) for w, cfg in cfgs.items()}

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
for ax, (world, log) in zip(axes, logs.items()):
    if log is None:
        ax.text(0.5, 0.5, "no training log (not shipped yet)", ha="center"); ax.axis("off")
        continue
    plot_vae_log(log.data, ax=ax, title=f"{world} (z = {cfgs[world].vae.z_size}), {log.label()}")
plt.show()

# %%
lines = []
for w, res in heldout.items():
    if res is None:
        lines.append(f"* **{w}**: no recorded held-out error yet (not shipped yet): "
                     f"`python -m wmlib vae-report {w}` measures it.")
        continue
    r = res.data
    lines.append(f"* **{w}** ({res.label()}, `{r.get('profile', PROFILE)}` profile): "
                 f"**{r['mse_per_pixel']:.5f}** squared error per pixel value over {r['frames']:,} held-out frames; "
                 f"{r['recon']:.0f} per image summed over its pixels, and a KL of {r['kl_raw']:.1f} nats.")
md("V's error on held-out frames, as measured when it was trained (the paper gives no such number):\n\n"
   + "\n".join(lines));

# %% [markdown]
# The reconstruction term dominates: hundreds of squared-error units per
# image against a KL of a few dozen nats. Early on the KL sits under its floor
# (V uses the free nats); as V learns to tell frames apart it rises past it.
#
# Is V any good? Two yardsticks on frames V never trained on: an untrained V
# (the same network before learning), and the blurriest honest guess, the
# average training frame drawn for every input.
#
# Which frames? Your own V held out the last episodes of your data. The
# shipped V trained on the profile's whole dataset, which begins with the very
# episodes you recorded (the same seeds make the same games), so for it the
# cell below plays a fresh episode of random play now, at a seed no collection
# uses.

# %%
FRESH = 10 ** 6 - 1  # an episode index no collection reaches: its seed makes a game no V trained on


def unseen_frames(world, n):
    """``n`` frames V never trained on: your held-out episodes for your V, else a fresh episode played now."""
    cfg = cfgs[world]
    if sources[world].startswith("your"):
        return heldout_frames(cfg, n)
    policy = random_policy(world, np.random.default_rng(FRESH), cfg.collect.hold_max)
    with make_env(world, max_steps=cfg.collect.max_steps, renderer=check_renderer(cfg)) as env:
        frames = play_episode(env, policy, collection_seed(cfg.collect.seed, FRESH))["frames"]
    return frames[np.linspace(0, len(frames) - 1, min(n, len(frames))).round().astype(int)]


unseen = {w: unseen_frames(w, 500) for w in cfgs}
print({w: f"{len(f)} frames" for w, f in unseen.items()})

# %%
def heldout_mse(world, n=200):
    frames = unseen[world][np.linspace(0, len(unseen[world]) - 1, min(n, len(unseen[world]))).astype(int)]
    ds = data[world]
    train_idx, _ = ds.split(cfgs[world].vae.val_episodes)
    sample = ds.frame_indices(train_idx)[:: max(1, ds.n_frames // 1000)]
    mean_frame = ds.gather_frames(sample).astype(np.float32).mean(0)
    torch.manual_seed(cfgs[world].vae.seed)
    untrained = ConvVAE(cfgs[world].vae.z_size).eval()
    return dict(V=pixel_error(frames, reconstruct(vaes[world], frames)).mean(),
                untrained=pixel_error(frames, reconstruct(untrained, frames)).mean(),
                mean_frame=pixel_error(frames, np.broadcast_to(mean_frame.round(), frames.shape)).mean())


scores = {w: heldout_mse(w) for w in cfgs}
for w, s in scores.items():
    print(f"{w:9s} squared error per pixel on unseen frames: V {s['V']:.5f}, "
          f"untrained {s['untrained']:.5f}, average frame {s['mean_frame']:.5f}  ({sources[w]})")
print("the paper reports no such number; the recorded held-out error of this V is above")

# %% jupyter={"source_hidden": true} tags=["check"]
for w, s in scores.items():
    assert s["V"] < s["untrained"], w           # training helped
    if PROFILE != "ci":                         # a few seconds of ci training is not enough for this
        assert s["V"] < s["mean_frame"], w      # V sees more than the average picture

# %% [markdown]
# ## Real frames and V's reconstructions
#
# Frames V never saw on top, V's reconstruction (decoding $\mu$) below, and
# the squared error per pixel at the bottom (brighter is worse). (A V of your
# own trained at the `ci` profile has seen seconds of data and draws little
# more than a blur.)

# %%
for world in cfgs:
    held = unseen[world][np.linspace(0, len(unseen[world]) - 1, 8).astype(int)]
    plot_reconstructions(held, reconstruct(vaes[world], held), title=f"{world}, held-out frames")
    plt.show()

# %% [markdown]
# A figure like this one, from the `laptop` profile, is in the repository at
# `figures/vae_reconstructions.png`
# (`python -m wmlib vae-report --figure figures/vae_reconstructions.png`).
#
# ## How much does each latent dimension carry?
#
# The KL of one dimension, averaged over frames, measures how many nats V
# pushes through it. Dimensions with a KL near zero are *unused*: their
# $q(z_j \mid x)$ is the prior whatever the frame, and decoding ignores them.
# The dotted line is the floor shared out per dimension ($\kappa = 0.5$ nats).

# %%
codes = {}
for world in cfgs:
    frames = unseen[world]
    mu, logvar = encode_frames(vaes[world], frames)
    codes[world] = (frames, mu, logvar)

fig, axes = plt.subplots(2, 1, figsize=(10, 6))
kls = {}
for ax, world in zip(axes, cfgs):
    _, mu, logvar = codes[world]
    kls[world] = kl_per_dim(torch.from_numpy(mu), torch.from_numpy(logvar)).mean(0).numpy()
    plot_kl_per_dim(kls[world], ax=ax, title=world, floor=cfgs[world].vae.kl_tolerance)
fig.tight_layout()
plt.show()

# %%
for world, kl in kls.items():
    busy = int((kl > 0.1).sum())
    print(f"{world:9s} total KL {kl.sum():.1f} nats, {busy} of {len(kl)} dimensions carry > 0.1 nat")

# %% jupyter={"source_hidden": true} tags=["check"]
# The bars, measured another way: torch's own KL between two Gaussians (torch.distributions), per dimension, and a
# Monte Carlo estimate E_q[log q(z) - log p(z)] from samples of q; both must give the bars' nats.
from torch.distributions import Normal, kl_divergence

for world, kl in kls.items():
    _, mu, logvar = codes[world]
    q = Normal(torch.from_numpy(mu).double(), torch.from_numpy(logvar).double().mul(0.5).exp())
    exact = kl_divergence(q, Normal(0.0, 1.0)).mean(0).numpy()
    assert kl.shape == (cfgs[world].vae.z_size,) and np.allclose(kl, exact, rtol=1e-3, atol=1e-4), world
    z = q.sample(torch.Size([64]))
    monte_carlo = (q.log_prob(z) - Normal(0.0, 1.0).log_prob(z)).mean((0, 1)).numpy()
    assert np.abs(monte_carlo - kl).max() < 0.1 + 0.1 * kl.max(), world

# %% [markdown]
# ## Explore the code space
#
# **Latent explorer.** The sliders set V's most active dimensions (by KL); the
# other dimensions stay at the code of a real frame. Drag one and watch what
# that dimension controls: the curve of the road, the zoom, the wall in front
# of you. (With a trained V; a V of your own at `ci` is nearly untrained.)

# %%
from wmlib.book.widgets import BendTheTrack, LatentDirections, LatentExplorer

frames, mu, logvar = codes["carracing"]
explorer = LatentExplorer(vaes["carracing"], mu, logvar, n_sliders=8, start=len(mu) // 2, frames=frames)
explorer

# %% [markdown]
# The same explorer for Doom's 64-number code. Randomise $z$ a few times:
# walls and floor come back every time, fireballs rarely.

# %%
frames_d, mu_d, logvar_d = codes["doom"]
explorer_doom = LatentExplorer(vaes["doom"], mu_d, logvar_d, n_sliders=8, start=len(mu_d) // 2, frames=frames_d)
explorer_doom

# %% jupyter={"source_hidden": true} tags=["check"]
before = explorer.frame
explorer.sliders[0].value = explorer.sliders[0].max   # what dragging the first slider does
assert not np.array_equal(before, explorer.frame)
explorer.reset()

# %% [markdown]
# **Bend the track.** Now edit the *frame* and let V judge it. The frame on
# the left is a real one (the one with the most road); paint road (grey) or
# grass (green) onto it with the mouse, or pick the **bend** tool and drag the
# road sideways: the track ahead of the car curves, the car's own rows stay.
# After every edit V encodes your frame: the bars in the middle are its code,
# the 32 numbers that are all V keeps of it (grey outlines: the code before
# your edit), and on the right is what V's decoder draws from that code. A
# bend V has seen in its data comes back as a bend; a road painted where no
# road goes tends to come back blurred or not at all: V can only draw what its
# code can say.

# %%
bend_car = BendTheTrack(vaes["carracing"], frames[:: max(1, len(frames) // 40)])
bend_car

# %% jupyter={"source_hidden": true} tags=["check"]
before_code, before_frame = bend_car.code, bend_car.canvas
bend_car.bend(12)                                   # what dragging the road 12 pixels right does
assert not np.array_equal(bend_car.canvas, before_frame) and not np.allclose(bend_car.code, before_code)
bend_car.paint(32, 10, "road", radius=5)            # what a click with the road brush does
assert tuple(bend_car.canvas[10, 32]) == (102, 102, 102)
bend_car.reset()
assert np.array_equal(bend_car.canvas, before_frame)

# %% [markdown]
# The same edit as still pictures, for readers without a running kernel: the
# frame bent right, then left, then a road painted across it; under each, V's
# decoding of its code.

# %%
anim = bend_car.book_frames()
pick = np.linspace(0, len(anim) - 1, 8).astype(int)
plt.figure(figsize=(12, 3.2))
plt.imshow(np.concatenate([np.concatenate([anim[i][:, :64], anim[i][:, -64:]], 0) for i in pick], 1))
plt.title("top: the edited frame; bottom: V's decoding of its code", fontsize=9)
plt.axis("off")
plt.show()

# %% [markdown]
# **Walk along a direction.** The other way round: pick a real frame and move
# its *code* along a direction, the principal directions of the codes being
# the ways real frames differ most. In CarRacing the first one usually turns
# the road left or right; in Doom, try the directions on a frame with a
# fireball and watch it grow or fade.

# %%
walk_car = LatentDirections(vaes["carracing"], frames[:: max(1, len(frames) // 40)])
walk_car

# %%
frames_doom, mu_doom, _ = codes["doom"]
walk_doom = LatentDirections(vaes["doom"], frames_doom[:: max(1, len(frames_doom) // 40)])
walk_doom

# %% [markdown]
# The same strips as still pictures:

# %%
fig, axes = plt.subplots(2, 1, figsize=(12, 4))
for ax, (world, walk) in zip(axes, (("carracing", walk_car), ("doom", walk_doom))):
    ax.imshow(np.concatenate(list(walk.strip), axis=1))
    ax.set_title(f"{world}: frame 0 moved along {walk.direction.value}, -3 to +3 std", fontsize=9)
    ax.axis("off")
plt.show()

# %% jupyter={"source_hidden": true} tags=["check"]
assert walk_car.strip.shape == (7, 64, 64, 3)
assert not np.array_equal(walk_car.strip[0], walk_car.strip[-1])  # the direction changes the picture

# %% [markdown]
# ## What V spends its bits on
#
# V is trained only to make the squared error small, summed over pixels. A
# wall covers thousands of pixels; a fireball covers a handful. So V spends
# its few nats on what is *large* and lets small things blur away, however
# much they matter to the agent. The paper makes the same point: its V
# reproduced the unimportant brick pattern on Doom's walls, yet lost
# task-relevant road tiles in CarRacing. (A V trained together with M or a
# reward would spend its bits differently, at the price of being tied to one
# task.)
#
# A first look: split the pixels of the held-out frames by how *unusual*
# they are, how far each lies from the average frame: the top 5% are the
# things that come and go (fireballs, monsters, the track's edges); the rest
# is the background V sees everywhere. V errs far more on the unusual
# pixels. So, by construction, does any picture that leans towards the
# average, the average frame itself most of all (its errors are printed
# beside V's): the split shows where the hard pixels are, not yet that V
# gives up on small things.

# %%
def error_by_unusualness(world, top=0.05):
    """Squared error per pixel on the unusual pixels and on the rest, for V and for the average frame."""
    frames, _, _ = codes[world]
    average = frames.astype(np.float32).mean(0)
    unusual = np.abs(frames.astype(np.float32) - average).mean(-1)          # distance from the average frame
    cut = np.quantile(unusual, 1 - top)
    errors = {"V": pixel_error(frames, reconstruct(vaes[world], frames)),   # [N, 64, 64]
              "average frame": pixel_error(frames, np.broadcast_to(average.round().astype(np.uint8), frames.shape))}
    return {name: (err[unusual >= cut].mean(), err[unusual < cut].mean()) for name, err in errors.items()}


split = {w: error_by_unusualness(w) for w in cfgs}
for w, by in split.items():
    print(f"{w:9s} squared error on unusual pixels vs the rest: " + "; ".join(
        f"{name} {rare:.4f} vs {common:.4f} ({rare / common:.1f}x)" for name, (rare, common) in by.items()))

# %% [markdown]
# The sharper test is something you can count: fireballs. Take the held-out
# Doom frames that show one (at least 8 bright orange pixels outside the band
# of the wall torches: `fireball_pixels`) and ask in which of them V's
# drawing shows one too. If V spends its bits on what is large, the
# fireballs it loses are the small, distant ones.

# %%
from wmlib.book.widgets.memory import fireball_pixels

frames, _, _ = codes["doom"]
real_fire, drawn_fire = fireball_pixels(frames), fireball_pixels(reconstruct(vaes["doom"], frames))
shown = real_fire >= 8
kept, missed = shown & (drawn_fire >= 8), shown & (drawn_fire < 8)
size = lambda which: f"{np.median(real_fire[which]):.0f} pixels" if which.any() else "none"
print(f"{shown.sum()} of {len(frames)} held-out Doom frames show a fireball; V's drawing shows it in {kept.sum()}.\n"
      f"median size of the fireballs V draws: {size(kept)}; of those it loses: {size(missed)}")

# %% jupyter={"source_hidden": true} tags=["check"]
# V loses fireballs, and the ones it loses are the small ones (a V that drew every fireball, or lost big and
# small alike, fails here).
if shown.any():
    assert missed.any(), "V drew every fireball of these frames"
if kept.any() and missed.any():
    assert np.median(real_fire[missed]) < np.median(real_fire[kept]), (real_fire[missed], real_fire[kept])

# %% [markdown]
# The held-out Doom frames V reconstructs worst, with their error maps. Look
# where the error sits: on the fireballs and monsters, the things that come
# and go, far more than on the walls and floor that fill every frame.

# %%
frames, _, _ = codes["doom"]
err = pixel_error(frames, reconstruct(vaes["doom"], frames)).mean((1, 2))
worst = np.argsort(-err)[:6]
worst_frames = frames[np.sort(worst)]
plot_reconstructions(worst_frames, reconstruct(vaes["doom"], worst_frames),
                     title="doom: the worst-reconstructed held-out frames")
plt.show()

# %% [markdown]
# ## Encoding the data for M
#
# M learns how codes move through time, so every recorded frame is encoded
# once. We store $\mu$ and $\log\sigma^2$ (float16, half the bytes), not one
# sample of $z$: M's training re-samples $z = \mu + \sigma\varepsilon$ every
# batch, as the paper did, which keeps M from memorising one noisy code per
# frame. Each episode's first code is stored separately too: the dream starts
# from them. Encoding goes chunk by chunk, so memory stays flat. From a
# terminal: `python -m wmlib encode doom`.
#
# With `TRAIN` on the cell encodes your whole dataset with your V. With it off
# it encodes one recorded episode in memory, the same call per chunk; the
# shipped M came with the codes it needs, and notebook 02 encodes its own
# sample.

# %%
if TRAIN:
    announce(cfgs["doom"], "encode", "encode every recorded frame of both worlds with your V")
    series = {w: encode_dataset(cfg) for w, cfg in cfgs.items()}
    for w, s in series.items():
        print(f"{w:9s} mu {s.mu.shape} {s.mu.dtype}, first_mu {s.first_mu.shape}")
else:
    one = {w: encode_frames(vaes[w], np.asarray(data[w].episode(0).frames)) for w in cfgs}
    for w, (mu, logvar) in one.items():
        print(f"{w:9s} episode 0: mu {mu.shape}, logvar {logvar.shape} (stored as float16 when written)")

# %% jupyter={"source_hidden": true} tags=["check"]
if TRAIN:
    for w, s in series.items():
        ds = data[w]
        assert s.mu.shape == (ds.n_frames, cfgs[w].vae.z_size)
        assert np.array_equal(s.first_mu, s.mu[ds.frame_starts[:-1]])
        ep = s.episode(0)
        assert ep["mu"].shape[0] == ep["actions"].shape[0] == len(ds.episode(0))
else:
    for w, (mu, logvar) in one.items():
        assert mu.shape == logvar.shape == (len(data[w].episode(0)), cfgs[w].vae.z_size)

# %% [markdown]
# ## Summary
#
# **What the paper established** (Ha & Schmidhuber, 2018, with the VAE of
# Kingma & Welling, 2014):
#
# * V is a convolutional VAE of 4,348,547 parameters for CarRacing ($z$ = 32)
#   and 4,446,915 for Doom ($z$ = 64), trained once on random play and then
#   frozen.
# * Its loss is the squared error summed over pixels plus the KL to
#   $\mathcal N(0, I)$, floored at $\kappa N_z$ nats per image ($\kappa = 0.5$).
# * It keeps what is large and frequent, and can lose what matters (the
#   paper's road tiles).
#
# **What you built and measured** (your numbers are printed by the cell below):
#
# * your own encoder, decoder and loss, equal to `wmlib`'s to the last bit,
#   and a training loop whose weights the library's model reuses unchanged;
# * V at your profile's scale (the shipped one, or yours with `TRAIN` on): its
#   training curve and held-out error as recorded, its error on unseen frames
#   against an untrained V and the average frame, and how many latent
#   dimensions it uses;
# * an edited frame and its code: what V keeps of a bend, and of a road
#   painted where none was;
# * on Doom, the error concentrated on the pixels that come and go, and the
#   small fireballs lost while the large ones are drawn: the paper's caveat
#   seen in your own V;
# * every frame stored as $(\mu, \log\sigma^2)$ for M, in notebook 02.

# %%
for w in cfgs:
    rec = f"{heldout[w].data['mse_per_pixel']:.5f} held out ({heldout[w].label()})" if heldout[w] else "no record"
    print(f"{w:9s} {sources[w]}: error {scores[w]['V']:.5f} on unseen frames (average frame "
          f"{scores[w]['mean_frame']:.5f}), {rec}; {int((kls[w] > 0.1).sum())}/{len(kls[w])} dimensions in use; "
          f"unusual pixels {split[w]['V'][0] / split[w]['V'][1]:.1f}x worse than the rest  [{PROFILE} profile]")
print(f"doom: V draws {kept.sum()} of the {shown.sum()} fireballs in the held-out frames, "
      f"losing the small ones (median {size(missed)}, against {size(kept)} for those it draws)")

# %% [markdown]
# ## Exercises
#
# Each exercise has an estimated time at the `laptop` profile, on the shipped
# models: an estimate, in the table below. A "lab" exercise fits a lab
# session; a "project" retrains part of the pipeline, and the table adds the
# time that stage took in the shipped run's record.

# %%
from wmlib.book.course import exercise_table

md(exercise_table("01_vision"))

# %% [markdown]
# **1.** Set `kl_tolerance` to 0 and retrain (use another `WM_ARTIFACTS` folder).
# How many latent dimensions stay active, and how do the reconstructions
# change? Now try 2.0.
# <details><summary>Hint</summary>
# <code>cfg.with_overrides(vae={"kl_tolerance": 0.0})</code>, then count
# dimensions with <code>kl_per_dim(...).mean(0) &gt; 0.1</code> as above. Without a
# floor the KL pushes every unused dimension to the prior; with a high
# floor V may spend more nats for free.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "01-ex1-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** Without a floor every nat costs, so a dimension whose information does not
# buy a large enough drop in squared error collapses to the prior: fewer
# dimensions carry more than 0.1 nat, and the reconstructions blur, fine
# detail (the road's edge, small fireballs) going first. With $\kappa = 2$ the
# floor is two nats per dimension: below it the KL term is constant, so V
# spends more, uses more dimensions and reconstructs more sharply, but its
# codes wander further from $\mathcal N(0, I)$, so codes drawn from the prior,
# and the codes M invents, decode less reliably. The paper's 0.5 sits between
# a V that says too little and one whose code space has holes.
# <!-- END SOLUTION -->

# %% [markdown]
# **2.** Replace the VAE by a plain autoencoder (use $\mu$, drop the noise and the
# KL). Decode random codes drawn from $\mathcal N(0, I)$ with both models.
# Which one produces plausible frames, and why does that matter for M?
# <details><summary>Hint</summary>
# Subclass <code>MyV</code> so that <code>forward</code> decodes <code>mu</code>, and train it
# with the squared error alone. Compare where the codes of real frames
# sit (their mean and spread) with $\mathcal N(0, I)$.</details>

# %% nbgrader={"grade": false, "grade_id": "01-ex2-code", "locked": false, "schema_version": 3, "solution": true}
# Exercise 2: a plain autoencoder, what it draws from N(0, I), and where its codes sit.
import numpy as np
import torch


def train_autoencoder(frames: np.ndarray, z_size: int = 32, steps: int = 50, lr: float = 1e-3, seed: int = 0):
    """A ``ConvVAE`` trained as a plain autoencoder: decode mu, no noise, no KL, squared error only."""
    ### BEGIN SOLUTION
    from wmlib.models.vae import ConvVAE, frames_to_tensor

    torch.manual_seed(seed)
    model = ConvVAE(z_size)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = frames_to_tensor(frames[rng.choice(len(frames), min(32, len(frames)), replace=False)])
        mu, _ = model.encode(x)
        loss = (model.decode(mu) - x).pow(2).sum((1, 2, 3)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()
    ### END SOLUTION


def prior_decodings(model, n: int = 8, seed: int = 0) -> np.ndarray:
    """Decode ``n`` codes drawn from N(0, I): what each model draws where it was never trained."""
    ### BEGIN SOLUTION
    from wmlib.models.vae import decode_codes

    z = np.random.default_rng(seed).standard_normal((n, model.z_size)).astype(np.float32)
    return decode_codes(model, z)
    ### END SOLUTION


def code_spread(model, frames: np.ndarray) -> tuple[float, float]:
    """Mean and std of the codes of real frames: a VAE's sit near N(0, 1), an autoencoder's need not."""
    ### BEGIN SOLUTION
    from wmlib.models.vae import encode_frames

    mu, _ = encode_frames(model, frames)
    return float(mu.mean()), float(mu.std())
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "01-ex2-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** The autoencoder reconstructs training frames at least as well (no noise,
# no KL), but its codes sit wherever training put them: `code_spread` shows a
# mean and spread far from 0 and 1, and codes drawn from $\mathcal N(0, I)$
# (`prior_decodings`) decode to smears or to nothing road-like. The VAE draws
# road-like frames from the same draws, because its KL packs the codes of real
# frames into a smooth blob around the origin. M's dream is made of codes M
# samples itself; only a code space without holes turns those samples into
# plausible frames.
# <!-- END SOLUTION -->

# %% [markdown]
# **3.** Weight the squared error of the unusual pixels 10 times more. Does V now
# draw fireballs? What did that cost elsewhere?
# <details><summary>Hint</summary>
# Build the weight map per batch from the distance to the average frame
# (as in <code>error_by_unusualness</code>) and multiply it into the squared error
# of <code>paper_loss</code>; then re-run the split and the fireball count above.</details>

# %% nbgrader={"grade": false, "grade_id": "01-ex3-code", "locked": false, "schema_version": 3, "solution": true}
# Exercise 3: the paper's loss, with the unusual pixels weighted.
import numpy as np
import torch


def weighted_loss(x, recon, mu, logvar, mean_frame, top: float = 0.05, weight: float = 10.0,
                  kl_tolerance: float = 0.5):
    """The paper's loss with the squared error of the most unusual pixels (the ``top`` share farthest
    from ``mean_frame``, float [3, 64, 64] in [0, 1]) weighted ``weight`` times."""
    ### BEGIN SOLUTION
    distance = (x - mean_frame).abs().mean(1, keepdim=True)                    # [B, 1, 64, 64]
    cut = torch.quantile(distance.flatten(), 1 - top)
    w = torch.where(distance >= cut, weight, 1.0)
    recon_loss = (w * (recon - x) ** 2).sum((1, 2, 3))
    kl = 0.5 * (mu ** 2 + logvar.exp() - logvar - 1).sum(1)
    return (recon_loss + kl.clamp(min=kl_tolerance * mu.shape[1])).mean()
    ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "01-ex3-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** Train V with `weighted_loss` in place of `paper_loss`. The unusual pixels'
# error falls and more of the fireballs survive V (the fireball count above
# rises, small ones included), because errors there now cost ten times more.
# The price is paid on the background: the walls, floor and grass get
# blurrier, and the total squared error usually rises. V's budget of nats is
# fixed; the weights only move where it is spent. That is the paper's point
# made concrete: what V keeps is decided by its loss, not by what matters to
# the agent.
# <!-- END SOLUTION -->

# %% [markdown]
# **4.** Find the latent direction that best separates frames just before a
# death in Doom from the rest (use the `dones` of the dataset). What does
# moving along it look like?
# <details><summary>Hint</summary>
# The difference of the two groups' mean codes is a simple direction; pass
# it to <code>LatentDirections(vae, frames, directions={"death": d})</code>.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "01-ex4-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** Mark the frames within a few steps before each `done` as "about to die",
# encode all frames, and take $d$ = mean code of those frames minus mean code
# of the rest (a linear discriminant would refine it). Walking a calm frame
# along $+d$ typically grows a fireball in front of the agent, close and
# large; walking along $-d$ empties the room. The direction is what V's code
# keeps of danger: if the small, distant fireballs that V loses are the ones
# that kill, no direction can show them, and neither can M or C.
# <!-- END SOLUTION -->

# %% [markdown]
# **5.** Time `train_vae` on the CPU and, if you have one, a GPU
# (`benchmarks/vae.py`). Where does the CPU spend its time?
# <details><summary>Hint</summary>
# <code>torch.profiler.profile</code> around a few training steps; look at the
# convolution backward passes.</details>

# %% [markdown] nbgrader={"grade": true, "grade_id": "01-ex5-answer", "locked": false, "points": 0, "schema_version": 3, "solution": true}
# <!-- BEGIN SOLUTION -->
# **Model answer.** The profiler puts the convolutions on top, and above all their backward
# passes (the gradients with respect to inputs and weights of the encoder's
# convolutions and of the decoder's transposed convolutions); the
# fully-connected layers, the loss and the optimiser step are a small share.
# These are dense, regular operations, exactly what a GPU runs many times
# faster, which is why V's training is the stage a GPU shortens most, while
# the environment steps of notebook 03 are not.
# <!-- END SOLUTION -->

# %% [markdown]
# ## References
#
# * D. P. Kingma and M. Welling, *Auto-Encoding Variational Bayes*, ICLR 2014
#   (the VAE and the reparameterisation trick).
# * D. Ha and J. Schmidhuber, *World Models*, 2018, <https://worldmodels.github.io>
#   (V's architecture, the KL floor, the road-tile caveat).
# * C. M. Bishop, *Pattern Recognition and Machine Learning*, 2006, chapter 10
#   (variational inference).
