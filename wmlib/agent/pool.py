"""A fault-tolerant pool of rollout workers: a population's real episodes, spread out.

``RolloutPool(spec, backend, workers).run(params [P, n], rollouts, seed)`` ->
dict(returns [P, R], lengths [P, R]). Each worker holds one ``runner(spec)``
(an ``agent.episode.EpisodeRunner`` unless told otherwise) and answers tasks of
episodes. Backends:

* ``"serial"``: in this process (notebooks at ci size, videos, tests);
* ``"processes"``: spawned worker processes on this machine;
* ``"ray"``: Ray actors running the same worker code (``pip install wmlib[ray]``);
  ``ray.init()`` is called for you unless Ray is already initialised, so point
  ``RAY_ADDRESS`` at a cluster to spread a population over many machines.

A worker that dies mid-task (segfault, OOM kill, lost node) is replaced and its
task re-run, so a generation is never lost or silently short. The task split
depends only on the population size, ``workers`` and ``lockstep``, and each
episode's seed only on (base seed, candidate, rollout), so results repeat
exactly across backends, restarts and resumes.
"""
from __future__ import annotations

import math
import multiprocessing as mp
import os
import threading
import traceback
from collections import deque
from multiprocessing.connection import wait

import numpy as np

from .episode import EpisodeRunner, episode_seed, spec_param_count

BACKENDS = ("serial", "processes", "ray")
MAX_TASK_RETRIES = 3
QUEUED = 4  # a task holds up to this many lockstep batches of episodes (RolloutPool.tasks)


def _exit_with_parent() -> None:
    """End this worker when the process that spawned it ends, even mid-episode: a parent killed by a signal
    runs no clean-up, and a worker busy with a long task would otherwise play on until it next writes."""
    parent = mp.parent_process()
    if parent is not None:
        parent.join()  # returns once the parent is gone (its sentinel closes)
        os._exit(1)


def _worker_main(conn, spec, runner_cls):
    """A worker process: build the agent once, then answer tasks until told to stop (or the parent ends)."""
    threading.Thread(target=_exit_with_parent, daemon=True, name="exit-with-parent").start()
    runner = runner_cls(spec)
    try:
        while True:
            msg = conn.recv()
            if msg is None:
                break
            tid, params, seeds, opts = msg
            try:
                conn.send((tid, "ok", runner.run(params, seeds, **opts)))
            except Exception:  # a bug, not a crash: report it instead of retrying forever
                conn.send((tid, "error", traceback.format_exc()))
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        runner.close()


class _SerialBackend:
    def __init__(self, spec, workers, runner_cls):
        self.runner = runner_cls(spec)

    def map(self, tasks):
        return [self.runner.run(p, s, **o) for p, s, o in tasks]

    def close(self):
        self.runner.close()


class _ProcessBackend:
    """Spawned processes with one pipe each; a dead worker is replaced and its task re-queued."""

    def __init__(self, spec, workers, runner_cls):
        self.ctx = mp.get_context("spawn")  # fresh interpreters: no forked simulator or torch state
        self.spec, self.runner_cls = spec, runner_cls
        self.workers = [self._start() for _ in range(workers)]
        self.restarts = 0

    def _start(self):
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker_main, args=(child, self.spec, self.runner_cls), daemon=True)
        proc.start()
        child.close()
        return proc, parent

    def _replace(self, w):
        proc, conn = self.workers[w]
        conn.close()
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
        self.workers[w] = self._start()
        self.restarts += 1

    def map(self, tasks):
        pending = deque(range(len(tasks)))
        results, busy, tries = {}, {}, [0] * len(tasks)  # busy: worker -> task id
        while len(results) < len(tasks):
            for w in range(len(self.workers)):
                if w not in busy and pending:
                    tid = pending.popleft()
                    try:
                        self.workers[w][1].send((tid, *tasks[tid]))
                    except OSError:  # it died while idle: replace it, hand the task to the next one
                        self._replace(w)
                        pending.appendleft(tid)
                        continue
                    busy[w] = tid
            handles = {}
            for w in busy:
                proc, conn = self.workers[w]
                handles[conn] = handles[proc.sentinel] = w
            for ready in wait(list(handles)):
                w = handles[ready]
                if w not in busy:
                    continue  # already handled through its other handle
                tid = busy[w]
                proc, conn = self.workers[w]
                try:
                    if not conn.poll():
                        raise EOFError  # the sentinel fired: the process is gone
                    got_tid, status, payload = conn.recv()
                except (EOFError, OSError):
                    del busy[w]
                    tries[tid] += 1
                    if tries[tid] > MAX_TASK_RETRIES:
                        raise RuntimeError(f"rollout task {tid} killed its worker {tries[tid]} times; "
                                           "see the worker's stderr above (out of memory? a crashing env?)")
                    self._replace(w)
                    pending.appendleft(tid)
                    continue
                del busy[w]
                if status != "ok":
                    raise RuntimeError(f"rollout worker failed on task {got_tid}:\n{payload}")
                results[got_tid] = payload
        return [results[i] for i in range(len(tasks))]

    def close(self):
        for proc, conn in self.workers:
            try:
                conn.send(None)
            except OSError:
                pass
        for proc, conn in self.workers:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
            conn.close()
        self.workers = []


