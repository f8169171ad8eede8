"""The temperature table, one tau at a time, and each tau's controller in its dream and in the game (notebook 05).

    agents = sweep_agents(cfg)                 # {tau: agent}: yours where your sweep ran, else the shipped ones
    films = tau_films(agents, max_steps=cfg.dream.max_steps)   # (tau, game) -> one dream and one real game
    TauStepper(rows, films)                    # rows: the sweep's table (``temperature/table.json``)

An *agent* is the dict ``wmlib.book.widgets.rounds`` describes (``params``, ``vae``, ``mdnrnn``, ``source``)
plus ``first_mu`` / ``first_logvar``, the first-frame codes its dreams start from.
"""
from __future__ import annotations

import numpy as np

from .base import _Shown, figure_png, grid, to_png
from .rounds import play_real_game

DREAM_SEED = 123_456_789   # the dream test's seed (``training.dream.DREAM_TEST_SEED``); game g adds g
GAME_SEED = 2024           # the first real game a stepper plays; game g adds g


def tau_name(tau: float) -> str:
    """The shipped controller evolved at ``tau``: ``"tau-1.15"``."""
    return f"tau-{float(tau):.2f}"


def sweep_agents(cfg, taus=None, device="cpu") -> dict:
    """{tau: agent} for the sweep's temperatures: your dream-trained C where ``cfg``'s sweep (or
    ``train-in-dream``) has evolved one (with your V and M), else the shipped ``tau-X.XX`` (with the
    shipped V and round 0's M, ``mdnrnn-round-0``); a tau with neither is left out."""
    from ... import paths
    from ...agent.evolution import CHECKPOINT
    from .. import recorded
    from ..pretrained import load_shipped_vae

    taus = [float(t) for t in (cfg.dream.taus if taus is None else taus)]
    out, own, shipped = {}, None, None
    shipped_names = set(recorded.shipped_controllers(cfg.world))
    for tau in taus:
        if (paths.dream_dir(cfg, tau) / CHECKPOINT).exists() and paths.mdnrnn_file(cfg).exists():
            if own is None:
                from ...training.mdnrnn import load_mdnrnn
                from ...training.series import load_series
                from ...training.vae import load_vae

                s = load_series(cfg)
                own = dict(vae=load_vae(cfg, device), mdnrnn=load_mdnrnn(cfg, device),
                           first_mu=np.asarray(s.first_mu, np.float32), first_logvar=np.asarray(s.first_logvar, np.float32))
            from ...training.dream import dream_params

            out[tau] = dict(own, params=dream_params(cfg, tau), source=f"your C at tau {tau:g} ({cfg.profile} profile)")
        elif tau_name(tau) in shipped_names:
            c = recorded.load_controller(cfg.world, tau_name(tau))
            if shipped is None:
                m, mu, logvar = recorded.load_mdnrnn(cfg.world, c.get("mdnrnn", "mdnrnn-round-0"), device)
                shipped = dict(vae=load_shipped_vae(cfg.world, device), mdnrnn=m, first_mu=mu, first_logvar=logvar)
            out[tau] = dict(shipped, params=c["params"], source=f"the shipped C at tau {tau:g} (laptop profile)")
    return out


def dream_film(agent: dict, tau: float, max_steps: int, seed: int = DREAM_SEED, done_rule: str = "sample",
               done_pos_weight: float = 10.0, dream_tau: float | None = None, draw: bool = True) -> dict:
    """One dream of ``agent`` at ``dream_tau`` (default ``tau``) from a first frame: dict(frames uint8
    [T+1, 64, 64, 3] (V's drawing of each code; None with ``draw=False``), steps, done_prob [T], died).
    ``done_rule`` and ``done_pos_weight`` as the profile dreams (``cfg.dream.done_rule``,
    ``cfg.mdnrnn.done_pos_weight``)."""
    import torch

    from ...agent.dream import DreamEnv
    from ...models.vae import decode_codes
    from .dream import as_controller

    m = agent["mdnrnn"]
    env = DreamEnv(m, agent["first_mu"], agent["first_logvar"], tau=float(tau if dream_tau is None else dream_tau),
                   max_steps=int(max_steps), vae=agent["vae"], done_rule=done_rule, world="doom",
                   done_pos_weight=done_pos_weight)
    ctrl = as_controller(agent["params"], "doom", m.z_size, m.hidden)
    obs, _ = env.reset(seed=int(seed))
    codes, probs, died = [env.z[0].cpu().numpy().copy()], [], False
    while True:
        z, c, h = env.split_obs(obs)
        obs, _, terminated, truncated, info = env.step(ctrl.act(z, h, c))
        probs.append(float(info["done_prob"]))
        codes.append(env.z[0].cpu().numpy().copy())
        if terminated or truncated:
            died = bool(terminated)
            break
    frames = None
    if draw:
        with torch.no_grad():  # V draws every code at once: one batch, not one call per step
            frames = decode_codes(agent["vae"], np.stack(codes), batch_size=256).astype(np.uint8)
    return dict(frames=frames, steps=len(probs), done_prob=np.asarray(probs), died=died)


