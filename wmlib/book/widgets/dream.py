"""The dream, played by hand or by C (notebooks 02 and 04)."""
from __future__ import annotations

import numpy as np

from ...config import WORLD, world_info
from ...models.mdnrnn import DOOM_ACTION_THRESHOLD
from .base import _Shown, to_png

# ----------------------------------------------------------------------------- the dream

DOOM_ACTIONS = dict(WORLD["doom"].buttons)
CAR_ACTIONS = dict(WORLD["carracing"].buttons)


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


# ----------------------------------------------------------------------------- whose agent flies the dream

def round_c_on_disk(cfg, k: int):
    """The reader's C of round ``k`` as the round's files recorded it, or None; never trains or plays.

    Round 0: the C evolved in the pipeline M's dream at ``cfg.dream.tau`` (its deployed mean).
    Round k > 0: the C the round scored (``round-K/controller.pt``); for a round scored before that file
    existed, among the Cs its CMA-ES runs offer (and round k-1's), the one whose checksum the round's
    ``score.json`` holds, else the one its ``choice.json`` names. (``iterate.round_params``
    would play the validation games again when a choice file is missing: this only reads.)
    """
    from ... import paths
    from ...agent.evolution import CHECKPOINT, load_result
    from ...artifacts import read_json
    from ...training import iterate
    from ...training.c_run import params_sha256

    if k == 0:
        folder = paths.dream_dir(cfg, cfg.dream.tau)
        return load_result(folder).deployed_params if (folder / CHECKPOINT).exists() else None
    scored = iterate.scored_params(cfg, k)  # the C the round scored, recorded beside its score
    if scored is not None:
        return scored
    offered = {}
    for r in range(max(1, cfg.iterate.restarts)):
        folder = paths.round_run_dir(cfg, k, r)
        if (folder / CHECKPOINT).exists():
            run = iterate.run_candidates(load_result(folder), generations=True)
            offered.update({which if r == 0 else f"r{r}/{which}": p for which, p in run.items()})
    previous = round_c_on_disk(cfg, k - 1)
    if previous is not None:
        offered[iterate.INCUMBENT] = np.asarray(previous, np.float64)
    score, choice = paths.round_score(cfg, k), paths.round_dir(cfg, k) / "choice.json"
    want = read_json(score).get("key", {}).get("params") if score.exists() else None
    if want is not None:
        for p in offered.values():
            if params_sha256(p) == want:
                return p
    chosen = read_json(choice).get("chosen") if choice.exists() else None
    if chosen in offered:
        return offered[chosen]
    if not cfg.iterate.validation_games and "deployed" in offered:  # no choice to make: the run's deployed C
        return offered["deployed"]
    return None


