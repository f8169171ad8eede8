"""The dream: M as an environment, one episode at a time or a whole population at once.

M predicts, for every latent dimension, a mixture over the next code, and (for
Doom) the chance that this step ends the episode. Sampling the next code at a
temperature tau and feeding it back in turns M into a world the controller can
live in: the paper trained Doom's controller there and never showed it a real
frame until the test.

* ``DreamEnv`` is that world as a gymnasium environment (it passes
  ``check_env``): the observation is ``concat(z, c, h)`` (the code and M's LSTM
  cell and hidden state, what the Doom controller reads), the reward is +1 per
  step survived (Doom), or M's predicted reward of the step when M has a reward
  head (the car's dream), and ``render()`` decodes z with V.
* ``dream_rollouts`` plays a whole CMA-ES population x rollouts as ONE tensor
  program: one LSTM step for every episode at once, each row its own controller
  weights, finished episodes masked and (every chunk of steps) dropped from the
  batch, and an early exit once every episode has ended.

The done rule (``done_rule``):

* ``"threshold"`` (default, as in the original code): the episode ends when
  ``sigmoid(done_logit) > done_threshold`` (0.5). Deterministic given the codes.
* ``"sample"``: it ends with M's probability of death (a Bernoulli draw). The
  done head is trained with positives weighted ``pos_weight`` (10 for Doom),
  which multiplies the odds it predicts by that weight; the draw un-weights
  them first (``logit - log(pos_weight)``), or dreams would die ~10x too often.
* ``"never"``: only the step cap ends it (benchmarks time the worst case with it).

Where a dream begins: by default (as in the paper) at the code of a recorded first
frame, with M's state zero. ``start_state=(h, c, restart)`` (one row per start code)
lets it begin mid-episode instead, with M in the state it reached on the real steps
that led there (``wmlib.training.dream.recorded_starts``, ``dream.start_from="anywhere"``).

``dropout`` (0: off) makes every dream episode a different M, as in "Dropout's Dream Land":
a share ``dropout`` of M's LSTM outputs is zeroed before its heads (the rest scaled by
1 / (1 - dropout), as M trained with ``mdnrnn.dropout``), one mask per episode, drawn from the
episode's key and held for all its steps. A controller that exploits one M's flaw meets it in
few of its dreams. C still reads M's whole state; the real game has no mask.

Either way the episode is cut at ``max_steps`` (2,100 for Doom). Car's M has no
done head, so its dreams only end at the cap, as most real car episodes do (the
game's time limit); what the car earns there is M's predicted reward.

Randomness is counter-based, so the two paths agree: every episode has a key
(an integer seed), and the noise of step t is a hash of (key, t, lane) -- the
same numbers whether the episode runs alone in ``DreamEnv`` or as row 917 of a
batch, on any device, in any chunking. Lanes per step: z uniforms that pick
each dimension's mixture component (inverse CDF of the tempered weights), z
uniforms that become Gaussian noise (inverse normal CDF), and one for a sampled
done. The reset (t = 0) uses the same lanes to pick a real first-frame code and
sample z from it. Same key, same episode: returns agree exactly; the codes
agree to float rounding (a batched matrix product rounds differently from a
single row, so in principle a draw that lands within 1e-7 of a component
boundary could split the two; we have not seen it).
"""
from __future__ import annotations

import contextlib
import copy
import math

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from ..config import WORLD, world_info
from ..device import resolve_device
from ..models.controller import batched_act, controller_inputs

DONE_RULES = ("threshold", "sample", "never")
_MASK32 = 0xFFFFFFFF
_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B9          # 2^32 / golden ratio: spreads lanes over the 32-bit circle


# ----------------------------------------------------------------------------- counter-based noise

def _splitmix64(x: int) -> int:
    """A 64-bit mixer in plain Python integers (exact): one seed -> well spread bits."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def episode_words(key: int) -> tuple[int, int]:
    """An episode's key (any integer) -> two 32-bit words that key its noise stream."""
    x = _splitmix64(int(key) & _MASK64)
    y = _splitmix64(x)
    return x & _MASK32, y & _MASK32


def episode_keys(seed: int, population: int, rollouts: int) -> np.ndarray:
    """The key of every (candidate, rollout) episode of one batched call -> int64 [P, R].

    Plain integers, so ``DreamEnv.reset(seed=int(keys[p, r]))`` replays that episode.
    """
    base = _splitmix64(int(seed) & _MASK64) & ((1 << 62) - 1)
    return base + np.arange(population * rollouts, dtype=np.int64).reshape(population, rollouts)


