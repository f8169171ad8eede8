"""The dream, played by hand or by C (notebooks 02 and 04)."""
from __future__ import annotations

import numpy as np

from .base import _Shown, to_png

# ----------------------------------------------------------------------------- the dream

DOOM_ACTIONS = {"left": (-1.0,), "stay": (0.0,), "right": (1.0,)}
CAR_ACTIONS = {"left": (-1.0, 0.3, 0.0), "straight": (0.0, 0.5, 0.0), "right": (1.0, 0.3, 0.0),
               "brake": (0.0, 0.0, 0.8)}


def as_controller(controller, world: str, z_size: int, hidden: int):
    """A ``Controller``, or a flat parameter vector whose length says the mode ("zh" or "z")."""
    from ...models.controller import Controller, param_count

    if controller is None or isinstance(controller, Controller):
        return controller
    params = np.asarray(controller, np.float64).reshape(-1)
    for mode in ("zh", "z"):
        if len(params) == param_count(world, z_size, hidden, mode):
            return Controller(world, z_size, hidden, mode).set_flat(params)
    raise ValueError(f"{len(params)} parameters fit no {world} controller for z = {z_size}, LSTM {hidden} "
                     f"(zh: {param_count(world, z_size, hidden, 'zh')}, z: {param_count(world, z_size, hidden, 'z')})")


def describe_action(world: str, action) -> str:
    a = np.asarray(action, np.float32).reshape(-1)
    if world == "doom":
        word = "left" if a[0] < -1 / 3 else "right" if a[0] > 1 / 3 else "stay"
        return f"{word} (a = {a[0]:+.2f})"
    return f"steer {a[0]:+.2f}, gas {a[1]:.2f}, brake {a[2]:.2f}"