def dream_agent_for(cfg) -> dict:
    """V, M, the first-frame codes and the C that flies their dream: the reader's own when on disk,
    else the shipped ones (V, M and C always from one source: C reads that M's memory).

    The reader's: the last round of iterative training on disk (``iterate.last_round``, as
    ``reproduce doom`` leaves it) with its C and its M, else round 0 (the C evolved in the pipeline
    M's dream). Reads files only. -> dict(vae, mdnrnn, first_mu, first_logvar, controller (flat
    parameters), round, source, done_pos_weight (M's training weight on deaths), real_z (how the real
    game feeds C: V's "mean" code or a "sample"), note: a line on what was found).
    """
    from ...config import get_config
    from ...training import iterate
    from ..pretrained import load_shipped_controller_params, shipped_card, world_model_for
    from ..recorded import SHIPPED_PROFILE

    wm = world_model_for(cfg)
    note = ""
    if not wm["source"].startswith("the shipped"):
        for k in range(iterate.last_round(cfg), -1, -1):
            params = round_c_on_disk(cfg, k)
            if params is None:
                continue
            m = wm["mdnrnn"] if k == 0 else iterate.load_round_mdnrnn(cfg, k)
            what = "C evolved in your M's dream" if k == 0 else f"round {k}'s C and M (iterative training)"
            return dict(wm, mdnrnn=m, controller=np.asarray(params, np.float64), round=k,
                        source=f"your V and M ({cfg.profile} profile), {what}",
                        done_pos_weight=cfg.mdnrnn.done_pos_weight, real_z=cfg.dream.real_z,
                        note=f"your own agent: round {k} of your {cfg.profile} run")
        note = (f"your V and M ({cfg.profile} profile) have no C evolved in their dream yet, so the shipped "
                "agent plays: train one below, or run `python -m wmlib reproduce doom`")
    from ..pretrained import load_shipped_checkpoint, load_shipped_mdnrnn, load_shipped_vae

    ck = load_shipped_checkpoint(cfg.world, "mdnrnn")
    card = shipped_card(cfg.world)
    k = int(card.get("round") or 0)
    return dict(vae=load_shipped_vae(cfg.world), mdnrnn=load_shipped_mdnrnn(cfg.world),
                first_mu=ck["first_mu"].float().numpy(), first_logvar=ck["first_logvar"].float().numpy(),
                controller=load_shipped_controller_params(cfg.world), round=k,
                source=f"the shipped V, M and C ({SHIPPED_PROFILE} profile{f', round {k}' if k else ''})",
                done_pos_weight=get_config(cfg.world, SHIPPED_PROFILE).mdnrnn.done_pos_weight,
                real_z=card.get("real_z", "mean"),
                note=note or "the shipped agent (you have no V and M of your own at this profile yet)")


def dream_env_for(agent: dict, cfg, tau: float | None = None, max_steps: int | None = None):
    """A ``DreamEnv`` of ``dream_agent_for``'s agent under ``cfg``'s dream rules (done rule, cap)."""
    from ...agent.dream import DreamEnv

    d = cfg.dream
    return DreamEnv(agent["mdnrnn"], agent["first_mu"], agent["first_logvar"], tau=d.tau if tau is None else tau,
                    max_steps=max_steps or d.max_steps, vae=agent["vae"], world=cfg.world, done_rule=d.done_rule,
                    done_threshold=d.done_threshold, done_pos_weight=agent["done_pos_weight"])


def describe_done_rule(rule: str, threshold: float = 0.5) -> str:
    """What ends a dream under ``cfg.dream.done_rule`` (and what the player's death bar shows), in words."""
    if rule == "threshold":
        return (f"the dream ends when M's death probability passes {threshold:g} (the original code's rule); "
                "the bar shows that probability")
    if rule == "sample":
        return ("each step the dream draws death with M's probability that this step killed you (its training "
                "weight on deaths taken out, so it is a true chance); the bar shows that chance: even a small one, "
                "drawn step after step, adds up")
    if rule == "never":
        return "M never ends the dream: only the cap does"
    raise ValueError(f"unknown done rule {rule!r}: use threshold, sample or never")


def death_chance(done_prob: float, rule: str, pos_weight: float = 1.0) -> float:
    """The probability the rule acts on: the head's own (weighted) one for "threshold", the un-weighted
    chance ``sigmoid(logit - log(pos_weight))`` for "sample" (``wmlib.agent.dream.done_now``)."""
    p = float(done_prob)
    if rule != "sample" or pos_weight == 1.0:
        return p
    return p / (p + (1.0 - p) * float(pos_weight)) if p > 0 else 0.0


def describe_action(world: str, action) -> str:
    a = np.asarray(action, np.float32).reshape(-1)
    w = world_info(world)
    if w.plays_levels:  # the button the game plays: left / stay / right
        level = float(a[0] > DOOM_ACTION_THRESHOLD) - float(a[0] < -DOOM_ACTION_THRESHOLD)
        word = next(name for name, act in w.buttons if act[0] == level)
        return f"{word} (a = {a[0]:+.2f})"
    return f"steer {a[0]:+.2f}, gas {a[1]:.2f}, brake {a[2]:.2f}"


