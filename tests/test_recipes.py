"""Every recipe in experiments/recipes/ is a valid overlay of its world's config, and the README lists it.

A recipe is a TOML file of ``[section]`` tables (``--recipe PATH`` on every command). Recipes are
not run in CI, so a field renamed in ``wmlib.config`` would break one silently: this applies each
file to its world's laptop config, as ``--recipe`` does, so a wrong field or type fails here.
"""
import re
from pathlib import Path

import pytest

from wmlib.config import WORLDS, apply_recipe, get_config, recipe_settings

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted((ROOT / "experiments" / "recipes").glob("*.toml"))
README = ROOT / "experiments" / "README.md"


def world_of(path: Path) -> str:
    world = path.stem.split("-")[0]
    assert world in WORLDS, f"{path.name}: a recipe is named <world>-<name>.toml, world one of {WORLDS}"
    return world


def test_there_are_recipes():
    assert {world_of(p) for p in RECIPES} == set(WORLDS)


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_a_recipe_applies_to_its_world_and_changes_something(path):
    laptop = get_config(world_of(path), "laptop")
    assert recipe_settings(path), f"{path.name} sets nothing"
    assert apply_recipe(laptop, path) != laptop, \
        f"{path.name} sets only what the laptop profile already has: a recipe must change a setting"


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_a_recipe_says_how_to_run_it(path):
    header = [line for line in path.read_text().splitlines() if line.startswith("#")]
    command = "python -m wmlib "
    assert any(command in line and f"--recipe experiments/recipes/{path.name}" in line for line in header), \
        f"{path.name}: its opening comment must give the command that runs it ({command}... --recipe {path})"


def test_the_readme_lists_every_recipe_and_names_only_what_exists():
    text = README.read_text()
    missing = [p.name for p in RECIPES if f"recipes/{p.name}" not in text]
    assert not missing, f"experiments/README.md does not list {missing}"
    run = set(re.findall(r"(?:python|bash) experiments/([\w-]+\.(?:py|sh))", text))
    run |= {f"recipes/{n}" for n in re.findall(r"recipes/([\w-]+\.toml)", text)}
    gone = sorted(n for n in run if not (ROOT / "experiments" / n).exists())
    assert not gone, f"experiments/README.md runs files that are not in experiments/: {gone}"
