"""Real-world rollouts of a whole population: V, M and C driving the real env.

One episode of the agent (as in the paper):

    z_t = V(frame_t)                 (the code's mean: deterministic)
    a_t = C([z_t, h_t])              (car; Doom reads [z_t, c_t, h_t]; mode "z" reads z_t)
    frame_{t+1}, r_t = env.step(a_t)
    (h, c)_{t+1} = M.step(z_t, a_t, (h, c)_t)   (Doom's M also reads restart = 1 at t = 0)

A ``RolloutPool`` spreads the population's episodes over workers. Each worker
builds its envs and rebuilds V and M ONCE from state dicts (an ``agent_spec``),
runs torch with one thread, and steps up to ``lockstep`` episodes together so V,
M and C run as one batched call per step (each row with its own controller
weights, via ``controller.batched_act``); a finished episode's slot starts the
next episode of the task. Backends:

* ``"serial"``: in this process (notebooks at ci size, videos, tests);
* ``"processes"``: spawned worker processes on this machine;
* ``"ray"``: Ray actors running the same worker code (``pip install wmlib[ray]``);
  ``ray.init()`` is called for you unless Ray is already initialised, so point
  ``RAY_ADDRESS`` at a cluster to spread a population over many machines.

A worker that dies mid-task (segfault, OOM kill, lost node) is replaced and its
task re-run, so a generation is never lost or silently short. Episode
(candidate p, rollout r) under base seed s always plays env seed
``episode_seed(s, p, r)``, and the task split depends only on the population
size, ``workers`` and ``lockstep``, so results repeat exactly across backends,
restarts and resumes.
"""
from __future__ import annotations

import math
import os
import traceback
from collections import deque
from pathlib import Path

import numpy as np
import torch

from ..config import check_world
from ..models.controller import batched_act, check_mode, controller_inputs, param_count

BACKENDS = ("serial", "processes", "ray")
MAX_TASK_RETRIES = 3
QUEUED = 4  # a task holds up to this many lockstep batches of episodes (RolloutPool.tasks)


def episode_seed(seed: int, candidate: int, rollout: int) -> int:
    """The env seed of one episode, from (base seed, candidate, rollout)."""
    return int(np.random.SeedSequence([int(seed), int(candidate), int(rollout)]).generate_state(1)[0])


REAL_Z = ("mean", "sample")


def agent_spec(world: str, mode: str, vae, mdnrnn=None, max_steps: int | None = None,
               lockstep: int = 8, renderer: str = "gymnasium", real_z: str = "mean") -> dict:
    """Everything a worker needs to rebuild the agent: sizes and CPU state dicts (picklable).

    ``renderer``: CarRacing's frame drawing in the workers' envs. Keep the default
    ``"gymnasium"`` for any score that is reported; ``"fast"`` is for training.
    ``real_z``: C and M read V's "mean" code of each frame, or a "sample" mu + sigma * eps
    (the original code's choice, and what M and C saw while training).
    """
    from ..worlds.carracing_fast import RENDERERS

    world, mode = check_world(world), check_mode(mode)
    if renderer not in RENDERERS:
        raise ValueError(f"renderer {renderer!r}: use one of {', '.join(RENDERERS)}")
    if real_z not in REAL_Z:
        raise ValueError(f"unknown real_z {real_z!r}: use 'mean' (V's mean code) or 'sample' (mu + sigma * eps)")
    if mode == "zh" and mdnrnn is None:
        raise ValueError("mode 'zh' needs M: pass the trained MDNRNN (or use mode 'z' for V only)")
    cpu = lambda m: {k: v.detach().cpu().clone() for k, v in m.state_dict().items()}
    spec = dict(world=world, mode=mode, max_steps=max_steps, lockstep=int(lockstep), renderer=renderer, real_z=real_z,
                vae=dict(z_size=int(vae.z_size), state=cpu(vae)), mdnrnn=None)
    if mode == "zh":
        spec["mdnrnn"] = dict(arch=mdnrnn.arch(), state=cpu(mdnrnn))
    return spec


