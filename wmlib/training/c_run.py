"""One run of C's evolution, wherever its fitness comes from: the real world or M's dream.

Both trainers keep the same things in a run folder: ``run.json`` (what the run
must keep driving: its models by checksum, and for the dream its settings), the
evolution checkpoint (resumable; a no-op once its generations are done) and
score files, reused while what they scored is the same. The controller they
deploy is the distribution's mean that scored best in the periodic evaluations
(``deployed``); the final ``mean`` and the ``best`` single candidate are kept
too. Only the fitness differs: real episodes (``training.controller``) or
dreams (``training.dream``).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .. import paths
from ..agent.evolution import CHECKPOINT, EvolutionResult, evolve, load_result
from ..artifacts import read_json, write_json
from ..config import EvolutionConfig
from . import stages
from .stages import Stage

__all__ = ["CRun", "WHICH", "params_sha256", "result_params", "read_result", "read_params"]

WHICH = ("deployed", "mean", "best")


def result_params(res: EvolutionResult) -> dict:
    """A finished run's controllers by name, in ``WHICH`` order: the deployed (best-evaluated)
    mean, the final mean and the best single candidate (flat parameters)."""
    return {"deployed": res.deployed_params, "mean": res.mean_params, "best": res.best_params}


def params_sha256(params) -> str:
    """A controller's identity in a score file."""
    return hashlib.sha256(np.asarray(params, np.float64).tobytes()).hexdigest()


@dataclass(frozen=True)
class CRun:
    """A run folder of C and what it must keep.

    As a stage (``stage()``, ``wmlib.training.stages``) it is keyed by ``fields()`` (the settings
    that shape its search) and the upstream stages ``reads()`` (V, M): a finished run is reused
    only with the same key. ``kept()`` -> {name: (value, why)}: what ``run.json`` records and a
    resumed run must still match (computed only when checked: it hashes model files); ``why``
    (formatted with ``folder``, ``old``, ``new``) says what to do when it does not.
    ``header``: written once beside them. ``command``: how to start the run, named
    when there is none yet. Reading a run (``result``, ``params``) checks nothing and builds nothing.
    """

    folder: Path
    command: str
    name: str = "C"
    header: dict = field(default_factory=dict)
    kept: Callable[[], dict] = dict
    fields: Callable[[], dict] = dict
    reads: Callable[[], tuple] = tuple

    def done(self, generations: int) -> bool:
        return (self.folder / CHECKPOINT).exists() and load_result(self.folder).generations >= generations

    def stage(self, generations: int) -> Stage:
        """The run as a stage, finished once ``generations`` are done (a run may be continued further)."""
        return Stage(self.name, self.folder, self.fields(), done=lambda: self.done(generations),
                     reads=self.reads(), legacy=self.check)

    def check(self) -> None:
        """Record what this run keeps (first time), or refuse to resume with something else."""
        run = self.folder / paths.RUN
        kept = self.kept()
        if not run.exists():
            write_json(run, dict(self.header, **{key: value for key, (value, _) in kept.items()}))
            return
        old = read_json(run)
        for key, (value, why) in kept.items():
            was = old.get(key)
            if was != value:  # settings kept as a dict: name the fields that differ
                changed = stages.describe_changes(stages.changed_fields(was, value)) \
                    if isinstance(was, dict) and isinstance(value, dict) else ""
                raise ValueError(why.format(folder=self.folder, old=was, new=value, changed=changed))

    def train(self, ev: EvolutionConfig, fitness, generations: int | None = None,
              progress: bool = True, x0=None) -> EvolutionResult:
        """Evolve C up to ``generations`` (default ``ev.generations``): resumes; a no-op once done.

        ``fitness()`` is a context manager giving (n_params, evaluate_fn, evaluate_mean_fn, scale)
        for ``agent.evolution.evolve`` (scale: None, or the search's per-parameter scale): the one
        thing the real world and the dream do differently.
        ``x0``: where a new run's CMA-ES starts (default zeros); a resumed run ignores it.
        """
        total = ev.generations if generations is None else int(generations)
        paths.ready(self.folder)

        def build():
            with fitness() as (n_params, evaluate_fn, evaluate_mean_fn, scale):
                self.check()
                return evolve(ev, n_params, evaluate_fn, self.folder, progress=progress, generations=total,
                              evaluate_mean_fn=evaluate_mean_fn, x0=x0, scale=scale)

        return stages.get(self.stage(total), build, lambda: load_result(self.folder))

    def result(self) -> EvolutionResult:
        return read_result(self.folder, self.command)

    def params(self, which: str = "deployed") -> np.ndarray:
        """C's flat parameters: ``deployed`` (best-evaluated mean), ``mean`` (final) or ``best`` (candidate)."""
        return read_params(self.folder, self.command, which)


def read_result(folder: Path, command: str) -> EvolutionResult:
    """A C run's result, read only (``command``: how to start it, named when there is none)."""
    if not (Path(folder) / CHECKPOINT).exists():
        raise FileNotFoundError(f"no controller run in {folder}: run {command} first")
    return load_result(folder)


def read_params(folder: Path, command: str, which: str = "deployed") -> np.ndarray:
    """A C run's flat parameters: ``deployed`` (best-evaluated mean), ``mean`` (final) or ``best`` (candidate)."""
    if which not in WHICH:
        raise ValueError(f"unknown choice {which!r}: use one of {', '.join(WHICH)}")
    return result_params(read_result(folder, command))[which]
