"""CMA-ES over a flat parameter vector, on pycma: ask, evaluate, tell, checkpoint.

The loop is generic: ``evaluate_fn(solutions [P, n], generation, rng_seed) ->
returns [P, rollouts]`` can play real episodes (``wmlib.agent.episode``) or dreams
(``wmlib.agent.dream``). As in the paper: mean 0, sigma0 0.1, fitness = the mean
return over a candidate's rollouts, here minus an L2 penalty
``weight_decay * mean(params ** 2)`` so large weights score WORSE (the original
code added it with the sign flipped). pycma minimises, so it is told -fitness.

Exact resume. pycma draws its samples from numpy's global RNG; each generation
we seed that RNG from (seed, generation) just around ``ask``/``tell`` and put
the caller's state back, so the population depends only on the optimizer's
state and the generation number. The optimizer's state itself (mean, sigma,
covariance, evolution paths, step counters ...) is a pycma object that does not
reduce to plain tensors; rebuilding it by hand would break whenever pycma's
internals change, so we persist it with pycma's own ``pickle_dumps()`` in
``es-<generation>.pkl`` beside the checkpoint. The checkpoint (weights_only)
records that file's SHA-256, and we unpickle only bytes that match it: only
files this code wrote in this run folder are ever loaded (treat a run folder
like code: do not resume from one you did not create). The pickle is written
before the checkpoint and the old one deleted after, so a kill at any moment
leaves a consistent pair.

A per-coordinate ``scale`` (optional) makes CMA-ES search ``u`` while every candidate
plays, is penalised and is kept as ``u * scale``: for a linear C that is the same as
searching a C that reads its inputs multiplied by ``scale`` (``models.controller.param_scale``).
Everything the loop returns or saves is in the played coordinates.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..artifacts import atomic_write_bytes, load_checkpoint, save_checkpoint, write_json
from ..paths import ready
from ..config import EvolutionConfig

CHECKPOINT = "evolution.pt"
HISTORY = "history.json"


@dataclass
class EvolutionResult:
    best_params: np.ndarray          # best single candidate seen (by fitness)
    best_fitness: float
    mean_params: np.ndarray          # the distribution's centre after the last generation
    history: list = field(default_factory=list)  # one dict per generation
    generations: int = 0             # generations completed
    ckpt_dir: Path | None = None
    best_eval_params: np.ndarray | None = None  # the mean that scored best in the periodic evaluations
    best_eval: float | None = None
    generation_bests: dict = field(default_factory=dict)  # {generation: its best candidate} (runs saved
    #                                                        before this existed: only the later generations)

    @property
    def deployed_params(self) -> np.ndarray:
        """What to deploy: the best-evaluated mean (judged on many episodes, unlike a
        candidate's few noisy rollouts), else the final mean."""
        return self.mean_params if self.best_eval_params is None else self.best_eval_params

    @property
    def evaluations(self) -> list:
        """The periodic evaluations of the mean: dicts with generation, mean, std."""
        return [dict(generation=h["generation"], mean=h["eval_mean"], std=h["eval_std"])
                for h in self.history if "eval_mean" in h]


def weight_penalty(solutions: np.ndarray, weight_decay: float) -> np.ndarray:
    """``weight_decay * mean(params ** 2)`` per candidate: subtracted from fitness."""
    return weight_decay * np.mean(np.square(solutions), axis=1)


def fitness(returns: np.ndarray, solutions: np.ndarray, weight_decay: float) -> np.ndarray:
    """Mean return over rollouts, minus the L2 penalty (bigger is better)."""
    return np.asarray(returns, np.float64).mean(axis=1) - weight_penalty(solutions, weight_decay)


def generation_seed(seed: int, generation: int, stream: int) -> int:
    """A 32-bit seed per (run seed, generation, purpose): 0 ask, 1 rollouts, 2 tell, 3 eval."""
    return int(np.random.SeedSequence([int(seed), int(generation), int(stream)]).generate_state(1)[0])


@contextlib.contextmanager
def numpy_global_seed(seed: int):
    """Seed numpy's global RNG (pycma's source of samples) and restore the caller's state after."""
    saved = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(saved)


def global_randn(*shape):
    """pycma's normal sampler. pycma's default, ``np.random.randn``, is a bound method of
    numpy's global RandomState, and pickling the optimizer pickles a COPY of that
    RNG, which then no longer follows our per-generation seeding. A module-level
    function pickles by name, so a resumed optimizer draws from the seeded global RNG."""
    return np.random.randn(*shape)


def new_strategy(n_params: int, sigma0: float, population: int, x0=None, diagonal: bool = False):
    import cma

    x0 = np.zeros(n_params) if x0 is None else np.asarray(x0, np.float64)
    # seed=nan: pycma leaves numpy's RNG alone at construction; we seed per generation.
    opts = dict(popsize=int(population), seed=float("nan"), randn=global_randn, verbose=-9)
    if diagonal:  # separable CMA-ES: only the covariance's diagonal, adapted far faster in many dimensions
        opts["CMA_diagonal"] = True
    with numpy_global_seed(0):
        return cma.CMAEvolutionStrategy(x0, float(sigma0), opts)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_state(ckpt_dir: Path):
    """(checkpoint dict, pycma object) from a run folder, or (None, None) if it has none."""
    ckpt_dir = Path(ckpt_dir)
    if not (ckpt_dir / CHECKPOINT).exists():
        return None, None
    ckpt = load_checkpoint(ckpt_dir / CHECKPOINT)
    es_path = ckpt_dir / ckpt["es_file"]
    if not es_path.exists():
        raise FileNotFoundError(f"{es_path} (the optimizer state named by {ckpt_dir / CHECKPOINT}) is "
                                "missing: move that run folder away to start afresh")
    data = es_path.read_bytes()
    if _sha256(data) != ckpt["es_sha256"]:
        raise ValueError(f"{es_path} does not match the checksum in {ckpt_dir / CHECKPOINT}; "
                         "refusing to unpickle it: move that run folder away to start afresh")
    return ckpt, pickle.loads(data)


def _save_state(ckpt_dir: Path, es, generations: int, best_params, best_fitness, best_generation,
                best_eval, history, cfg_dict: dict, generation_bests: dict, mean_params, scale=None) -> None:
    data = es.pickle_dumps()
    es_file = f"es-{generations:06d}.pkl"
    atomic_write_bytes(ckpt_dir / es_file, data)
    import torch

    save_checkpoint(ckpt_dir / CHECKPOINT, dict(
        generations=generations, n_params=int(es.N),
        best_params=torch.as_tensor(best_params, dtype=torch.float64),
        best_fitness=float(best_fitness), best_generation=int(best_generation),
        mean_params=torch.as_tensor(mean_params, dtype=torch.float64),  # played coordinates
        scale=None if scale is None else torch.as_tensor(scale, dtype=torch.float64),
        sigma=float(es.sigma), history=history, config=cfg_dict,
        best_eval_params=None if best_eval[0] is None else torch.as_tensor(best_eval[0], dtype=torch.float64),
        best_eval=best_eval[1], best_eval_generation=best_eval[2],
        generation_bests=_stack_bests(generation_bests, int(es.N)),
        es_file=es_file, es_sha256=_sha256(data)))
    write_json(ckpt_dir / HISTORY, history)
    for old in ckpt_dir.glob("es-*.pkl"):  # only now is the previous state unneeded
        if old.name != es_file:
            old.unlink(missing_ok=True)


def _stack_bests(bests: dict, n_params: int) -> dict:
    import torch

    gens = sorted(bests)
    return dict(generations=gens, params=torch.as_tensor(np.reshape([bests[g] for g in gens], (len(gens), n_params)),
                                                         dtype=torch.float64))


def _unstack_bests(ckpt: dict) -> dict:
    saved = ckpt.get("generation_bests")
    if not saved:
        return {}
    return {int(g): p for g, p in zip(saved["generations"], saved["params"].numpy())}


def load_result(ckpt_dir: Path) -> EvolutionResult:
    """The result stored in a run folder (no optimizer needed)."""
    return _result(load_checkpoint(Path(ckpt_dir) / CHECKPOINT), Path(ckpt_dir))


def _result(ckpt: dict, ckpt_dir: Path) -> EvolutionResult:
    be = ckpt["best_eval_params"]
    return EvolutionResult(best_params=ckpt["best_params"].numpy(), best_fitness=ckpt["best_fitness"],
                           mean_params=ckpt["mean_params"].numpy(), history=list(ckpt["history"]),
                           generations=ckpt["generations"], ckpt_dir=ckpt_dir,
                           best_eval_params=None if be is None else be.numpy(), best_eval=ckpt["best_eval"],
                           generation_bests=_unstack_bests(ckpt))


def _check_resume(ckpt: dict, n_params: int, ev, ckpt_dir: Path, scale) -> None:
    old = ckpt["config"]
    if ckpt["n_params"] != n_params:
        raise ValueError(f"{ckpt_dir} holds a run with {ckpt['n_params']} parameters, not {n_params}: "
                         "use another folder (or mode/profile) or move that one away")
    defaults = dict(diagonal=False, same_episodes=False)  # added later: runs saved before used the default
    for key in ("population", "sigma0", "seed", "weight_decay", "diagonal", "same_episodes"):
        if old.get(key, defaults.get(key)) != getattr(ev, key):
            raise ValueError(f"{ckpt_dir} was run with {key}={old.get(key)!r}, not {getattr(ev, key)!r}: "
                             "resume with the same settings, or move that folder away to start afresh")
    was = ckpt.get("scale")  # runs saved before scales existed searched unscaled
    was = None if was is None else was.numpy()
    if (was is None) != (scale is None) or (was is not None and not np.allclose(was, scale, rtol=1e-6)):
        raise ValueError(f"{ckpt_dir} was searched with {'no' if was is None else 'another'} input scale, not "
                         f"{'none' if scale is None else 'this one'}: resume with the same settings "
                         "(dream.input_scale, and the same M and data), or move that folder away to start afresh")


def _check_scale(scale, n_params: int):
    if scale is None:
        return None
    scale = np.asarray(scale, np.float64)
    if scale.shape != (n_params,) or not np.isfinite(scale).all() or (scale <= 0).any():
        raise ValueError(f"scale must hold {n_params} positive, finite values (one per parameter), "
                         f"got shape {scale.shape}")
    return scale


def evolve(ev: EvolutionConfig, n_params: int, evaluate_fn, ckpt_dir, progress: bool = True,
           generations: int | None = None, evaluate_mean_fn=None, x0=None,
           callback=None, scale=None) -> EvolutionResult:
    """Run CMA-ES with the settings ``ev`` up to ``generations`` in total (default ``ev.generations``).

    Resumes from ``ckpt_dir`` when it holds a run, and is a no-op once that run
    has reached ``generations``.

    evaluate_fn(solutions [P, n], generation, rng_seed) -> returns [P, rollouts].
    evaluate_mean_fn(params [n], episodes, rng_seed) -> returns [episodes]: called
        every ``eval_every`` generations (and after ``ev.generations``) on the mean, with
        ``eval_episodes`` episodes and the same seed each time (comparable points).
    callback(generation, solutions, fitness, es): after each ``tell`` (figures).
    scale [n]: CMA-ES searches ``u``, candidates are ``u * scale`` (see the module's doc); ``x0`` and
        everything returned are candidates' coordinates.
    """
    from tqdm.auto import tqdm

    total = int(ev.generations if generations is None else generations)
    ckpt_dir = ready(Path(ckpt_dir))
    ckpt, es = load_state(ckpt_dir)
    scale = _check_scale(scale, n_params)
    play = (lambda u: u) if scale is None else (lambda u: u * scale)  # search coordinates -> played ones
    if ckpt is None:
        if x0 is not None and scale is not None:
            x0 = np.asarray(x0, np.float64) / scale
        es = new_strategy(n_params, ev.sigma0, ev.population, x0, ev.diagonal)
        done, history = 0, []
        best_params, best_fitness, best_generation = np.zeros(n_params), -np.inf, -1
        best_eval = (None, None, None)  # (params, score, generation)
        generation_bests = {}
    else:
        _check_resume(ckpt, n_params, ev, ckpt_dir, scale)
        done, history = ckpt["generations"], list(ckpt["history"])
        best_params, best_fitness = ckpt["best_params"].numpy(), ckpt["best_fitness"]
        best_generation = ckpt["best_generation"]
        be = ckpt["best_eval_params"]
        best_eval = (None if be is None else be.numpy(), ckpt["best_eval"], ckpt["best_eval_generation"])
        generation_bests = _unstack_bests(ckpt)
    cfg_dict = dataclasses.asdict(ev)
    eval_seed = generation_seed(ev.seed, 0, 3)

    bar = tqdm(total=total, initial=min(done, total), desc="CMA-ES", unit="gen", disable=not progress)
    try:
        for g in range(done, total):
            t0 = time.perf_counter()
            with numpy_global_seed(generation_seed(ev.seed, g, 0)):
                asked = np.asarray(es.ask(), np.float64)
            solutions = play(asked)
            returns = np.asarray(evaluate_fn(solutions, g, generation_seed(ev.seed, g, 1)), np.float64)
            if returns.ndim != 2 or returns.shape[0] != len(solutions) or not np.isfinite(returns).all():
                raise ValueError(f"evaluate_fn must return finite returns of shape [{len(solutions)}, rollouts]; "
                                 f"got shape {returns.shape}")
            fit = fitness(returns, solutions, ev.weight_decay)
            with numpy_global_seed(generation_seed(ev.seed, g, 2)):
                es.tell(list(asked), list(-fit))  # pycma minimises
            if callback is not None:
                callback(g, solutions, fit, es)
            i = int(np.argmax(fit))
            generation_bests[g] = solutions[i].copy()  # candidates a few real games may choose among
            if fit[i] > best_fitness:
                best_params, best_fitness, best_generation = solutions[i].copy(), float(fit[i]), g
            per_candidate = returns.mean(axis=1)
            record = dict(generation=g, mean=float(per_candidate.mean()), max=float(per_candidate.max()),
                          min=float(per_candidate.min()), std=float(per_candidate.std()),
                          best_fitness=float(fit.max()), sigma=float(es.sigma))
            # The schedule depends on the config only, so a run split by resumes logs the same points.
            if evaluate_mean_fn is not None and ((g + 1) % ev.eval_every == 0 or g + 1 == ev.generations):
                mean = play(np.asarray(es.mean, np.float64))
                ev_returns = np.asarray(evaluate_mean_fn(mean, ev.eval_episodes, eval_seed), np.float64)
                record.update(eval_mean=float(ev_returns.mean()), eval_std=float(ev_returns.std()),
                              eval_episodes=int(ev_returns.size))
                if best_eval[1] is None or record["eval_mean"] > best_eval[1]:
                    best_eval = (mean.copy(), record["eval_mean"], g)
            record["seconds"] = time.perf_counter() - t0
            history.append(record)
            _save_state(ckpt_dir, es, g + 1, best_params, best_fitness, best_generation, best_eval,
                        history, cfg_dict, generation_bests, play(np.asarray(es.mean, np.float64)), scale)
            bar.update(1)
            bar.set_postfix(mean=f"{record['mean']:.1f}", max=f"{record['max']:.1f}")
    finally:
        bar.close()
    return EvolutionResult(best_params=np.asarray(best_params), best_fitness=float(best_fitness),
                           mean_params=play(np.asarray(es.mean, np.float64)).copy(), history=history,
                           generations=max(done, total), ckpt_dir=ckpt_dir,
                           best_eval_params=best_eval[0], best_eval=best_eval[1],
                           generation_bests=dict(generation_bests))


__all__ = ["CHECKPOINT", "HISTORY", "EvolutionResult", "weight_penalty", "fitness", "generation_seed",
           "numpy_global_seed", "global_randn", "new_strategy", "load_state", "load_result", "evolve"]
