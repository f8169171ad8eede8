"""Iterative training's round 0 and round 1 on the same real game, stepped together (notebook 06).

    agents = round_agents(cfg)                     # yours when your rounds are on disk, else the shipped ones
    films = {name: play_real_game(a, seed=SEED, max_steps=cfg.dream.max_steps) for name, a in agents.items()}
    RoundsPlayer(films)                            # one slider (and Play) steps both games

An *agent* is a plain dict: ``params`` (C's flat weights, mode "zh"), ``vae``, ``mdnrnn`` (the M
whose memory C reads), ``source`` (a word for the reader). A *film* is what ``play_real_game``
returns: the raw frames the agent saw, the actions it played, its position and M's death belief
after each step, and how many steps it lived.
"""
from __future__ import annotations

import numpy as np

from .base import _Shown, to_png

ROUND_NAMES = ("round 0", "round 1")


def _word(a: float) -> str:
    return "left" if a < -1 / 3 else "right" if a > 1 / 3 else "stay"


def play_real_game(agent: dict, seed: int, max_steps: int, real_z: str = "sample", world: str = "doom") -> dict:
    """One real game of ``agent`` on env seed ``seed``: dict(frames uint8 [T+1, H, W, 3], steps,
    actions [T], done_prob [T], y [T], died). The same agent loop (V -> C -> M) and code noise
    (``real_z``) as every real-game score in the book."""
    from ...agent.episode import EpisodeRunner, agent_spec

    spec = agent_spec(world, "zh", agent["vae"], agent["mdnrnn"], int(max_steps), lockstep=1, real_z=real_z)
    with EpisodeRunner(spec) as runner:
        out = runner.run(np.asarray(agent["params"], np.float64)[None], [int(seed)], record=True, trace=True)
    tr = out["traces"][0]
    return dict(frames=np.stack(out["frames"]).astype(np.uint8), steps=int(out["lengths"][0]),
                actions=np.asarray(tr["actions"], np.float32).reshape(-1), y=np.asarray(tr["y"], np.float64),
                done_prob=None if tr["done_prob"] is None else np.asarray(tr["done_prob"], np.float64),
                died=bool(tr["terminated"]))


def round_agents(cfg, device="cpu") -> dict:
    """{"round 0": agent, "round 1": agent}: your rounds when ``cfg``'s round 1 is scored on disk,
    else the shipped ones (round 0: the extra controller ``round-0`` with M ``mdnrnn-round-0``;
    round 1: the shipped ``controller.pt`` with the shipped M), else {} (not shipped yet)."""
    from ... import paths
    from .. import recorded
    from ..pretrained import load_shipped_controller_params, load_shipped_mdnrnn, load_shipped_vae

    if paths.round_score(cfg, 1).exists() and paths.vae_file(cfg).exists():
        from ...training import iterate as it
        from ...training.vae import load_vae

        vae = load_vae(cfg, device)
        return {f"round {k}": dict(params=it.round_params(cfg, k), vae=vae, mdnrnn=it.load_round_mdnrnn(cfg, k, device),
                                   source=f"your round {k} ({cfg.profile} profile)") for k in (0, 1)}
    if "round-0" not in recorded.shipped_controllers(cfg.world):
        return {}
    c0 = recorded.load_controller(cfg.world, "round-0")
    vae = load_shipped_vae(cfg.world, device)
    m0 = recorded.load_mdnrnn(cfg.world, c0.get("mdnrnn", "mdnrnn-round-0"), device)[0]
    return {"round 0": dict(params=c0["params"], vae=vae, mdnrnn=m0, source="the shipped round-0 C (laptop profile)"),
            "round 1": dict(params=load_shipped_controller_params(cfg.world), vae=vae,
                            mdnrnn=load_shipped_mdnrnn(cfg.world, device),
                            source="the shipped C, round 1 (laptop profile)")}


