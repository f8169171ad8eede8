"""The agent loop, animated in reality or the dream, and two agents on one track (notebook 03)."""
from __future__ import annotations

import numpy as np

from ...config import world_info
from .base import _Shown, figure_png, to_png
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

    book_caption = "the agent's loop, stage by stage: frame, V, C, the world's answer, M's memory"

    def book_frames(self, steps: int = 3) -> list:
        """Every stage of the first ``steps`` steps, in each world the loop holds (the published book's GIF)."""
        import io

        from PIL import Image

        from ..plots import agent_loop_figure

        frames = []
        for kind, trace in self.traces.items():
            for t in range(min(steps, len(trace["z"]))):
                for stage in LOOP_STAGES:
                    fig = agent_loop_figure(highlight=stage, frame=trace["frames"][t], z=trace["z"][t],
                                            h=trace["h"][t], action=trace["actions"][t], dream=kind == "dream",
                                            world=trace["world"], step=t)
                    frames.append(np.asarray(Image.open(io.BytesIO(figure_png(fig, dpi=50))).convert("RGB")))
        return pad_frames(frames)


def pad_frames(frames) -> list:
    """uint8 pictures of different sizes -> the same size (white-padded at the right and bottom)."""
    frames = [np.asarray(f, np.uint8) for f in frames]
    if not frames:
        return frames
    h, w = max(f.shape[0] for f in frames), max(f.shape[1] for f in frames)
    out = []
    for f in frames:
        canvas = np.full((h, w, 3), 255, np.uint8)
        canvas[:f.shape[0], :f.shape[1]] = f[..., :3]
        out.append(canvas)
    return out


# ----------------------------------------------------------------------------- two agents, one track

def record_drive(spec: dict, params, seed: int, more_seeds=()) -> dict:
    """One real episode of an agent (``wmlib.agent.episode.agent_spec``) on env seed ``seed``.

    -> dict(frames [T+1, H, W, 3]: the env's own frames, from the start to after the last step;
    seen [T, 64, 64, 3]: what V read before each action; actions [T, A]; rewards [T]; ret; length;
    world; mode; games). Two agents given the same ``seed`` drive the same track (or game).
    ``more_seeds``: more episodes played alongside (in lockstep), only scored: ``games`` holds the
    seeds, returns and lengths of all of them, the recorded one first.
    """
    from ...agent.episode import EpisodeRunner

    seeds = [int(seed), *(int(s) for s in more_seeds)]
    with EpisodeRunner(spec) as runner:
        out = runner.run(np.repeat(np.asarray(params, np.float64)[None], len(seeds), 0), seeds, record=True,
                         keep=True)
    ep = out["episodes"][0]
    return dict(frames=np.stack(out["frames"]).astype(np.uint8), seen=ep["frames"], actions=ep["actions"],
                rewards=np.asarray(ep["rewards"], np.float64), ret=float(out["returns"][0]),
                length=int(out["lengths"][0]), world=spec["world"], mode=spec["mode"],
                games=dict(seeds=seeds, returns=out["returns"].tolist(), lengths=out["lengths"].tolist()))


def record_side_by_side(agents: dict, seed: int) -> dict:
    """``agents`` {label: (spec, params)} -> {label: ``record_drive``}, every agent on the same ``seed``."""
    return {label: record_drive(spec, params, seed) for label, (spec, params) in agents.items()}


def _resize(frame: np.ndarray, h: int, w: int) -> np.ndarray:
    from PIL import Image

    if frame.shape[:2] == (h, w):
        return frame
    return np.asarray(Image.fromarray(np.asarray(frame, np.uint8)).resize((w, h), Image.NEAREST))


