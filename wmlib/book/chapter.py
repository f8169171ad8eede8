"""What every chapter needs around its content: the TRAIN switch, stage announcements, numbers as prose.

    TRAIN = train_flag()                      # parameters cell: off unless WM_TRAIN=1 (or TRAIN = True)
    if TRAIN:
        announce(cfg, "train V")              # "TRAIN is on: train V ... the shipped laptop run took 19.2 min"
        train_vae(cfg)
    md(f"V's held-out error is {score(...)}") # prose rendered from results, never typed

Shipped-first: with TRAIN off a chapter reads what is on disk at its profile, else the shipped
models and the shipped run's results (``wmlib.book.recorded``); it never starts a long stage.
"""
from __future__ import annotations

import os

from .. import paths
from ..config import Config
from ..training.pipeline import pipeline
from . import recorded

TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")


def train_flag(value=None) -> bool:
    """TRAIN: ``value`` when given (a notebook parameter), else ``WM_TRAIN`` from the environment (off)."""
    if value is not None and not isinstance(value, str):
        return bool(value)
    raw = (os.environ.get("WM_TRAIN", "") if value is None else value).strip().lower()
    if raw in TRUE:
        return True
    if raw in FALSE:
        return False
    raise ValueError(f"WM_TRAIN={raw!r} is neither on nor off: use WM_TRAIN=1 to train, or leave it unset")


def _stage_seconds(rec: recorded.Result | None, stage: str) -> float | None:
    s = rec.data.get("stages", {}).get(stage) if rec is not None else None
    return None if not s or s.get("reused") else float(s["seconds"])


def stage_seconds(cfg: Config, stage: str) -> float | None:
    """The wall time of ``stage`` ("train V", "train M", ...) in the run record: yours, else the shipped run's."""
    return _stage_seconds(recorded.result(cfg, paths.reproduce_record(cfg)), stage)


def announce(cfg: Config, stage: str, what: str | None = None, seconds: float | None = None) -> str:
    """Print what is about to run and how long it took when it was measured (a stage of ``reproduce``)."""
    rec = recorded.result(cfg, paths.reproduce_record(cfg))
    seconds = _stage_seconds(rec, stage) if seconds is None else seconds
    where = "the shipped laptop run" if rec is None or rec.shipped else "your last run"
    if cfg.profile == "ci":
        when = "seconds at the ci profile"
    elif seconds is None:
        when = "no measured time for this stage"
    else:
        when = f"{where} took {seconds / 60:.1f} min for it on 2 CPU cores (laptop profile)"
    line = f"TRAIN is on: {what or stage} ({when}). It resumes where it stopped if interrupted."
    print(line, flush=True)
    return line


def build_world_model(cfg: Config) -> None:
    """V and M at ``cfg``'s profile, for a chapter with TRAIN on: the pipeline's own first four stages
    (collect, train V, encode, train M), each get-or-build, announced when its output is not on disk yet."""
    done = {"collect": paths.vae_file(cfg), "train V": paths.vae_file(cfg),
            "encode": paths.mdnrnn_file(cfg), "train M": paths.mdnrnn_file(cfg)}
    for stage, run in pipeline(cfg)[:len(done)]:
        if not done[stage].exists():
            announce(cfg, stage)
        run()


def fmt(score: dict | None, digits: int = 1, unit: str = "") -> str:
    """``mean ± std over N episodes`` from a score dict (mean, std, episodes or returns)."""
    if not score:
        return "not measured"
    n = score.get("episodes") or len(score.get("returns", []) or [])
    unit = f" {unit}" if unit else ""
    over = f" over {n} episodes" if n else ""
    return f"{score['mean']:.{digits}f} ± {score['std']:.{digits}f}{unit}{over}"


def md(text: str) -> None:
    """Show ``text`` as Markdown (the numbers in it come from results, formatted by the caller).

    Returns None, so a cell that ends with ``md(...)`` shows the sentence once."""
    from IPython.display import Markdown, display

    display(Markdown(text))


def source_note(res: recorded.Result | None, command: str) -> str:
    """One line saying where a number came from, and which command makes it yours."""
    if res is None:
        return f"not measured yet: run `{command}`"
    if res.shipped:
        return f"from the shipped {recorded.SHIPPED_PROFILE} run (`{command}` makes it yours)"
    return f"from your run (`{command}`)"


__all__ = ["train_flag", "stage_seconds", "announce", "build_world_model", "fmt", "md", "source_note"]
