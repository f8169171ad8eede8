"""Real score against compute: how far each measured lever carried a world, and what the paper's score
would take if the trend held (issue "beat the paper": the curve the note and notebook 07 draw).

Every score comes from the recorded history tables (``wmlib/pretrained/<world>/history``) or the shipped
card; every budget from the profile and the recipes. Nothing here is typed from a log.

* Doom: x is the minutes from a fresh clone on the 2-core box the default was timed on (history
  ``stages_m160``): the stages other than M, plus M's minutes scaled by its epochs, plus the round's own
  minutes for ``--rounds 1``. One arm per M (a seeded M training run is itself a draw), its CMA-ES seeds
  the points. The 256-unit M (trained on one thread) is another lever: its arms sit at the stages other
  than M plus its own measured minutes, and stay out of the line through the 512-unit Ms.
* CarRacing: x is the real tracks C's evolution drove (generations x population x tracks per candidate,
  plus the V-only run a warm start began from); the paper's 1,800 x 64 x 16 for scale.

The trend is a least-squares line of each arm's mean score on log2(compute): "per doubling".

    from wmlib.book import compute_curve
    curve = compute_curve.doom_curve()
    curve.fit.compute_for(750)    # minutes the line says 750 takes
    compute_curve.draw(curve, ax)
"""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import paper
from ..config import get_config
from . import history
from .pretrained import shipped_card

RECIPES = Path(__file__).resolve().parents[2] / "experiments" / "recipes"


@dataclass(frozen=True)
class Arm:
    label: str          # what ran
    lever: str          # the family it belongs to (one colour in the figure)
    compute: float      # minutes (Doom) or real tracks (CarRacing)
    seeds: tuple        # each CMA-ES seed's mean score over 100 test games / tracks
    source: str         # the history table (or card) the scores come from

    @property
    def mean(self) -> float:
        return float(np.mean(self.seeds))

    @property
    def spread(self) -> float:
        return float(np.std(self.seeds))


@dataclass(frozen=True)
class Fit:
    per_doubling: float     # score gained per doubling of compute
    intercept: float        # score at compute 1 (log2 = 0)
    residual: float         # std of the arms' means about the line
    arms: int

    def score_at(self, compute: float) -> float:
        return self.intercept + self.per_doubling * math.log2(compute)

    def compute_for(self, score: float) -> float:
        """The compute at which the line reaches ``score`` (inf when the line does not climb)."""
        if self.per_doubling <= 0:
            return math.inf
        return 2 ** ((score - self.intercept) / self.per_doubling)


def fit_doublings(arms: list[Arm]) -> Fit:
    """Least squares of each arm's mean on log2(compute); needs two distinct budgets."""
    x = np.log2([a.compute for a in arms])
    y = np.array([a.mean for a in arms])
    if len(set(x.round(9))) < 2:
        raise ValueError("fit_doublings needs arms at two budgets at least")
    slope, intercept = np.polyfit(x, y, 1)
    residual = float(np.std(y - (intercept + slope * x)))
    return Fit(float(slope), float(intercept), residual, len(arms))


def _scores(row_seeds) -> tuple:
    return tuple(float(history.mean(s)) for s in row_seeds)


# ---- Doom -------------------------------------------------------------------------------------------

TIMED_EPOCHS = 160   # history stages_m160 timed a fresh clone whose M trained 160 epochs
SMALL_M = "256 units"                       # round0_seeds rows of the 256-unit M (trained on one thread)
SMALL_M_LEVER = "a 256-unit M on one thread"


def doom_minutes() -> dict:
    """The default's stage minutes from a fresh clone (history stages_m160): M's, and everything else."""
    stages = history.load("doom", "stages_m160")["facts"]["stage_seconds"]
    m = stages["train M"] / 60
    return {"m_per_epoch": m / TIMED_EPOCHS,
            "other": sum(v for k, v in stages.items() if k != "train M") / 60}