class DreamPlayer(_Shown):
    """Play inside M's dream (a ``DreamEnv``), by hand or with a trained C as autopilot.

    Doom: left / stay / right; CarRacing: left / straight / right / brake. Each
    press feeds that action to M, which samples the next code at the temperature
    of the ``tau`` slider; V decodes it into the frame shown, and for Doom M's
    death probability for that step is drawn as a bar (the dream ends when it
    passes the env's threshold, or at the cap; the car's M has no death head).

    ``controller`` (a ``Controller`` or a flat parameter vector, e.g. the shipped
    C) switches the **autopilot** on: **Play** then lets C drive by itself, one
    step per tick. Press a direction while it drives and you take over for
    ``override_steps`` steps, then C has the wheel again; switch the autopilot
    off to drive alone (Play then repeats your last choice). After a dream ends,
    the next press or tick starts a new one.
    State as plain values: ``.frame``, ``.done_prob``, ``.steps``, ``.ended``,
    ``.died``, ``.probs`` (this dream's death probabilities), ``.dreams``,
    ``.drivers`` (who chose each step: "you" or "C"), ``.last_action``.
    """

    ACTIONS = {"left": -1.0, "stay": 0.0, "right": 1.0}  # Doom's buttons (kept for older callers)

    def __init__(self, env, seed: int = 0, scale: int = 4, controller=None, tau_range=(0.0, 2.0),
                 interval: int = 300, override_steps: int = 10):
        import ipywidgets as W

        if env.vae is None:
            raise ValueError("the player shows V's decoding of the dream: build the DreamEnv with vae=load_vae(cfg)")
        self.env, self.seed, self.scale = env, int(seed), scale
        self.world = env.world
        self.actions = DOOM_ACTIONS if self.world == "doom" else CAR_ACTIONS
        if env.action_space.shape != (len(next(iter(self.actions.values()))),):
            raise ValueError(f"a {self.world} dream needs {self.world} actions, got {env.action_space}")
        self.has_death = env.m.has_done
        self.controller = as_controller(controller, self.world, env.z_size, env.hidden)
        self.override_steps = int(override_steps)
        self.held, self.override = next(iter(k for k in self.actions if k in ("stay", "straight"))), 0
        width = "80px"
        self.buttons = {name: W.Button(description=name, layout=W.Layout(width=width)) for name in self.actions}
        for name, button in self.buttons.items():
            button.on_click(lambda _, name=name: self.step(name))
        self.new_button = W.Button(description="new dream", layout=W.Layout(width="100px"))
        self.new_button.on_click(lambda _: self.new_dream())
        self.autopilot = W.ToggleButton(value=self.controller is not None, description="autopilot (C)",
                                        disabled=self.controller is None, icon="car",
                                        tooltip="the trained C drives; press a direction to take over")
        self.autopilot.observe(lambda _: self._redraw(), names="value")
        self.play = W.Play(value=0, min=0, max=10**9, step=1, interval=int(interval), description="play",
                           show_repeat=False)
        self.play.observe(lambda _: self.tick(), names="value")
        hi = max(float(tau_range[1]), env.tau)
        self.tau = W.FloatSlider(value=env.tau, min=float(tau_range[0]), max=hi, step=0.05, description="tau",
                                 readout_format=".2f", continuous_update=False)
        self.tau.observe(self._set_tau, names="value")
        self.image = W.Image(format="png")
        self.death = W.FloatProgress(value=0.0, min=0.0, max=1.0, description="p(death)")
        if not self.has_death:
            self.death.layout.display = "none"
        self.status = W.HTML()
        self.widget = W.VBox([W.HBox([self.image, W.VBox([self.death, self.status])]),
                              W.HBox([*self.buttons.values(), self.new_button]),
                              W.HBox([self.play, self.autopilot, self.tau])])
        self.dreams = 0
        self.new_dream()

    @property
    def frame(self) -> np.ndarray:
        """V's decoding of the dream's current code, uint8 [64, 64, 3]."""
        return self.env.decode()

    @property
    def done_prob(self) -> float:
        return self.probs[-1] if self.probs else 0.0

    def autopilot_action(self) -> np.ndarray | None:
        """What C would do now, or None without a controller."""
        if self.controller is None:
            return None
        z, c, h = self.env.split_obs(self.obs)
        return np.asarray(self.controller.act(z, h, c), np.float32).reshape(-1)

    def new_dream(self) -> None:
        self.dreams += 1
        self.obs, _ = self.env.reset(seed=self.seed + self.dreams)
        self.steps, self.ended, self.died, self.probs, self.drivers = 0, False, False, [], []
        self.last_action, self.override = None, 0
        self._redraw()

    def _advance(self, action, driver: str) -> None:
        action = np.asarray(action, np.float32).reshape(-1)
        self.obs, _, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        self.last_action = action
        self.drivers.append(driver)
        self.probs.append(float(info["done_prob"]))
        self.ended, self.died = bool(terminated or truncated), bool(terminated)
        self._redraw()

    def step(self, action: str) -> None:
        """You press ``action``: one step with it (C lets go for ``override_steps``); after the end, a new dream."""
        if action not in self.actions:
            raise ValueError(f"unknown action {action!r}: use one of {', '.join(self.actions)}")
        if self.ended:
            self.new_dream()
            return
        self.held = action
        self.override = self.override_steps if self.autopilot.value else 0
        self._advance(self.actions[action], "you")

    def tick(self) -> None:
        """One step on its own (what Play does): C drives unless you took over; after the end, a new dream."""
        if self.ended:
            self.new_dream()
            return
        if self.autopilot.value and self.controller is not None and self.override <= 0:
            self._advance(self.autopilot_action(), "C")
            return
        self.override = max(0, self.override - 1)
        self._advance(self.actions[self.held], "you")

    def _set_tau(self, change) -> None:
        self.env.tau = float(change["new"])
        self._redraw()

    def _redraw(self) -> None:
        self.image.value = to_png(self.frame, self.scale)
        self.death.value = self.done_prob
        self.death.bar_style = "danger" if self.done_prob > self.env.done_threshold else "info"
        text = f"dream {self.dreams}, step {self.steps} (tau = {self.env.tau:g})"
        if self.has_death:
            text += f"; M's death probability {self.done_prob:.3f}"
        if self.last_action is not None:
            who = "you" if self.drivers[-1] == "you" else "the autopilot (C)"
            text += f"<br>last step: {describe_action(self.world, self.last_action)}, chosen by {who}"
        if self.controller is not None and not self.ended:
            mode = "on" if self.autopilot.value else "off"
            text += f"<br>autopilot {mode}; C would now do: {describe_action(self.world, self.autopilot_action())}"
            if self.autopilot.value and self.override > 0:
                text += f" (you hold the wheel for {self.override} more steps)"
        if self.died:
            text += f"<br><b>M says you died</b> after {self.steps} steps: click any button for a new dream"
        elif self.ended:
            text += f"<br><b>you survived the dream's cap</b> of {self.env.max_steps} steps: click for a new dream"
        self.status.value = text


__all__ = ["DreamPlayer", "as_controller", "describe_action"]
