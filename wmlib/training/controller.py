"""Train C with CMA-ES in the real world, and score it: the paper's CarRacing experiment.

    python -m wmlib train-controller carracing --mode z     # V only: C reads z
    python -m wmlib train-controller carracing --mode zh    # V and M: C reads [z, h]
    python -m wmlib evaluate carracing --mode zh --episodes 100 --video car.gif

A run lives in ``<world>/<profile>/controller-<mode>/``: the evolution
checkpoint (resumable), ``history.json`` (the learning curve), ``run.json``
(which V and M it drives, by checksum) and ``test-*.json`` (final scores).
The controller we deploy is the distribution's mean that scored best in the
periodic evaluations over ``eval_episodes`` (a candidate's own score rests on
only ``rollouts`` noisy episodes); without any evaluation, the final mean.

Train fast, score true: evolution (its candidates and its periodic evaluations)
plays CarRacing with ``cfg.evolution.renderer`` ("fast" by default, the same
pixels within a fraction of a level); ``evaluate`` always scores on gymnasium's
own renderer.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import torch

from .. import paper, paths
from ..agent.evolution import EvolutionResult
from ..agent.episode import EpisodeRunner, agent_spec, episode_seed
from ..agent.pool import RolloutPool
from ..artifacts import file_sha256, load_checkpoint
from ..config import Config, world_info
from ..models.controller import Controller, check_mode
from .c_run import WHICH, CRun, params_sha256, read_params
from .stages import cached

__all__ = ["train_controller", "evaluate_controller", "controller_params", "load_controller", "record_episode",
           "save_video", "build_spec", "controller_run", "paper_score", "start_params", "widen_z_to_zh", "read_controller_file",
           "TEST_SEED",
           "WHICH"]

TEST_SEED = 987_654_321  # final scores use episodes no generation trained on
# The paper's CarRacing scores for each mode, taken from wmlib.paper (numbers live in one place).
PAPER_SCORES = {("carracing", "z"): paper.CARRACING_SCORES["World Model, V only (C reads z)"],
                ("carracing", "zh"): paper.CARRACING_SCORES["World Model, full (C reads z and h)"]}


def build_spec(cfg: Config, mode: str, renderer: str = "gymnasium") -> dict:
    """Load the trained V (and M for mode "zh") into a worker spec for ``RolloutPool``.

    ``renderer``: CarRacing's frames; training passes ``cfg.evolution.renderer`` (fast),
    scoring keeps gymnasium's own.
    """
    from .mdnrnn import load_mdnrnn
    from .vae import load_vae

    vae = load_vae(cfg, "cpu")  # rollout workers are CPU processes next to their envs
    mdnrnn = load_mdnrnn(cfg, "cpu") if check_mode(mode) == "zh" else None
    return agent_spec(cfg.world, mode, vae, mdnrnn, cfg.evolution.max_steps, cfg.evolution.lockstep,
                      renderer)


def search_fields(ev) -> dict:
    """The CMA-ES settings that shape a C run's search (not how far it goes, nor how it is reported)."""
    names = ("population", "rollouts", "sigma0", "weight_decay", "max_steps", "seed", "diagonal", "same_episodes")
    return {f"evolution.{k}": getattr(ev, k) for k in names}


def _train_command(cfg: Config, mode: str) -> str:
    return f"`python -m wmlib train-controller {cfg.world} --mode {mode} --profile {cfg.profile}`"


def controller_run(cfg: Config, mode: str) -> CRun:
    """The run folder of C evolved in the real world; it keeps driving the V (and M) it began with."""
    from .mdnrnn import mdnrnn_stage
    from .vae import vae_stage

    mode = check_mode(mode)
    models = {"vae": paths.vae_file(cfg)}
    if mode == "zh":
        models["mdnrnn"] = paths.mdnrnn_file(cfg)
    folder = paths.controller_dir(cfg, mode)
    why = ("V or M changed since the controller run in {folder} began; its population was evolved for the "
           "old one: move that folder away to start afresh")
    moved = ("the C this run in {folder} started from changed (was {old}, now {new}); its population grew from "
             "the old one: move that folder away to start afresh, or set evolution.start back")

    def kept():
        out, start = dict(models=({k: file_sha256(p) for k, p in models.items()}, why)), start_key(cfg, mode)
        if start != "zeros":  # recorded only when set: runs from zeros keep their run.json
            out["start"] = (start, moved)
        return out

    def reads():
        if mode == "z":
            return (vae_stage(cfg),)
        if cfg.evolution.start == "v_only":  # the V-only run's settings are part of where this one began
            return (mdnrnn_stage(cfg), controller_run(cfg, "z").stage(cfg.evolution.generations))
        return (mdnrnn_stage(cfg),)

    return CRun(folder, command=_train_command(cfg, mode),
                name=f"C in the real world ({mode})", header=dict(world=cfg.world, profile=cfg.profile, mode=mode),
                kept=kept, fields=lambda: dict(search_fields(cfg.evolution), **{"evolution.start": start_key(cfg, mode)}),
                reads=reads)