def doom_arms() -> list[Arm]:
    """Round 0's C on each recorded laptop M (windows batching, cosine rate), and one iterative round on
    an M (its row names M's epochs when they are not the 160 the default was timed with)."""
    t = doom_minutes()
    at = lambda epochs: t["other"] + t["m_per_epoch"] * epochs          # noqa: E731
    arms = []
    for row in history.load("doom", "m_epochs")["rows"][:2]:             # 40 and 80 epochs, one M each
        epochs = int(row["m"].split()[0])
        arms.append(Arm(f"M {epochs} epochs", "M's epochs", at(epochs), _scores(row["real0_seeds"]), "m_epochs"))
    r0 = history.load("doom", "round0_seeds")
    by_m: dict[str, list] = {}
    for row in r0["rows"]:
        if "windows" in row["m"]:
            by_m.setdefault(row["m"], []).append(row["test"])
    m_minutes = {f["m"]: f["m_minutes"] for f in r0["facts"].values() if isinstance(f, dict) and "m_minutes" in f}
    for name, tests in by_m.items():
        epochs = int(name.split()[0])
        short = name.split(": ")[1].split(" (")[0] if ": " in name else "another M"
        if SMALL_M in name:  # another M's size: its own measured minutes, not the 512-unit M's rate per epoch
            arms.append(Arm(f"M of 256 units, {epochs} epochs ({short})", SMALL_M_LEVER,
                            t["other"] + m_minutes[name], _scores(tests), "round0_seeds"))
            continue
        arms.append(Arm(f"M {epochs} epochs ({short})", "M's epochs", at(epochs), _scores(tests), "round0_seeds"))
    rounds: dict[str, list] = {}
    for row in history.load("doom", "round1_seeds")["rows"]:
        rounds.setdefault(row["m"].split(" (")[0], []).append(row)
    small_m = {a.label.split("(")[-1].rstrip(")"): a.compute for a in arms if a.lever == SMALL_M_LEVER}
    for m, rows in rounds.items():
        if SMALL_M in rows[0]["m"]:                              # the 256-unit M: its round 0's own minutes
            before = small_m[m]
        else:
            epochs = re.search(r"(\d+) epochs", rows[0]["m"])   # a round's M names its epochs unless the default's
            before = at(int(epochs.group(1)) if epochs else TIMED_EPOCHS)
        minutes = before + float(np.mean([r["round1_minutes"] for r in rows]))
        arms.append(Arm(f"{m}, one iterative round", "one iterative round", minutes,
                        _scores([r["round1"] for r in rows]), "round1_seeds"))
    return arms


# ---- CarRacing --------------------------------------------------------------------------------------

def _recipe(name: str) -> dict:
    path = RECIPES / f"{name}.toml"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: the car's budgets come from the recipes of a clone of the "
                                "repository (experiments/recipes); install with `pip install -e .` from a clone")
    return tomllib.loads(path.read_text()).get("evolution", {})


def car_tracks(recipe: str | None = None, start_tracks: int = 0) -> int:
    """Real tracks C's evolution drives at the laptop profile (with a recipe's overrides), plus a start's."""
    ev = get_config("carracing", "laptop").evolution
    over = _recipe(recipe) if recipe else {}
    g, p, r = (over.get(k, getattr(ev, k)) for k in ("generations", "population", "rollouts"))
    return g * p * r + start_tracks


def paper_car_tracks() -> int:
    tr = paper.TRAINING
    return tr["car_generations"] * tr["population"] * tr["rollouts_per_candidate"]


def _tracks_per_candidate(run: str) -> int:
    """R of a history row's "G x P x R" budget ("seed 0, 40 x 16 x 4")."""
    return int(re.search(r"\d+ x \d+ x (\d+)", run).group(1))


def car_arms() -> list[Arm]:
    """Every recorded V+M C on the official renderer's 100 test tracks, by the tracks its evolution drove."""
    H = lambda name: history.load("carracing", name)                    # noqa: E731
    base = car_tracks()
    fresh, modes, same = H("fresh_pipeline"), H("modes_40"), H("same_tracks")

    def zh(rows, tracks=None):
        """The V+M rows' scores; with ``tracks``, only runs of that many tracks per candidate ("40 x 16 x 4")."""
        return [r["real"] for r in rows if r["c_reads"].startswith("z and h")
                and (tracks is None or _tracks_per_candidate(r["run"]) == tracks)]

    arms = [
        Arm("from zero, one track per candidate", "from zero", base,
            _scores(zh(fresh["rows"], 1) + zh(modes["rows"])), "fresh_pipeline, modes_40"),
        Arm("from zero, every candidate the same track", "from zero", car_tracks("carracing-same-tracks"),
            _scores(zh(same["rows"]) + [same["facts"]["second_pair"]["zh"]]), "same_tracks"),
        Arm("from zero, 80 generations", "from zero", car_tracks("carracing-g80"),
            _scores([modes["facts"]["eighty_generations"]["zh"]]), "modes_40"),
        Arm("from zero, four tracks per candidate", "from zero", car_tracks("carracing-rollouts4"),
            _scores(zh(fresh["rows"], 4)), "fresh_pipeline"),
    ]
    for name, recipe, label in [("from_v_only", "carracing-from-v-only", "from the V-only C"),
                                ("from_v_only_same_tracks", "carracing-from-v-only-same-tracks",
                                 "from the V-only C, same tracks"),
                                ("from_v_only_same_tracks_80", "carracing-from-v-only-same-tracks-80",
                                 "from the V-only C, same tracks, 80 generations")]:
        arms.append(Arm(label, "from the V-only C", car_tracks(recipe, start_tracks=base),
                        tuple(H(name)["facts"]["seeds_zh"]["seeds"]), name))
    return arms