class SideBySide(_Shown):
    """Agents driving the same track, side by side, stepped by one slider (and **Play**).

    ``drives``: {label: ``record_drive`` result}, all recorded on one seed (``record_side_by_side``).
    ``vaes`` (optional, {label: V}): a second row shows what that agent's V made of the frame it
    read (the decoding of its code z): all a V-only C ever knows of the road.
    Each column is one agent; after its episode ends its last frame stays, greyed.
    State as plain values: ``.t`` (the step shown), ``.returns()`` (each agent's return up to ``.t``),
    ``.picture()`` (the composed frame, uint8).
    """

    GAP = 4

    def __init__(self, drives: dict, vaes: dict | None = None, interval: int = 50, scale: int = 3):
        import ipywidgets as W

        if not drives:
            raise ValueError("pass at least one drive from record_drive / record_side_by_side")
        self.drives, self.vaes, self.scale = dict(drives), dict(vaes or {}), int(scale)
        self.labels = list(self.drives)
        self.steps = max(d["length"] for d in self.drives.values())
        self._views = {}
        self.play = W.Play(value=0, min=0, max=self.steps, step=1, interval=int(interval), description="play",
                           show_repeat=False)
        self.slider = W.IntSlider(value=0, min=0, max=self.steps, description="step", continuous_update=True)
        W.link((self.play, "value"), (self.slider, "value"))
        self.image, self.caption = W.Image(format="png"), W.HTML()
        self.slider.observe(lambda _: self._redraw(), names="value")
        self.widget = W.VBox([W.HBox([self.play, self.slider]), self.image, self.caption])
        self._redraw()

    @property
    def t(self) -> int:
        return int(self.slider.value)

    def returns(self, t: int | None = None) -> dict:
        """Each agent's return after ``t`` steps (default: the step shown)."""
        t = self.t if t is None else int(t)
        return {k: float(d["rewards"][:t].sum()) for k, d in self.drives.items()}

    def view(self, label: str, t: int) -> np.ndarray | None:
        """What ``label``'s V made of the frame it read at step ``t`` (None without its V)."""
        vae = self.vaes.get(label)
        if vae is None:
            return None
        d = self.drives[label]
        i = min(t, len(d["seen"]) - 1)
        if (label, i) not in self._views:
            from ...models.vae import reconstruct

            self._views[(label, i)] = reconstruct(vae, d["seen"][i:i + 1])[0]
        return self._views[(label, i)]

    def picture(self, t: int | None = None, views: bool = True) -> np.ndarray:
        """One picture: a column per agent, the env's frame on top and (given V, and ``views``) V's view below."""
        t = self.t if t is None else int(t)
        tops = {k: d["frames"][min(t, len(d["frames"]) - 1)] for k, d in self.drives.items()}
        h = max(f.shape[0] for f in tops.values())
        w = max(f.shape[1] for f in tops.values())
        cols = []
        for k, d in self.drives.items():
            col = [_resize(tops[k], h, w)]
            if self.vaes and views:
                v = self.view(k, t)
                col.append(np.full((h, w, 3), 255, np.uint8) if v is None else _resize(v, h, w))
            col = np.concatenate([c if i == 0 else np.concatenate([np.full((self.GAP, w, 3), 255, np.uint8), c])
                                  for i, c in enumerate(col)])
            if t > d["length"]:  # this agent's episode is over: its last frame, greyed
                col = (0.45 * col + 0.55 * 200).astype(np.uint8)
            cols.append(col)
        gap = np.full((cols[0].shape[0], self.GAP, 3), 255, np.uint8)
        out = cols[0]
        for c in cols[1:]:
            out = np.concatenate([out, gap, c], axis=1)
        return out

    def _status(self, label: str, t: int) -> str:
        from .dream import describe_action

        d = self.drives[label]
        if t >= d["length"]:
            return f"ended after {d['length']} steps: return {d['ret']:.1f}"
        return f"step {t}: {describe_action(d['world'], d['actions'][t])}"

    def _redraw(self) -> None:
        t = self.t
        self.image.value = to_png(self.picture(t), self.scale)
        rets = self.returns(t)
        rows = "".join(f"<tr><td><b>{k}</b></td><td>return so far {rets[k]:.1f}</td><td>{self._status(k, t)}</td></tr>"
                       for k in self.labels)
        view = " (below: what each agent's V made of the frame it read)" if self.vaes else ""
        self.caption.value = (f"left to right: {', '.join(self.labels)}; the same {self._where}{view}"
                              f"<table>{rows}</table>")

    @property
    def _where(self) -> str:
        places = {world_info(d["world"]).place for d in self.drives.values()}
        return places.pop() if len(places) == 1 else "game"

    @property
    def book_caption(self) -> str:
        ends = "; ".join(f"{k}: {d['ret']:.0f} in {d['length']} steps" for k, d in self.drives.items())
        return f"the same {self._where}" + (", left to right" if len(self.drives) > 1 else "") + f": {ends}"

    def book_frames(self, max_frames: int = 80) -> list:
        """The env's frames of every agent at up to ``max_frames`` evenly spaced steps (without V's views,
        which are blurry and would make the animation several times larger)."""
        stride = max(1, -(-self.steps // max_frames))
        ts = list(range(0, self.steps + 1, stride))
        if ts[-1] != self.steps:
            ts.append(self.steps)
        return [self.picture(t, views=False) for t in ts]


__all__ = ["record_loop", "AgentLoop", "LOOP_STAGES", "record_drive", "record_side_by_side", "SideBySide",
           "pad_frames"]
