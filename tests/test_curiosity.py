"""Curiosity: M's surprise along a game, and a C evolved in the real game to seek it.

The surprise is checked against a reference written independently with ``torch.distributions``
on a tiny M; the runner's surprise along the games it plays against the same function on the
frames it kept; and a planted M that is surprised by one direction of the action only must
draw an evolved curious C that way (and the other way when the plant is mirrored).
"""
import numpy as np
import pytest
import torch
from torch import distributions as D

from wmlib.agent.curiosity import curious_fitness, game_surprise, played_surprise, surprise_along
from wmlib.agent.episode import EpisodeRunner, agent_spec
from wmlib.agent.evolution import evolve
from wmlib.agent.pool import RolloutPool
from wmlib.config import EvolutionConfig
from wmlib.models.mdnrnn import MDNRNN
from wmlib.models.vae import ConvVAE

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def reference_surprise(m, z, a, dones, pos_weight):
    """M's loss per step, one step at a time: a mixture of Normals per dim, a weighted Bernoulli."""
    state, out = None, []
    for t in range(len(z)):
        restart = torch.tensor([1.0 if t == 0 else 0.0])
        mix, logit, state = m.step(z[t:t + 1], a[t:t + 1], state, restart)
        loss = 0.0
        if t + 1 < len(z):
            dist = D.MixtureSameFamily(D.Categorical(logits=mix.logpi[0]), D.Normal(mix.mu[0], mix.logsigma[0].exp()))
            loss += -dist.log_prob(z[t + 1]).mean().item()
        bern = D.Bernoulli(logits=logit[0])
        y = float(dones[t])
        loss += -(pos_weight * y * bern.log_prob(torch.tensor(1.0)) + (1 - y) * bern.log_prob(torch.tensor(0.0))).item()
        out.append(loss)
    return np.array(out)


def test_surprise_along_a_game_is_ms_own_loss_step_by_step():
    torch.manual_seed(0)
    m = MDNRNN(z_size=3, action_size=1, hidden=5, n_mixtures=2, done_head=True).eval()
    T = 9
    z, a = torch.randn(T, 3), torch.rand(T, 1) * 2 - 1
    dones = np.zeros(T, bool)
    dones[-1] = True
    got = surprise_along(m, z.numpy(), a.numpy(), dones, pos_weight=10.0)
    ref = reference_surprise(m, z, a, dones, 10.0)
    np.testing.assert_allclose(got["surprise"], ref, rtol=1e-5, atol=1e-5)
    assert np.isnan(got["z"][-1]) and np.isfinite(got["z"][:-1]).all()
    np.testing.assert_allclose(got["z"][:-1] + got["done"][:-1], ref[:-1], rtol=1e-5, atol=1e-5)
    # the death weighs pos_weight times more with pos_weight; other steps do not change
    plain = surprise_along(m, z.numpy(), a.numpy(), dones, pos_weight=1.0)
    np.testing.assert_allclose(plain["surprise"][:-1], got["surprise"][:-1], rtol=1e-6)
    assert got["done"][-1] == pytest.approx(10 * plain["done"][-1], rel=1e-5)
    with pytest.raises(ValueError, match="dones"):
        surprise_along(m, z.numpy(), a.numpy())


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    from wmlib.book.pretrained import load_shipped_controller_params, world_model_for
    from wmlib.config import get_config

    agent = world_model_for(get_config("doom", "ci", artifacts=tmp_path_factory.mktemp("none")))
    agent["params"] = load_shipped_controller_params("doom")
    return agent


