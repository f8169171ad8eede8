"""Find numbers that a notebook's Markdown states about a run, and check that some source holds them.

A *claim* is a score (``612.3 ± 40.1``, ``612 +- 40``), a duration (``7.6 min``, ``45 s``, ``3 hours``,
``46 days``) or a long decimal (``0.0014``). It is *sourced* when the number (at the precision the
prose gives) is one the paper reports (``wmlib.paper``), a config constant (``wmlib.config``), or a
value in a results file the book ships (the shipped cards, the shipped run's JSON mirror and the
recorded history): a time may be stated in seconds, minutes or hours of a recorded value in seconds.
Anything else was typed by hand and will go stale, so the test fails on it and names it.

Inline code (`...`) and maths ($...$) are skipped: they name settings, not results.
"""
from __future__ import annotations

import json
import re
from dataclasses import fields, is_dataclass
from pathlib import Path

NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
SCORE = re.compile(rf"({NUM})\s*(?:±|\+-|\+/-|&plusmn;)\s*({NUM})")
TIME = re.compile(rf"({NUM})\s*(min|mins|minutes|minute|s|sec|seconds|h|hours|hour|days|day)\b")
DECIMAL = re.compile(r"(?<![\d.])(0\.\d{3,})(?![\d.])")
SKIP = re.compile(r"`[^`]*`|\$\$.*?\$\$|\$[^$\n]*\$|<code>.*?</code>|https?://\S+", re.S)
TO_SECONDS = {"min": 60, "mins": 60, "minutes": 60, "minute": 60, "s": 1, "sec": 1, "seconds": 1,
              "h": 3600, "hours": 3600, "hour": 3600, "days": 86400, "day": 86400}


def _value(text: str) -> float:
    return float(text.replace(",", ""))


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def claims(markdown: str) -> list[dict]:
    """Every score, duration and long decimal stated in ``markdown`` (outside code and maths)."""
    text = SKIP.sub(" ", markdown)
    out = []
    for m in SCORE.finditer(text):
        for g in (1, 2):
            out.append(dict(kind="score", text=m.group(0), number=m.group(g)))
    for m in TIME.finditer(text):
        out.append(dict(kind="time", text=m.group(0), number=m.group(1), unit=m.group(2)))
    for m in DECIMAL.finditer(text):
        out.append(dict(kind="decimal", text=m.group(0), number=m.group(1)))
    return out


def _walk(obj, into: list, key: str = "") -> None:
    """Collect (key, number) pairs; a list's items keep the key of the list."""
    if isinstance(obj, bool):
        return
    if isinstance(obj, (int, float)):
        into.append((key, float(obj)))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _walk(v, into, str(k).lower())
            try:
                into.append((key, float(k)))
            except (TypeError, ValueError):
                pass
    elif isinstance(obj, (list, tuple, set)):
        for v in obj:
            _walk(v, into, key)
    elif is_dataclass(obj):
        for f in fields(obj):
            _walk(getattr(obj, f.name), into, f.name)


TIME_KEYS = ("second", "minute", "time", "wall", "min", "hour", "day")
SCORE_KEYS = ("mean", "std", "score", "real", "dream", "return", "median")


def known_numbers(repo: Path) -> dict[str, set[float]]:
    """Numbers a claim may come from, by kind: the paper's (any claim), the configs' constants (long
    decimals only), and the shipped results: durations under time-like keys, scores under score-like keys."""
    from wmlib import config, paper

    paper_nums, config_nums, results = [], [], []
    for name in dir(paper):
        if name.isupper():
            _walk(getattr(paper, name), paper_nums)
    for world in config.WORLDS:
        for profile in config.PROFILES:
            _walk(config.get_config(world, profile), config_nums)
    for path in sorted((repo / "wmlib" / "pretrained").rglob("*.json")):
        _walk(json.loads(path.read_text()), results)
    base = {x for _, x in paper_nums}
    return dict(
        score=base | {x for k, x in results if any(s in k for s in SCORE_KEYS)},
        time=base | {x for k, x in results if any(s in k for s in TIME_KEYS)},
        decimal=base | {x for _, x in config_nums} | {x for _, x in results},
    )


def sourced(claim: dict, known) -> bool:
    """Whether a claim's number (at the precision stated) is held by a source of its kind."""
    if isinstance(known, dict):
        known = known[claim["kind"]]
    value, places = _value(claim["number"]), _decimals(claim["number"])
    scales = [1.0]
    if claim["kind"] == "time":  # a recorded duration in seconds, stated in any unit
        scales = [1.0, 1.0 / TO_SECONDS[claim["unit"]]]
    tolerance = 0.5 * 10 ** -places + 1e-9
    return any(abs(x * s - value) <= tolerance for x in known for s in scales)


def unsourced(markdown: str, known: set[float]) -> list[dict]:
    return [c for c in claims(markdown) if not sourced(c, known)]


__all__ = ["claims", "known_numbers", "sourced", "unsourced"]