class _Codes(torch.nn.Module):
    """V's encoder to mu [B, z], or to [mu, logvar] [B, 2z] when the real game samples z."""

    def __init__(self, vae, logvar: bool):
        super().__init__()
        self.encoder, self.fc_mu, self.fc_logvar, self.logvar = vae.encoder, vae.fc_mu, vae.fc_logvar, logvar

    def forward(self, x):
        h = self.encoder(x)
        mu = self.fc_mu(h)
        return torch.cat([mu, self.fc_logvar(h)], dim=-1) if self.logvar else mu


def mean_encoder(vae, logvar: bool = False):
    """V's mean code for rollouts, frames [B, 3, 64, 64] -> mu [B, z] (``logvar``: [mu, logvar] [B, 2z]):
    the encoder and its heads frozen by TorchScript with the convolution weights packed once
    (``optimize_for_inference``).

    The same numbers as ``vae.encode(x)[0]`` (to ~1e-7), ~2x faster on one CPU thread at a
    worker's batch sizes, and ~4x at batch 1, where eager oneDNN convolutions re-pack their
    weights on every call. Falls back to the eager modules if TorchScript cannot take them.
    """
    import warnings

    body = _Codes(vae, logvar).eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated in torch 2.1x
            return torch.jit.optimize_for_inference(torch.jit.script(body))
    except Exception:  # a torch without TorchScript (or oneDNN): eager is correct, only slower
        return body


def spec_param_count(spec: dict) -> int:
    hidden = spec["mdnrnn"]["arch"]["hidden"] if spec["mdnrnn"] else 0
    return param_count(spec["world"], spec["vae"]["z_size"], hidden, spec["mode"])


