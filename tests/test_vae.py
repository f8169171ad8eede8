"""V: architecture, loss, learning, exact resume after a kill, encoding the dataset."""
import shutil

import numpy as np
import pytest
import torch

from wmlib import paper
from wmlib.artifacts import load_checkpoint
from wmlib.config import get_config
from wmlib.worlds.data import collect, load_dataset
from wmlib.training.series import load_series
from wmlib.paths import vae_dir
from wmlib.training.vae import encode_dataset, load_vae, read_vae_log, train_vae
from wmlib.models.vae import ConvVAE, encode_frames, frames_to_tensor, kl_per_dim, reconstruct, vae_loss

torch.set_num_threads(2)


class Killed(Exception):
    """Stands in for the process dying mid-epoch."""


@pytest.mark.parametrize("world", ["carracing", "doom"])
def test_parameter_counts_match_the_paper(world):
    cfg = get_config(world, "paper")
    vae = ConvVAE(cfg.vae.z_size)
    assert vae.n_params == paper.PARAMS[world]["vae"]
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        recon, mu, logvar = vae(x)
    assert recon.shape == x.shape and mu.shape == logvar.shape == (2, cfg.vae.z_size)
    assert 0 <= float(recon.min()) and float(recon.max()) <= 1


def reference_loss(x, recon, mu, logvar, tol):
    """The paper's loss in plain numpy, image by image."""
    x, recon, mu, logvar = (t.double().numpy() for t in (x, recon, mu, logvar))
    r = [((recon[i] - x[i]) ** 2).sum() for i in range(len(x))]
    kl = [max(-0.5 * np.sum(1 + logvar[i] - mu[i] ** 2 - np.exp(logvar[i])), tol * mu.shape[1])
          for i in range(len(x))]
    return np.mean(r) + np.mean(kl), np.mean(r), np.mean(kl)


@pytest.mark.parametrize("mu_scale, floor_active", [(0.01, True), (3.0, False)])
def test_loss_matches_a_hand_written_reference(mu_scale, floor_active):
    g = torch.Generator().manual_seed(0)
    x, recon = torch.rand(5, 3, 64, 64, generator=g), torch.rand(5, 3, 64, 64, generator=g)
    mu = mu_scale * torch.randn(5, 8, generator=g)
    logvar = 0.01 * torch.randn(5, 8, generator=g)
    loss, r, kl = vae_loss(x, recon, mu, logvar, kl_tolerance=0.5, z_size=8)
    want = reference_loss(x, recon, mu, logvar, 0.5)
    np.testing.assert_allclose([float(loss), float(r), float(kl)], want, rtol=1e-5)
    raw = float(kl_per_dim(mu, logvar).sum(1).mean())
    assert (float(kl) == pytest.approx(0.5 * 8)) == floor_active
    assert (raw < 4) == floor_active
    # Below the floor the KL gives no gradient: V may use those nats freely.
    mu.requires_grad_(True)
    vae_loss(x, recon, mu, logvar, 0.5, 8)[0].backward()
    assert (float(mu.grad.abs().sum()) == 0) == floor_active


def test_decode_equals_the_transposed_convolution_it_stands_for():
    """The first deconvolution as a matrix product: same frames and same gradients as ConvTranspose2d."""
    torch.manual_seed(0)
    vae = ConvVAE(16)
    with torch.no_grad():  # a bias that differs per channel, so a wrong broadcast would show
        vae.decoder[0].bias.copy_(torch.linspace(-1, 1, 128))
    z = torch.randn(6, 16)
    fast, slow = vae.decode(z), vae.decode_reference(z)
    assert fast.shape == slow.shape == (6, 3, 64, 64)
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-6)
    grads = []
    for decode in (vae.decode, vae.decode_reference):
        vae.zero_grad()
        (decode(z) * torch.linspace(0, 1, 64)).sum().backward()
        grads.append([p.grad.clone() for p in (vae.decoder[0].weight, vae.decoder[0].bias, vae.fc_decode.weight)])
    for g_fast, g_slow in zip(*grads):
        torch.testing.assert_close(g_fast, g_slow, rtol=1e-4, atol=1e-5)


def test_frames_to_tensor_layout_and_range():
    frames = np.zeros((2, 64, 64, 3), np.uint8)
    frames[1, 3, 5, 2] = 255
    x = frames_to_tensor(frames, "cpu")
    assert x.shape == (2, 3, 64, 64) and x.dtype == torch.float32
    assert x[1, 2, 3, 5] == 1.0 and float(x.sum()) == 1.0
    with pytest.raises(ValueError, match="uint8"):
        frames_to_tensor(frames.astype(np.float32), "cpu")


def test_overfits_a_tiny_batch():
    torch.manual_seed(0)
    vae = ConvVAE(8)
    frames = np.zeros((4, 64, 64, 3), np.uint8)
    for i in range(4):  # four distinct blocky pictures
        frames[i, 16 * i:16 * i + 16, :, i % 3] = 255
    x = frames_to_tensor(frames)
    opt = torch.optim.Adam(vae.parameters(), lr=1e-3)
    losses = []
    for _ in range(30):
        recon, mu, logvar = vae(x)
        loss, _, _ = vae_loss(x, recon, mu, logvar, 0.5, 8)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]


