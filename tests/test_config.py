import pytest

from wmlib.config import PROFILES, WORLDS, current_profile, get_config


def test_profiles_scale_every_stage():
    for world in WORLDS:
        ci, laptop, paper = (get_config(world, p) for p in ("ci", "laptop", "paper"))
        assert ci.collect.episodes < laptop.collect.episodes < paper.collect.episodes
        assert ci.evolution.population <= laptop.evolution.population < paper.evolution.population
        assert paper.evolution.population == 64 and paper.evolution.rollouts == 16
        assert paper.collect.episodes == 10_000


def test_paper_sizes_per_world():
    doom, car = get_config("doom", "paper"), get_config("carracing", "paper")
    assert (doom.vae.z_size, doom.mdnrnn.hidden, doom.mdnrnn.done_head) == (64, 512, True)
    assert (car.vae.z_size, car.mdnrnn.hidden, car.mdnrnn.done_head) == (32, 256, False)
    assert doom.dream.max_steps == 2100 and car.collect.max_steps == 1000
    assert doom.evolution.sigma0 == 0.1


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("WM_PROFILE", "ci")
    assert current_profile() == "ci"
    assert get_config("doom").profile == "ci"
    monkeypatch.delenv("WM_PROFILE")
    assert current_profile() == "laptop"


@pytest.mark.parametrize("bad", ["dom", "CarRacing-v3", ""])
def test_unknown_world_lists_valid_ones(bad):
    with pytest.raises(ValueError, match="doom, carracing"):
        get_config(bad or "x", "ci")


def test_unknown_profile_lists_valid_ones(monkeypatch):
    with pytest.raises(ValueError, match="ci, laptop, paper"):
        get_config("doom", "huge")
    monkeypatch.setenv("WM_PROFILE", "tiny")
    with pytest.raises(ValueError, match="WM_PROFILE"):
        get_config("doom")


def test_overrides_make_new_config():
    cfg = get_config("doom", "ci")
    small = cfg.with_overrides(collect={"episodes": 1})
    assert small.collect.episodes == 1 and cfg.collect.episodes != 1
    assert set(cfg.to_dict()) >= {"collect", "vae", "mdnrnn", "evolution", "dream"}
    assert PROFILES == ("ci", "laptop", "paper", "gpu")


def test_set_changes_a_field_with_its_type_and_refuses_what_does_not_exist():
    from wmlib.config import apply_settings, get_config

    cfg = get_config("doom", "ci")
    new = apply_settings(cfg, ["mdnrnn.epochs=7", "dream.tau=1.3", "mdnrnn.discrete_actions=false",
                               "iterate.explore=0,0.5", "dream.done_rule=threshold"])
    assert new.mdnrnn.epochs == 7 and new.dream.tau == 1.3 and new.mdnrnn.discrete_actions is False
    assert new.iterate.explore == (0.0, 0.5) and new.dream.done_rule == "threshold"
    assert cfg.mdnrnn.epochs != 7  # the profile itself is untouched
    for bad, why in (("mdnrnn.epoch=3", "has no field 'epoch'"), ("mdnn.epochs=3", "no config section"),
                     ("mdnrnn.epochs=many", "is a number"), ("epochs=3", "section.field=value"),
                     ("mdnrnn.discrete_actions=maybe", "true or false")):
        with pytest.raises(ValueError, match=why):
            apply_settings(cfg, [bad])


def test_every_command_takes_set(capsys):
    from wmlib.cli import main

    assert main(["train-mdnrnn", "doom", "--profile", "ci", "--set", "mdnrnn.epoch=3"]) == 2
    assert "has no field 'epoch'" in capsys.readouterr().err


def test_a_recipe_file_sets_fields_and_set_still_wins(tmp_path):
    from pathlib import Path

    from wmlib.cli import _config, build_parser
    from wmlib.config import apply_recipe, get_config

    shipped = Path(__file__).resolve().parents[1] / "experiments" / "recipes" / "doom-dropout.toml"
    cfg = get_config("doom", "ci")
    assert cfg.mdnrnn.dropout == 0 and apply_recipe(cfg, shipped).mdnrnn.dropout == 0.1
    recipe = tmp_path / "r.toml"
    recipe.write_text("[mdnrnn]\ndropout = 0.2\nepochs = 3\ndiscrete_actions = false\n[iterate]\nexplore = [0, 0.5]\n")
    args = build_parser().parse_args(["train-mdnrnn", "doom", "--profile", "ci", "--recipe", str(recipe),
                                      "--set", "mdnrnn.epochs=5"])
    got = _config(args)
    assert (got.mdnrnn.dropout, got.mdnrnn.epochs, got.mdnrnn.discrete_actions) == (0.2, 5, False)
    assert got.iterate.explore == (0.0, 0.5)


@pytest.mark.parametrize("text, why", [("[mdnrnn]\ndropot = 0.1\n", "mdnrnn has no field 'dropot'"),
                                       ("dropout = 0.1\n", "must be a \\[section\\] table"),
                                       ("[mdnrnn\ndropout = 0.1\n", "not valid TOML"),
                                       ("[mdnrnn]\nepochs = 'many'\n", "is a number")])
def test_a_bad_recipe_names_the_file_and_the_problem(tmp_path, capsys, text, why):
    from wmlib.cli import main
    from wmlib.config import apply_recipe, get_config

    recipe = tmp_path / "bad.toml"
    recipe.write_text(text)
    with pytest.raises(ValueError, match=why) as err:
        apply_recipe(get_config("doom", "ci"), recipe)
    assert str(recipe) in str(err.value)
    assert main(["train-mdnrnn", "doom", "--profile", "ci", "--recipe", str(recipe)]) == 2
    assert "bad.toml" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="no recipe file"):
        apply_recipe(get_config("doom", "ci"), tmp_path / "missing.toml")


def test_the_gpu_profile_is_the_papers_data_and_m_with_the_laptops_levers():
    """gpu: 10,000 random games and the paper's M, trained the laptop's measured way; C evolved as the
    paper's population of 64 x 16 in the dream, one round of iterative training in the main job."""
    for world in WORLDS:
        gpu, paper = get_config(world, "gpu"), get_config(world, "paper")
        assert gpu.collect.episodes == paper.collect.episodes == 10_000 and gpu.collect.workers == 16
        assert (gpu.vae.z_size, gpu.mdnrnn.hidden, gpu.mdnrnn.done_head) == (
            paper.vae.z_size, paper.mdnrnn.hidden, paper.mdnrnn.done_head)
        assert gpu.mdnrnn.batching == "buckets"
        assert (gpu.dream.population, gpu.dream.rollouts) == (64, 16)
    doom, laptop = get_config("doom", "gpu"), get_config("doom", "laptop")
    for section in ("collect", "mdnrnn", "dream"):  # the transfer levers measured at laptop scale
        for field in ("hold_max", "discrete_actions", "done_rule", "real_z", "start_from"):
            if hasattr(getattr(laptop, section), field):
                assert getattr(getattr(doom, section), field) == getattr(getattr(laptop, section), field)
    from wmlib.training.pipeline import reproduce_rounds

    assert reproduce_rounds(doom) == 1 and doom.iterate.validation_games == laptop.iterate.validation_games
