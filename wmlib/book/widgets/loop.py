"""The agent loop, animated in reality or the dream (notebook 03)."""
from __future__ import annotations

import numpy as np

from .base import _Shown, figure_png
from .dream import as_controller

# ----------------------------------------------------------------------------- the loop, animated

LOOP_STAGES = ("frame", "V", "C", "world", "M")


def record_loop(vae, mdnrnn, controller, steps: int, env=None, dream=None, seed: int = 0) -> dict:
    """Play the agent's loop for ``steps`` steps and keep what flows round it.

    Reality (``env``, a real world with 64x64 frames): z is V's mean code of the
    frame. Dream (``dream``, a ``DreamEnv``): z is M's sample and the frame is V's
    drawing of it. -> dict(kind, world, frames, z, h, actions, rewards), one row per step.
    """
    import torch

    from ...models.vae import decode_codes, encode_frames

    if (env is None) == (dream is None):
        raise ValueError("pass exactly one of env= (reality) or dream= (a DreamEnv)")
    world = "doom" if mdnrnn.action_size == 1 else "carracing"
    controller = as_controller(controller, world, mdnrnn.z_size, mdnrnn.hidden)
    out = {k: [] for k in ("frames", "z", "h", "actions", "rewards")}
    if dream is not None:
        obs, _ = dream.reset(seed=seed)
        for _ in range(steps):
            z, c, h = dream.split_obs(obs)
            a = np.asarray(controller.act(z, h, c), np.float32)
            out["frames"].append(decode_codes(vae, z[None])[0])
            out["z"].append(z), out["h"].append(h), out["actions"].append(a)
            obs, r, terminated, truncated, _ = dream.step(a)
            out["rewards"].append(r)
            if terminated or truncated:
                break
    else:
        frame, _ = env.reset(seed=seed)
        state = mdnrnn.initial_state(1)
        with torch.no_grad():
            for t in range(steps):
                z = encode_frames(vae, frame[None])[0][0]
                h, c = state[0][0, 0].numpy(), state[1][0, 0].numpy()
                a = np.asarray(controller.act(z, h, c), np.float32)
                out["frames"].append(np.asarray(frame)), out["z"].append(z), out["h"].append(h)
                out["actions"].append(a)
                restart = torch.tensor([1.0 if t == 0 else 0.0])
                _, _, state = mdnrnn.step(torch.from_numpy(z)[None], torch.from_numpy(a)[None], state, restart)
                frame, r, terminated, truncated, _ = env.step(a)
                out["rewards"].append(float(r))
                if terminated or truncated:
                    break
    rec = {k: np.stack(v) for k, v in out.items()}
    return dict(rec, kind="dream" if dream is not None else "reality", world=world)


class AgentLoop(_Shown):
    """The loop diagram, animated: frame -> V -> z -> C (with M's h) -> action -> world, and M -> h.

    ``traces`` are ``record_loop`` results (say one in reality and one in the
    dream). Each tick of **Play** (or **next**) lights the next stage of the loop
    and shows the numbers that flow out of it: the frame, the code z (bars),
    C's action, M's memory h (its first 32 units). The ``world`` toggle swaps
    reality for the dream: the world's box becomes M's own sample.
    State as plain values: ``.t`` (step), ``.stage`` (one of ``LOOP_STAGES``), ``.trace``.
    """

    def __init__(self, *traces, interval: int = 700):
        import ipywidgets as W

        if not traces:
            raise ValueError("pass at least one trace from record_loop")
        self.traces = {t["kind"]: t for t in traces}
        self.play = W.Play(value=0, min=0, max=10**9, step=1, interval=int(interval), description="play",
                           show_repeat=False)
        self.next_button = W.Button(description="next stage")
        self.next_button.on_click(lambda _: setattr(self.play, "value", self.play.value + 1))
        self.kind = W.ToggleButtons(options=list(self.traces), description="world")
        self.image, self.caption = W.Image(format="png"), W.HTML()
        self.play.observe(self._redraw, names="value")
        self.kind.observe(self._redraw, names="value")
        self.widget = W.VBox([W.HBox([self.play, self.next_button, self.kind]), self.image, self.caption])
        self._redraw()

    @property
    def trace(self) -> dict:
        return self.traces[self.kind.value]

    @property
    def t(self) -> int:
        return (self.play.value // len(LOOP_STAGES)) % len(self.trace["z"])

    @property
    def stage(self) -> str:
        return LOOP_STAGES[self.play.value % len(LOOP_STAGES)]

    def figure(self):
        from ..plots import agent_loop_figure

        tr, t = self.trace, self.t
        return agent_loop_figure(highlight=self.stage, frame=tr["frames"][t], z=tr["z"][t], h=tr["h"][t],
                                 action=tr["actions"][t], dream=tr["kind"] == "dream", world=tr["world"], step=t)

    def _redraw(self, *_):
        self.image.value = figure_png(self.figure(), dpi=75)
        words = {"frame": "the world shows a frame" if self.trace["kind"] == "reality" else
                 "the dream's current code, drawn by V (only for you: C never sees pixels)",
                 "V": "V squeezes the frame into the code z" if self.trace["kind"] == "reality" else
                 "in the dream z comes straight from M: V's encoder is not needed",
                 "C": "C reads z and M's memory h and picks the action",
                 "world": "the world answers the action with the next frame" if self.trace["kind"] == "reality"
                 else "M samples the next z at temperature tau: the dream answers",
                 "M": "M reads z and the action and updates its memory h"}
        self.caption.value = f"step {self.t}, stage <b>{self.stage}</b>: {words[self.stage]}"


__all__ = ["record_loop", "AgentLoop", "LOOP_STAGES"]