class _RayBackend:
    """Ray actors running the same runners; a dead actor is replaced and its task resubmitted."""

    def __init__(self, spec, workers, runner_cls):
        try:
            import ray  # optional: wmlib[ray]
        except ImportError as err:
            raise ValueError("backend 'ray' needs Ray: pip install 'wmlib[ray]' (or use --backend processes)") from err
        self.ray = ray
        if not ray.is_initialized():
            # RAY_ADDRESS (if set) connects to a cluster; otherwise a local Ray on loopback.
            kwargs = {} if os.environ.get("RAY_ADDRESS") else dict(num_cpus=workers, _node_ip_address="127.0.0.1")
            ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
        self.actor_cls = ray.remote(num_cpus=1)(_RayRunner)
        self.spec_ref = ray.put(spec)
        self.runner_cls = runner_cls
        self.actors = [self._start() for _ in range(workers)]
        self.restarts = 0

    def _start(self):
        return self.actor_cls.remote(self.spec_ref, self.runner_cls)

    def map(self, tasks):
        ray = self.ray
        pending = deque(range(len(tasks)))
        results, inflight, tries = {}, {}, [0] * len(tasks)  # inflight: ref -> (actor index, task id)
        idle = deque(range(len(self.actors)))
        while len(results) < len(tasks):
            while idle and pending:
                a, tid = idle.popleft(), pending.popleft()
                inflight[self.actors[a].run.remote(*tasks[tid])] = (a, tid)
            done, _ = ray.wait(list(inflight), num_returns=1)
            a, tid = inflight.pop(done[0])
            try:
                results[tid] = ray.get(done[0])
            except ray.exceptions.RayActorError:
                tries[tid] += 1
                if tries[tid] > MAX_TASK_RETRIES:
                    raise RuntimeError(f"rollout task {tid} killed its Ray actor {tries[tid]} times")
                ray.kill(self.actors[a], no_restart=True)
                self.actors[a] = self._start()
                self.restarts += 1
                pending.appendleft(tid)
            except ray.exceptions.RayTaskError as err:
                raise RuntimeError(f"rollout worker failed on task {tid}:\n{err}") from None
            idle.append(a)
        return [results[i] for i in range(len(tasks))]

    def close(self):
        for actor in self.actors:
            self.ray.kill(actor, no_restart=True)
        self.actors = []


class _RayRunner:
    def __init__(self, spec, runner_cls):
        self.runner = runner_cls(spec)

    def run(self, params, seeds, opts):
        return self.runner.run(params, seeds, **opts)


# ----------------------------------------------------------------------------- the pool

