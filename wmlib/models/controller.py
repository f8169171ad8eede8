"""C: the paper's linear controller, and its flat parameter vector for CMA-ES.

CarRacing: ``a = tanh(W [z, h] + b)``, then steering = a0, gas = (a1 + 1) / 2,
brake = clip(a2, 0, 1): (32 + 256) * 3 + 3 = 867 parameters. The V-only mode
("z") reads z alone (32 * 3 + 3 = 99).
Doom: ``a = tanh(W [z, c, h])`` with no bias, where c is the LSTM cell state:
64 + 512 + 512 = 1,088 parameters, one output (left / stay / right in the env).

The optimizer sees C as one flat vector: ``W`` row-major ([action, input]) then
``b``. ``unflatten`` and ``batched_act`` do the maths for a whole population at
once ([P, n] parameter rows, [P, N, in] inputs), so real-world rollouts and the
dream share exactly the same controller code.
"""
from __future__ import annotations

import numpy as np
import torch

from ..config import world_info

MODES = ("z", "zh")


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"unknown controller mode {mode!r}: use 'z' (V only) or 'zh' (V and M)")
    return mode


def input_size(world: str, z_size: int, hidden: int, mode: str = "zh") -> int:
    """Car reads [z, h]; Doom reads [z, c, h]; mode "z" reads z only."""
    if check_mode(mode) == "z":
        return z_size
    return z_size + (2 * hidden if world_info(world).c_reads_cell else hidden)


def param_count(world: str, z_size: int, hidden: int, mode: str = "zh") -> int:
    n_in, n_out = input_size(world, z_size, hidden, mode), world_info(world).action_size
    return n_in * n_out + (n_out if world_info(world).c_bias else 0)


def controller_inputs(world: str, z, h=None, c=None, mode: str = "zh"):
    """The vector C reads, batched over leading dims: [z] or [z, h] (car) or [z, c, h] (Doom).

    ``h`` and ``c`` are M's hidden and cell state with the same leading dims as ``z``
    (squeeze the LSTM's layer dim first).
    """
    if check_mode(mode) == "z":
        return z
    cell = world_info(world).c_reads_cell
    if h is None or (cell and c is None):
        raise ValueError(f"mode 'zh' needs M's state: pass h{' and c' if cell else ''}")
    parts = [z, c, h] if cell else [z, h]
    if isinstance(z, np.ndarray):
        return np.concatenate([np.asarray(p, np.float32) for p in parts], axis=-1)
    return torch.cat(parts, dim=-1)


