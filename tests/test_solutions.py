"""The exercises' worked solutions (notebooks/solutions/) run and give the answers the hints promise."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notebooks"))

from solutions import controller, memory, vision, worlds  # noqa: E402


def test_worlds_random_survival_holds_actions():
    fresh = worlds.random_survival(skill=4, hold=(1, 1), episodes=2, max_steps=300)
    held = worlds.random_survival(skill=4, hold=(10, 10), episodes=2, max_steps=300)
    assert fresh.shape == held.shape == (2,) and (fresh >= 1).all() and (held <= 300).all()


def test_vision_autoencoder_codes_and_weighted_loss():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (40, 64, 64, 3), dtype=np.uint8)
    torch.set_num_threads(1)
    ae = vision.train_autoencoder(frames, z_size=4, steps=2)
    assert vision.prior_decodings(ae, 3).shape == (3, 64, 64, 3)
    mean, std = vision.code_spread(ae, frames)
    assert np.isfinite([mean, std]).all()
    x = torch.rand(2, 3, 64, 64)
    mu, logvar = torch.zeros(2, 4), torch.zeros(2, 4)
    plain = vision.weighted_loss(x, x * 0, mu, logvar, x.mean(0), weight=1.0)
    heavy = vision.weighted_loss(x, x * 0, mu, logvar, x.mean(0), weight=10.0)
    assert float(heavy) > float(plain) > 0


def test_memory_open_loop_drift_and_mean_codes():
    from wmlib.models.mdnrnn import MDNRNN

    torch.manual_seed(0)
    m = MDNRNN(4, 1, 8, done_head=True).eval()
    z, a = np.random.default_rng(0).normal(size=(6, 4)), np.zeros((6, 1))
    cold, hot = memory.open_loop_drift(m, z, a, 0.1), memory.open_loop_drift(m, z, a, 1.5)
    assert cold.shape == hot.shape == (5,) and np.isfinite(cold).all()


def test_controller_covariance_pays_and_sizes():
    full = controller.generations_to_reach()
    no_cov = controller.generations_to_reach(dict(CMA_rankmu=0, CMA_rankone=0))
    assert full < no_cov
    f = controller.valley(30.0)
    batch = lambda X, g: [f(x) for x in X]
    mean, best = controller.diagonal_es(batch, [-3.0, -2.0], 0.5, 10, 60)
    assert f(mean) < 1e-2 * f([-3.0, -2.0]) and len(best) == 60
    untilted = controller.valley(0.0)
    mean0, _ = controller.diagonal_es(lambda X, g: [untilted(x) for x in X], [-3.0, -2.0], 0.5, 10, 60)
    assert untilted(mean0) < 1e-6  # axis-aligned: one scale per coordinate is enough
    sizes = controller.hidden_layer_sizes()
    assert sizes["params"] == 32 * 40 + 40 + 40 * 3 + 3 == 1443 and sizes["covariance_entries"] == 1443 ** 2


def test_memory_mean_code_batch_drops_the_noise():
    from types import SimpleNamespace

    from wmlib.training.mdnrnn import _rows_to_batch

    rng = np.random.default_rng(0)
    data = SimpleNamespace(mu=rng.normal(size=(10, 3)).astype(np.float32),
                           logvar=np.zeros((10, 3), np.float32), actions=np.zeros((10, 1), np.float32),
                           dones=np.zeros(10, bool))
    batch = _rows_to_batch([np.arange(0, 5), np.arange(5, 10)], np.array([0, 5]), np.array([4, 9]), 5)
    t = memory.mean_code_batch(data, batch)
    np.testing.assert_allclose(t["z"].numpy(), data.mu[batch.idx])
    np.testing.assert_allclose(t["z_next"][0, :4].numpy(), data.mu[1:5])