class RolloutPool:
    """Play populations of controllers in the real world, on one of ``BACKENDS``.

    ``pool.run(params [P, n], rollouts, seed) -> dict(returns [P, R], lengths [P, R])``.
    Use as a context manager (or call ``close()``) so worker processes end.
    ``runner``: what each worker builds from ``spec`` and asks to ``run`` tasks (a picklable
    class; ``EpisodeRunner`` plays the agent; tests hand in one that crashes).
    """

    def __init__(self, spec: dict, backend: str = "processes", workers: int = 2, runner=EpisodeRunner):
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
        if int(workers) < 1:
            raise ValueError(f"workers must be at least 1 (got {workers})")
        self.spec, self.backend, self.workers = spec, backend, int(workers)
        self.lockstep = int(spec.get("lockstep", 8))
        self.n_params = spec_param_count(spec)
        impl = {"serial": _SerialBackend, "processes": _ProcessBackend, "ray": _RayBackend}[backend]
        self._impl = impl(spec, self.workers, runner)

    @property
    def restarts(self) -> int:
        """Workers replaced after dying (0 when all went well)."""
        return getattr(self._impl, "restarts", 0)

    def tasks(self, params: np.ndarray, rollouts: int, seed: int, explore=None, keep: bool = False,
              same_games: bool = False, **opts):
        """Split P x R episodes into tasks: [(params rows, env seeds, options)], in (candidate, rollout) order.

        ``same_games``: every candidate plays the same R games (candidate 0's seeds), so candidates
        compared on them meet the same fireballs, and all their games still run as one batch.

        There are at least two tasks per worker (so a slow task does not leave the other
        workers idle at the end). A task may hold up to ``QUEUED`` x ``lockstep`` episodes:
        its runner steps ``lockstep`` of them together and starts the next one in the slot
        of each that ends, so the batch stays full instead of shrinking to the longest
        episode alone (Doom's games run 150 to 2,100 steps). ``opts``: more options of every
        task's ``EpisodeRunner.run`` (``trace``, ``surprise``, ``pos_weight``).
        """
        P = len(params)
        order = [(p, r) for p in range(P) for r in range(rollouts)]
        size = max(1, min(QUEUED * self.lockstep, math.ceil(len(order) / (2 * self.workers))))
        out = []
        explore = None if explore is None else np.broadcast_to(np.asarray(explore, np.float64), (P, rollouts))
        for start in range(0, len(order), size):
            chunk = order[start:start + size]
            task = dict(opts, keep=True) if keep else dict(opts)
            if explore is not None:
                task["explore"] = [float(explore[p, r]) for p, r in chunk]
            out.append((np.stack([params[p] for p, _ in chunk]).astype(np.float32),
                        [episode_seed(seed, 0 if same_games else p, r) for p, r in chunk], task))
        return out

    def run(self, params, rollouts: int, seed: int, explore=None, keep: bool = False,
            same_games: bool = False, trace: bool = False, surprise: bool = False, pos_weight: float = 1.0) -> dict:
        """Returns dict(returns [P, R], lengths [P, R]) and, with ``keep``, ``episodes`` (row-major list).

        ``explore``: exploration rate per episode ([P, R] or broadcastable; see ``EpisodeRunner.run``).
        ``same_games``: all candidates play candidate 0's games (see ``tasks``).
        ``trace``: also ``traces`` (row-major list); ``surprise``: also ``surprise`` [P, R], M's summed
        loss on each game (``pos_weight``: on deaths, as M was trained; see ``EpisodeRunner.run``).
        """
        params = np.atleast_2d(np.asarray(params, np.float32))
        if params.shape[1] != self.n_params:
            raise ValueError(f"this agent's controller has {self.n_params} parameters, got rows of "
                             f"{params.shape[1]}: check the mode (z / zh) and the V and M sizes")
        if int(rollouts) < 1:
            raise ValueError(f"rollouts must be at least 1 (got {rollouts})")
        opts = dict(trace=True) if trace else {}
        if surprise:
            opts.update(surprise=True, pos_weight=float(pos_weight))
        results = self._impl.map(self.tasks(params, rollouts, seed, explore, keep, same_games, **opts))
        returns = np.concatenate([r["returns"] for r in results]).reshape(len(params), rollouts)
        lengths = np.concatenate([r["lengths"] for r in results]).reshape(len(params), rollouts)
        out = dict(returns=returns, lengths=lengths)
        if keep:
            out["episodes"] = [e for r in results for e in r["episodes"]]
        if trace:
            out["traces"] = [t for r in results for t in r["traces"]]
        if surprise:
            out["surprise"] = np.concatenate([r["surprise"] for r in results]).reshape(len(params), rollouts)
        return out

    def evaluate_fn(self, rollouts: int, same_games: bool = False):
        """The ``evaluate_fn`` that ``evolution.evolve`` wants: (solutions, generation, seed) -> returns.

        ``same_games``: a generation's candidates all play the same ``rollouts`` episodes (new ones
        each generation), so their ranking is not the luck of each one's own tracks or fireballs.
        """
        return lambda solutions, generation, rng_seed: self.run(solutions, rollouts, rng_seed,
                                                                same_games=same_games)["returns"]

    def evaluate_mean_fn(self):
        """The ``evaluate_mean_fn`` for ``evolve``: (params, episodes, seed) -> returns [episodes]."""
        return lambda params, episodes, rng_seed: self.run(params[None], episodes, rng_seed)["returns"][0]

    def close(self):
        if self._impl is not None:
            self._impl.close()
            self._impl = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


__all__ = ["BACKENDS", "MAX_TASK_RETRIES", "QUEUED", "RolloutPool"]