def unflatten(world: str, params: torch.Tensor):
    """Flat rows [..., n] -> (W [..., A, in], b [..., A] or None for Doom)."""
    w = world_info(world)
    n_out, n = w.action_size, params.shape[-1]
    n_w = n - n_out if w.c_bias else n
    if n_w <= 0 or n_w % n_out:
        raise ValueError(f"{n} parameters do not fit a {world} controller with {n_out} outputs")
    W = params[..., :n_w].reshape(*params.shape[:-1], n_out, n_w // n_out)
    b = params[..., n_w:] if w.c_bias else None
    return W, b


def input_rms(mean_square, floor: float = 0.05) -> np.ndarray:
    """Each of C's inputs' root mean square, from its mean square [in] along recorded steps, at least ``floor``.

    Doom's C reads M's cell state, which is not squashed: its norm is ~40x z's, so with CMA-ES's first
    steps (sigma0 0.1 on every weight) a few large cells decide C's action and z and h barely count.
    The floor keeps a unit that was ~0 along the records (a dead h unit) from being blown up."""
    ms = np.asarray(mean_square, np.float64)
    if ms.ndim != 1 or not len(ms) or (ms < 0).any() or not np.isfinite(ms).all():
        raise ValueError("input_rms wants one finite, non-negative mean square per input of C")
    return np.maximum(np.sqrt(ms), floor)


def block_rms(rms, world: str, z_size: int, hidden: int) -> np.ndarray:
    """One RMS per block of C's inputs (z; M's c; M's h), each input given its block's: the blocks are put on
    one footing while the units inside a block keep their proportions."""
    rms = np.asarray(rms, np.float64)
    sizes = [z_size] + [hidden] * ((input_size(world, z_size, hidden) - z_size) // hidden)
    if sum(sizes) != len(rms):
        raise ValueError(f"{len(rms)} inputs do not fit a {world} C reading z ({z_size}) and M's state ({hidden})")
    parts = np.split(rms, np.cumsum(sizes)[:-1])
    return np.concatenate([np.full(len(p), np.sqrt(np.mean(np.square(p)))) for p in parts])


def param_scale(world: str, rms) -> np.ndarray:
    """The weight of each of C's flat parameters that makes its search read inputs of RMS 1.

    C is linear, so dividing input i by ``rms[i]`` is the same controller as weights ``W[:, i] / rms[i]``:
    CMA-ES searches ``u`` and plays ``u * scale`` (``agent.evolution.evolve``'s ``scale``), and the
    deployed C is an ordinary controller reading the raw inputs. Biases keep a scale of 1."""
    w = world_info(world)
    rms = np.asarray(rms, np.float64)
    if rms.ndim != 1 or (rms <= 0).any() or not np.isfinite(rms).all():
        raise ValueError("rms must be a vector of positive, finite values (one per input of C)")
    scale = np.tile(1.0 / rms, w.action_size)  # W is row-major [action, input]
    return np.concatenate([scale, np.ones(w.action_size)]) if w.c_bias else scale


_SQUASH = {"tanh": lambda a: a, "half": lambda a: (a + 1) / 2, "clip": lambda a: a.clamp(0, 1)}


def to_env_action(world: str, raw: torch.Tensor) -> torch.Tensor:
    """Pre-activation [..., A] -> the env's action: tanh, then each action's range (the car's gas, brake)."""
    a = torch.tanh(raw)
    squash = world_info(world).c_squash
    if all(s == "tanh" for s in squash):
        return a
    return torch.stack([_SQUASH[s](x) for s, x in zip(squash, a.unbind(-1))], dim=-1)


def batched_act(world: str, params: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """A population acting at once: params [P, n], inputs [P, N, in] -> env actions [P, N, A]."""
    W, b = unflatten(world, params.to(inputs.dtype))
    if W.shape[-1] != inputs.shape[-1]:
        raise ValueError(f"controller reads {W.shape[-1]} inputs but got {inputs.shape[-1]}: "
                         "check z_size, hidden and mode")
    raw = torch.einsum("pni,pai->pna", inputs, W)
    if b is not None:
        raw = raw + b[:, None, :]
    return to_env_action(world, raw)


class Controller(torch.nn.Module):
    """One linear controller; its parameters live in one flat buffer (what CMA-ES evolves)."""

    def __init__(self, world: str, z_size: int, hidden: int, mode: str = "zh"):
        super().__init__()
        self.world, self.mode = world_info(world).name, check_mode(mode)
        self.z_size, self.hidden = int(z_size), int(hidden)
        self.input_size = input_size(world, z_size, hidden, mode)
        self.action_size = world_info(world).action_size
        self.has_bias = world_info(world).c_bias
        self.register_buffer("flat", torch.zeros(param_count(world, z_size, hidden, mode)))

    @property
    def n_params(self) -> int:
        return self.flat.numel()

    def get_flat(self) -> np.ndarray:
        return self.flat.detach().cpu().numpy().astype(np.float64)

    def set_flat(self, vec) -> "Controller":
        vec = torch.as_tensor(np.asarray(vec, np.float32))
        if vec.shape != self.flat.shape:
            raise ValueError(f"expected {self.n_params} parameters for this controller, got {tuple(vec.shape)}")
        self.flat.copy_(vec)
        return self

    @property
    def weight(self) -> torch.Tensor:
        return unflatten(self.world, self.flat)[0]

    @property
    def bias(self):
        return unflatten(self.world, self.flat)[1]

    @torch.no_grad()
    def act(self, z, h=None, c=None):
        """Env action(s) from z (and M's h, c); [in] -> [A] or [B, in] -> [B, A].

        Accepts numpy or torch and answers in kind (numpy float32 for the env).
        """
        as_numpy = isinstance(z, np.ndarray)
        t = lambda x: None if x is None else torch.as_tensor(np.asarray(x, np.float32) if as_numpy else x)
        x = controller_inputs(self.world, t(z), t(h), t(c), self.mode).float()
        lead = x.shape[:-1]
        a = batched_act(self.world, self.flat[None].to(x.device), x.reshape(1, -1, x.shape[-1]))
        a = a.reshape(*lead, self.action_size)
        return a.cpu().numpy().astype(np.float32) if as_numpy else a

    def extra_repr(self) -> str:
        return f"world={self.world}, mode={self.mode}, inputs={self.input_size}, params={self.n_params}"


__all__ = ["MODES", "check_mode", "input_size", "param_count", "controller_inputs", "unflatten",
           "to_env_action", "batched_act", "Controller"]