def train_controller(cfg: Config, mode: str = "zh", backend: str = "processes", workers: int | None = None,
                     progress: bool = True, generations: int | None = None, x0=None) -> EvolutionResult:
    """Evolve C in the real world (resumes; a no-op once ``generations`` are done).

    ``x0``: the flat C a new run starts from; default ``start_params`` (``evolution.start``: zeros, or a V-only
    C widened to read h too).
    """
    x0 = start_params(cfg, mode) if x0 is None else x0

    @contextlib.contextmanager
    def real_world():  # fitness: the mean return of real episodes, played by a pool of workers
        spec = build_spec(cfg, mode, cfg.evolution.renderer)  # train fast; evaluate_controller scores true
        with RolloutPool(spec, backend, workers or cfg.evolution.workers) as pool:
            yield (pool.n_params, pool.evaluate_fn(cfg.evolution.rollouts, cfg.evolution.same_episodes),
                   pool.evaluate_mean_fn(), None)  # the real world searches C unscaled

    return controller_run(cfg, mode).train(cfg.evolution, real_world, generations, progress, x0=x0)


def widen_z_to_zh(cfg: Config, params_z) -> np.ndarray:
    """A V-only C (reads z) as a C that reads z and h and ignores h (h's weights zero): the same driver.

    Where evolving C on [z, h] can start from a V-only C instead of from zero.
    """
    z, hidden = cfg.vae.z_size, cfg.mdnrnn.hidden
    small = Controller(cfg.world, z, hidden, "z").set_flat(params_z)
    wide = Controller(cfg.world, z, hidden, "zh")  # all weights zero until z's are copied in
    with torch.no_grad():
        wide.weight[:, :z] = small.weight
        if small.has_bias:
            wide.bias.copy_(small.bias)
    return wide.get_flat()


def start_params(cfg: Config, mode: str) -> np.ndarray | None:
    """Where a new real-world run of C starts (``evolution.start``): None for zeros (the paper), else flat params.

    "v_only": this folder's V-only C (deployed), widened to read h with h's weights zero, so V+M's search
    begins at the V-only driver (the V-only run itself starts from zeros); a path: a controller file (``.pt``,
    as shipped or exported) that reads z (widened the same way for V+M; as it is for a V-only run, which
    so evolves further from it) or z and h (V+M only, used as it is).
    """
    start, mode = cfg.evolution.start, check_mode(mode)
    if start == "zeros" or (mode == "z" and start == "v_only"):  # the V-only run V+M starts from: from zeros
        return None
    if start == "v_only":
        try:
            return widen_z_to_zh(cfg, controller_params(cfg, "z"))
        except FileNotFoundError:
            raise FileNotFoundError(
                f"evolution.start='v_only' starts V+M from the V-only C in {paths.controller_dir(cfg, 'z')}, and "
                f"there is none yet: run {_train_command(cfg, 'z')} with the same settings first (`reproduce` "
                f"trains it first)") from None
    if not Path(start).is_file():
        raise FileNotFoundError(f"evolution.start={start!r} is neither 'zeros', 'v_only' nor a controller file: "
                                f"give one of those (a file such as wmlib/pretrained/{cfg.world}/controllers/z.pt)")
    file_mode, params = read_controller_file(cfg, start)
    if mode == "z":
        if file_mode != "z":
            raise ValueError(f"{start} reads z and h: a V-only run (--mode z) can start only from a C reading z")
        return params
    return widen_z_to_zh(cfg, params) if file_mode == "z" else params


def start_key(cfg: Config, mode: str) -> str:
    """``evolution.start`` as a run's key holds it: "zeros", else where it came from and the start C's checksum
    (a V-only C trained further, or another file, is another start)."""
    params = start_params(cfg, mode)
    if params is None:
        return "zeros"
    return f"{'v_only' if cfg.evolution.start == 'v_only' else 'file'}:{params_sha256(params)[:16]}"