def test_the_runner_scores_the_games_it_plays_as_the_recorded_game_is_scored(shipped):
    """Two games on one lockstep slot (the second reuses it): the runner's per-step surprise is
    ``game_surprise`` on the frames it kept, and its total is their sum."""
    spec = agent_spec("doom", "zh", shipped["vae"], shipped["mdnrnn"], 60, lockstep=1, real_z="mean")
    params = np.stack([shipped["params"], shipped["params"] * 0.5])
    with EpisodeRunner(spec) as runner:
        out = runner.run(params, [3, 4], keep=True, trace=True, surprise=True, pos_weight=10.0)
    for ep, trace, total in zip(out["episodes"], out["traces"], out["surprise"]):
        ref = game_surprise(shipped["mdnrnn"], shipped["vae"], ep["frames"], ep["actions"], ep["dones"], 10.0)
        np.testing.assert_allclose(trace["surprise"], ref["surprise"], rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(trace["done_surprise"], ref["done"], rtol=1e-4, atol=1e-5)
        assert total == pytest.approx(ref["surprise"].sum(), rel=1e-4)
        assert np.isnan(trace["z_surprise"][-1])
    one = played_surprise(spec, params[1], 4, pos_weight=10.0)  # the second game again, with its frames
    np.testing.assert_allclose(one["surprise"], out["traces"][1]["surprise"], rtol=1e-6)
    assert len(one["frames"]) == one["steps"] + 1 == len(out["episodes"][1]["frames"]) + 1


# ----------------------------------------------------------------------------- a planted M

def planted_m(sign: float) -> MDNRNN:
    """An M sure of the next code when the action points one way (``sign``), unsure the other way.

    LSTM unit 0 holds a constant (C can read it as a bias); unit 1 follows the action. M's mixture
    predicts a code of 3 everywhere with log std ``-6 * sign * h1``: the more C pushes the action
    towards ``sign``, the narrower (and the more wrong) M's prediction of the real codes near 0.
    """
    m = MDNRNN(z_size=4, action_size=1, hidden=2, n_mixtures=1, done_head=True)
    with torch.no_grad():
        for p in m.parameters():
            p.zero_()
        w = m.lstm.weight_ih_l0  # input [z (4), a, restart, 1]; gate rows [i, f, g, o] x hidden 2
        w[2 * 2 + 0, -1] = 3.0   # unit 0's cell input: tanh(3), every step
        w[2 * 2 + 1, 4] = 5.0    # unit 1's cell input: tanh(5 a)
        out = m.mdn              # rows [logits (4 x 1), mu (4 x 1), logsigma (4 x 1)]
        out.bias[4:8] = 3.0
        out.weight[8:12, 1] = -6.0 * sign
    return m.eval()


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_a_curious_c_goes_where_m_is_most_surprised(sign, tmp_path):
    """Evolved on its summed surprise in the real game (8 candidates x 4 generations), C learns to push
    the action the way the planted M is surprised by; its fitness is the runner's surprise exactly."""
    torch.manual_seed(0)
    vae, m = ConvVAE(z_size=4).eval(), planted_m(sign)
    spec = agent_spec("doom", "zh", vae, m, 25, lockstep=4)
    ev = EvolutionConfig(population=8, rollouts=1, generations=4, weight_decay=0.0, seed=1)
    kept = []
    with RolloutPool(spec, "serial") as pool:
        fitness = curious_fitness(pool, 1, on_games=lambda g, eps: kept.append((g, eps)))
        sols = np.random.default_rng(0).normal(size=(3, pool.n_params)) * 0.1
        direct = pool.run(sols, 1, 5, surprise=True)["surprise"]
        np.testing.assert_array_equal(fitness(sols, 0, 5), direct)
        assert len(kept[0][1]) == 3 and kept[0][1][0]["frames"].dtype == np.uint8
        kept.clear()
        res = evolve(ev, pool.n_params, fitness, tmp_path / "run", progress=False)
        assert [g for g, _ in kept] == [0, 1, 2, 3] and all(len(e) == 8 for _, e in kept)
        zero, evolved = np.zeros(pool.n_params), res.mean_params
        out = pool.run(np.stack([zero, evolved]), 2, 11, trace=True, surprise=True)
    actions = [np.concatenate([t["actions"] for t in out["traces"][2 * p:2 * p + 2]]) for p in (0, 1)]
    assert abs(actions[0]).max() == 0  # C with zero weights stands still
    assert sign * actions[1].mean() > 0.3, f"the curious C should push the action towards {sign}"
    assert out["surprise"][1].mean() > 2 * out["surprise"][0].mean()


def test_an_arm_root_reads_round_0_and_keeps_its_own_rounds(tmp_path):
    """The chapter's and the experiment's arm: round 0's stages linked (read, never rebuilt), the round-0 score
    copied, its own iterate/ folder; a stage missing from the source is refused with the fix."""
    from wmlib import paths
    from wmlib.artifacts import link_stages, read_json, write_json
    from wmlib.config import get_config
    from wmlib.training.explore import arm_root

    base = get_config("doom", "ci", str(tmp_path / "base"))
    run = paths.run_dir(base)
    for stage in ("data", "vae", "mdnrnn"):
        (run / stage).mkdir(parents=True)
    write_json(paths.round_score(base, 0), dict(round=0))
    write_json(paths.reproduce_record(base), dict(stages={}))
    root = arm_root(base, tmp_path / "arm")
    mine = paths.run_dir(get_config("doom", "ci", str(root)))
    assert sorted(p.name for p in mine.iterdir()) == ["data", "iterate", "mdnrnn", "vae"]
    assert all((mine / s).is_symlink() and (mine / s).resolve() == (run / s).resolve() for s in ("data", "vae", "mdnrnn"))
    assert not (mine / "iterate").is_symlink() and read_json(mine / paths.round_score(base, 0).relative_to(run)) == {"round": 0}
    assert arm_root(base, tmp_path / "arm") == root  # again: nothing changes
    with pytest.raises(FileNotFoundError, match="has no series.*reproduce"):
        link_stages(run, tmp_path / "other", ("vae", "series"))
    assert not (tmp_path / "other").exists()  # nothing linked when a stage is missing
