"""Dreams that begin mid-episode (``dream.start_from="anywhere"``): the state M is in, and both dream paths."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from wmlib.agent.dream import DreamEnv, dream_rollouts
from wmlib.config import get_config
from wmlib.training.dream import Dreamer, check_start_from, recorded_starts
from wmlib.training.mdnrnn import Transitions
from tests.test_dream import CAP, H, Z, first_codes, one_at_a_time, population, tiny_m

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class FakeDataset:
    def __init__(self, lengths, actions):
        self.lengths = np.asarray(lengths)
        self.frame_starts = np.concatenate([[0], np.cumsum(lengths)])
        self.n_episodes = len(lengths)
        self.actions = actions

    def episode(self, i):
        a, b = self.frame_starts[i], self.frame_starts[i + 1]
        return SimpleNamespace(actions=self.actions[a:b], dones=np.zeros(b - a, bool))


class FakeSeries:
    """Recorded episodes of random codes and actions, shaped as ``EncodedSeries``."""

    def __init__(self, lengths, seed=0):
        rng = np.random.default_rng(seed)
        n = int(sum(lengths))
        self.mu = rng.normal(size=(n, Z)).astype(np.float32)
        self.logvar = np.full((n, Z), -2.0, np.float32)
        self.actions = rng.choice([-1.0, 0.0, 1.0], size=(n, 1)).astype(np.float32)
        self.dataset = FakeDataset(lengths, self.actions)
        self.z_size, self.meta = Z, {}
        self.n_episodes = len(lengths)
        self.first_mu = self.mu[self.dataset.frame_starts[:-1]]
        self.first_logvar = self.logvar[self.dataset.frame_starts[:-1]]

    def episode(self, i):
        a, b = self.dataset.frame_starts[i], self.dataset.frame_starts[i + 1]
        return dict(mu=self.mu[a:b], logvar=self.logvar[a:b], actions=self.actions[a:b])


def test_each_start_is_the_code_of_its_frame_and_m_state_after_the_real_steps_before_it():
    m, lengths, stride = tiny_m(), [7, 12, 3], 4
    series = FakeSeries(lengths)
    mu, logvar, (h, c, restart) = recorded_starts(m, Transitions(series), stride)
    assert len(mu) == sum(-(-n // stride) for n in lengths) == 2 + 3 + 1
    starts = series.dataset.frame_starts
    seen = set()
    for row in range(len(mu)):  # find each start's frame by its code (random codes are unique)
        frame = int(np.nonzero((series.mu == mu[row]).all(1))[0][0])
        e = int(np.searchsorted(starts, frame, side="right") - 1)
        t, ep = frame - starts[e], series.episode(e)
        seen.add((e, t))
        np.testing.assert_array_equal(logvar[row], ep["logvar"][t])
        assert restart[row] == (1.0 if t == 0 else 0.0)
        if t == 0:
            assert not h[row].any() and not c[row].any()
        else:  # the reference: M's own forward over the prefix, the episode alone
            flag = torch.zeros(1, t)
            flag[0, 0] = 1
            with torch.no_grad():
                _, _, (hr, cr) = m(torch.from_numpy(ep["mu"][None, :t]), torch.from_numpy(ep["actions"][None, :t]),
                                   restart=flag)
            np.testing.assert_allclose(h[row], hr[0, 0].numpy(), atol=1e-5)
            np.testing.assert_allclose(c[row], cr[0, 0].numpy(), atol=1e-5)
    assert seen == {(e, t) for e, n in enumerate(lengths) for t in range(0, n, stride)}


def test_batched_and_single_dreams_agree_from_mid_episode_starts():
    m = tiny_m(done_bias=-3.0, done_scale=40.0)
    mu, logvar, state = recorded_starts(m, Transitions(FakeSeries([9, 14, 6])), 3)
    params = population("doom", P=3)
    want = one_at_a_time(m, "doom", params, mu, logvar, rollouts=4, tau=1.15, seed=5, done_rule="sample",
                         start_state=state)
    got = dream_rollouts(m, "doom", params, mu, logvar, rollouts=4, tau=1.15, max_steps=CAP, seed=5,
                         done_rule="sample", start_state=state)
    np.testing.assert_array_equal(got, want)
    plain = dream_rollouts(m, "doom", params, mu, logvar, rollouts=4, tau=1.15, max_steps=CAP, seed=5,
                           done_rule="sample")
    assert not np.array_equal(got, plain), "M's state at the start must matter"


def test_first_frame_starts_given_as_states_are_the_papers_dream():
    m, (mu, logvar) = tiny_m(done_bias=-3.0, done_scale=40.0), first_codes()
    zero = np.zeros((len(mu), H), np.float32)
    params = population("doom", P=2)
    kw = dict(rollouts=3, tau=1.0, max_steps=CAP, seed=2, done_rule="sample")
    np.testing.assert_array_equal(
        dream_rollouts(m, "doom", params, mu, logvar, start_state=(zero, zero, np.ones(len(mu), np.float32)), **kw),
        dream_rollouts(m, "doom", params, mu, logvar, **kw))


def test_bad_starts_are_refused_with_the_fix():
    m, (mu, logvar) = tiny_m(), first_codes()
    bad = (np.zeros((len(mu), H + 1)), np.zeros((len(mu), H)), np.ones(len(mu)))
    with pytest.raises(ValueError, match="recorded_starts"):
        DreamEnv(m, mu, logvar, start_state=bad)
    with pytest.raises(ValueError, match="recorded_starts"):
        dream_rollouts(m, "doom", population("doom", P=1), mu, logvar, rollouts=1, tau=1.0, max_steps=5, seed=0,
                       start_state=bad)
    with pytest.raises(ValueError, match="stride"):
        recorded_starts(m, Transitions(FakeSeries([5])), 0)
    cfg = get_config("doom", "ci")
    with pytest.raises(ValueError, match="start_from"):
        check_start_from(cfg.with_overrides(dream=dict(start_from="middle")))
    with pytest.raises(ValueError, match="start_stride"):
        check_start_from(cfg.with_overrides(dream=dict(start_from="anywhere", start_stride=0)))


def test_the_dreamer_starts_from_every_series_it_is_given():
    cfg = get_config("doom", "ci").with_overrides(dream=dict(start_from="anywhere", start_stride=5))
    m = tiny_m()
    cfg = cfg.with_overrides(vae=dict(z_size=Z), mdnrnn=dict(hidden=H))
    one, two = FakeSeries([10, 6]), FakeSeries([11], seed=1)
    d = Dreamer(cfg, 1.0, mdnrnn=m, series=[one, two])
    assert len(d.first_mu) == (2 + 2) + 3 and d.start_state[2].sum() == 3  # three first frames
    paper = Dreamer(cfg.with_overrides(dream=dict(start_from="first")), 1.0, mdnrnn=m, series=[one, two])
    np.testing.assert_array_equal(paper.first_mu, one.first_mu)
    assert paper.start_state is None
    assert d(population("doom", P=2), 2, 0).shape == (2, 2)
