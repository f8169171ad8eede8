"""Iterative training: rounds add C's real games to M's data, M and C are retrained, and a killed
round resumes at the step it was in."""
import numpy as np
import pytest

import wmlib.training.iterate as it
from wmlib import paths
from wmlib.config import get_config
from wmlib.training.pipeline import reproduce
from wmlib.worlds.data import RolloutDataset

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def cfg_with_rounds(rounds=1):
    return get_config("doom", "ci").with_overrides(
        iterate=dict(rounds=rounds, episodes=3, mdnrnn_epochs=1, generations=2, explore=(0.0, 0.5),
                     ensemble="none", validation_games=0, validation_screen=0),  # the paper's round; the
        # tests below add the rest
        dream=dict(done_rule="sample", real_z="sample"))


@pytest.fixture(scope="module")
def round0(tmp_path_factory):
    """The ci pipeline on disk (round 0), shared by the tests of this module."""
    root = tmp_path_factory.mktemp("iterate")
    mp = pytest.MonkeyPatch()
    mp.setenv("WM_ARTIFACTS", str(root))
    reproduce(cfg_with_rounds(0))
    yield root
    mp.undo()


def test_rounds_add_real_games_and_retrain_m_and_c(round0, monkeypatch):
    monkeypatch.setenv("WM_ARTIFACTS", str(round0))
    cfg = cfg_with_rounds(1)
    rows = it.iterate(cfg, progress=False)
    assert [r["round"] for r in rows] == [0, 1]
    base = rows[0]["episodes"]
    assert rows[1]["episodes"] == base + 3
    assert rows[1]["transitions"] > rows[0]["transitions"]
    for r in rows:
        assert r["real"]["episodes"] == cfg.dream.real_episodes and r["dream"]["episodes"] == cfg.dream.dream_episodes
        assert 1 <= r["real"]["mean"] <= cfg.dream.max_steps
    judged = rows[1]["new_m_heldout"]
    assert np.isfinite(judged["nll"]) and judged["deaths"] >= 0
    assert set(rows[1]["seconds"]) == {"play", "encode", "train M", "evolve C", "score"}
    data = RolloutDataset(paths.iterate_data_dir(cfg))
    assert data.n_episodes == 3 and (data.episode_ids // it.ROUND_EPISODE_BASE == 1).all()
    # M of round 1 differs from round 0's (fine-tuned), C of round 1 is its own run
    m0, m1 = it.load_round_mdnrnn(cfg, 0), it.load_round_mdnrnn(cfg, 1)
    assert any(not np.allclose(a.detach(), b.detach()) for a, b in zip(m0.parameters(), m1.parameters()))
    assert it.round_params(cfg, 1).shape == it.round_params(cfg, 0).shape
    assert "round" in it.format_rounds(rows)
    # a no-op when asked again: the table is read back
    assert it.iterate(cfg, progress=False) == rows


def test_export_ships_the_last_rounds_m_and_c(round0, monkeypatch, tmp_path):
    from wmlib.book import export, pretrained

    monkeypatch.setenv("WM_ARTIFACTS", str(round0))
    cfg = cfg_with_rounds(1)
    it.iterate(cfg, progress=False)
    assert it.last_round(cfg) == 1 and it.last_round(cfg_with_rounds(0)) == 0
    close = lambda a, b: np.allclose(np.asarray(a, np.float32), np.asarray(b, np.float32), atol=2e-3, rtol=2e-3)
    for k in (1, 0):  # round 1's M and C; without iterative training, the pipeline's own
        root = tmp_path / f"round-{k}"
        export.export_pretrained("doom", root=root, cfg=cfg_with_rounds(k))
        card = pretrained.shipped_card("doom", root=root)
        assert card["round"] == k and ("round 1 of iterative training" in card["controller"]) == (k == 1)
        assert close(pretrained.load_shipped_controller_params("doom", root=root), it.round_params(cfg, k))
        shipped = pretrained.load_shipped_mdnrnn("doom", root=root).state_dict()
        assert all(close(a.detach(), b) for a, b in zip(it.load_round_mdnrnn(cfg, k).state_dict().values(),
                                                       shipped.values()))
        other = it.load_round_mdnrnn(cfg, 1 - k).state_dict()
        assert not all(close(a.detach(), b) for a, b in zip(other.values(), shipped.values()))


def test_a_killed_round_resumes_where_it_stopped(round0, monkeypatch):
    monkeypatch.setenv("WM_ARTIFACTS", str(round0))
    cfg = cfg_with_rounds(2)

    def killed(*a, **k):
        raise KeyboardInterrupt

    real_evolve = it.evolve_round
    monkeypatch.setattr(it, "evolve_round", killed)
    with pytest.raises(KeyboardInterrupt):
        it.iterate(cfg, progress=False)
    m2 = paths.round_mdnrnn(cfg, 2)
    assert m2.exists() and not paths.round_score(cfg, 2).exists()
    stamp = m2.stat().st_mtime_ns
    monkeypatch.setattr(it, "evolve_round", real_evolve)
    rows = it.iterate(cfg, progress=False)
    assert [r["round"] for r in rows] == [0, 1, 2]
    assert m2.stat().st_mtime_ns == stamp  # M of round 2 was not trained twice
    assert RolloutDataset(paths.iterate_data_dir(cfg)).n_episodes == 6  # nor its games played twice


def test_bad_settings_name_the_fix():
    with pytest.raises(ValueError, match="iterate.explore"):
        it.check_iterate(get_config("doom", "ci").with_overrides(iterate=dict(explore=(1.5,))))
    with pytest.raises(ValueError, match="iterate.episodes"):
        it.check_iterate(get_config("doom", "ci").with_overrides(iterate=dict(episodes=0)))
    with pytest.raises(ValueError, match="Doom"):
        it.check_iterate(get_config("carracing", "ci"))


def test_real_validation_games_choose_the_rounds_c(round0, monkeypatch):
    """iterate.validation_games: the round's C is the candidate that lived longest in games of its own
    seeds; switching it on re-chooses and re-scores a finished round without redoing its other steps."""
    monkeypatch.setenv("WM_ARTIFACTS", str(round0))
    plain = cfg_with_rounds(1)
    rows = it.iterate(plain, progress=False)
    assert "chosen" not in rows[1]
    cfg = plain.with_overrides(iterate=dict(validation_games=3))
    played = []
    from wmlib.agent import rollout

    original = rollout.RolloutPool.run

    def spy(self, params, rollouts, seed, **kw):
        out = original(self, params, rollouts, seed, **kw)
        if seed == it.VALIDATION_SEED:  # the candidates play as one population, the same games each
            assert kw.get("same_games") and len(params) > 1
        played.extend((seed, p.copy(), r.mean()) for p, r in zip(params, out["returns"]))
        return out

    monkeypatch.setattr(rollout.RolloutPool, "run", spy)
    stamp = paths.round_mdnrnn(cfg, 1).stat().st_mtime_ns
    rows = it.iterate(cfg, progress=False)
    cands = it.round_candidates(cfg, 1)
    choice = it.choose_round(cfg, 1)
    validation = [(p, mean) for seed, p, mean in played if seed == it.VALIDATION_SEED]
    assert len(validation) == len(cands) and set(choice["validation"]) == set(cands)
    means = {w: v["mean"] for w, v in choice["validation"].items()}
    best = choice["chosen"]
    assert means[best] == max(means.values()) and rows[1]["chosen"]["which"] == best
    assert sorted(means.values()) == sorted(mean for _, mean in validation)
    np.testing.assert_array_equal(it.round_params(cfg, 1), cands[best])
    assert rows[1]["real"]["episodes"] == cfg.dream.real_episodes and "validate" in rows[1]["seconds"]
    assert paths.round_mdnrnn(cfg, 1).stat().st_mtime_ns == stamp  # M was not retrained
    n = len(played)
    assert it.iterate(cfg, progress=False) == rows and len(played) == n  # chosen once, then read back
    with pytest.raises(ValueError, match="validation_games"):
        it.check_iterate(cfg.with_overrides(iterate=dict(validation_games=-1)))


def test_screened_validation_offers_every_generations_best(round0, monkeypatch):
    """iterate.validation_screen: each generation's best candidate joins the three; all play the
    screen's games, the FINALISTS best play every validation game and the best of those is chosen."""
    monkeypatch.setenv("WM_ARTIFACTS", str(round0))
    cfg = cfg_with_rounds(1).with_overrides(iterate=dict(validation_games=3, validation_screen=1))
    it.iterate(cfg_with_rounds(1), progress=False)  # round 1 evolved (a no-op when an earlier test did)
    played = []
    from wmlib.agent import rollout

    original = rollout.RolloutPool.run

    def spy(self, params, rollouts, seed, **kw):
        played.append((seed, rollouts, len(params)))
        return original(self, params, rollouts, seed, **kw)

    monkeypatch.setattr(rollout.RolloutPool, "run", spy)
    cands = it.round_candidates(cfg, 1)
    gens = [w for w in cands if w.startswith("gen-")]
    assert gens and set(cands) - set(gens) <= set(("deployed", "mean", "best"))
    assert len(cands) == len({tuple(p) for p in cands.values()})  # no candidate twice
    choice = it.choose_round(cfg, 1)
    screened = [p for seed, n, p in played if seed == it.VALIDATION_SEED and n == 1]
    finals = {w: v for w, v in choice["validation"].items() if v["episodes"] == 3}
    assert screened == [len(cands)] and len(finals) == min(it.FINALISTS, len(cands))  # one run screens all
    assert all(v["episodes"] == 1 for w, v in choice["validation"].items() if w not in finals)
    assert choice["chosen"] in finals and finals[choice["chosen"]]["mean"] == max(v["mean"] for v in finals.values())
    # a finalist's score is the one it gets unscreened (the same games)
    plain = cfg.with_overrides(iterate=dict(validation_screen=0))
    with rollout.RolloutPool(it.real_spec(plain, it.load_round_mdnrnn(plain, 1)), "serial", 1) as pool:
        w = choice["chosen"]
        assert pool.run(cands[w][None], 3, it.VALIDATION_SEED)["returns"][0].mean() == finals[w]["mean"]
    np.testing.assert_array_equal(it.round_params(cfg, 1), cands[choice["chosen"]])
    rows = it.iterate(cfg, progress=False)  # the rounds table follows the screened choice
    assert rows[1]["screen"] == 1 and rows[1]["chosen"]["which"] == choice["chosen"]
    with pytest.raises(ValueError, match="validation_screen"):
        it.check_iterate(cfg.with_overrides(iterate=dict(validation_screen=5)))


def test_worst_dream_fitness_takes_each_candidates_worst_m():
    """Two Ms: one dreams candidate 0 long and candidate 1 short, the other the reverse -> both score short."""
    calls = []

    def fake(table):
        def dream(solutions, rollouts, seed):
            calls.append((rollouts, seed))
            return np.repeat(np.asarray(table, float)[:, None], rollouts, axis=1)
        return dream

    fit = it.worst_dream_fitness([fake([900.0, 100.0]), fake([150.0, 800.0])], rollouts=8)
    out = fit(np.zeros((2, 3)), 0, 42)
    np.testing.assert_array_equal(out, [[150.0], [100.0]])
    assert [r for r, _ in calls] == [4, 4] and len({s for _, s in calls}) == 2  # rollouts split, seeds apart


def test_ensemble_rounds_evolve_in_every_ms_dream_and_refuse_a_mixed_round(round0, monkeypatch, tmp_path):
    import shutil

    plain = cfg_with_rounds(1)
    monkeypatch.setenv("WM_ARTIFACTS", str(round0))
    it.iterate(plain, progress=False)  # round 1 without the ensemble (the module's other tests may have run it)
    ens = plain.with_overrides(iterate=dict(ensemble="min"))
    with pytest.raises(ValueError, match="iterate.ensemble='none'"):  # nothing of the finished round is lost
        it.iterate(ens, progress=False)
    assert paths.round_score(plain, 1).exists()
    fresh = tmp_path / "root"  # the same round 0, no rounds yet
    shutil.copytree(round0, fresh)
    monkeypatch.setenv("WM_ARTIFACTS", str(fresh))
    shutil.rmtree(paths.iterate_dir(ens))
    seen = []
    original = it.worst_dream_fitness
    monkeypatch.setattr(it, "worst_dream_fitness",
                        lambda dreamers, rollouts: (seen.append(len(dreamers)), original(dreamers, rollouts))[1])
    rows = it.iterate(ens, progress=False)
    assert seen == [2] and rows[1]["ensemble"] == "min"  # round 1: the Ms of rounds 0 and 1
    assert 1 <= rows[1]["real"]["mean"] <= ens.dream.max_steps
    with pytest.raises(ValueError, match="iterate.ensemble"):
        it.check_iterate(ens.with_overrides(iterate=dict(ensemble="max")))


def test_restarts_add_cma_es_runs_whose_candidates_the_real_games_choose_among(round0, monkeypatch):
    """iterate.restarts: round 1 gets more CMA-ES runs (own seeds, same start and dream) beside its
    first, which is kept as it was; the validation games choose among every run's candidates."""
    from wmlib.agent.evolution import CHECKPOINT

    monkeypatch.setenv("WM_ARTIFACTS", str(round0))
    one = cfg_with_rounds(1).with_overrides(iterate=dict(validation_games=2))
    it.iterate(one, progress=False)
    first = paths.round_run_dir(one, 1, 0) / CHECKPOINT
    assert first == paths.round_dir(one, 1) / CHECKPOINT
    stamp, m_stamp = first.stat().st_mtime_ns, paths.round_mdnrnn(one, 1).stat().st_mtime_ns
    cfg = one.with_overrides(iterate=dict(restarts=2))
    rows = it.iterate(cfg, progress=False)
    assert first.stat().st_mtime_ns == stamp and paths.round_mdnrnn(cfg, 1).stat().st_mtime_ns == m_stamp
    runs = it.evolve_round(cfg, 1, progress=False)  # both done: read back
    assert len(runs) == 2 and all(r.generations == cfg.iterate.generations for r in runs)
    assert not np.array_equal(runs[0].best_params, runs[1].best_params)  # another seed, another search
    cands = it.round_candidates(cfg, 1)
    assert {w for w in cands if w.startswith("r1/")} and set(it.round_candidates(one, 1)) < set(cands)
    choice = it.choose_round(cfg, 1)
    assert set(choice["validation"]) == set(cands)
    assert rows[1]["restarts"] == 2 and rows[1]["chosen"]["which"] == choice["chosen"]
    np.testing.assert_array_equal(it.round_params(cfg, 1), cands[choice["chosen"]])
    assert rows[1]["seconds"]["evolve C"] > 0
    with pytest.raises(ValueError, match="iterate.restarts"):
        it.check_iterate(cfg.with_overrides(iterate=dict(restarts=0)))
    with pytest.raises(ValueError, match="validation_games"):
        it.check_iterate(cfg.with_overrides(iterate=dict(validation_games=0)))


def test_keep_incumbent_lets_the_validation_games_keep_the_last_rounds_c(round0, monkeypatch):
    """iterate.keep_incumbent: round 0's C ("previous") is one more candidate of round 1's choice."""
    monkeypatch.setenv("WM_ARTIFACTS", str(round0))
    one = cfg_with_rounds(1).with_overrides(iterate=dict(validation_games=2))
    it.iterate(one, progress=False)
    cfg = one.with_overrides(iterate=dict(keep_incumbent=True))
    cands = it.round_candidates(cfg, 1)
    assert list(cands)[-1] == it.INCUMBENT and set(cands) - {it.INCUMBENT} == set(it.round_candidates(one, 1))
    np.testing.assert_array_equal(cands[it.INCUMBENT], it.round_params(cfg, 0))
    rows = it.iterate(cfg, progress=False)  # the round is re-chosen among the candidates plus the incumbent
    assert rows[1]["incumbent"] and set(rows[1]["chosen"]["validation"]) == set(cands)
    np.testing.assert_array_equal(it.round_params(cfg, 1), cands[rows[1]["chosen"]["which"]])
    # when the incumbent plays best, round 1's C is round 0's
    real = it.validate

    def incumbent_plays_best(pool, offered, games, screen=0):
        out = real(pool, offered, games, screen)
        out["validation"][it.INCUMBENT]["mean"] = 1e6
        out["chosen"] = it.INCUMBENT
        return out

    (paths.round_dir(cfg, 1) / "choice.json").unlink()
    monkeypatch.setattr(it, "validate", incumbent_plays_best)
    assert it.choose_round(cfg, 1)["chosen"] == it.INCUMBENT  # choosing plays; reading the choice does not
    np.testing.assert_array_equal(it.round_params(cfg, 1), it.round_params(cfg, 0))
    with pytest.raises(ValueError, match="keep_incumbent"):
        it.check_iterate(cfg.with_overrides(iterate=dict(validation_games=0)))


def test_command_line_restarts_and_generations_reach_the_config(monkeypatch, capsys, tmp_path):
    """`iterate --restarts/--generations` override the profile; bad values are one-line errors, nothing run."""
    from wmlib import cli

    seen = []
    monkeypatch.setattr(it, "iterate", lambda cfg: seen.append(cfg.iterate) or [])
    monkeypatch.setattr(it, "format_rounds", lambda rows: "")
    args = ["iterate", "doom", "--profile", "ci", "--artifacts", str(tmp_path)]
    assert cli.main(args + ["--restarts", "3", "--generations", "7", "--rounds", "2"]) == 0
    assert (seen[0].restarts, seen[0].generations, seen[0].rounds) == (3, 7, 2)
    for flag in ("--restarts", "--generations"):
        assert cli.main(args + [flag, "0"]) == 2
        assert flag in capsys.readouterr().err
    assert len(seen) == 1
    assert cli.main(["reproduce", "carracing", "--profile", "ci", "--restarts", "2"]) == 2
    assert "Doom only" in capsys.readouterr().err


def test_reading_or_exporting_a_chosen_c_never_plays(round0, monkeypatch, tmp_path):
    """round_params reads the saved choice; export-pretrained ships the C the round scored; neither plays a
    game. Without a choice on disk round_params stops with an error naming the command that chooses; without
    the scored C export does, and that command records it again without playing."""
    from wmlib.agent import rollout
    from wmlib.book import export, pretrained

    monkeypatch.setenv("WM_ARTIFACTS", str(round0))
    cfg = cfg_with_rounds(1).with_overrides(iterate=dict(validation_games=2))
    it.iterate(cfg, progress=False)  # round 1 with its C chosen on 2 real games
    chosen = it.round_params(cfg, 1)
    monkeypatch.setattr(rollout.RolloutPool, "run", lambda *a, **k: pytest.fail("loading must not play"))
    export.export_pretrained("doom", root=tmp_path / "ship", cfg=cfg)
    shipped = pretrained.load_shipped_controller_params("doom", root=tmp_path / "ship")
    assert np.allclose(shipped, chosen, atol=2e-3, rtol=2e-3)
    recorded_c = paths.round_controller(cfg, 1)
    recorded_c.unlink()
    with pytest.raises(FileNotFoundError, match="iterate doom --rounds 1"):
        export.export_pretrained("doom", root=tmp_path / "ship2", cfg=cfg)
    it.iterate(cfg, progress=False)  # a scored round: records its C again from the saved choice, plays nothing
    assert np.array_equal(it.finished_round(cfg)[2], chosen)
    choice = paths.round_dir(cfg, 1) / "choice.json"
    saved = choice.read_bytes()
    choice.unlink()
    try:
        with pytest.raises(FileNotFoundError, match="iterate doom --rounds 1"):
            it.round_params(cfg, 1)
        with pytest.raises(ValueError, match="other candidates"):  # a choice made for another number of games
            choice.write_bytes(saved)
            it.round_params(cfg.with_overrides(iterate=dict(validation_games=3)), 1)
    finally:
        choice.write_bytes(saved)


# ----------------------------------------------------------------------------- who plays a round's games

def fresh_root(round0, tmp_path):
    """round0's pipeline without its rounds: a root where round 1 is still to be played."""
    import shutil

    root = tmp_path / "root"
    shutil.copytree(round0, root, ignore=lambda folder, names: ["iterate"] if "iterate" in names else [])
    return root


def test_explore_policy_is_checked_and_keys_the_rounds_games():
    from wmlib.training.explore import EXPLORE_POLICIES

    cfg = cfg_with_rounds(1)
    with pytest.raises(ValueError, match=r"iterate.explore_policy='greedy' is not one of current, random, curious"):
        it.check_iterate(cfg.with_overrides(iterate=dict(explore_policy="greedy")))
    with pytest.raises(ValueError, match="not a multiple of iterate.curious_population"):
        it.check_iterate(cfg.with_overrides(iterate=dict(explore_policy="curious", episodes=4, curious_population=3)))
    with pytest.raises(ValueError, match="iterate.seed"):
        it.check_iterate(cfg.with_overrides(iterate=dict(seed=-1)))
    keys = {p: it.round_data_stage(cfg.with_overrides(iterate=dict(explore_policy=p)), 1).key for p in EXPLORE_POLICIES}
    assert len(set(keys.values())) == 3
    # the paper's policy keeps the key rounds had before the knob; downstream stages follow the games
    assert "iterate.explore_policy" not in it.round_data_stage(cfg, 1).settings()
    curious = cfg.with_overrides(iterate=dict(explore_policy="curious"))
    assert it.round_m_stage(curious, 1).key != it.round_m_stage(cfg, 1).key
    assert it.round_row_stage(curious, 1).key != it.round_row_stage(cfg, 1).key
    seeded = cfg.with_overrides(iterate=dict(seed=2))
    assert it.data_seed(seeded, 1) != it.data_seed(cfg, 1) and it.run_seed(seeded, 1) != it.run_seed(cfg, 1)
    assert it.round_data_stage(seeded, 1).key != it.round_data_stage(cfg, 1).key


def test_random_play_records_collections_policy_on_the_rounds_seeds(round0, tmp_path, monkeypatch):
    """explore_policy=random: the round's games are collection's random play (holds of 1..hold_max steps)
    on the env seeds the current C's games use; the round's M and C then train on them."""
    from wmlib.agent.episode import episode_rng, episode_seed
    from wmlib.worlds.data import play_episode
    from wmlib.worlds.envs import make_env
    from wmlib.worlds.policies import random_policy

    monkeypatch.setenv("WM_ARTIFACTS", str(fresh_root(round0, tmp_path)))
    cfg = cfg_with_rounds(1).with_overrides(iterate=dict(explore_policy="random"))
    data = it.collect_round(cfg, 1, progress=False)
    assert data.n_episodes == 3
    with make_env("doom", max_steps=cfg.dream.max_steps) as env:
        for i in range(3):
            seed = episode_seed(it.data_seed(cfg, 1), 0, i)
            ref = play_episode(env, random_policy("doom", episode_rng(seed), cfg.collect.hold_max), seed)
            np.testing.assert_array_equal(data.episode(i).actions, ref["actions"])
    rows = it.iterate(cfg, progress=False)
    assert rows[1]["explore_policy"] == "random" and rows[1]["episodes"] == rows[0]["episodes"] + 3
    # the same root asked for the paper's policy: refused, naming the knob (never silently reused)
    with pytest.raises(ValueError, match="iterate.explore_policy='random'"):
        it.iterate(cfg_with_rounds(1), progress=False)


def test_a_curious_round_records_the_games_of_its_search_for_ms_surprise(round0, tmp_path, monkeypatch):
    """explore_policy=curious: a CMA-ES search from round 0's C, fitness round 0's M's summed surprise; its
    generations' games (population x generations = iterate.episodes) are the round's data, nothing more."""
    from wmlib.agent import rollout
    from wmlib.agent.evolution import load_result
    from wmlib.training import explore

    monkeypatch.setenv("WM_ARTIFACTS", str(fresh_root(round0, tmp_path)))
    cfg = cfg_with_rounds(1).with_overrides(iterate=dict(explore_policy="curious", episodes=4, curious_population=2))
    played = []
    original = rollout.RolloutPool.run

    def spy(self, params, rollouts, seed, **kw):
        out = original(self, params, rollouts, seed, **kw)
        played.append((len(params) * rollouts, kw.get("surprise", False), out.get("surprise")))
        return out

    monkeypatch.setattr(rollout.RolloutPool, "run", spy)
    data = it.collect_round(cfg, 1, progress=False)
    assert [(n, s) for n, s, _ in played] == [(2, True), (2, True)]  # two generations of two games, no more
    res = load_result(explore.curious_dir(cfg, 1))
    assert res.generations == 2
    assert [h["mean"] for h in res.history] == pytest.approx([float(s.mean()) for _, _, s in played])
    assert data.n_episodes == 4 and (data.episode_ids // it.ROUND_EPISODE_BASE == 1).all()
    assert not np.allclose(res.mean_params, it.round_params(cfg, 0))  # the search moved off round 0's C
    played.clear()
    assert it.collect_round(cfg, 1, progress=False).n_episodes == 4 and not played  # reused, not replayed
    with pytest.raises(ValueError, match="begun by iterate.explore_policy='curious'"):  # half-played by another
        never = explore.Previous(params=lambda: pytest.fail("played"), mdnrnn=lambda: pytest.fail("played"), seed=0)
        explore.play_round(cfg.with_overrides(iterate=dict(explore_policy="random")), 1,
                           paths.iterate_data_dir(cfg), never, progress=False)


def test_the_command_line_runs_a_curious_round(round0, tmp_path, capsys):
    """`python -m wmlib iterate doom --profile ci --set iterate.explore_policy=curious`, end to end; then M of
    round 1 is judged on its C's own next games."""
    from wmlib import cli
    from wmlib.config import apply_settings

    root = fresh_root(round0, tmp_path)
    args = ["iterate", "doom", "--profile", "ci", "--artifacts", str(root), "--set", "iterate.explore_policy=curious"]
    assert cli.main(args) == 0
    assert "rounds table" in capsys.readouterr().out
    cfg = apply_settings(get_config("doom", "ci", artifacts=str(root)), ["iterate.explore_policy=curious"])
    rows = it.iterate(cfg, progress=False)  # read back, nothing replayed
    assert rows[1]["explore_policy"] == "curious" and rows[1]["curious"]["generations"] == 1
    judged = it.judge_next_games(cfg, 1)  # the test games: those score_round scored
    assert judged["games"] == cfg.dream.real_episodes and np.isfinite(judged["nll"]) and judged["surprise"] > 0
    assert judged["real"] == rows[1]["real"]["mean"]
    assert it.judge_next_games(cfg, 1) == judged  # cached
    assert cli.main(args[:-1] + ["iterate.explore_policy=greedy"]) == 2
    assert "iterate.explore_policy='greedy'" in capsys.readouterr().err
