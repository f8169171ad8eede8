"""The worlds and the dream as gymnasium environments.

    gymnasium.make("wmlib/DoomTakeCover-v0")                    # ViZDoom Take Cover, 64x64 frames
    gymnasium.make("wmlib/CarRacing64-v0")                      # CarRacing-v3 cropped to 64x64
    gymnasium.make("wmlib/Dream-v0", world="doom")              # M's dream: your M at the profile, else the
                                                                # shipped one, with the profile's dream settings
    gymnasium.make("wmlib/Dream-v0", mdnrnn=m, first_mu=mu, first_logvar=logvar, tau=1.15)  # any M

``import wmlib`` registers them. Each episode cap is the env's own (``max_steps``),
so no extra time limit is wrapped around it. Close what you make
(``with gymnasium.make(...) as env:``): a Doom env holds a game engine process.
"""
from __future__ import annotations

__all__ = ["ENVS", "register", "make_dream"]

ENVS = {
    "wmlib/DoomTakeCover-v0": "wmlib.worlds.envs:DoomTakeCoverEnv",
    "wmlib/CarRacing64-v0": "wmlib.worlds.envs:CarRacingEnv",
    "wmlib/Dream-v0": "wmlib.registry:make_dream",
}


def make_dream(world: str | None = None, profile: str | None = None, mdnrnn=None, first_mu=None,
               first_logvar=None, **settings):
    """M's dream as a gymnasium env (``DreamEnv``).

    ``world`` alone: the reader's own V and M at ``profile`` (``WM_PROFILE``) when trained, else the
    shipped ones, dreaming with that profile's settings (tau, episode cap, done rule and the done
    head's weighting, which the ``sample`` rule un-weights). ``mdnrnn`` with its first-frame codes:
    that M, with ``DreamEnv``'s defaults. ``settings`` override either (``tau=1.3``, ``render_mode``).
    """
    from .agent.dream import DreamEnv

    if mdnrnn is not None:
        return DreamEnv(mdnrnn, first_mu, first_logvar, **settings)
    if world is None:
        raise ValueError('name the dream: gymnasium.make("wmlib/Dream-v0", world="doom") (or "carracing"), '
                         "or pass mdnrnn=, first_mu=, first_logvar=")
    from .book.pretrained import world_model_for
    from .config import get_config

    cfg = get_config(world, profile)
    wm, d = world_model_for(cfg), cfg.dream
    chosen = dict(tau=d.tau, max_steps=d.max_steps, done_rule=d.done_rule, done_threshold=d.done_threshold,
                  done_pos_weight=cfg.mdnrnn.done_pos_weight, world=cfg.world, vae=wm["vae"])
    chosen.update(settings)
    return DreamEnv(wm["mdnrnn"], wm["first_mu"], wm["first_logvar"], **chosen)


def register() -> None:
    """Register every env of ``ENVS`` with gymnasium (again is a no-op)."""
    import gymnasium as gym

    for env_id, entry_point in ENVS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point)