class EpisodeRunner:
    """A worker's agent: envs, V and M built once; runs tasks of episodes in lockstep."""

    def __init__(self, spec: dict, fault: dict | None = None, threads: int = 1):
        from ..worlds.envs import make_env
        from ..models.mdnrnn import MDNRNN
        from ..models.vae import ConvVAE

        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        # One torch thread per worker: batches of a few frames gain little from more, and
        # W workers x T threads on W cores thrash (on a busy 2-core machine, 2 threads made
        # a serial run 7x slower).
        self.threads = int(threads)
        self.spec, self.fault = spec, fault
        self.world, self.mode = spec["world"], spec["mode"]
        self.vae = ConvVAE.from_checkpoint(dict(z_size=spec["vae"]["z_size"], model=spec["vae"]["state"]))
        self.encode = mean_encoder(self.vae, logvar=spec.get("real_z", "mean") == "sample")
        self.mdnrnn = None
        if spec["mdnrnn"] is not None:
            self.mdnrnn = MDNRNN.from_checkpoint(dict(arch=spec["mdnrnn"]["arch"], model=spec["mdnrnn"]["state"]))
        self._make_env = lambda: make_env(self.world, max_steps=spec["max_steps"],
                                          renderer=spec.get("renderer", "gymnasium"))
        self.envs = []

    def _env(self, slot: int):
        while len(self.envs) <= slot:
            self.envs.append(self._make_env())
        return self.envs[slot]

    def _maybe_fail(self, seeds) -> None:
        """Test hook: die abruptly (like a segfault) the first time a given episode comes up."""
        if self.fault and self.fault["seed"] in seeds:
            marker = Path(self.fault["marker"])
            if not marker.exists():
                marker.touch()
                os._exit(13)

    def run(self, params: np.ndarray, seeds, record: bool = False, explore=None, keep: bool = False,
            trace: bool = False) -> dict:
        """Play one episode per row of ``params`` [k, n] with env seed ``seeds[i]``.

        Returns dict(returns [k], lengths [k]) and, with ``record``, the raw frames of episode 0.
        ``explore`` [k]: per episode, the chance each step of starting a random 1-10 step hold of
        a uniform action instead of C's (iterative training's exploration).
        ``keep``: also return ``episodes``, each as ``data.play_episode`` records it (the
        64x64 frames seen before each action, the actions played, rewards, dones).
        ``trace``: also return ``traces``, per episode the actions played, M's death probability
        after each step (M with a done head; else None) and the env's ``info["y"]`` where it
        reports one (Doom: the agent's position), and whether the game ended it (``terminated``).
        """
        seeds = [int(s) for s in seeds]
        self._maybe_fail(seeds)
        caller_threads = torch.get_num_threads()  # in-process use: leave the caller's setting as it was
        torch.set_num_threads(self.threads)
        try:
            return self._run(params, seeds, record, explore, keep, trace)
        finally:
            torch.set_num_threads(caller_threads)

    @torch.no_grad()
    def _run(self, params, seeds, record, explore=None, keep=False, trace=False):
        from ..models.vae import frames_to_tensor

        params = torch.as_tensor(np.asarray(params, np.float32))
        k = len(seeds)
        returns, lengths = np.zeros(k), np.zeros(k, np.int64)
        slots = min(k, max(1, int(self.spec.get("lockstep", 8))))
        m = self.mdnrnn
        h = c = None
        if m is not None:
            h, c = (s[0] for s in m.initial_state(slots))  # [slots, hidden]
        episode_of = [-1] * slots          # which episode each slot plays (-1: idle)
        obs = [None] * slots
        first = np.zeros(slots, bool)      # restart flag: the slot's episode is at t = 0
        queue = deque(range(k))
        frames = []
        # Per-episode randomness (z noise, exploration) from the episode's own seed, so an
        # episode plays the same whichever slot, task or worker runs it.
        rngs = [None] * k
        noisy = self.spec.get("real_z", "mean") == "sample"
        explore = np.zeros(k) if explore is None else np.asarray(explore, np.float64).reshape(k)
        holds = np.zeros(k, np.int64)          # steps left of an exploratory hold
        held = np.zeros((k, self._action_size()), np.float32)
        kept = [dict(frames=[], actions=[], rewards=[], dones=[]) for _ in range(k)] if keep else None
        traced = [dict(actions=[], done_prob=[], y=[], terminated=False) for _ in range(k)] if trace else None
        done_probs = None

        def start(slot):
            i = queue.popleft()
            episode_of[slot] = i
            rngs[i] = np.random.default_rng([seeds[i], 0x5EED])
            obs[slot], _ = self._env(slot).reset(seed=seeds[i])
            first[slot] = True
            if m is not None:
                h[slot] = 0
                c[slot] = 0
            if record and i == 0:
                frames.append(self._env(slot).last_raw_frame.copy())

        for slot in range(slots):
            start(slot)
        while True:
            active = [s for s in range(slots) if episode_of[s] >= 0]
            if not active:
                break
            idx = torch.tensor(active)
            eps_of = [episode_of[s] for s in active]
            z = self.encode(frames_to_tensor(np.stack([obs[s] for s in active])))
            if noisy:  # z = mu + sigma * eps, eps from each episode's own stream
                z, logvar = z.chunk(2, dim=-1)
                eps = np.stack([rngs[i].standard_normal(z.shape[1]) for i in eps_of]).astype(np.float32)
                z = z + torch.exp(0.5 * logvar) * torch.from_numpy(eps)
            hs, cs = (None, None) if m is None else (h[idx], c[idx])
            x = controller_inputs(self.world, z, hs, cs, self.mode)
            rows = params[eps_of]
            actions = batched_act(self.world, rows, x[:, None, :])[:, 0]
            if explore.any():
                actions = actions.clone()
                for j, i in enumerate(eps_of):
                    if holds[i] == 0 and explore[i] > 0 and rngs[i].random() < explore[i]:
                        holds[i] = int(rngs[i].integers(1, 11))
                        held[i] = self._random_action(rngs[i])
                    if holds[i] > 0:
                        holds[i] -= 1
                        actions[j] = torch.from_numpy(held[i])
            if m is not None:
                restart = torch.as_tensor(first[active], dtype=z.dtype) if m.has_done else None
                h1, c1 = m.advance(z, actions, (hs[None], cs[None]), restart)  # C reads h: no heads
                h[idx], c[idx] = h1[0], c1[0]
                if trace and m.has_done:  # M's belief that this step ended the episode
                    done_probs = torch.sigmoid(m.done(h1[0]).squeeze(-1)).numpy()
            first[active] = False
            act_np = actions.numpy()
            for j, slot in enumerate(active):
                i = episode_of[slot]
                env = self._env(slot)
                if keep:
                    kept[i]["frames"].append(obs[slot])
                obs[slot], reward, terminated, truncated, info = env.step(act_np[j])
                if trace:
                    traced[i]["actions"].append(act_np[j].astype(np.float32).reshape(-1))
                    traced[i]["done_prob"].append(np.nan if done_probs is None else float(done_probs[j]))
                    traced[i]["y"].append(float(info.get("y", np.nan)))
                    traced[i]["terminated"] = bool(terminated)
                if keep:
                    kept[i]["actions"].append(act_np[j].astype(np.float32).reshape(-1))
                    kept[i]["rewards"].append(reward)
                    kept[i]["dones"].append(terminated)
                returns[i] += reward
                lengths[i] += 1
                if record and i == 0:
                    frames.append(env.last_raw_frame.copy())
                if terminated or truncated:
                    episode_of[slot] = -1
                    if queue:
                        start(slot)
        out = dict(returns=returns, lengths=lengths)
        if record:
            out["frames"] = frames
        if keep:
            out["episodes"] = [dict(frames=np.stack(e["frames"]).astype(np.uint8), actions=np.stack(e["actions"]),
                                    rewards=np.asarray(e["rewards"], np.float32), dones=np.asarray(e["dones"], bool))
                               for e in kept]
        if trace:
            out["traces"] = [dict(actions=np.stack(t["actions"]),
                                  done_prob=None if m is None or not m.has_done else np.asarray(t["done_prob"]),
                                  y=np.asarray(t["y"]), terminated=t["terminated"]) for t in traced]
        return out

    def _action_size(self) -> int:
        from ..config import world_info

        return world_info(self.world).action_size

    def _random_action(self, rng) -> np.ndarray:
        """A uniform action of this world (exploration)."""
        if self.world == "doom":
            return rng.uniform(-1.0, 1.0, size=1).astype(np.float32)
        return rng.uniform([-1.0, 0.0, 0.0], [1.0, 1.0, 1.0]).astype(np.float32)

    def close(self):
        for env in self.envs:
            env.close()
        self.envs = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ----------------------------------------------------------------------------- backends

