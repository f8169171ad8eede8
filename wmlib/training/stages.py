"""One store of stages, each keyed by what it was built from.

A stage (V, the encoded series, M, a C run, a round of iterative training) names
its folder, the upstream stages it reads and the config fields it uses, with
their values now. Its key is a hash of those fields and of its upstream stages'
fields, so a stage two steps down knows when the data or V under it changed.
The key is written beside the stage's outputs (``stage.json``) when it finishes.

``get(stage, build, load)`` is the one "already built?" rule:

* finished, same key: ``load()``; nothing trains, plays or chooses;
* finished, another key: a clear error naming each field that changed and the
  fix (a stage marked ``rebuild`` builds afresh instead, as the series always did);
* unfinished: ``build()``, which resumes with the stage's own resume checks.

A folder finished before keys existed has no ``stage.json``: its ``legacy``
check (the one the stage made then) decides, and the key is written beside it.

Cached results (scores, a round's choice) use ``cached(path, key, compute)``.
Every reuse and build is noted, so ``reproduce`` knows which stages it reused.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import paths
from ..artifacts import read_json, write_json

__all__ = ["Stage", "StageChanged", "get", "cached", "changed_fields", "describe_changes", "matches", "NEUTRAL",
           "watch", "note", "data_stage", "STAGE_FILE"]

STAGE_FILE = "stage.json"


class StageChanged(ValueError):
    """A finished stage was built from other settings than the config's now."""


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline: where it lives, what it reads and which settings make it."""

    name: str                      # e.g. "M", "C in the dream (tau 1.15)"
    folder: Path
    fields: dict                   # {"mdnrnn.epochs": 80, ...}: the settings it uses, their values now
    done: Callable[[], bool]       # its outputs are finished
    reads: tuple = ()              # the upstream stages whose outputs it reads
    legacy: Callable[[], bool | None] | None = None  # a finished folder without a key: the check made
                                   # before keys (raises to refuse; False: stale, build afresh)
    rebuild: bool = False          # on another key: build afresh rather than refuse
    file: str = STAGE_FILE         # the key file's name (several stages may share a folder)

    def settings(self) -> dict:
        """Every setting its output depends on: the upstream stages' and its own (a ``NEUTRAL`` one left out
        at its neutral value, so the key is the one written before the setting existed)."""
        out = {}
        for up in self.reads:
            out.update(up.settings())
        out.update({k: v for k, v in self.fields.items() if not (k in NEUTRAL and v == NEUTRAL[k])})
        return out

    @property
    def key(self) -> str:
        return _digest(self.settings())

    @property
    def key_path(self) -> Path:
        return Path(self.folder) / self.file


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


# Settings added after stages were first keyed, with the value that builds exactly what was built before
# them: a key written without the field matches a config that holds this value (an M trained before
# dropout existed is the M ``mdnrnn.dropout = 0`` trains).
NEUTRAL = {"mdnrnn.dropout": 0.0, "dream.dropout": 0.0, "dream.input_scale": "none", "dream.death_share": 0.0,
           "mdnrnn.reward_head": False, "mdnrnn.reward_pessimism": 1.0, "evolution.start": "zeros"}


def changed_fields(saved: dict, now: dict) -> dict:
    """{field: (saved value, value now)} for every field that differs (a field on one side only too,
    unless the other side holds its ``NEUTRAL`` value)."""
    norm = lambda v: json.loads(json.dumps(v, default=str))  # tuples read back from JSON as lists
    out = {}
    for k in sorted(set(saved) | set(now)):
        old, new = saved.get(k, NEUTRAL.get(k)), now.get(k, NEUTRAL.get(k))  # absent: its neutral value
        if norm(old) != norm(new):
            out[k] = (old, new)
    return out


def describe_changes(diff: dict, prefix: str = "") -> str:
    """{field: (saved value, value now)} in words, in ``diff``'s order: ``field=saved (config now says now), ...``."""
    return ", ".join(f"{prefix}{k}={old!r} (config now says {new!r})" for k, (old, new) in diff.items())


