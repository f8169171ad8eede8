"""Random data-collection policies, as in the paper.

Doom: hold a uniform action in [-1, 1] for 1-10 steps (the paper's wrapper).
Held actions move the agent further than per-step noise, so this policy
survives longer (about 323 +- 158 steps at skill 4) than the uniform per-step
policy that the paper's score table calls "random" (about 211 +- 101 steps;
paper 210 +- 108). ``UniformRandomPolicy`` is that baseline.

CarRacing: a smooth random walk rather than the original code's random-weight
controller. A random linear controller needs V's codes as input, which do not
exist before V is trained, and with a fixed random weight matrix each episode
mostly repeats one behaviour (circling, or sitting still). The walk keeps the
car moving (gas biased on) while steering drifts left and right, so V and M see
straights, both kinds of turn, grass and recoveries.
"""
from __future__ import annotations

import numpy as np

from ..config import world_info


class DoomRandomPolicy:
    """Uniform action in [-1, 1], held for a random 1..hold_max steps (the paper: 1-10).

    Longer holds carry the agent to the walls, which 1-10 step holds rarely reach.
    """

    def __init__(self, rng: np.random.Generator, hold_max: int = 10):
        if int(hold_max) < 1:
            raise ValueError(f"hold_max must be at least 1 step (got {hold_max}): fix collect.hold_max")
        self.rng, self.hold_max = rng, int(hold_max)
        self.action = np.zeros(1, np.float32)
        self.hold = 0

    def __call__(self, obs=None) -> np.ndarray:
        if self.hold == 0:
            self.action = self.rng.uniform(-1.0, 1.0, size=1).astype(np.float32)
            self.hold = int(self.rng.integers(1, self.hold_max + 1))
        self.hold -= 1
        return self.action.copy()


class CarRandomWalkPolicy:
    """Mean-reverting random walk on steering; gas mostly on; brake in short taps."""

    def __init__(self, rng: np.random.Generator, steer_noise: float = 0.25,
                 steer_reversion: float = 0.1):
        self.rng = rng
        self.steer_noise = steer_noise
        self.steer_reversion = steer_reversion
        self.steer = 0.0
        self.gas = float(rng.uniform(0.3, 1.0))
        self.brake_steps = 0

    def __call__(self, obs=None) -> np.ndarray:
        rng = self.rng
        self.steer += -self.steer_reversion * self.steer + self.steer_noise * rng.normal()
        self.steer = float(np.clip(self.steer, -1.0, 1.0))
        if rng.random() < 0.05:  # change speed now and then
            self.gas = float(rng.uniform(0.0, 1.0))
        if self.brake_steps == 0 and rng.random() < 0.02:
            self.brake_steps = int(rng.integers(2, 10))
        brake = 0.0
        if self.brake_steps > 0:
            self.brake_steps -= 1
            brake = float(rng.uniform(0.2, 0.8))
        return np.array([self.steer, self.gas, brake], np.float32)


class UniformRandomPolicy:
    """A fresh uniform action every step: the 'random policy' of the paper's score table."""

    def __init__(self, world: str, rng: np.random.Generator):
        self.rng = rng
        w = world_info(world)
        self.low, self.high = np.array(w.action_low), np.array(w.action_high)

    def __call__(self, obs=None) -> np.ndarray:
        return self.rng.uniform(self.low, self.high).astype(np.float32)


def random_policy(world: str, rng: np.random.Generator, hold_max: int = 10):
    """The data-collection policy of each world (``hold_max``: Doom's longest hold)."""
    if world_info(world).random_play == "hold":
        return DoomRandomPolicy(rng, hold_max)
    return CarRandomWalkPolicy(rng)


def describe_random_play(world: str, hold_max: int) -> str:
    """The data-collection policy in words (model cards)."""
    if world_info(world).random_play == "hold":
        return f"a uniform action held 1-{hold_max} steps"
    return "a smooth random walk"


__all__ = ["DoomRandomPolicy", "CarRandomWalkPolicy", "UniformRandomPolicy", "random_policy", "describe_random_play"]