def _worker_main(conn, spec, fault):
    """A worker process: build the agent once, then answer tasks until told to stop."""
    runner = EpisodeRunner(spec, fault)
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
    def __init__(self, spec, workers, fault):
        self.runner = EpisodeRunner(spec, fault)

    def map(self, tasks):
        return [self.runner.run(p, s, **o) for p, s, o in tasks]

    def close(self):
        self.runner.close()


class _ProcessBackend:
    """Spawned processes with one pipe each; a dead worker is replaced and its task re-queued."""

    def __init__(self, spec, workers, fault):
        import multiprocessing as mp

        self.ctx = mp.get_context("spawn")  # fresh interpreters: no forked simulator or torch state
        self.spec, self.fault = spec, fault
        self.workers = [self._start() for _ in range(workers)]
        self.restarts = 0

    def _start(self):
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker_main, args=(child, self.spec, self.fault), daemon=True)
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
        from multiprocessing.connection import wait

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
    """Ray actors running ``EpisodeRunner``; a dead actor is replaced and its task resubmitted."""

    def __init__(self, spec, workers, fault):
        try:
            import ray
        except ImportError as err:
            raise ValueError("backend 'ray' needs Ray: pip install 'wmlib[ray]' (or use --backend processes)") from err
        self.ray = ray
        if not ray.is_initialized():
            # RAY_ADDRESS (if set) connects to a cluster; otherwise a local Ray on loopback.
            kwargs = {} if os.environ.get("RAY_ADDRESS") else dict(num_cpus=workers, _node_ip_address="127.0.0.1")
            ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
        self.actor_cls = ray.remote(num_cpus=1)(_RayRunner)
        self.spec_ref = ray.put(spec)
        self.fault = fault
        self.actors = [self._start() for _ in range(workers)]
        self.restarts = 0

    def _start(self):
        return self.actor_cls.remote(self.spec_ref, self.fault)

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
    def __init__(self, spec, fault):
        self.runner = EpisodeRunner(spec, fault)

    def run(self, params, seeds, opts):
        return self.runner.run(params, seeds, **opts)