def matches(stage: Stage, saved: dict | None) -> bool:
    """Whether a saved key file says ``stage`` was built from the config's settings now."""
    if saved is None or saved.get("key") is None:
        return False
    return saved["key"] == stage.key or ("settings" in saved and not changed_fields(saved["settings"],
                                                                                      stage.settings()))


def _refusal(stage: Stage, saved: dict, reader: Stage | None = None) -> StageChanged:
    diff = changed_fields(saved.get("settings", {}), stage.settings())
    what = describe_changes(diff)
    fix = (f"build {stage.name} again first, " if reader is not None and stage.rebuild else "") + \
        (f"set the field back, use another WM_ARTIFACTS folder (or --artifacts), or move the folder {stage.folder} "
         "away to build it afresh")
    return StageChanged((f"{reader.name} reads {stage.name}, and " if reader is not None else "")
                        + f"{stage.name} in {stage.folder} was built with {what or 'other settings'}: {fix}")


def _saved(stage: Stage) -> dict | None:
    return read_json(stage.key_path) if stage.key_path.exists() else None


def _write_key(stage: Stage) -> None:
    try:
        write_json(stage.key_path, dict(stage=stage.name, key=stage.key, settings=stage.settings()))
    except OSError:  # a read-only folder (a shipped run): its key is only a convenience
        pass


# ----------------------------------------------------------------------------- what was reused

_notes: list | None = None


class watch:
    """``with watch() as seen:`` -> ``seen`` lists (stage name, "built" | "reused") for the stages gotten inside."""

    def __enter__(self):
        global _notes
        self._outer, _notes = _notes, []
        return _notes

    def __exit__(self, *exc):
        global _notes
        inner, _notes = _notes, self._outer
        if _notes is not None:
            _notes.extend(inner)


def note(name: str, how: str) -> None:
    if _notes is not None:
        _notes.append((name, how))


# ----------------------------------------------------------------------------- the store

def get(stage: Stage, build: Callable, load: Callable):
    """The stage's output: reused while finished with the same key, else built (resuming); see the module doc.
    An upstream stage whose key on disk is not the config's now is refused first: its outputs are not what
    this stage's key says it reads."""
    for up in stage.reads:
        old = _saved(up)
        if old is not None and not matches(up, old):
            raise _refusal(up, old, reader=stage)
    saved = _saved(stage)
    if stage.done():
        if saved is None:
            fine = stage.legacy is None or stage.legacy() is not False
            saved = dict(key=stage.key if fine else None)
            if fine:
                _write_key(stage)
        if matches(stage, saved):
            note(stage.name, "reused")
            return load()
        if not stage.rebuild and saved.get("key") is not None:
            raise _refusal(stage, saved)
    out = build()
    _write_key(stage)
    note(stage.name, "built")
    return out


def cached(path: Path, key: dict, compute: Callable[[], dict], name: str | None = None) -> dict:
    """Get-or-build a result file: the saved one while it holds ``key`` (under ``"key"``), else
    ``dict(compute(), key=key)``. A file written before (its key fields flat in the result) is read too."""
    path = Path(path)
    if path.exists():
        saved = read_json(path)
        if saved.get("key") == key or ("key" not in saved and all(saved.get(k) == v for k, v in key.items())):
            note(name or path.name, "reused")
            return saved
    res = dict(compute(), key=key)
    write_json(paths.ready(path.parent) / path.name, res)
    note(name or path.name, "built")
    return res


# ----------------------------------------------------------------------------- recorded games, a source

def data_stage(root: Path, prefix: str = "collect", name: str = "random play") -> Stage:
    """Recorded games as a stage others read: its settings are what its folder says it holds
    (``dataset.json``'s and the number of episodes in complete shards), not what the config asks."""
    from ..worlds.data import complete_shards

    root = Path(root)
    meta_path = root / "dataset.json"
    fields = {}
    if meta_path.exists():
        meta = read_json(meta_path)
        fields = {f"{prefix}.{k}": meta[k] for k in ("seed", "max_steps", "hold_max", "renderer") if k in meta}
        fields[f"{prefix}.episodes"] = sum(len(read_json(s / "meta.json")["episode_ids"])
                                           for s in complete_shards(root))
    return Stage(name, root, fields, done=meta_path.exists)