def tau_films(agents: dict, max_steps: int, real_z: str = "sample", done_rule: str = "sample",
              done_pos_weight: float = 10.0):
    """``(tau, game) -> dict(dream=film, real=film)`` for ``TauStepper``: game g is dream seed
    ``DREAM_SEED + g`` and real seed ``GAME_SEED + g``; None for a tau without an agent."""
    def films(tau: float, game: int = 0):
        agent = agents.get(round(float(tau), 2), agents.get(float(tau)))
        if agent is None:
            return None
        return dict(dream=dream_film(agent, tau, max_steps, DREAM_SEED + game, done_rule, done_pos_weight),
                    real=play_real_game(agent, GAME_SEED + game, max_steps, real_z))

    return films


def _frames(film):
    """A film's frames whether given as an array or as a ``dream_film`` / ``play_real_game`` dict."""
    return np.asarray(film["frames"] if isinstance(film, dict) else film, np.uint8)


def _image(png: bytes) -> np.ndarray:
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


class TauStepper(_Shown):
    """Step through the temperature sweep: for the chosen tau, the paper's bars beside ours
    (dream and real, mean +- std), and that tau's controller in its dream and in the real game.

    ``rows``: the sweep's rows (``table.json``'s ``rows``). ``films``: per tau ``dict(dream=..., real=...)``
    (frames uint8 [T, H, W, 3], or ``dream_film`` / ``play_real_game`` dicts), or a function
    ``(tau, game) -> that dict`` (``tau_films``) that plays them when a tau is first shown (and
    **another game** plays the next seed), or None (bars only). The strip shows ``frames`` moments
    of each; **Play** (or the step slider) runs both films together, the dream on the left.
    State as plain values: ``.tau``, ``.row``, ``.game``, ``.t`` (the step shown), ``.film`` (None:
    no controller for this tau).
    """

    book_caption = "Each temperature's controller: the bars (ours beside the paper's), its dream and its real game"

    def __init__(self, rows, films=None, frames: int = 8, interval: int = 60):
        import ipywidgets as W

        if not rows:
            raise ValueError("no sweep rows to step through: run temperature_sweep(cfg) first")
        self.rows = {round(float(r["tau"]), 2): r for r in rows}
        self._play_films = films if callable(films) else None
        self._films = {}
        if isinstance(films, dict):
            self._films = {(round(float(k), 2), 0): v for k, v in films.items()}
            missing = [t for t in self.rows if (t, 0) not in self._films]
            if missing:
                raise ValueError(f"no films for tau {missing}: record a dream and a real game for every tau of the rows")
        self.n_frames, self.game = int(frames), 0
        self.slider = W.SelectionSlider(options=[(f"{t:.2f}", t) for t in self.rows], description="tau")
        self.new_button = W.Button(description="another game", disabled=self._play_films is None)
        self.new_button.on_click(lambda _: self.new_game())
        self.bars, self.strip, self.screen = W.Image(format="png"), W.Image(format="png"), W.Image(format="png")
        self.play = W.Play(value=0, min=0, max=1, step=1, interval=int(interval), description="play",
                           show_repeat=False)
        self.step = W.IntSlider(value=0, min=0, max=1, description="step")
        W.jslink((self.play, "value"), (self.step, "value"))
        self.step.observe(lambda _: self._draw_screen(), names="value")
        self.status = W.HTML()
        self.slider.observe(lambda change: self.show(change["new"]), names="value")
        self.widget = W.VBox([W.HBox([self.slider, self.new_button]), W.HBox([self.bars, self.strip]),
                              W.HBox([self.play, self.step]), W.HBox([self.screen, self.status])])
        self.show(self.slider.value)

    # ----------------------------------------------------------------------------- state

    @property
    def t(self) -> int:
        return int(self.step.value)

    def film_for(self, tau: float, game: int = 0):
        """The films of ``tau``'s controller in ``game`` (played now if needed), or None."""
        key = (round(float(tau), 2), int(game))
        if key not in self._films:
            self._films[key] = None if self._play_films is None else self._play_films(key[0], key[1])
        return self._films[key]

    def show(self, tau: float, game: int | None = None) -> None:
        self.tau, self.row = float(tau), self.rows[round(float(tau), 2)]
        self.game = 0 if game is None else int(game)
        self.film = self.film_for(self.tau, self.game)
        self.bars.value = self._bars_png()
        if self.film is None:
            self.strip.value = b""
            self.step.max = self.play.max = 1
        else:
            self.strip.value = to_png(self._strip(), scale=2)
            self.step.max = self.play.max = max(1, max(len(_frames(self.film[w])) for w in ("dream", "real")) - 1)
        self.step.value = 0
        self._draw_screen()

    def new_game(self) -> None:
        """This tau's controller dreams and plays the next seed."""
        if self._play_films is None:
            raise ValueError("this stepper was built with recorded films: pass films=tau_films(...) to play new games")
        self.show(self.tau, self.game + 1)

    # ----------------------------------------------------------------------------- drawing

    def _bars_png(self) -> bytes:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(3.2, 2.6))
        ax = fig.add_subplot()
        labels, means, stds, colors = [], [], [], []
        for who, color in (("ours", "tab:blue"), ("paper", "tab:grey")):
            for world in ("dream", "real"):
                if who == "ours":
                    m, s = self.row[f"{world}_mean"], self.row[f"{world}_std"]
                elif self.row.get(f"paper_{world}"):
                    m, s = self.row[f"paper_{world}"]
                else:
                    continue
                labels.append(f"{world}\n{who}"); means.append(m); stds.append(s); colors.append(color)
        ax.bar(range(len(means)), means, yerr=stds, color=colors, capsize=3)
        ax.set_xticks(range(len(means)), labels, fontsize=7)
        ax.set_ylabel("steps survived", fontsize=8)
        ax.set_title(f"tau {self.tau:.2f}", fontsize=9)
        fig.tight_layout()
        return figure_png(fig)

    def _strip(self) -> np.ndarray:
        from PIL import Image

        strips = []
        for world in ("dream", "real"):
            frames = _frames(self.film[world])
            picks = np.linspace(0, len(frames) - 1, self.n_frames).astype(int)
            small = [np.asarray(Image.fromarray(frames[i]).resize((64, 64))) for i in picks]
            strips.append(grid(np.stack(small), self.n_frames))
        return np.concatenate([strips[0], np.full((4, strips[0].shape[1], 3), 255, np.uint8), strips[1]])

    def screen_frame(self, t: int) -> np.ndarray:
        """The dream's frame and the real game's frame at step t side by side (96 px high), uint8."""
        from PIL import Image

        tiles = []
        for world in ("dream", "real"):
            frames = _frames(self.film[world])
            f = frames[min(t, len(frames) - 1)]
            img = Image.fromarray(f).resize((int(round(f.shape[1] * 96 / f.shape[0])), 96), Image.NEAREST)
            tile = np.asarray(img)
            if t >= len(frames) - 1 and t > 0:
                tile = (tile * 0.35).astype(np.uint8)  # that world's episode is over
            tiles.append(tile)
        return np.concatenate([tiles[0], np.full((96, 4, 3), 255, np.uint8), tiles[1]], axis=1)

    def _draw_screen(self) -> None:
        if self.film is None:
            self.screen.value = b""
            self.status.value = (f"tau {self.tau:g}: no controller for this temperature on disk or shipped yet "
                                 "(the bars are the recorded table's)")
            return
        t = self.t
        self.screen.value = to_png(self.screen_frame(t), scale=2)
        words = []
        for world in ("dream", "real"):
            f = self.film[world]
            n = (f["steps"] if isinstance(f, dict) else len(_frames(f)) - 1)
            died = f.get("died", True) if isinstance(f, dict) else True
            end = "died" if died else "reached the cap"
            words.append(f"{world}: step {min(t, n)} of {n}" + (f" ({end})" if t >= n else ""))
        self.status.value = f"tau {self.tau:g}, game {self.game}<br>" + "<br>".join(words)

    def book_frames(self, moments: int = 5) -> list:
        """For each tau: its bars beside the dream and the real game at ``moments`` steps (one size for all)."""
        out = []
        for tau in self.rows:
            self.show(tau)
            bars = _image(self._bars_png())
            if self.film is None:
                screens = [np.full((96, 96, 3), 255, np.uint8)]
            else:
                last = max(len(_frames(self.film[w])) for w in ("dream", "real")) - 1
                screens = [np.repeat(np.repeat(self.screen_frame(int(t)), 2, 0), 2, 1)
                           for t in np.linspace(0, last, moments).astype(int)]
            for s in screens:
                out.append(_side_by_side(bars, s))
        self.show(next(iter(self.rows)))
        return _same_size(out)


def _side_by_side(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    h = max(a.shape[0], b.shape[0])
    pad = lambda x: np.pad(x, ((0, h - x.shape[0]), (0, 0), (0, 0)), constant_values=255)
    return np.concatenate([pad(a), np.full((h, 6, 3), 255, np.uint8), pad(b)], axis=1)


def _same_size(frames: list) -> list:
    """Pad every frame (white, bottom and right) to the largest height and width among them."""
    h = max(f.shape[0] for f in frames)
    w = max(f.shape[1] for f in frames)
    return [np.pad(f, ((0, h - f.shape[0]), (0, w - f.shape[1]), (0, 0)), constant_values=255) for f in frames]


__all__ = ["TauStepper", "sweep_agents", "dream_film", "tau_films", "tau_name"]
