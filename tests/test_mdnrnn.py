"""M: parameter counts, the mixture maths against torch.distributions, temperature,
sequence/step equivalence, and training on a small synthetic encoded series."""
import json
import math

import numpy as np
import pytest
import torch
from torch.distributions import Categorical, MixtureSameFamily, Normal

from wmlib import paper
from wmlib.artifacts import write_json
from wmlib.config import get_config
from wmlib.worlds.data import write_shard
from wmlib.models.mdnrnn import MDNRNN, mixture_mean_var, mixture_nll, sample_mixture, temper
from wmlib.paths import data_dir, mdnrnn_dir, series_dir
from wmlib.training.series import SeriesWriter
import wmlib.training.mdnrnn as tm

torch.set_num_threads(1)


def random_mixture(shape=(3, 4, 6), K=5, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    logpi = torch.log_softmax(2 * torch.randn(*shape, K, generator=g, dtype=dtype), -1)
    mu = 2 * torch.randn(*shape, K, generator=g, dtype=dtype)
    logsigma = 0.7 * torch.randn(*shape, K, generator=g, dtype=dtype)
    return logpi, mu, logsigma


# ----------------------------------------------------------------------------- the model


@pytest.mark.parametrize("world", ["carracing", "doom"])
def test_parameter_counts_match_the_paper(world):
    cfg = get_config(world, "paper")
    m = tm.build_model(cfg, cfg.vae.z_size)
    assert sum(p.numel() for p in m.parameters()) == paper.PARAMS[world]["mdnrnn"]
    assert m.has_done == (world == "doom")
    assert m.input_size == cfg.vae.z_size + cfg.action_size + (world == "doom")
    assert not any("bias" in n for n, _ in m.lstm.named_parameters())  # one bias: the constant-1 column


def test_explicit_counts():
    assert MDNRNN(32, 3, 256).n_params == 422_368
    assert MDNRNN(64, 1, 512, done_head=True).n_params == 1_678_785


def test_nll_equals_torch_mixture_same_family():
    logpi, mu, logsigma = random_mixture()
    target = 2 * torch.randn(3, 4, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ref = MixtureSameFamily(Categorical(logits=logpi), Normal(mu, logsigma.exp())).log_prob(target)
    ours = mixture_nll(logpi, mu, logsigma, target)
    assert ours.shape == (3, 4, 6)
    torch.testing.assert_close(ours, -ref, rtol=1e-10, atol=1e-10)
    # float32 and far-out targets stay finite (logsumexp, no exp underflow to log(0))
    far = mixture_nll(*(t.float() for t in (logpi, mu, logsigma)), torch.full((3, 4, 6), 200.0))
    assert torch.isfinite(far).all() and (far > 100).all()


def test_tempered_weights_and_widths():
    logpi, mu, logsigma = random_mixture()
    lp, ls = temper(logpi, logsigma, 1.0)
    torch.testing.assert_close(lp, logpi)
    lp, ls = temper(logpi, logsigma, 0.5)
    torch.testing.assert_close(lp.exp(), torch.softmax(2 * logpi, -1))
    torch.testing.assert_close((2 * ls).exp(), 0.5 * (2 * logsigma).exp())  # variance * tau


def test_tau_zero_gives_the_most_likely_components_mean():
    logpi, mu, logsigma = random_mixture(dtype=torch.float32)
    want = torch.gather(mu, -1, logpi.argmax(-1, keepdim=True)).squeeze(-1)
    assert torch.equal(sample_mixture(logpi, mu, logsigma, 0.0), want)
    g = torch.Generator().manual_seed(0)
    for tau in (1e-3, 1e-5):
        z = sample_mixture(logpi, mu, logsigma, tau, generator=g)
        assert (z - want).abs().max() < 10 * math.sqrt(tau) * logsigma.exp().max()
    with pytest.raises(ValueError, match="temperature"):
        sample_mixture(logpi, mu, logsigma, -0.1)


def test_tau_one_matches_the_mixture_mean_and_variance():
    logpi, mu, logsigma = random_mixture(shape=(4,), K=3, seed=3, dtype=torch.float64)
    n = 200_000
    g = torch.Generator().manual_seed(0)
    z = sample_mixture(*(t.expand(n, 4, 3) for t in (logpi, mu, logsigma)), 1.0, generator=g)
    mean, var = mixture_mean_var(logpi, mu, logsigma)
    se = (var / n).sqrt()
    assert ((z.mean(0) - mean).abs() < 5 * se).all()
    assert ((z.var(0) / var - 1).abs() < 0.03).all()
    # the analytic moments agree with torch's mixture
    ref = MixtureSameFamily(Categorical(logits=logpi), Normal(mu, logsigma.exp()))
    torch.testing.assert_close(mean, ref.mean)
    torch.testing.assert_close(var, ref.variance)


@pytest.mark.parametrize("tau", [0.25, 0.5, 2.0])
def test_tau_scales_one_components_variance_by_tau(tau):
    n = 100_000
    mu, logsigma = torch.full((n, 1, 1), 1.5), torch.full((n, 1, 1), math.log(0.8))
    z = sample_mixture(torch.zeros(n, 1, 1), mu, logsigma, tau, generator=torch.Generator().manual_seed(1))
    assert abs(z.mean().item() - 1.5) < 0.02
    assert abs(z.var().item() / (0.64 * tau) - 1) < 0.03


def test_the_rare_mode_fades_as_tau_falls():
    logpi = torch.log(torch.tensor([0.8, 0.2]))
    weights = [temper(logpi, torch.zeros(2), tau)[0].exp()[1].item() for tau in (2.0, 1.0, 0.5, 0.1)]
    assert all(a > b for a, b in zip(weights, weights[1:]))
    assert weights[-1] < 1e-5 and abs(weights[1] - 0.2) < 1e-6
    # and in samples: two far-apart modes, count how often the rare one (at +5) is drawn
    n = 50_000
    mix = (logpi.expand(n, 1, 2), torch.tensor([-5.0, 5.0]).expand(n, 1, 2), torch.full((n, 1, 2), -2.0))
    g = torch.Generator().manual_seed(2)
    share = {tau: (sample_mixture(*mix, tau, generator=g) > 0).float().mean().item() for tau in (1.0, 0.5)}
    assert abs(share[1.0] - 0.2) < 0.01
    assert abs(share[0.5] - 0.04 / 0.68) < 0.01


def test_per_row_temperatures_and_generator_reproducibility():
    logpi, mu, logsigma = random_mixture(shape=(2, 6), dtype=torch.float32)
    tau = torch.tensor([[0.0], [1.0]])  # row 0 deterministic, row 1 random
    a = sample_mixture(logpi, mu, logsigma, tau, generator=torch.Generator().manual_seed(5))
    b = sample_mixture(logpi, mu, logsigma, tau, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    want = torch.gather(mu, -1, logpi.argmax(-1, keepdim=True)).squeeze(-1)
    assert torch.equal(a[0], want[0]) and not torch.equal(a[1], want[1])


def _seq(B=3, T=12, z=5, A=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, T, z, generator=g), torch.rand(B, T, A, generator=g) * 2 - 1


def test_forward_over_a_sequence_equals_repeated_step():
    torch.manual_seed(0)
    m = MDNRNN(5, 1, 16, n_mixtures=3, done_head=True).eval()
    z, a = _seq()
    restart = torch.zeros(3, 12)
    restart[:, 0] = 1
    restart[1, 5] = 1  # row 1 starts a new episode mid-sequence
    restart[2, 9] = 1
    mix, done, (h, c) = m(z, a, restart=restart)
    state = None
    for t in range(12):
        mt, dt, state = m.step(z[:, t], a[:, t], state, restart=restart[:, t])
        for full, one in zip(mix, mt):
            torch.testing.assert_close(full[:, t], one, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(done[:, t], dt, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(state[0], h)
    torch.testing.assert_close(state[1], c)
    assert mix.logpi.shape == (3, 12, 5, 3) and done.shape == (3, 12) and h.shape == (1, 3, 16)


def test_a_restart_forgets_the_past():
    torch.manual_seed(0)
    m = MDNRNN(5, 1, 16, n_mixtures=3, done_head=True).eval()
    z, a = _seq(B=1)
    restart = torch.zeros(1, 12)
    restart[0, 7] = 1
    mix, done, _ = m(z, a, m.initial_state(1), restart=restart)
    fresh_r = torch.zeros(1, 5)
    fresh_r[0, 0] = 1
    mix2, done2, _ = m(z[:, 7:], a[:, 7:], restart=fresh_r)
    torch.testing.assert_close(mix.mu[:, 7:], mix2.mu)
    torch.testing.assert_close(done[:, 7:], done2)


@pytest.mark.parametrize("done_head", [False, True])
def test_state_carried_across_chunks_equals_one_long_forward(done_head):
    torch.manual_seed(1)
    m = MDNRNN(5, 3, 16, n_mixtures=2, done_head=done_head).eval()
    z, a = _seq(A=3, T=20)
    mix, done, state = m(z, a)
    s = m.initial_state(3)
    parts = []
    for lo, hi in ((0, 7), (7, 8), (8, 20)):
        out, d, s = m(z[:, lo:hi], a[:, lo:hi], s)
        parts.append(out.mu)
    torch.testing.assert_close(torch.cat(parts, 1), mix.mu)
    torch.testing.assert_close(s[0], state[0])
    assert (done is None) == (not done_head)


def test_bad_shapes_are_refused():
    m = MDNRNN(5, 1, 8)
    with pytest.raises(ValueError, match="z_size=5"):
        m(torch.zeros(2, 3, 4), torch.zeros(2, 3, 1))
    with pytest.raises(ValueError, match="step"):
        m(torch.zeros(2, 5), torch.zeros(2, 1))
    with pytest.raises(ValueError, match="positive"):
        MDNRNN(0, 1, 8)


# ----------------------------------------------------------------------------- synthetic encoded data

Z = 3


def make_series(cfg, lengths=(30, 45, 25, 60, 38, 50), seed=0, terminated=True):
    """A tiny dataset + encoded series with learnable dynamics: z' = 0.8 z + a[0] (+ noise).

    Episodes end in death (Doom-like) when z[0] of the last code is high; frames are blank.
    """
    rng = np.random.default_rng(seed)

    root = data_dir(cfg)
    fresh = not (root / "dataset.json").exists()  # a second call only re-encodes
    write_json(root / "dataset.json", dict(world=cfg.world, frame_shape=[64, 64, 3], action_size=cfg.action_size,
                                           seed=cfg.collect.seed, max_steps=cfg.collect.max_steps))
    mus, eps = [], []
    for i, n in enumerate(lengths):
        a = rng.uniform(-1, 1, (n, cfg.action_size)).astype(np.float32)
        z = np.zeros((n, Z), np.float32)
        z[0] = rng.normal(size=Z)
        for t in range(n - 1):
            z[t + 1] = 0.8 * z[t] + a[t, 0] + 0.05 * rng.normal(size=Z)
        dones = np.zeros(n, bool)
        dones[-1] = terminated
        eps.append(dict(frames=np.zeros((n, 64, 64, 3), np.uint8), actions=a,
                        rewards=np.ones(n, np.float32), dones=dones))
        mus.append(z)
        if fresh:
            write_shard(root, [i], [eps[-1]], cfg.world)
    mu = np.concatenate(mus)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    w = SeriesWriter(series_dir(cfg), len(mu), len(lengths), Z)
    w.write(0, mu, np.full_like(mu, np.log(0.01 ** 2)))
    w.commit(starts, synthetic=True)
    return mu, starts


def tiny_cfg(world="doom", **mdn):
    base = dict(hidden=32, seq_len=16, batch_size=3, epochs=3, val_episodes=1, lr=3e-3)
    base.update(mdn)
    return get_config(world, "ci").with_overrides(vae=dict(z_size=Z), mdnrnn=base)


def test_stream_batches_cover_each_step_once_with_flags(artifacts):
    cfg = tiny_cfg()
    make_series(cfg)
    data = tm.Transitions.load(cfg)
    train, _ = data.split(1)
    batches = tm.stream_batches(data, train, 3, 16, np.random.default_rng(0))
    seen = np.concatenate([b.idx[b.valid] for b in batches])
    want = np.concatenate([np.arange(data.starts[e], data.starts[e + 1]) for e in train])
    assert np.array_equal(np.sort(seen), want)
    assert all(b.idx.shape == (3, 16) for b in batches)
    full = {f: np.concatenate([getattr(b, f) for b in batches], 1) for f in ("idx", "restart", "last", "valid")}
    assert full["restart"].sum() == full["last"].sum() == len(train)
    assert set(full["idx"][full["restart"]]) == set(data.starts[train])
    # within a stream, a step follows its predecessor unless an episode starts there
    for row in range(3):
        idx, v, r = full["idx"][row], full["valid"][row], full["restart"][row]
        follow = v[1:] & ~r[1:]
        assert np.all(idx[1:][follow] == idx[:-1][follow] + 1)


def test_aligned_batches_start_episodes_only_on_a_chunks_first_step(artifacts):
    cfg = tiny_cfg(batching="aligned")
    make_series(cfg)
    data = tm.Transitions.load(cfg)
    train, _ = data.split(1)
    batches = tm.aligned_stream_batches(data, train, 2, 16, np.random.default_rng(0))
    seen = np.concatenate([b.idx[b.valid] for b in batches])
    want = np.concatenate([np.arange(data.starts[e], data.starts[e + 1]) for e in train])
    assert np.array_equal(np.sort(seen), want)
    assert all(b.idx.shape == (2, 16) for b in batches)
    assert not any(b.restart[:, 1:].any() for b in batches)  # no cut inside a chunk: one LSTM call
    assert sum(b.restart.sum() for b in batches) == sum(b.last.sum() for b in batches) == len(train)
    full = {f: np.concatenate([getattr(b, f) for b in batches], 1) for f in ("idx", "restart", "valid")}
    for row in range(2):  # an episode runs on unbroken from its start, padding only after its last step
        idx, v, r = full["idx"][row], full["valid"][row], full["restart"][row]
        follow = v[1:] & ~r[1:]
        assert np.all(idx[1:][follow] == idx[:-1][follow] + 1)
        assert not np.any(v[1:] & ~v[:-1] & ~r[1:])


@pytest.mark.parametrize("batching", ["stream", "aligned"])
def test_chunked_streams_carry_the_state_as_one_forward_over_each_episode(artifacts, batching):
    """The loss an epoch's chunks see (state carried, zeroed at a restart) is each whole episode's, step for step."""
    cfg = tiny_cfg(batching=batching)
    make_series(cfg)  # std 0.01 codes: the re-sampled z differs between the two passes by ~1e-2 at most
    data = tm.Transitions.load(cfg)
    data.logvar = np.full_like(np.asarray(data.logvar), -60.0)  # no sampling noise: z = mu exactly
    train, _ = data.split(1)
    torch.manual_seed(0)
    model = tm.build_model(cfg, Z).eval()
    gen = torch.Generator().manual_seed(0)
    chunked, state = {}, None
    with torch.no_grad():
        for b in tm.make_batches(cfg, data, train, np.random.default_rng(3)):
            t = tm.batch_tensors(data, b, gen, "cpu")
            mix, done, state = model(t["z"], t["a"], state, restart=t["restart"])
            nll = mixture_nll(*mix, t["z_next"]).mean(-1)
            for i, n, d in zip(b.idx[b.valid], nll[torch.from_numpy(b.valid)], done[torch.from_numpy(b.valid)]):
                chunked[int(i)] = (float(n), float(d))
        whole = {}
        for b in tm.episode_batches(data, train, 8):
            t = tm.batch_tensors(data, b, gen, "cpu")
            mix, done, _ = model(t["z"], t["a"], restart=t["restart"])
            nll = mixture_nll(*mix, t["z_next"]).mean(-1)
            for i, n, d in zip(b.idx[b.valid], nll[torch.from_numpy(b.valid)], done[torch.from_numpy(b.valid)]):
                whole[int(i)] = (float(n), float(d))
    assert chunked.keys() == whole.keys()
    np.testing.assert_allclose(np.array([chunked[k] for k in whole]), np.array(list(whole.values())),
                               rtol=1e-4, atol=1e-4)


def test_window_batches_tile_each_episode_once(artifacts):
    cfg = tiny_cfg("carracing", batching="windows")
    make_series(cfg, terminated=False)
    data = tm.Transitions.load(cfg)
    train, _ = data.split(1)
    batches = tm.window_batches(data, train, 3, 16, np.random.default_rng(1))
    seen = np.concatenate([b.idx[b.valid] for b in batches])
    want = np.concatenate([np.arange(data.starts[e], data.starts[e + 1]) for e in train])
    assert np.array_equal(np.sort(seen), want)
    assert sum(b.restart.sum() for b in batches) == len(train)


def test_bucket_batches_hold_the_windows_batches_of_about_one_length(artifacts):
    """Buckets batch the very windows "windows" cuts (same rng), in as many batches, with less padding."""
    cfg = tiny_cfg(batching="buckets")
    make_series(cfg)
    data = tm.Transitions.load(cfg)
    train, _ = data.split(1)
    windows = tm.window_batches(data, train, 3, 16, np.random.default_rng(1))
    buckets = tm.bucket_batches(data, train, 3, 16, np.random.default_rng(1))
    rows = lambda batches: sorted(tuple(r[v]) for b in batches for r, v in zip(b.idx, b.valid))
    assert rows(buckets) == rows(windows)  # each window whole, each step once
    assert len(buckets) == len(windows)
    assert sum(b.restart.sum() for b in buckets) == sum(b.last.sum() for b in buckets) == len(train)
    for b in buckets:  # as wide as its longest window, a window's steps in order from the row's start
        assert b.valid.sum(1).max() == b.idx.shape[1] <= 16
        assert all(v[:v.sum()].all() and np.all(np.diff(r[v]) == 1) for r, v in zip(b.idx, b.valid))
    slots = lambda batches: sum(b.idx.size for b in batches)
    assert slots(buckets) < slots(windows)


def test_a_window_scores_the_same_in_any_batch_width(artifacts):
    """State starts at zero in every window and padding is masked: a window's loss does not depend on
    which batch (or how wide a one) holds it, so buckets train the same loss as windows."""
    cfg = tiny_cfg(batching="buckets")
    make_series(cfg)
    data = tm.Transitions.load(cfg)
    data.logvar = np.full_like(np.asarray(data.logvar), -60.0)  # z = mu exactly
    train, _ = data.split(1)
    torch.manual_seed(0)
    model = tm.build_model(cfg, Z).eval()
    gen = torch.Generator().manual_seed(0)

    def per_step(batches):
        out = {}
        with torch.no_grad():
            for b in batches:
                t = tm.batch_tensors(data, b, gen, "cpu")
                mix, done, _ = model(t["z"], t["a"], restart=t["restart"])
                nll = mixture_nll(*mix, t["z_next"]).mean(-1)
                v = torch.from_numpy(b.valid)
                out.update({int(i): (float(n), float(d)) for i, n, d in zip(b.idx[b.valid], nll[v], done[v])})
        return out

    wide = per_step(tm.window_batches(data, train, 3, 16, np.random.default_rng(2)))
    tight = per_step(tm.bucket_batches(data, train, 3, 16, np.random.default_rng(2)))
    assert wide.keys() == tight.keys()
    np.testing.assert_allclose(np.array([tight[k] for k in wide]), np.array(list(wide.values())),
                               rtol=1e-4, atol=1e-5)


def test_batch_tensors_resample_z_around_mu(artifacts):
    cfg = tiny_cfg()
    mu, _ = make_series(cfg)
    data = tm.Transitions.load(cfg)
    b = tm.episode_batches(data, [0], 4)[0]
    t = tm.batch_tensors(data, b, torch.Generator().manual_seed(0), "cpu")
    n = int(data.lengths[0])
    noise = t["z"][0, :n] - torch.from_numpy(mu[:n])
    assert 0.005 < noise.std().item() < 0.02  # std 0.01, from logvar
    assert t["z_mask"][0, n - 1] == 0 and t["z_mask"][0, :n - 1].all()  # the last step has no z target
    assert t["done"][0, n - 1] == 1 and t["done"][0, :n - 1].sum() == 0


def test_training_learns_and_beats_no_change(artifacts, capsys):
    cfg = tiny_cfg(epochs=25)
    make_series(cfg)
    path = tm.train_mdnrnn(cfg, progress=False)
    log = json.loads((path.parent / "log.json").read_text())
    assert len(log["val_nll"]) == 25 and len(log["loss"]) == log["step"][-1]
    assert np.mean(log["z_loss"][-5:]) < np.mean(log["z_loss"][:5]) - 1.0
    assert log["val_nll"][-1] < log["val_nll"][0]
    assert "done_loss" in log
    res = tm.evaluate_mdnrnn(cfg)
    assert res["nll"] < res["baseline_nll"] and len(res["nll_per_dim"]) == Z
    assert 0 <= res["done_recall"] <= 1 and res["deaths"] == 1
    # another M judged on the same held-out episodes: the trained one, passed in, judges the same
    assert tm.evaluate_mdnrnn(cfg, write=False, model=tm.load_mdnrnn(cfg)) == res
    # the no-op: a finished M is not retrained
    mtime = path.stat().st_mtime_ns
    assert tm.train_mdnrnn(cfg, progress=False) == path and path.stat().st_mtime_ns == mtime
    m = tm.load_mdnrnn(cfg)
    assert not m.training and m.has_done and m.z_size == Z
    # the command line prints the comparison
    from wmlib.cli import main

    assert main(["eval-mdnrnn", "doom", "--profile", "ci"]) == 2  # ci's own config (z=64) has no series
    assert "error:" in capsys.readouterr().err
    text = tm.format_evaluation(res)
    assert "no-change" in text and "precision" in text and len(text.splitlines()) == Z + 4


def test_car_windows_train_without_a_done_head(artifacts):
    cfg = tiny_cfg("carracing", batching="windows", done_head=False, epochs=2)
    make_series(cfg, terminated=False)
    path = tm.train_mdnrnn(cfg, progress=False)
    log = json.loads((path.parent / "log.json").read_text())
    assert "done_loss" not in log and np.isfinite(log["loss"]).all()
    res = tm.evaluate_mdnrnn(cfg)
    assert "done_precision" not in res and np.isfinite(res["nll"])


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_resume_after_a_kill_is_exact(artifacts, tmp_path, monkeypatch, dropout):
    cfg = tiny_cfg(epochs=3, dropout=dropout)
    make_series(cfg)
    whole = tm.load_checkpoint(tm.train_mdnrnn(cfg, progress=False))

    monkeypatch.setenv("WM_ARTIFACTS", str(tmp_path / "killed"))
    make_series(cfg)
    real, calls = tm.run_epoch, []

    def dies_in_epoch_two(*args, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the kill lands mid-run, after epoch 1 was saved
        return real(*args, **kw)

    monkeypatch.setattr(tm, "run_epoch", dies_in_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        tm.train_mdnrnn(cfg, progress=False)
    out = mdnrnn_dir(cfg)
    assert (out / "last.pt").exists() and not (out / "mdnrnn.pt").exists()
    assert tm.load_checkpoint(out / "last.pt")["epoch"] == 1
    monkeypatch.setattr(tm, "run_epoch", real)
    resumed = tm.load_checkpoint(tm.train_mdnrnn(cfg, progress=False))
    timeless = lambda log: {k: v for k, v in log.items() if k != "seconds"}
    assert resumed["step"] == whole["step"] and timeless(resumed["log"]) == timeless(whole["log"])
    for k, v in whole["model"].items():
        assert torch.equal(v, resumed["model"][k]), k


def test_threads_change_how_fast_not_what_so_they_are_not_in_the_key(artifacts, monkeypatch):
    from wmlib.device import cpu_threads

    before = torch.get_num_threads()
    cfg = tiny_cfg(epochs=2)
    assert tm.mdnrnn_stage(cfg).key == tm.mdnrnn_stage(cfg.with_overrides(mdnrnn=dict(threads=1))).key
    make_series(cfg)
    seen, real = [], tm.run_epoch

    def records(*args, **kw):
        seen.append(torch.get_num_threads())
        return real(*args, **kw)

    monkeypatch.setattr(tm, "run_epoch", records)
    one = cfg.with_overrides(mdnrnn=dict(threads=1))
    path = tm.train_mdnrnn(one, progress=False)
    assert seen == [1, 1] and torch.get_num_threads() == before  # restored after training
    assert "threads" not in tm.load_checkpoint(path)["config"]
    # M trained on one thread is the M of the default threads: found, not retrained
    mtime = path.stat().st_mtime_ns
    assert tm.train_mdnrnn(cfg, progress=False) == path and path.stat().st_mtime_ns == mtime
    # a half-trained M resumes under another thread count
    path.unlink()
    ckpt = tm.load_checkpoint(mdnrnn_dir(cfg) / "last.pt")
    ckpt["epoch"] = 1
    tm.save_checkpoint(mdnrnn_dir(cfg) / "last.pt", ckpt)
    assert tm.load_checkpoint(tm.train_mdnrnn(cfg, progress=False))["epoch"] == 2
    with pytest.raises(ValueError, match="threads must be 0"):
        with cpu_threads(-1):
            pass
    with pytest.raises(ValueError, match="mdnrnn.threads must be 0"):   # named before anything is trained
        tm.train_mdnrnn(cfg.with_overrides(mdnrnn=dict(threads=-1, epochs=3)), progress=False)
    assert torch.get_num_threads() == before


def test_cosine_schedule_decays_to_lr_min_and_steps_with_it(artifacts, monkeypatch):
    mc = tiny_cfg(lr_schedule="cosine", lr=1e-3, lr_min=1e-5).mdnrnn
    assert tm.learning_rate(mc, 0.0) == pytest.approx(1e-3)
    assert tm.learning_rate(mc, 0.5) == pytest.approx((1e-3 + 1e-5) / 2)
    assert tm.learning_rate(mc, 1.0) == pytest.approx(1e-5)
    assert tm.learning_rate(tiny_cfg().mdnrnn, 0.7) == tiny_cfg().mdnrnn.lr  # the original: constant
    # training sets each step's rate from its place in the run: falling, ending near lr_min
    cfg = tiny_cfg(epochs=2, lr_schedule="cosine")
    make_series(cfg)
    seen, real_step = [], tm.optimizer_step

    def records(model, opt, *a):
        seen.append(opt.param_groups[0]["lr"])
        return real_step(model, opt, *a)

    monkeypatch.setattr(tm, "optimizer_step", records)
    tm.train_mdnrnn(cfg, progress=False)
    assert seen[0] == pytest.approx(cfg.mdnrnn.lr) and all(a > b for a, b in zip(seen, seen[1:]))
    assert seen[-1] < 0.2 * cfg.mdnrnn.lr
    with pytest.raises(ValueError, match="lr_schedule"):
        tm.train_mdnrnn(cfg.with_overrides(mdnrnn=dict(lr_schedule="step")), progress=False)
    # its rate was laid out over 2 epochs: asking for more is refused (a constant rate resumes), nothing lost
    (mdnrnn_dir(cfg) / "mdnrnn.pt").unlink()
    with pytest.raises(ValueError, match="cannot be stretched"):
        tm.train_mdnrnn(cfg.with_overrides(mdnrnn=dict(epochs=3)), progress=False)
    assert (mdnrnn_dir(cfg) / "last.pt").exists()


def test_a_checkpoint_from_before_the_schedule_knob_resumes(artifacts):
    cfg = tiny_cfg(epochs=1)
    make_series(cfg)
    tm.train_mdnrnn(cfg, progress=False)
    out = mdnrnn_dir(cfg)
    ckpt = tm.load_checkpoint(out / "last.pt")
    for key in ("lr_schedule", "lr_min"):  # written before these knobs existed
        del ckpt["config"][key]
    tm.save_checkpoint(out / "last.pt", ckpt)
    (out / "mdnrnn.pt").unlink()
    assert tm.load_checkpoint(tm.train_mdnrnn(cfg.with_overrides(mdnrnn=dict(epochs=2)), progress=False))["epoch"] == 2
    (out / "mdnrnn.pt").unlink()
    with pytest.raises(ValueError, match="another M config"):  # ... but not under another schedule
        tm.train_mdnrnn(cfg.with_overrides(mdnrnn=dict(epochs=3, lr_schedule="cosine")), progress=False)


def test_bad_input_gives_clear_errors(artifacts):
    cfg = tiny_cfg()
    with pytest.raises(FileNotFoundError, match="collect"):
        tm.train_mdnrnn(cfg, progress=False)
    make_series(cfg)
    import shutil

    shutil.rmtree(series_dir(cfg))
    with pytest.raises(FileNotFoundError, match="encode"):
        tm.train_mdnrnn(cfg, progress=False)
    with pytest.raises(FileNotFoundError, match="train-mdnrnn"):
        tm.load_mdnrnn(cfg)
    make_series(get_config("doom", "ci").with_overrides(vae=dict(z_size=Z)))
    with pytest.raises(ValueError, match="z_size"):
        tm.train_mdnrnn(cfg.with_overrides(vae=dict(z_size=8)), progress=False)
    with pytest.raises(ValueError, match="batching"):
        tm.train_mdnrnn(cfg.with_overrides(mdnrnn=dict(batching="random")), progress=False)
    with pytest.raises(ValueError, match="seq_len"):
        tm.train_mdnrnn(cfg.with_overrides(mdnrnn=dict(seq_len=0)), progress=False)
    # a resume under a different architecture is refused, and nothing saved is deleted
    tm.train_mdnrnn(cfg.with_overrides(mdnrnn=dict(epochs=1)), progress=False)
    (mdnrnn_dir(cfg) / "mdnrnn.pt").rename(mdnrnn_dir(cfg) / "kept.pt")
    with pytest.raises(ValueError, match="delete the folder"):
        tm.train_mdnrnn(cfg.with_overrides(mdnrnn=dict(hidden=8)), progress=False)
    assert (mdnrnn_dir(cfg) / "last.pt").exists()


def test_pos_weight_inflates_the_odds_and_unweighting_undoes_it():
    """Fit one logit to labels with a 10% positive rate under the weighted BCE the done head uses."""
    labels = (torch.arange(1000) < 100).float()
    logit = torch.zeros(1, requires_grad=True)
    opt = torch.optim.Adam([logit], lr=0.1)
    for _ in range(400):
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(
            logit.expand(1000), labels, pos_weight=torch.tensor(10.0)).backward()
        opt.step()
    p = torch.sigmoid(logit).item()
    assert abs(p - 10 / 19) < 1e-3  # odds 10 x 1/9
    assert abs(tm.unweight_probability(np.array([p]), 10.0)[0] - 0.1) < 1e-3


def test_calibration_table_and_precision_recall():
    prob = np.array([0.05, 0.05, 0.15, 0.95, 0.92, 0.6])
    label = np.array([0, 0, 1, 1, 0, 1])
    cal = tm.calibration(prob, label, n_bins=10)
    assert cal["count"].tolist() == [2, 1, 1, 2] and cal["count"].sum() == len(prob)
    assert np.allclose(cal["observed"], [0, 1, 1, 0.5]) and np.allclose(cal["predicted"][0], 0.05)
    pr = tm.precision_recall(prob, label)
    assert (pr["tp"], pr["fp"], pr["fn"]) == (2, 1, 1)
    assert pr["precision"] == pytest.approx(2 / 3) and pr["recall"] == pytest.approx(2 / 3)


def test_a_finished_m_is_reused_only_with_the_same_settings(artifacts):
    cfg = tiny_cfg(epochs=1)
    make_series(cfg)
    path = tm.train_mdnrnn(cfg, progress=False)
    before = path.read_bytes()
    assert tm.train_mdnrnn(cfg, progress=False) == path  # same settings: reused as it is
    with pytest.raises(ValueError, match=r"mdnrnn\.epochs=1 \(config now says 2\)"):
        tm.train_mdnrnn(cfg.with_overrides(mdnrnn=dict(epochs=2)), progress=False)
    with pytest.raises(ValueError, match=r"mdnrnn\.hidden="):
        tm.train_mdnrnn(cfg.with_overrides(mdnrnn=dict(hidden=cfg.mdnrnn.hidden * 2)), progress=False)
    assert path.read_bytes() == before  # the refusal loses nothing
    # moved away as the error says: M trains afresh with the new settings
    path.rename(path.with_suffix(".old"))
    (path.parent / "last.pt").unlink()
    again = tm.train_mdnrnn(cfg.with_overrides(mdnrnn=dict(epochs=2)), progress=False)
    assert tm.load_checkpoint(again)["epoch"] == 2


# ----------------------------------------------------------------------------- dropout

def test_dropout_is_off_by_default_and_draws_nothing():
    assert get_config("doom", "laptop").mdnrnn.dropout == 0 and get_config("carracing", "paper").mdnrnn.dropout == 0
    z, a = _seq(z=5)
    r = torch.zeros(z.shape[:2])
    r[:, 0] = 1
    torch.manual_seed(0)
    m = MDNRNN(5, 1, 16, 3, done_head=True).train()
    rng = torch.get_rng_state()
    mix, done, _ = m(z, a, restart=r)
    assert torch.equal(rng, torch.get_rng_state())  # no random draws: the seeded runs are unchanged
    mix0, done0, _ = m.eval()(z, a, restart=r)
    assert all(torch.equal(x, y) for x, y in zip(mix, mix0)) and torch.equal(done, done0)


def test_dropout_zeroes_lstm_outputs_in_training_only():
    z, a = _seq(z=5)
    r = torch.zeros(z.shape[:2])
    r[:, 0] = 1
    torch.manual_seed(0)
    m = MDNRNN(5, 1, 64, 3, done_head=True, dropout=0.5)
    plain = MDNRNN(5, 1, 64, 3, done_head=True)
    plain.load_state_dict(m.state_dict())
    assert m.arch() == plain.arch()  # a training setting: the saved M rebuilds without it
    h, _ = m._run_lstm(m._inputs(z, a, r), None, r)
    seen = {}
    m.mdn.register_forward_hook(lambda mod, inp, out: seen.update(h=inp[0]))
    m.train()(z, a, restart=r)
    dropped = seen["h"] == 0
    assert 0.3 < dropped.float().mean() < 0.7  # about half the units zeroed ...
    assert torch.allclose(seen["h"][~dropped], 2 * h[~dropped])  # ... the rest scaled by 1 / (1 - p)
    for x, y in zip(m.eval()(z, a, restart=r)[0], plain.eval()(z, a, restart=r)[0]):
        assert torch.equal(x, y)  # in eval mode (dreams, rollouts) M is the same function
    with pytest.raises(ValueError, match="dropout"):
        MDNRNN(5, 1, 8, dropout=1.0)


def test_training_with_dropout_reaches_the_model_and_is_checked(artifacts):
    cfg = tiny_cfg(epochs=1)
    make_series(cfg)
    plain = tm.load_checkpoint(tm.train_mdnrnn(cfg, progress=False))
    with pytest.raises(ValueError, match="mdnrnn.dropout=0.0 \\(config now says 0.2\\)"):
        tm.train_mdnrnn(tiny_cfg(epochs=1, dropout=0.2), progress=False)  # a finished M of other settings
    with pytest.raises(ValueError, match="mdnrnn.dropout must be in"):
        tm.train_mdnrnn(tiny_cfg(epochs=1, dropout=-0.1), progress=False)
    import shutil
    shutil.rmtree(mdnrnn_dir(cfg))
    dropped = tm.load_checkpoint(tm.train_mdnrnn(tiny_cfg(epochs=1, dropout=0.2), progress=False))
    assert dropped["config"]["dropout"] == 0.2
    assert not torch.equal(plain["model"]["mdn.weight"], dropped["model"]["mdn.weight"])
    assert dropped["arch"] == plain["arch"]



def test_the_loss_skips_padding_and_equals_the_masked_loss_over_every_step(artifacts):
    cfg = tiny_cfg(batching="windows")
    make_series(cfg)
    data = tm.Transitions.load(cfg)
    train, _ = data.split(1)
    batch = tm.window_batches(data, train, 3, 16, np.random.default_rng(1))[0]
    assert not batch.valid.all()  # the first and last windows of an episode are short: padding
    t = tm.batch_tensors(data, batch, torch.Generator().manual_seed(0), "cpu")
    torch.manual_seed(0)
    model = tm.build_model(cfg, Z)
    loss, parts, _ = tm.m_loss(model, t, None, 10.0, "cpu")
    grads = torch.autograd.grad(loss, list(model.parameters()))
    mix, done, _ = model(t["z"], t["a"], restart=t["restart"])  # heads on every step, padding masked after
    nll = mixture_nll(*mix, t["z_next"]).mean(-1)
    z_loss = (nll * t["z_mask"]).sum() / t["z_mask"].sum()
    bce = torch.nn.functional.binary_cross_entropy_with_logits(done, t["done"], reduction="none",
                                                               pos_weight=torch.tensor(10.0))
    full = z_loss + (bce * t["valid"]).sum() / t["valid"].sum()
    torch.testing.assert_close(loss, full)
    torch.testing.assert_close(parts["z_loss"], z_loss)
    for g, h in zip(grads, torch.autograd.grad(full, list(model.parameters()))):
        torch.testing.assert_close(g, h, rtol=1e-4, atol=1e-6)