class RoundsPlayer(_Shown):
    """Two agents on the same real game, side by side: one slider (and **Play**) steps both.

    ``films``: {label: ``play_real_game`` result}, all recorded on the same seed (say round 0's
    and round 1's C). At step t each panel shows the frame its agent saw, the action it took
    and how far it is from the nearer wall; an agent that died before t stays on its last frame,
    marked dead. ``record`` (optional, ``seed -> films``) adds an **another game** button that
    records both agents on the next seed.
    State as plain values: ``.t`` (the step shown), ``.seed``, ``.films``, ``.alive`` ({label: bool}).
    """

    book_caption = "Round 0's and round 1's C on the same real game (one seed), stepped together"

    def __init__(self, films: dict, seed: int = 0, record=None, interval: int = 60, scale: int = 2):
        import ipywidgets as W

        self.scale, self.record = int(scale), record
        self.play = W.Play(value=0, min=0, max=1, step=1, interval=int(interval), description="play",
                           show_repeat=False)
        self.slider = W.IntSlider(value=0, min=0, max=1, description="step", continuous_update=True)
        W.jslink((self.play, "value"), (self.slider, "value"))
        self.slider.observe(lambda _: self._redraw(), names="value")
        self.image, self.status = W.Image(format="png"), W.HTML()
        controls = [self.play, self.slider]
        self.new_button = None
        if record is not None:
            self.new_button = W.Button(description="another game")
            self.new_button.on_click(lambda _: self.new_game())
            controls.append(self.new_button)
        self.widget = W.VBox([W.HBox(controls), self.image, self.status])
        self.set_films(films, seed)

    # ----------------------------------------------------------------------------- state

    def set_films(self, films: dict, seed: int) -> None:
        if not films:
            raise ValueError("no games to show: pass {label: play_real_game(agent, seed, max_steps)} for each agent")
        self.films, self.seed = dict(films), int(seed)
        longest = max(f["steps"] for f in self.films.values())
        self.slider.max = self.play.max = max(1, longest)
        self.slider.value = 0
        self._redraw()

    def new_game(self) -> None:
        """Both agents play the next seed (needs ``record``)."""
        if self.record is None:
            raise ValueError("this player was built without record=: it cannot play another game")
        self.set_films(self.record(self.seed + 1), self.seed + 1)

    @property
    def t(self) -> int:
        return int(self.slider.value)

    @property
    def alive(self) -> dict:
        return {name: self.t < f["steps"] for name, f in self.films.items()}

    # ----------------------------------------------------------------------------- drawing

    def panel(self, t: int) -> np.ndarray:
        """Every film's frame at step t side by side (a dead agent's last frame, darkened), uint8."""
        tiles = []
        for f in self.films.values():
            frames = f["frames"]
            i = min(t, len(frames) - 1)
            tile = np.asarray(frames[i], np.uint8)
            if t >= f["steps"]:
                tile = (tile * 0.35).astype(np.uint8)
            tiles.append(tile)
        h = max(x.shape[0] for x in tiles)
        tiles = [np.pad(x, ((0, h - x.shape[0]), (0, 0), (0, 0)), constant_values=255) for x in tiles]
        gap = np.full((h, 4, 3), 255, np.uint8)
        out = [tiles[0]]
        for x in tiles[1:]:
            out += [gap, x]
        return np.concatenate(out, axis=1)

    def describe(self, name: str, t: int) -> str:
        from ..diagnose import wall_distance

        f = self.films[name]
        if t >= f["steps"]:
            return f"<b>{name}</b>: {'died' if f['died'] else 'reached the cap'} after {f['steps']} steps"
        a = float(f["actions"][t])
        text = f"<b>{name}</b>: step {t}, {_word(a)} (a = {a:+.2f})"
        y = f["y"][t] if len(f["y"]) > t else np.nan
        if np.isfinite(y):
            text += f", {float(wall_distance(np.asarray([y]))[0]):.0f} units from a wall"
        if f.get("done_prob") is not None and np.isfinite(f["done_prob"][t]):
            text += f", M's death belief {f['done_prob'][t]:.2f}"
        return text

    def _redraw(self) -> None:
        t = self.t
        self.image.value = to_png(self.panel(t), self.scale)
        lines = [self.describe(name, t) for name in self.films]
        self.status.value = f"seed {self.seed}, left to right: {', '.join(self.films)}<br>" + "<br>".join(lines)

    def book_frames(self, n: int = 30) -> list:
        """``n`` steps from the start to the longer game's end, both panels each (the site's animation)."""
        last = max(f["steps"] for f in self.films.values())
        return [self.panel(int(t)) for t in np.linspace(0, last, n).astype(int)]


__all__ = ["RoundsPlayer", "play_real_game", "round_agents", "ROUND_NAMES"]