def _mix32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit finaliser (xor-shift-multiply, lowbias32 style) on int64 tensors holding values < 2^32.

    Both multipliers are odd and below 2^31, so products stay below 2^63: exact
    int64 arithmetic on every device, no overflow. Each step is a bijection.
    """
    x = x ^ (x >> 16)
    x = (x * 0x7FEB352D) & _MASK32
    x ^= x >> 15
    x = (x * 0x31848BAB) & _MASK32
    x ^= x >> 16
    return x


def noise_bits(words: torch.Tensor, steps: torch.Tensor, lanes: int) -> torch.Tensor:
    """32 random bits per (step, episode, lane): words int64 [B, 2], steps int64 [T] -> int64 [T, B, lanes].

    A two-round hash of (episode key, step) gives each step of each episode its own
    base; lanes are a Weyl sequence from that base, mixed once more.
    """
    base = _mix32(_mix32((steps.view(-1, 1) & _MASK32) ^ words[:, 0]) ^ words[:, 1])     # [T, B]
    offsets = (torch.arange(lanes, device=words.device) * _GOLDEN) & _MASK32           # [lanes]
    return _mix32((base.unsqueeze(-1) + offsets) & _MASK32)


def bits_to_uniform(bits: torch.Tensor) -> torch.Tensor:
    """32-bit integers -> float32 uniforms strictly inside (0, 1) (24 bits, exact in float32)."""
    return ((bits >> 8).to(torch.float32) + 0.5) * (2.0 ** -24)


def _words_tensor(keys, device) -> torch.Tensor:
    return torch.tensor([episode_words(int(k)) for k in np.asarray(keys).reshape(-1)],
                        dtype=torch.int64, device=device).reshape(-1, 2)


MASK_STEP = _MASK32   # the step index whose noise draws an episode's dropout mask (never a real step's)


def check_dropout(p: float) -> float:
    p = float(p)
    if not 0 <= p < 1:
        raise ValueError(f"dream dropout is the share of M's outputs zeroed in each dream, in [0, 1) (got {p}): "
                         "set dream.dropout=0.1, say, or 0 for the plain dream")
    return p


def episode_masks(words: torch.Tensor, hidden: int, p: float) -> torch.Tensor | None:
    """One dropout mask per episode from its key: words [B, 2] -> float32 [B, hidden] of 0 and 1 / (1 - p),
    or None at p = 0."""
    if p <= 0:
        return None
    u = bits_to_uniform(noise_bits(words, torch.tensor([MASK_STEP], device=words.device), hidden)[0])
    return (u >= p).to(torch.float32) / (1.0 - p)


def _heads_input(h, mask):
    return h if mask is None else h * mask


def dream_step(m, z, a, state, restart, mask=None):
    """One step of M in a dream -> (MixtureOut, done logit, state); with ``mask`` [B, hidden] its heads read
    the masked output (the state goes on unmasked)."""
    if mask is None:
        return m.step(z, a, state, restart)
    h, c = m.advance(z, a, state, restart)
    mix, done = m.heads(_heads_input(h[0], mask))
    return mix, done, (h, c)


# ----------------------------------------------------------------------------- one step of dream maths

def sample_from_noise(logpi, mu, logsigma, tau: float, u_component, u_gauss):
    """The next code from M's mixtures [B, z, K] at temperature tau, driven by given uniforms [B, z].

    Same distribution as ``mdnrnn.sample_mixture`` (tempered weights softmax(logpi / tau),
    std scaled by sqrt(tau)); the component comes from the inverse CDF of the weights
    and the noise from the inverse normal CDF, so the caller owns the randomness.
    tau = 0: the most likely component's mean.
    """
    if tau <= 0:
        k = logpi.argmax(-1, keepdim=True)
        return mu.gather(-1, k).squeeze(-1)
    logits = logpi / tau
    # Unnormalised CDF of the tempered weights (a softmax over K = 5 is slow on the CPU):
    # component k is the first whose cumulative weight exceeds u * total.
    cdf = torch.exp(logits - logits.amax(-1, keepdim=True)).cumsum_(-1)
    k = ((u_component * cdf[..., -1]).unsqueeze(-1) > cdf).sum(-1, keepdim=True).clamp_(max=logpi.shape[-1] - 1)
    mean = mu.gather(-1, k).squeeze(-1)
    std = logsigma.gather(-1, k).squeeze(-1).exp() * math.sqrt(tau)
    return mean + std * torch.special.ndtri(u_gauss)


def done_now(done_logit, u_done, rule: str, threshold: float, pos_weight: float = 1.0):
    """Which episodes M ends this step -> bool [B] (None logit: none).

    ``threshold`` compares the head's own (weighted) probability, as the original code did;
    ``sample`` draws from the un-weighted probability ``sigmoid(logit - log(pos_weight))``.
    """
    if done_logit is None or rule == "never":
        return torch.zeros_like(u_done, dtype=torch.bool)
    if rule == "threshold":
        return torch.sigmoid(done_logit.float()) > threshold
    return u_done < torch.sigmoid(done_logit.float() - math.log(pos_weight))


def first_codes(first_mu, first_logvar, bits0, z_size: int, index=None):
    """Reset: pick a real first-frame code per episode (or ``index``) and sample z from it (bits of step 0)."""
    idx = bits0[:, 2 * z_size] % first_mu.shape[0] if index is None else index
    eps = torch.special.ndtri(bits_to_uniform(bits0[:, z_size:2 * z_size]))
    return first_mu[idx] + torch.exp(0.5 * first_logvar[idx]) * eps, idx


def _as_state(start_state, n: int, hidden: int, device):
    """``(h, c, restart)`` of every start, or None (every start a first frame: zero state, restart read)."""
    if start_state is None:
        return None
    h, c, restart = (torch.as_tensor(np.asarray(x, np.float32), device=device) for x in start_state)
    if h.shape != (n, hidden) or c.shape != (n, hidden) or restart.shape != (n,):
        raise ValueError(f"start_state must be (h [{n}, {hidden}], c [{n}, {hidden}], restart [{n}]), one row per "
                         f"start code, got {tuple(h.shape)}, {tuple(c.shape)}, {tuple(restart.shape)}: build it "
                         "with wmlib.training.dream.recorded_starts for the same M and series")
    return h, c, restart


def check_done_rule(rule: str) -> str:
    if rule not in DONE_RULES:
        raise ValueError(f"unknown done rule {rule!r}: use one of {', '.join(DONE_RULES)}")
    return rule


def check_pos_weight(pos_weight: float) -> float:
    if not pos_weight > 0:
        raise ValueError(f"done_pos_weight must be > 0 (got {pos_weight}): pass the weight M's done head "
                         "was trained with (cfg.mdnrnn.done_pos_weight), or 1.0 for an unweighted head")
    return float(pos_weight)


def _as_codes(first_mu, first_logvar, z_size, device):
    mu = torch.as_tensor(np.asarray(first_mu, np.float32), device=device)
    logvar = torch.as_tensor(np.asarray(first_logvar, np.float32), device=device)
    if mu.dim() != 2 or mu.shape != logvar.shape or mu.shape[1] != z_size or len(mu) == 0:
        raise ValueError(f"first codes must be [episodes, {z_size}] (mu and logvar alike), got "
                         f"{tuple(mu.shape)} and {tuple(logvar.shape)}: pass series.first_mu / first_logvar "
                         "from the encoded data of the same V that M was trained on")
    return mu, logvar


def step_kernels(device):
    """On the CPU, step M with torch's own LSTM kernel rather than oneDNN's.

    oneDNN re-lays out the weights on every call (about 1.5 ms for LSTM 512), which
    dwarfs a one-step call: 7x slower at batch 1, and slower at batch 1,024 too.
    Both the single and the batched dream use this, so they round alike.
    """
    if torch.device(device).type != "cpu":
        return contextlib.nullcontext()
    return torch.backends.mkldnn.flags(enabled=False, deterministic=None, allow_tf32=None, fp32_precision=None)


def world_of(mdnrnn) -> str:
    """The world whose action size and done head ``mdnrnn`` has (read from ``config.WORLD``)."""
    worlds = [w.name for w in WORLD.values()
              if w.action_size == mdnrnn.action_size and w.done_head == mdnrnn.has_done]
    if len(worlds) != 1:
        raise ValueError(f"cannot tell the world of an M with action_size={mdnrnn.action_size} and "
                         f"done_head={mdnrnn.has_done}: pass world= ({' or '.join(WORLD)})")
    return worlds[0]


def _action_space(world):
    w = world_info(world)
    return spaces.Box(np.array(w.action_low, np.float32), np.array(w.action_high, np.float32), dtype=np.float32)


# ----------------------------------------------------------------------------- one episode at a time

class DreamEnv(gym.Env):
    """M's dream as a gymnasium environment. Observation: float32 concat(z, c, h).

    ``reset(seed=k)`` replays episode key ``k`` exactly (``episode_keys`` gives the
    keys ``dream_rollouts`` uses); ``options={"first_index": i}`` starts from the
    i-th recorded first frame instead of a random one. ``info["done_prob"]`` (and
    ``self.done_prob``) is M's death probability for the step just taken. ``dropout``: each episode's
    own mask on M's heads (see the module docstring), drawn from its key as ``dream_rollouts`` draws it.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 35}

    def __init__(self, mdnrnn, first_mu, first_logvar, tau: float = 1.0, max_steps: int = 2100,
                 vae=None, done_rule: str = "threshold", done_threshold: float = 0.5,
                 world: str | None = None, render_mode: str | None = None, done_pos_weight: float = 1.0,
                 start_state=None, dropout: float = 0.0):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode {render_mode!r} not supported: use None or 'rgb_array'")
        if render_mode == "rgb_array" and vae is None:
            raise ValueError("render_mode='rgb_array' decodes z with V: pass vae=load_vae(cfg)")
        if tau < 0 or max_steps < 1:
            raise ValueError(f"need tau >= 0 and max_steps >= 1 (got tau={tau}, max_steps={max_steps})")
        self.m = mdnrnn.eval()
        self.device = next(mdnrnn.parameters()).device
        self.vae, self.world = vae, world or world_of(mdnrnn)
        self.tau, self.max_steps = float(tau), int(max_steps)
        self.done_rule, self.done_threshold = check_done_rule(done_rule), float(done_threshold)
        self.done_pos_weight = check_pos_weight(done_pos_weight)
        self.dropout, self.mask = check_dropout(dropout), None
        self.render_mode = render_mode
        self.first_mu, self.first_logvar = _as_codes(first_mu, first_logvar, mdnrnn.z_size, self.device)
        self.z_size, self.hidden = mdnrnn.z_size, mdnrnn.hidden
        self.start_state = _as_state(start_state, len(self.first_mu), self.hidden, self.device)
        self.lanes = 2 * self.z_size + 1
        self.observation_space = spaces.Box(-np.inf, np.inf, (self.z_size + 2 * self.hidden,), np.float32)
        self.action_space = _action_space(self.world)
        self.z = self.state = self.words = None
        self.t, self.done_prob, self.first_index = 0, 0.0, -1

    def _obs(self) -> np.ndarray:
        h, c = self.state
        return torch.cat([self.z[0], c[0, 0], h[0, 0]]).cpu().numpy().astype(np.float32)

    def _bits(self, t: int) -> torch.Tensor:
        return noise_bits(self.words, torch.tensor([t], device=self.device), self.lanes)[0]

    @torch.inference_mode()
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        key = seed if seed is not None else int(self.np_random.integers(0, 2**62))
        self.key = int(key)
        self.words = _words_tensor([self.key], self.device)
        self.mask = episode_masks(self.words, self.hidden, self.dropout)
        index = None
        if options and options.get("first_index") is not None:
            index = torch.tensor([int(options["first_index"]) % len(self.first_mu)], device=self.device)
        self.z, idx = first_codes(self.first_mu, self.first_logvar, self._bits(0), self.z_size, index)
        self.first_index = int(idx[0])
        if self.start_state is None:
            self.state, self.restart0 = self.m.initial_state(1, self.device), 1.0
        else:  # a recorded mid-episode start: M's state after the real steps that led there
            h, c, restart = self.start_state
            self.state, self.restart0 = (h[idx][None], c[idx][None]), float(restart[idx][0])
        self.t, self.done_prob = 0, 0.0
        return self._obs(), {"first_index": self.first_index}

    @torch.inference_mode()
    def step(self, action):
        if self.z is None:
            raise RuntimeError("call reset() before step()")
        a = np.clip(np.asarray(action, np.float32).reshape(1, -1), self.action_space.low, self.action_space.high)
        a = torch.as_tensor(a, device=self.device)
        restart = torch.full((1,), self.restart0 if self.t == 0 else 0.0, device=self.device)
        with step_kernels(self.device):
            mix, done_logit, self.state = dream_step(self.m, self.z, a, self.state, restart, self.mask)
        u = bits_to_uniform(self._bits(self.t + 1))
        z = self.z_size
        self.z = sample_from_noise(*mix, self.tau, u[:, :z], u[:, z:2 * z])
        self.t += 1
        ended = done_now(done_logit, u[:, 2 * z], self.done_rule, self.done_threshold, self.done_pos_weight)
        self.done_prob = float(torch.sigmoid(done_logit)[0]) if done_logit is not None else 0.0
        terminated = bool(ended[0])
        truncated = self.t >= self.max_steps and not terminated
        reward = (float(self.m.predict_reward(_heads_input(self.state[0][0], self.mask))[0]) if self.m.has_reward
                  else 1.0)
        return self._obs(), reward, terminated, truncated, {"done_prob": self.done_prob}

    @torch.inference_mode()
    def decode(self) -> np.ndarray:
        """The current z through V's decoder -> uint8 [64, 64, 3]."""
        if self.vae is None:
            raise ValueError("decoding a dream needs V: pass vae=load_vae(cfg) to DreamEnv")
        dev = next(self.vae.parameters()).device
        x = self.vae.decode(self.z.to(dev))[0].permute(1, 2, 0).clamp(0, 1)
        return (x * 255).round().to(torch.uint8).cpu().numpy()

    def render(self):
        if self.render_mode is None:
            return None
        return self.decode()

    def split_obs(self, obs):
        """An observation -> (z, c, h)."""
        z, hd = self.z_size, self.hidden
        return obs[..., :z], obs[..., z:z + hd], obs[..., z + hd:]