class DreamPlayer(_Shown):
    """Play inside M's dream (a ``DreamEnv``), by hand or with a trained C as autopilot.

    Doom: left / stay / right; CarRacing: left / straight / right / brake. Each
    press feeds that action to M, which samples the next code at the temperature
    of the ``tau`` slider; V decodes it into the frame shown, and for Doom the bar
    shows what the dream's done rule acts on (``describe_done_rule``): M's death
    probability under "threshold", the un-weighted chance of death drawn each step
    under "sample" (the car's M has no death head; every dream ends at the cap).

    Keys (with the pointer over the picture, via ipyevents): left / right arrows or
    a / d steer, up or w goes straight (Doom: stay), down or s brakes (Doom: stay),
    space switches the autopilot; ``on_key`` takes the event dict, so it is tested
    without a browser.

    ``controller`` (a ``Controller`` or a flat parameter vector, e.g. the shipped
    C) switches the **autopilot** on: **Play** then lets C drive by itself, one
    step per tick. Press a direction while it drives and you take over for
    ``override_steps`` steps, then C has the wheel again; switch the autopilot
    off to drive alone (Play then repeats your last choice). After a dream ends,
    the next press or tick starts a new one.
    State as plain values: ``.frame``, ``.done_prob``, ``.steps``, ``.ended``,
    ``.died``, ``.probs`` (this dream's death probabilities), ``.dreams``,
    ``.drivers`` (who chose each step: "you" or "C"), ``.last_action``, ``.death_chance``.
    """

    KEYS = {"ArrowLeft": "left", "a": "left", "ArrowRight": "right", "d": "right",
            "ArrowUp": "straight", "w": "straight", "ArrowDown": "brake", "s": "brake"}
    ACTIONS = {"left": -1.0, "stay": 0.0, "right": 1.0}  # Doom's buttons (kept for older callers)

    def __init__(self, env, seed: int = 0, scale: int = 4, controller=None, tau_range=(0.0, 2.0),
                 interval: int = 300, override_steps: int = 10):
        import ipywidgets as W

        if env.vae is None:
            raise ValueError("the player shows V's decoding of the dream: build the DreamEnv with vae=load_vae(cfg)")
        self.env, self.seed, self.scale = env, int(seed), scale
        self.world = env.world
        self.actions = dict(world_info(self.world).buttons)
        if env.action_space.shape != (len(next(iter(self.actions.values()))),):
            raise ValueError(f"a {self.world} dream needs {self.world} actions, got {env.action_space}")
        self.has_death = env.m.has_done
        self.rule = env.done_rule if self.has_death else "never"
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
        self.rule_note = W.HTML(f"<small>{describe_done_rule(self.rule, env.done_threshold)}</small>"
                                if self.has_death else "")
        self.keys_note = W.HTML("<small>keys, with the pointer over the picture: &larr; &rarr; (or a, d) steer, "
                                "&uarr; / &darr; (w, s) " + " / ".join(dict.fromkeys(
                                    self.key_action(k) for k in ("ArrowUp", "ArrowDown")))
                                + ", space switches the autopilot</small>")
        self.widget = W.VBox([W.HBox([self.image, W.VBox([self.death, self.status, self.rule_note])]),
                              W.HBox([*self.buttons.values(), self.new_button]),
                              W.HBox([self.play, self.autopilot, self.tau]), self.keys_note])
        self.events = self._listen()
        self.dreams = 0
        self.new_dream()

    def _listen(self):
        """Key presses on the picture go to ``on_key`` (None where ipyevents is missing)."""
        try:
            from ipyevents import Event
        except ImportError:  # the buttons still work
            return None
        events = Event(source=self.image, watched_events=["keydown"], prevent_default_action=True)
        events.on_dom_event(self.on_key)
        return events

    def key_action(self, key: str) -> str | None:
        """The button a key stands for in this world (None: not a driving key)."""
        name = self.KEYS.get(key if len(key) > 1 else key.lower())
        if name is None:
            return None
        return name if name in self.actions else world_info(self.world).idle  # Doom: up / down stay

    def on_key(self, event: dict) -> str | None:
        """A keyboard event (ipyevents' dict: type, key, code) -> what it did: a button's name,
        "autopilot" (space switches it, when there is a C), or None."""
        if event.get("type", "keydown") != "keydown":
            return None
        key = str(event.get("key", ""))
        if key in (" ", "Spacebar") or event.get("code") == "Space":
            if self.controller is None:
                return None
            self.autopilot.value = not self.autopilot.value
            return "autopilot"
        name = self.key_action(key)
        if name is not None:
            self.step(name)
        return name

    @property
    def frame(self) -> np.ndarray:
        """V's decoding of the dream's current code, uint8 [64, 64, 3]."""
        return self.env.decode()

    @property
    def done_prob(self) -> float:
        """M's death probability for the last step (its head's own, as ``DreamEnv`` reports it)."""
        return self.probs[-1] if self.probs else 0.0

    @property
    def death_chance(self) -> float:
        """What the done rule acts on for the last step (see ``death_chance``): what the bar shows."""
        return death_chance(self.done_prob, self.rule, getattr(self.env, "done_pos_weight", 1.0))

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
        p = self.death_chance
        self.death.value = p
        if self.rule == "threshold":
            self.death.bar_style = "danger" if p > self.env.done_threshold else "info"
        else:
            self.death.bar_style = "danger" if self.died else "info"
        self.death.description = "p(death)" if self.rule == "threshold" else "death chance"
        text = f"dream {self.dreams}, step {self.steps} (tau = {self.env.tau:g})"
        if self.rule == "threshold":
            text += f"; M's death probability {p:.3f}"
        elif self.rule == "sample":
            text += f"; chance of death this step {p:.3f}, drawn"
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

    @property
    def book_caption(self) -> str:
        who = "the autopilot (C)" if self.controller is not None else "a player holding still"
        return f"a dream at tau {self.env.tau:g}, flown by {who}; the bar under it: {self.death.description}"

    def book_frames(self, steps: int = 100, seed: int | None = None) -> list:
        """One dream flown by the autopilot (else holding still), frame by frame with the death bar under
        each: the published book's animation. Plays a copy of the dream: the widget's state is kept."""
        import copy

        env = copy.copy(self.env)  # reset and step assign new tensors: the player's own dream is untouched
        obs, _ = env.reset(seed=self.seed + 10_000 if seed is None else int(seed))
        hold = np.asarray(self.actions[world_info(self.world).idle], np.float32)
        frames = []
        for t in range(int(steps)):
            prob = death_chance(env.done_prob, self.rule, getattr(env, "done_pos_weight", 1.0))  # 0 at the start
            frames.append(_with_bar(env.decode(), prob if self.has_death else None))
            if self.controller is None:
                a = hold
            else:
                z, c, h = env.split_obs(obs)
                a = np.asarray(self.controller.act(z, h, c), np.float32).reshape(-1)
            obs, _, terminated, truncated, _ = env.step(a)
            if terminated or truncated:
                prob = death_chance(env.done_prob, self.rule, getattr(env, "done_pos_weight", 1.0))
                frames.append(_with_bar(env.decode(), prob if self.has_death else None, ended=bool(terminated)))
                break
        return frames


def _with_bar(frame: np.ndarray, prob: float | None, ended: bool = False) -> np.ndarray:
    """A dream frame with a bar under it (its length: ``prob``; red when the dream ended in a death)."""
    frame = np.asarray(frame, np.uint8)
    if prob is None:
        return frame
    h, w, _ = frame.shape
    bar = np.full((6, w, 3), 235, np.uint8)
    bar[2:, :max(0, min(w, int(round(float(prob) * w))))] = (200, 40, 40) if ended else (60, 120, 200)
    if ended:
        bar[:2] = (200, 40, 40)
    return np.concatenate([frame, bar])


__all__ = ["DreamPlayer", "as_controller", "describe_action", "describe_done_rule", "death_chance",
           "round_c_on_disk", "dream_agent_for", "dream_env_for"]
