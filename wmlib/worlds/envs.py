"""The two real worlds as gymnasium environments with 64x64x3 uint8 frames.

* CarRacing: gymnasium's ``CarRacing-v3``, rows 0:84 kept (the bottom 12 rows
  are the dashboard, which the paper cropped away), resized to 64x64. Its
  96x96 frames are drawn by gymnasium (``renderer="gymnasium"``, the default:
  every score is measured there) or by ``worlds.carracing_fast`` (``"fast"``:
  the same pixels within a fraction of a level, ~7x faster steps; what
  evolution trains on). Physics, rewards and termination are gymnasium's in both.
* Doom Take Cover: ViZDoom's bundled ``take_cover`` scenario, one tic per step,
  HUD off, rendered at 160x120 and resized to 64x64. A continuous action in
  [-1, 1] maps to left / stay / right with thresholds at +-1/3, as the paper's
  wrapper did. Skill 4 reproduces the paper's random-policy survival
  (210 +- 108 steps); skill 5 gives about 66 steps in today's engine.
"""
from __future__ import annotations

import os

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from PIL import Image

from ..config import WORLD, world_info
from ..models.mdnrnn import DOOM_ACTION_THRESHOLD
from .doom_engine import engine_path, scratch_dir

FRAME_SHAPE = (64, 64, 3)
DOOM_ROOM_Y = (16.0, 752.0)  # Take Cover's walls on the agent's axis (measured: right, left); it starts at 384
DOOM_EPISODE_CAP = WORLD["doom"].episode_cap
CAR_EPISODE_CAP = WORLD["carracing"].episode_cap
DOOM_SKILL = WORLD["doom"].skill


def resize_frame(frame: np.ndarray, size: int = 64) -> np.ndarray:
    """Area-style downscale of an HxWx3 uint8 frame to size x size x 3."""
    img = Image.fromarray(frame).resize((size, size), Image.BILINEAR, reducing_gap=2.0)
    return np.array(img, dtype=np.uint8)  # a writable copy (np.asarray of an image is read-only)


def preprocess_car(frame: np.ndarray) -> np.ndarray:
    """96x96 CarRacing frame -> 64x64: drop the dashboard (rows 84:96), resize."""
    return resize_frame(frame[:84])


def doom_action_to_buttons(action: float) -> list[int]:
    """Continuous action in [-1, 1] -> [MOVE_LEFT, MOVE_RIGHT] button states."""
    a = float(np.asarray(action).reshape(-1)[0])
    if a < -DOOM_ACTION_THRESHOLD:
        return [1, 0]
    if a > DOOM_ACTION_THRESHOLD:
        return [0, 1]
    return [0, 0]


