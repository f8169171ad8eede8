"""No notebook's Markdown types a number about our own runs: every score, time and long decimal in prose
is the paper's, a config constant, or held by a shipped results file (see tests/prose_numbers.py)."""
from pathlib import Path

import jupytext
import pytest

from prose_numbers import claims, known_numbers, sourced, unsourced

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py"))


@pytest.fixture(scope="module")
def known():
    return known_numbers(REPO)


def test_finds_scores_times_and_long_decimals():
    found = claims("V took 7.6 min and reaches about 0.0014; the agent lives 693.2 +- 395.8 steps, "
                   "or 1,092 ± 556, in 45 s. `mdnrnn.epochs=80` and $\\tau = 1.15$ are settings.")
    kinds = sorted((c["kind"], c["number"]) for c in found)
    assert kinds == [("decimal", "0.0014"), ("score", "1,092"), ("score", "395.8"), ("score", "556"),
                     ("score", "693.2"), ("time", "45"), ("time", "7.6")]


def test_a_planted_stale_number_fails(known):
    # The paper's own numbers pass; a hand-typed run time and score do not.
    assert sourced(dict(kind="score", number="1,092"), known)
    assert sourced(dict(kind="score", number="556"), known)
    bad = unsourced("The project measured 7.6 min for V, and the agent lived 612.3 +- 40.1 steps.", known)
    assert {c["number"] for c in bad} == {"7.6", "612.3", "40.1"}


def test_a_recorded_time_passes_in_any_unit():
    known = {456.0}  # seconds, as a results file keeps them
    assert sourced(dict(kind="time", number="7.6", unit="min"), known)
    assert sourced(dict(kind="time", number="456", unit="s"), known)
    assert not sourced(dict(kind="time", number="8.1", unit="min"), known)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_prose_states_no_unsourced_number(path, known):
    nb = jupytext.read(path)
    bad = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            bad += [f"cell {i}: {c['text']!r}" for c in unsourced(cell.source, known)]
    assert not bad, (f"{path.name} types numbers no results file holds (render them from the results "
                     f"with wmlib.book.chapter.md, or take them from wmlib.paper): " + "; ".join(bad))
