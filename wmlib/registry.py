"""The worlds and the dream as gymnasium environments.

    gymnasium.make("wmlib/DoomTakeCover-v0")                    # ViZDoom Take Cover, 64x64 frames
    gymnasium.make("wmlib/CarRacing64-v0")                      # CarRacing-v3 cropped to 64x64
    gymnasium.make("wmlib/Dream-v0", mdnrnn=m, first_mu=mu, first_logvar=logvar, tau=1.15)  # M's dream

``import wmlib`` registers them. Each episode cap is the env's own (``max_steps``),
so no extra time limit is wrapped around it. Close what you make
(``with gymnasium.make(...) as env:``): a Doom env holds a game engine process.
"""
from __future__ import annotations

__all__ = ["ENVS", "register"]

ENVS = {
    "wmlib/DoomTakeCover-v0": "wmlib.worlds.envs:DoomTakeCoverEnv",
    "wmlib/CarRacing64-v0": "wmlib.worlds.envs:CarRacingEnv",
    "wmlib/Dream-v0": "wmlib.agent.dream:DreamEnv",
}


def register() -> None:
    """Register every env of ``ENVS`` with gymnasium (again is a no-op)."""
    import gymnasium as gym

    for env_id, entry_point in ENVS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point)