# ----------------------------------------------------------------------------- the pool

class RolloutPool:
    """Play populations of controllers in the real world, on one of ``BACKENDS``.

    ``pool.run(params [P, n], rollouts, seed) -> dict(returns [P, R], lengths [P, R])``.
    Use as a context manager (or call ``close()``) so worker processes end.
    """

    def __init__(self, spec: dict, backend: str = "processes", workers: int = 2, fault: dict | None = None):
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
        if int(workers) < 1:
            raise ValueError(f"workers must be at least 1 (got {workers})")
        self.spec, self.backend, self.workers = spec, backend, int(workers)
        self.lockstep = int(spec.get("lockstep", 8))
        self.n_params = spec_param_count(spec)
        impl = {"serial": _SerialBackend, "processes": _ProcessBackend, "ray": _RayBackend}[backend]
        self._impl = impl(spec, self.workers, fault)

    @property
    def restarts(self) -> int:
        """Workers replaced after dying (0 when all went well)."""
        return getattr(self._impl, "restarts", 0)

    def tasks(self, params: np.ndarray, rollouts: int, seed: int, explore=None, keep: bool = False,
              same_games: bool = False):
        """Split P x R episodes into tasks: [(params rows, env seeds, options)], in (candidate, rollout) order.

        ``same_games``: every candidate plays the same R games (candidate 0's seeds), so candidates
        compared on them meet the same fireballs, and all their games still run as one batch.

        There are at least two tasks per worker (so a slow task does not leave the other
        workers idle at the end). A task may hold up to ``QUEUED`` x ``lockstep`` episodes:
        its runner steps ``lockstep`` of them together and starts the next one in the slot
        of each that ends, so the batch stays full instead of shrinking to the longest
        episode alone (Doom's games run 150 to 2,100 steps).
        """
        P = len(params)
        order = [(p, r) for p in range(P) for r in range(rollouts)]
        size = max(1, min(QUEUED * self.lockstep, math.ceil(len(order) / (2 * self.workers))))
        out = []
        explore = None if explore is None else np.broadcast_to(np.asarray(explore, np.float64), (P, rollouts))
        for start in range(0, len(order), size):
            chunk = order[start:start + size]
            opts = dict(keep=True) if keep else {}
            if explore is not None:
                opts["explore"] = [float(explore[p, r]) for p, r in chunk]
            out.append((np.stack([params[p] for p, _ in chunk]).astype(np.float32),
                        [episode_seed(seed, 0 if same_games else p, r) for p, r in chunk], opts))
        return out

    def run(self, params, rollouts: int, seed: int, explore=None, keep: bool = False,
            same_games: bool = False) -> dict:
        """Returns dict(returns [P, R], lengths [P, R]) and, with ``keep``, ``episodes`` (row-major list).

        ``explore``: exploration rate per episode ([P, R] or broadcastable; see ``EpisodeRunner.run``).
        ``same_games``: all candidates play candidate 0's games (see ``tasks``).
        """
        params = np.atleast_2d(np.asarray(params, np.float32))
        if params.shape[1] != self.n_params:
            raise ValueError(f"this agent's controller has {self.n_params} parameters, got rows of "
                             f"{params.shape[1]}: check the mode (z / zh) and the V and M sizes")
        if int(rollouts) < 1:
            raise ValueError(f"rollouts must be at least 1 (got {rollouts})")
        results = self._impl.map(self.tasks(params, rollouts, seed, explore, keep, same_games))
        returns = np.concatenate([r["returns"] for r in results]).reshape(len(params), rollouts)
        lengths = np.concatenate([r["lengths"] for r in results]).reshape(len(params), rollouts)
        out = dict(returns=returns, lengths=lengths)
        if keep:
            out["episodes"] = [e for r in results for e in r["episodes"]]
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


__all__ = ["BACKENDS", "MAX_TASK_RETRIES", "episode_seed", "agent_spec", "spec_param_count", "mean_encoder",
           "EpisodeRunner", "RolloutPool"]