# ----------------------------------------------------------------------------- training on real data

@pytest.fixture(scope="module")
def doom_data(tmp_path_factory):
    """A tiny Doom dataset (3 short episodes), collected once for this file."""
    root = tmp_path_factory.mktemp("vae-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WM_ARTIFACTS", str(root))
        cfg = tiny_cfg()
        collect(cfg, episodes=3, workers=1, progress=False)
    return root / "doom" / "ci" / "data"


def tiny_cfg(**vae):
    settings = dict(epochs=2, batch_size=16, max_frames_per_epoch=48, checkpoint_every=2, log_every=2,
                    encode_batch=64)
    settings.update(vae)
    return get_config("doom", "ci").with_overrides(collect={"max_steps": 120}, vae=settings)


def with_data(artifacts, doom_data):
    shutil.copytree(doom_data, artifacts / "doom" / "ci" / "data")
    return tiny_cfg()


def weights(path):
    return load_checkpoint(path)["model"]


def test_train_resumes_exactly_after_a_kill(artifacts, doom_data, tmp_path, monkeypatch):
    cfg = with_data(artifacts, doom_data)
    # The run that never stops: 2 epochs x 3 batches.
    whole = weights(train_vae(cfg, progress=False))
    whole_log = read_vae_log(cfg)
    assert [p["step"] for p in whole_log["train"]] == [2, 3, 5, 6]
    assert [p["epoch"] for p in whole_log["val"]] == [1, 2]

    # The same run, killed in the second epoch one step after a checkpoint.
    other = tmp_path / "other"
    monkeypatch.setenv("WM_ARTIFACTS", str(other))
    cfg = with_data(other, doom_data)

    def kill_at_step_5(step, metrics):
        assert np.isfinite(metrics["loss"])
        if step == 5:
            raise Killed

    with pytest.raises(Killed):
        train_vae(cfg, progress=False, callback=kill_at_step_5)
    last = vae_dir(cfg) / "last.pt"
    state = load_checkpoint(last)
    assert (state["epoch"], state["batch"], state["step"]) == (1, 1, 4)  # saved at step 4
    assert not (vae_dir(cfg) / "vae.pt").exists()

    resumed_steps = []
    path = train_vae(cfg, progress=False, callback=lambda s, m: resumed_steps.append(s))
    assert resumed_steps == [5, 6]  # picks up at the same epoch and step
    resumed = weights(path)
    assert resumed.keys() == whole.keys()
    for k in whole:
        assert torch.equal(whole[k], resumed[k]), k
    assert read_vae_log(cfg) == whole_log

    # Finished: a no-op that leaves the file alone.
    mtime = path.stat().st_mtime_ns
    assert train_vae(cfg, progress=False) == path and path.stat().st_mtime_ns == mtime
    # A changed setting is refused rather than silently reused.
    with pytest.raises(ValueError, match="z_size"):
        train_vae(tiny_cfg(z_size=16), progress=False)


def test_encode_writes_a_series_aligned_with_the_dataset(artifacts, doom_data):
    cfg = with_data(artifacts, doom_data)
    train_vae(cfg, progress=False)
    series = encode_dataset(cfg, progress=False)
    ds = load_dataset(cfg)
    z = cfg.vae.z_size
    assert series.mu.shape == series.logvar.shape == (ds.n_frames, z)
    assert series.mu.dtype == np.float16
    assert series.first_mu.shape == (ds.n_episodes, z)
    np.testing.assert_array_equal(series.first_mu, series.mu[ds.frame_starts[:-1]])
    # Matches encoding the frames directly (up to float16 rounding).
    vae = load_vae(cfg)
    ep = ds.episode(1)
    mu, logvar = encode_frames(vae, np.asarray(ep.frames))
    got = series.episode(1)
    np.testing.assert_allclose(got["mu"], mu, atol=2e-2, rtol=1e-2)
    np.testing.assert_allclose(got["logvar"], logvar, atol=2e-2, rtol=1e-2)
    np.testing.assert_array_equal(got["actions"], ep.actions)
    assert load_series(cfg).z_size == z
    # Encoding again is a no-op.
    mtime = (series.path / "mu.npy").stat().st_mtime_ns
    encode_dataset(cfg, progress=False)
    assert (series.path / "mu.npy").stat().st_mtime_ns == mtime
    # reconstruct gives frames back in the dataset's layout.
    assert reconstruct(vae, np.asarray(ep.frames[:3])).shape == (3, 64, 64, 3)


def test_missing_inputs_give_clear_errors(artifacts):
    cfg = tiny_cfg()
    with pytest.raises(FileNotFoundError, match="collect"):
        train_vae(cfg, progress=False)
    with pytest.raises(FileNotFoundError, match="train-vae"):
        load_vae(cfg)
    from wmlib.cli import main

    assert main(["train-vae", "doom", "--profile", "ci", "--artifacts", str(artifacts)]) == 2