class CarRacingEnv(gym.Env):
    """CarRacing-v3 with 64x64 frames and an episode cap (1,000 steps as in the paper).

    ``renderer``: who draws the observation, ``"gymnasium"`` (the official pixels) or
    ``"fast"`` (``worlds.carracing_fast``); see the module docstring.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": WORLD["carracing"].fps}

    def __init__(self, max_steps: int = CAR_EPISODE_CAP, render_mode: str | None = None,
                 renderer: str = "gymnasium"):
        from .carracing_fast import make_carracing

        self.env = make_carracing(renderer, continuous=True, render_mode=render_mode,
                                  max_episode_steps=max_steps)
        self.renderer = renderer
        self.observation_space = spaces.Box(0, 255, FRAME_SHAPE, np.uint8)
        self.action_space = self.env.action_space
        self.render_mode = render_mode
        self.max_steps = max_steps
        self.last_raw_frame: np.ndarray | None = None

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        obs, info = self.env.reset(seed=seed, options=options)
        self.last_raw_frame = obs
        return preprocess_car(obs), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(np.asarray(action, np.float32))
        self.last_raw_frame = obs
        return preprocess_car(obs), float(reward), terminated, truncated, info

    def render(self):
        return self.env.render() if self.render_mode else self.last_raw_frame

    def close(self):
        self.env.close()


class DoomTakeCoverEnv(gym.Env):
    """ViZDoom Take Cover; reward +1 per tic survived, so the return is the survival time."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": WORLD["doom"].fps}

    def __init__(self, max_steps: int = DOOM_EPISODE_CAP, skill: int = DOOM_SKILL,
                 render_mode: str | None = None):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode {render_mode!r} not supported: use None or 'rgb_array'")
        self.max_steps = int(max_steps)
        self.skill = int(skill)
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0, 255, FRAME_SHAPE, np.uint8)
        self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        self._game = None
        self._steps = 0
        self._raw = np.zeros((120, 160, 3), np.uint8)
        self.last_raw_frame = self._raw

    def _make_game(self):
        import vizdoom as vzd

        game = vzd.DoomGame()
        game.load_config(os.path.join(vzd.scenarios_path, "take_cover.cfg"))
        game.set_window_visible(False)
        # The engine writes an .ini (and a _vizdoom/ folder) beside its config file:
        # keep them in a temp folder, not in whatever directory we run from.
        game.set_doom_config_path(os.path.join(scratch_dir(), "_vizdoom.ini"))
        engine = engine_path()  # an engine that dies with this process, however it ends
        if engine:
            game.set_vizdoom_path(engine)
        game.set_screen_resolution(vzd.ScreenResolution.RES_160X120)
        game.set_screen_format(vzd.ScreenFormat.RGB24)
        game.set_render_hud(False)
        game.set_doom_skill(self.skill)
        # take_cover.cfg has no timeout; the scenario starts at tic 1.
        game.set_episode_timeout(self.max_steps + 1)
        game.set_mode(vzd.Mode.PLAYER)
        game.init()
        return game

    def _frame(self) -> np.ndarray:
        state = self._game.get_state()
        if state is not None:  # None once the episode has finished: keep the last frame
            self._raw = state.screen_buffer
            self.last_raw_frame = self._raw
        return resize_frame(self._raw)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if self._game is None:
            self._game = self._make_game()
        # ViZDoom has its own RNG: derive its seed from gymnasium's, so reset(seed=s) repeats.
        self._game.set_seed(int(self.np_random.integers(0, 2**31 - 1)))
        self._game.new_episode()
        self._steps = 0
        return self._frame(), {}

    def step(self, action):
        if self._game is None:
            raise RuntimeError("call reset() before step()")
        reward = self._game.make_action(doom_action_to_buttons(action), 1)
        self._steps += 1
        finished = self._game.is_episode_finished()
        dead = bool(self._game.is_player_dead())
        terminated = finished and dead
        truncated = (finished and not dead) or self._steps >= self.max_steps
        obs = self._frame()
        return obs, float(reward), terminated, bool(truncated and not terminated), {"y": self.position()}

    def position(self) -> float:
        """The agent's place along the room's one axis (map units): DOOM_ROOM_Y[0] is the right wall."""
        import vizdoom as vzd

        return float(self._game.get_game_variable(vzd.GameVariable.POSITION_Y))

    def render(self):
        return self.last_raw_frame.copy()

    def close(self):
        if self._game is not None:
            self._game.close()
            self._game = None


ENVS = {"doom": DoomTakeCoverEnv, "carracing": CarRacingEnv}  # each world's env class


def make_env(world: str, max_steps: int | None = None, render_mode: str | None = None,
             skill: int = DOOM_SKILL, renderer: str = "gymnasium") -> gym.Env:
    """The real world by name: ``doom`` or ``carracing`` (``skill`` is Doom's difficulty).

    ``renderer`` picks CarRacing's frame drawing (``"gymnasium"`` or ``"fast"``); Doom has
    one renderer, its engine's, whatever is asked.
    """
    w = world_info(world)
    options = {}
    if w.skill is not None:      # a game with difficulty levels
        options["skill"] = skill
    if w.renderer is None:       # a world whose frames can be drawn more than one way
        options["renderer"] = renderer
    return ENVS[w.name](max_steps=max_steps or w.episode_cap, render_mode=render_mode, **options)


__all__ = ["FRAME_SHAPE", "DOOM_EPISODE_CAP", "CAR_EPISODE_CAP", "DOOM_SKILL", "resize_frame",
           "preprocess_car", "doom_action_to_buttons", "CarRacingEnv", "DoomTakeCoverEnv", "make_env"]
