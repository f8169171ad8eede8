"""Real-game episodes of the agent, several in lockstep: the loop of ``agent.loop``, batched.

One episode (``agent.loop.real_episode`` writes it out plainly)::

    z_t = V(frame_t)                 (the code's mean, or mu + sigma * eps with real_z="sample")
    a_t = C([z_t, h_t])              (car; Doom reads [z_t, c_t, h_t]; mode "z" reads z_t)
    frame_{t+1}, r_t = env.step(a_t)
    (h, c)_{t+1} = M.step(z_t, a_t, (h, c)_t)   (Doom's M also reads restart = 1 at t = 0)

An ``EpisodeRunner`` is one worker's agent: it builds its envs and rebuilds V and
M ONCE from state dicts (an ``agent_spec``), runs torch with one thread, and steps
up to ``lockstep`` episodes together so V, M and C run as one batched call per
step (each row with its own controller weights, via ``controller.batched_act``);
a finished episode's slot starts the next episode of the task. ``agent.pool``
spreads a population's episodes over many such workers.

Episode (candidate p, rollout r) under base seed s plays env seed
``episode_seed(s, p, r)``, and its own noise (z samples, exploration) comes from
``episode_rng(env seed)``, so an episode plays the same whichever slot, task or
worker runs it.
"""
from __future__ import annotations

import os
import warnings
from collections import deque

import numpy as np
import torch

from ..config import check_world, world_info
from ..models.controller import batched_act, check_mode, controller_inputs, param_count
from ..models.mdnrnn import MDNRNN, MixtureOut, done_nll, mixture_nll
from ..models.vae import ConvVAE, frames_to_tensor
from ..worlds.carracing_fast import RENDERERS
from ..worlds.envs import make_env

def episode_seed(seed: int, candidate: int, rollout: int) -> int:
    """The env seed of one episode, from (base seed, candidate, rollout)."""
    return int(np.random.SeedSequence([int(seed), int(candidate), int(rollout)]).generate_state(1)[0])


def episode_rng(seed: int) -> np.random.Generator:
    """The noise stream of the episode on env seed ``seed`` (z samples, exploration)."""
    return np.random.default_rng([int(seed), 0x5EED])


REAL_Z = ("mean", "sample")