def play_dream(env: DreamEnv, controller, seed: int) -> float:
    """One dream episode with a ``Controller`` (one at a time: the reference for the batched path)."""
    obs, _ = env.reset(seed=seed)
    total = 0.0
    while True:
        z, c, h = env.split_obs(obs)
        obs, reward, terminated, truncated, _ = env.step(controller.act(z, h, c))
        total += reward
        if terminated or truncated:
            return total


# ----------------------------------------------------------------------------- a population at once

def _noise_chunk(batch: int, lanes: int, budget: int = 1 << 22) -> int:
    """Steps of noise to pre-generate per chunk: about ``budget`` numbers at a time."""
    return int(max(1, min(64, budget // max(1, batch * lanes))))


@torch.inference_mode()
def dream_rollouts(mdnrnn, world: str, params, first_mu, first_logvar, rollouts: int, tau: float,
                   max_steps: int, seed: int, device=None, done_rule: str = "threshold",
                   done_threshold: float = 0.5, mode: str = "zh", chunk: int | None = None,
                   compact: bool = True, done_pos_weight: float = 1.0, start_state=None,
                   same_episodes: bool = False, dropout: float = 0.0) -> np.ndarray:
    """Returns [P, rollouts] of every candidate's dreams, all advanced as one batch.

    ``params`` [P, n]: one flat controller per row (the CMA-ES population). Episode
    (p, r) has key ``episode_keys(seed, P, rollouts)[p, r]``, so
    ``play_dream(DreamEnv(...), controller_p, key)`` gives the same return. The
    reward is +1 per step, so a return is the number of steps survived; an M with a
    reward head pays its predicted reward instead (summed in float64), the car's return.

    ``same_episodes``: every candidate dreams candidate 0's keys (the same starts and
    the same noise: common random numbers), so two candidates' dreams differ only
    where their actions do.

    Every ``chunk`` steps the noise for the next chunk is generated at once, the
    episodes that ended are dropped from the batch (``compact``) and the loop stops
    if none is left; inside a chunk ended episodes are masked, so there is no host
    synchronisation per step on a GPU.

    ``start_state``: ``(h, c, restart)``, one row per start code, when dreams may begin
    mid-episode (``wmlib.training.dream.recorded_starts``); None: every dream begins at
    a first frame with M's state zero, as in the paper.

    ``dropout``: every episode dreams its own M (one dropout mask on M's heads per episode key).
    """
    check_done_rule(done_rule)
    check_pos_weight(done_pos_weight)
    check_dropout(dropout)
    if tau < 0 or max_steps < 1 or rollouts < 1:
        raise ValueError(f"need tau >= 0, max_steps >= 1, rollouts >= 1 "
                         f"(got tau={tau}, max_steps={max_steps}, rollouts={rollouts})")
    device = resolve_device(device) if device is not None else next(mdnrnn.parameters()).device
    m = mdnrnn if next(mdnrnn.parameters()).device == device else copy.deepcopy(mdnrnn).to(device)
    m.eval()
    params = torch.as_tensor(np.asarray(params, np.float32), device=device)
    if params.dim() != 2:
        raise ValueError(f"params must be [population, n_params], got {tuple(params.shape)}")
    P, R, Z = params.shape[0], int(rollouts), m.z_size
    B, lanes = P * R, 2 * Z + 1
    mu0, logvar0 = _as_codes(first_mu, first_logvar, Z, device)

    keys = np.tile(episode_keys(seed, 1, R), (P, 1)) if same_episodes else episode_keys(seed, P, R)
    words = _words_tensor(keys, device)                                  # [B, 2]
    rows = torch.arange(P, device=device).repeat_interleave(R)
    row_params = params[rows]                                            # [B, n]: each row its weights
    episode = torch.arange(B, device=device)                             # original index of each row
    mask = episode_masks(words, m.hidden, dropout)                       # [B, hidden] or None
    z, idx = first_codes(mu0, logvar0, noise_bits(words, torch.zeros(1, dtype=torch.int64, device=device),
                                                  lanes)[0], Z)
    starts = _as_state(start_state, len(mu0), m.hidden, device)
    if starts is None:
        h, c = m.initial_state(B, device)
        restart = torch.ones(B, device=device)
    else:
        h, c, restart = starts[0][idx][None], starts[1][idx][None], starts[2][idx]
    alive = torch.ones(B, dtype=torch.bool, device=device)
    steps = torch.zeros(B, dtype=torch.int64, device=device)             # = return (+1 per step)
    lengths = torch.zeros(B, dtype=torch.int64, device=device)
    paid = m.has_reward                                                  # M pays its predicted reward
    earned = torch.zeros(B, dtype=torch.float64, device=device) if paid else None
    returns = torch.zeros(B, dtype=torch.float64, device=device) if paid else None
    chunk = chunk or _noise_chunk(B, lanes)

    t = 0
    while t < max_steps:
        if compact and t > 0:                     # drop the episodes that ended (one sync per chunk)
            lengths[episode] = steps
            if paid:
                returns[episode] = earned
            keep = alive.nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            if keep.numel() < alive.numel():
                episode, words, row_params = episode[keep], words[keep], row_params[keep]
                z, h, c, alive, steps = z[keep], h[:, keep], c[:, keep], alive[keep], steps[keep]
                restart = restart[keep]
                earned = earned[keep] if paid else None
                mask = mask[keep] if mask is not None else None
        n = min(chunk, max_steps - t)
        u = bits_to_uniform(noise_bits(words, torch.arange(t + 1, t + n + 1, device=device), lanes))
        for i in range(n):
            x = controller_inputs(world, z, h[0], c[0], mode)
            a = batched_act(world, row_params, x.unsqueeze(1)).squeeze(1)
            with step_kernels(device):
                mix, done_logit, (h, c) = dream_step(m, z, a, (h, c), restart, mask)
            z = sample_from_noise(*mix, tau, u[i, :, :Z], u[i, :, Z:2 * Z])
            steps += alive
            if paid:  # the step's reward, read from the LSTM output the other heads read
                earned += alive * m.predict_reward(_heads_input(h[0], mask)).double()
            alive &= ~done_now(done_logit, u[i, :, 2 * Z], done_rule, done_threshold, done_pos_weight)
            if i == 0 and t == 0:
                restart = torch.zeros_like(restart)
        t += n
        if not compact and not bool(alive.any()):
            break
    lengths[episode] = steps
    if paid:
        returns[episode] = earned
        return returns.reshape(P, R).cpu().numpy()
    return lengths.reshape(P, R).cpu().numpy().astype(np.float64)


__all__ = ["DONE_RULES", "MASK_STEP", "check_dropout", "episode_masks", "dream_step", "episode_words",
           "episode_keys", "noise_bits", "bits_to_uniform",
           "sample_from_noise", "done_now", "first_codes", "check_done_rule", "step_kernels", "world_of",
           "DreamEnv", "play_dream", "dream_rollouts"]