def car_minutes_per_track() -> float:
    """Minutes of a 2-core box per real track of evolution: the four-tracks run (fresh_pipeline, idle box)."""
    row = next(r for r in history.load("carracing", "fresh_pipeline")["rows"] if _tracks_per_candidate(r["run"]) == 4)
    return float(row["evolution"].split()[0]) / car_tracks("carracing-rollouts4")


def shipped_car_score() -> dict:
    """The shipped car C's score over 100 other official tracks (its card)."""
    return shipped_card("carracing")["scores"]["real"]


# ---- the curves -------------------------------------------------------------------------------------

DOOM_BUDGET_MINUTES = 45     # what the default may take from a fresh clone (issue "beat the paper")
CAR_BAR = 850                # the car score the issue asks of the laptop default and the shipped C


@dataclass(frozen=True)
class Curve:
    arms: list
    fit: Fit                 # the line through the arms it is fitted on
    targets: dict            # name -> score, drawn as horizontal lines
    xlabel: str
    ylabel: str
    budget: float | None = None   # a vertical line: the compute a default may spend


def doom_curve() -> Curve:
    """Doom's arms; the line through the M arms only (a round is a different lever, compared against it)."""
    arms = doom_arms()
    return Curve(arms, fit_doublings([a for a in arms if a.lever == "M's epochs"]),
                 {"solved": paper.DOOM_SOLVED, "paper": paper.DOOM_TEMPERATURE[1.15][1][0]},
                 "minutes from a fresh clone (2-core box)", "real steps, 100 test games", DOOM_BUDGET_MINUTES)


def car_curve() -> Curve:
    arms = car_arms()
    return Curve(arms, fit_doublings(arms),
                 {"the bar": CAR_BAR, "paper": paper.CARRACING_SCORES["World Model, full (C reads z and h)"][0]},
                 "real tracks driven by C's evolution", "V+M score, 100 official tracks")


def draw(curve: Curve, ax):
    """Each arm's seeds (dots) and mean (ring), the fitted line, the targets and the budget."""
    from matplotlib.ticker import NullFormatter

    arms, fit = curve.arms, curve.fit
    colours = dict(zip(dict.fromkeys(a.lever for a in arms), ["tab:blue", "tab:orange", "tab:purple", "tab:brown"]))
    labelled = set()
    for a in arms:
        c = colours[a.lever]
        ax.scatter([a.compute] * len(a.seeds), a.seeds, s=10, color=c, alpha=0.5)
        ax.scatter([a.compute], [a.mean], s=60, facecolors="none", edgecolors=c,
                   label=None if a.lever in labelled else a.lever)
        labelled.add(a.lever)
    hi = max([a.compute for a in arms] + [min(fit.compute_for(v), 1e7) for v in curve.targets.values()])
    xs = np.geomspace(min(a.compute for a in arms), hi, 50)
    ax.plot(xs, [fit.score_at(x) for x in xs], color="grey", ls="--", lw=0.8,
            label=f"line: {fit.per_doubling:+.0f} per doubling")
    for colour, (name, value) in zip(["green", "red", "black"], curve.targets.items()):
        ax.axhline(value, color=colour, ls=":", lw=0.8, label=f"{name} ({value})")
    if curve.budget is not None:
        ax.axvline(curve.budget, color="grey", lw=0.6)
    ax.set_xscale("log")
    lo, hi = ax.get_xlim()
    ticks = [m * 10 ** k for k in range(int(math.floor(math.log10(lo))), int(math.ceil(math.log10(hi))) + 1)
             for m in (1, 2, 5) if lo <= m * 10 ** k <= hi]
    ax.set_xticks(ticks, [f"{t:,.0f}" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(curve.xlabel)
    ax.set_ylabel(curve.ylabel)
    ax.legend(fontsize=6)
    return ax