def agent_spec(world: str, mode: str, vae, mdnrnn=None, max_steps: int | None = None,
               lockstep: int = 8, renderer: str = "gymnasium", real_z: str = "mean") -> dict:
    """Everything a worker needs to rebuild the agent: sizes and CPU state dicts (picklable).

    ``renderer``: CarRacing's frame drawing in the workers' envs. Keep the default
    ``"gymnasium"`` for any score that is reported; ``"fast"`` is for training.
    ``real_z``: C and M read V's "mean" code of each frame, or a "sample" mu + sigma * eps
    (the original code's choice, and what M and C saw while training).
    """
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

    def __init__(self, spec: dict, threads: int = 1):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        # One torch thread per worker: batches of a few frames gain little from more, and
        # W workers x T threads on W cores thrash (on a busy 2-core machine, 2 threads made
        # a serial run 7x slower).
        self.threads = int(threads)
        self.spec = spec
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

    def run(self, params: np.ndarray, seeds, record: bool = False, explore=None, keep: bool = False,
            trace: bool = False, surprise: bool = False, pos_weight: float = 1.0) -> dict:
        """Play one episode per row of ``params`` [k, n] with env seed ``seeds[i]``.

        Returns dict(returns [k], lengths [k]) and, with ``record``, the raw frames of episode 0.
        ``explore`` [k]: per episode, the chance each step of starting a random 1-10 step hold of
        a uniform action instead of C's (iterative training's exploration).
        ``keep``: also return ``episodes``, each as ``data.play_episode`` records it (the
        64x64 frames seen before each action, the actions played, rewards, dones).
        ``trace``: also return ``traces``, per episode the actions played, M's death probability
        after each step (M with a done head; else None) and the env's ``info["y"]`` where it
        reports one (Doom: the agent's position), and whether the game ended it (``terminated``);
        also the game's reward of each step (``rewards``) and, with M's reward head, the reward M
        predicted for it (``reward_pred``, as the car's dream pays it; else None).
        ``surprise``: also return ``surprise`` [k], M's summed loss on each game (``agent.curiosity``:
        per step the mixture NLL of the next code, nats per dim, plus the done head's loss weighted
        by ``pos_weight``); with ``trace`` each trace holds it per step (``surprise``, and its parts
        ``z_surprise``, NaN on the last step, and ``done_surprise``).
        """
        seeds = [int(s) for s in seeds]
        caller_threads = torch.get_num_threads()  # in-process use: leave the caller's setting as it was
        torch.set_num_threads(self.threads)
        try:
            return self._run(params, seeds, record, explore, keep, trace, surprise, pos_weight)
        finally:
            torch.set_num_threads(caller_threads)

    @torch.no_grad()
    def _run(self, params, seeds, record, explore=None, keep=False, trace=False, surprise=False, pos_weight=1.0):
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
        traced = ([dict(actions=[], done_prob=[], y=[], terminated=False, rewards=[], reward_pred=[]) for _ in range(k)]
                  if trace else None)
        done_probs = reward_preds = None
        if surprise and m is None:
            raise ValueError("surprise is M's loss along the game: run with mode 'zh' and an M")
        # M's prediction for each slot's next code (made at step t, scored on z_{t+1}), and per episode
        # its loss on each step: the done part at once, the code's part when the next frame arrives
        pred = None
        z_part = [[] for _ in range(k)] if surprise else None
        d_part = [[] for _ in range(k)] if surprise else None

        def start(slot):
            i = queue.popleft()
            episode_of[slot] = i
            rngs[i] = episode_rng(seeds[i])
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
            if surprise and pred is not None:  # how well M's last prediction knew this frame's code
                seen = [j for j, s in enumerate(active) if not first[s]]
                if seen:
                    slot_rows = idx[seen]
                    nll = mixture_nll(pred.logpi[slot_rows], pred.mu[slot_rows], pred.logsigma[slot_rows],
                                      z[seen]).mean(-1)
                    for j, v in zip(seen, nll.tolist()):
                        z_part[eps_of[j]][-1] = v
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
                done_logit = None
                if surprise:  # M's prediction of the next code (and of the end), from its new state
                    mix, done_logit = m.heads(h1[0])
                    if pred is None:
                        pred = MixtureOut(*(torch.zeros(slots, *t.shape[1:]) for t in mix))
                    for full, part in zip(pred, mix):
                        full[idx] = part
                if trace and m.has_reward:  # the reward M expects for this step: what its dream would pay
                    reward_preds = m.predict_reward(h1[0]).numpy()
                if trace and m.has_done:  # M's belief that this step ended the episode
                    if done_logit is None:
                        done_logit = m.done(h1[0]).squeeze(-1)
                    done_probs = torch.sigmoid(done_logit).numpy()
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
                    traced[i]["rewards"].append(float(reward))
                    if reward_preds is not None:
                        traced[i]["reward_pred"].append(float(reward_preds[j]))
                if surprise:
                    z_part[i].append(np.nan)  # filled in when the next frame's code arrives
                    d_part[i].append(0.0 if done_logit is None else
                                     float(done_nll(done_logit[j], float(terminated), pos_weight)))
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
                                  y=np.asarray(t["y"]), terminated=t["terminated"], rewards=np.asarray(t["rewards"]),
                                  reward_pred=np.asarray(t["reward_pred"]) if m is not None and m.has_reward else None)
                             for t in traced]
        if surprise:
            zs, ds = [np.asarray(p, np.float64) for p in z_part], [np.asarray(p, np.float64) for p in d_part]
            per_step = [np.nan_to_num(a) + b for a, b in zip(zs, ds)]  # the last step has no next code
            out["surprise"] = np.array([p.sum() for p in per_step])
            if trace:
                for t, a, b, p in zip(out["traces"], zs, ds, per_step):
                    t.update(surprise=p, z_surprise=a, done_surprise=b)
        return out

    def _action_size(self) -> int:
        return world_info(self.world).action_size

    def _random_action(self, rng) -> np.ndarray:
        """A uniform action of this world (exploration)."""
        w = world_info(self.world)
        return rng.uniform(w.action_low, w.action_high).astype(np.float32)

    def close(self):
        for env in self.envs:
            env.close()
        self.envs = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


__all__ = ["REAL_Z", "episode_seed", "episode_rng", "agent_spec", "spec_param_count", "mean_encoder",
           "EpisodeRunner"]