def read_controller_file(cfg: Config, path) -> tuple[str, np.ndarray]:
    """(mode, flat params) of a controller file (``.pt`` as shipped or exported), checked against ``cfg``'s
    V and M sizes."""
    ckpt = load_checkpoint(Path(path))
    if "params" not in ckpt or ckpt.get("mode") not in ("z", "zh"):
        raise ValueError(f"{path} is not a controller file (no params and mode): give one written by "
                         f"export-pretrained, such as wmlib/pretrained/{cfg.world}/controllers/z.pt")
    sizes = (int(ckpt.get("z_size", -1)), int(ckpt.get("hidden", -1)))
    if sizes != (cfg.vae.z_size, cfg.mdnrnn.hidden):
        raise ValueError(f"{path} was evolved for z of {sizes[0]} and h of {sizes[1]}, this config's V and M give "
                         f"{cfg.vae.z_size} and {cfg.mdnrnn.hidden}: use a C of the same profile")
    return ckpt["mode"], ckpt["params"].float().numpy().astype(np.float64)


def controller_params(cfg: Config, mode: str, which: str = "deployed") -> np.ndarray:
    """The trained C's flat parameters: ``deployed`` (best-evaluated mean), ``mean`` or ``best`` (read only)."""
    mode = check_mode(mode)
    return read_params(paths.controller_dir(cfg, mode), _train_command(cfg, mode), which)


def load_controller(cfg: Config, mode: str = "zh", which: str = "deployed") -> Controller:
    hidden = cfg.mdnrnn.hidden
    return Controller(cfg.world, cfg.vae.z_size, hidden, mode).set_flat(controller_params(cfg, mode, which))


def save_video(frames, path, fps: int = 50) -> Path:
    """Write frames as mp4 (needs imageio-ffmpeg) or gif; falls back to gif without ffmpeg."""
    import imageio.v2 as imageio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = [np.asarray(f, np.uint8) for f in frames]
    if path.suffix.lower() == ".mp4":
        try:
            imageio.mimwrite(path, frames, fps=fps, macro_block_size=1)
            return path
        except Exception:  # no ffmpeg backend here: a gif shows the same
            path = path.with_suffix(".gif")
    step = max(1, round(fps / 25))  # gif players choke on fast frame rates: keep ~25 fps
    imageio.mimwrite(path, frames[::step], duration=1000 * step / fps, loop=0)
    return path


def record_episode(cfg: Config, mode: str, params, seed: int = TEST_SEED, spec: dict | None = None) -> dict:
    """Play one episode in this process, keeping the raw (un-resized) frames."""
    with EpisodeRunner(spec or build_spec(cfg, mode)) as runner:
        out = runner.run(np.asarray(params)[None], [episode_seed(seed, 0, 0)], record=True)
    return dict(frames=out["frames"], ret=float(out["returns"][0]), length=int(out["lengths"][0]))


def evaluate_controller(cfg: Config, mode: str = "zh", episodes: int | None = None, which: str = "deployed",
                        backend: str = "processes", workers: int | None = None, video=None,
                        seed: int = TEST_SEED) -> dict:
    """Mean +- std over ``episodes`` (default ``test_episodes``) fresh episodes; saved as JSON.

    Get-or-build: the saved score is reused when the same parameters were scored on
    the same episodes before. ``video``: a path for one episode (mp4 or gif).
    """
    mode = check_mode(mode)
    episodes = cfg.evolution.test_episodes if episodes is None else int(episodes)
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1 (got {episodes})")
    params = controller_params(cfg, mode, which)
    key = dict(params_sha256=params_sha256(params), episodes=episodes, seed=seed, max_steps=cfg.evolution.max_steps)

    def play():
        with RolloutPool(build_spec(cfg, mode), backend, workers or cfg.evolution.workers) as pool:
            run = pool.run(params[None], episodes, seed)
        r = run["returns"][0]
        return dict(world=cfg.world, profile=cfg.profile, mode=mode, which=which, renderer="gymnasium",
                    episodes=episodes, seed=seed, returns=r.tolist(), lengths=run["lengths"][0].tolist(), mean=float(r.mean()), std=float(r.std()))

    res = cached(paths.controller_score(cfg, mode, which, episodes), key, play, name=f"score of C ({mode})")
    if video:
        rec = record_episode(cfg, mode, params, seed)
        res = dict(res, video=str(save_video(rec["frames"], video, fps=world_info(cfg.world).fps)),
                   video_return=rec["ret"])
    return res


def paper_score(world: str, mode: str):
    return PAPER_SCORES.get((world, mode))
