"""Random-play rollouts on disk: collection in worker processes, streaming reads.

A dataset is a folder of shards. Each shard is a folder
``shard-<first>-<last>/`` holding a few whole episodes as plain ``.npy`` files
(frames uint8 [T,64,64,3], actions float32 [T,A], rewards float32 [T], dones
bool [T], offsets int64 [E+1], episode_ids int64 [E]) plus ``meta.json``.

* Step t stores the frame the agent saw, the action it took, the reward it got
  and whether the episode terminated (died / finished) after that action.
* A shard is written under a temporary name and renamed when complete, so a
  killed run leaves only whole shards; resuming collects just the missing
  episodes and never rewrites a completed shard.
* Episode i is always played with seed ``seed * 1_000_003 + i``, so a resumed
  collection produces the same data as an uninterrupted one.
* Reading memory-maps the shards: peak memory does not grow with the dataset.
"""
from __future__ import annotations

import json
import multiprocessing as mp
from multiprocessing import util as mp_util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import paths
from ..artifacts import read_json, write_json
from ..config import Config, check_world, world_info
from .envs import FRAME_SHAPE, make_env
from .policies import random_policy

ARRAYS = ("frames", "actions", "rewards", "dones", "offsets", "episode_ids")
_TMP_PREFIX = ".tmp-"


class CorruptShardError(ValueError):
    """A shard on disk is truncated or damaged."""


def collection_seed(base_seed: int, episode: int) -> int:
    """The env seed of random-play episode ``episode`` (data collection and baselines).

    Not ``agent.episode.episode_seed``, which names a candidate's rollout: the two
    streams are kept apart so the data never replays an evolution episode.
    """
    return base_seed * 1_000_003 + episode


# ----------------------------------------------------------------------------- collection

def play_episode(env, policy, seed: int, max_steps: int | None = None, keep: bool = True) -> dict:
    """Play one episode of ``policy`` (obs -> action) from ``env.reset(seed=seed)``.

    The single-episode loop of random play: data collection keeps its arrays (the frames
    the agent saw before each action, actions, rewards, dones); baselines pass
    ``keep=False`` and read ``ret`` and ``length`` alone. ``max_steps`` None: until the env ends it.
    """
    frames, actions, rewards, dones = [], [], [], []
    obs, _ = env.reset(seed=seed)
    total, steps = 0.0, 0
    while max_steps is None or steps < max_steps:
        action = policy(obs)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        total, steps = total + float(reward), steps + 1
        if keep:
            frames.append(obs)
            actions.append(np.asarray(action, np.float32).reshape(-1))
            rewards.append(reward)
            dones.append(terminated)
        obs = next_obs
        if terminated or truncated:
            break
    out = dict(ret=total, length=steps)
    if keep:
        out.update(frames=np.stack(frames).astype(np.uint8), actions=np.stack(actions),
                   rewards=np.asarray(rewards, np.float32), dones=np.asarray(dones, bool))
    return out


def shard_name(first: int, last: int) -> str:
    return f"shard-{first:06d}-{last:06d}"


def write_shard(root: Path, episode_ids: list[int], episodes: list[dict], world: str) -> Path:
    """Write whole episodes as one shard, atomically (temp folder, then rename)."""
    name = shard_name(episode_ids[0], episode_ids[-1])
    tmp = root / f"{_TMP_PREFIX}{name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    lengths = [len(ep["rewards"]) for ep in episodes]
    arrays = {k: np.concatenate([ep[k] for ep in episodes]) for k in ("frames", "actions", "rewards", "dones")}
    arrays["offsets"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    arrays["episode_ids"] = np.asarray(episode_ids, np.int64)
    for key, arr in arrays.items():
        np.save(tmp / f"{key}.npy", arr)
    meta = dict(world=world, episodes=len(episodes), steps=int(sum(lengths)),
                episode_ids=[int(i) for i in episode_ids],
                returns=[float(ep["rewards"].sum()) for ep in episodes],
                lengths=[int(n) for n in lengths])
    (tmp / "meta.json").write_text(json.dumps(meta))
    final = root / name
    os.replace(tmp, final)  # a completed shard appears whole or not at all
    return final


_worker_env = None


def _init_worker(world: str, max_steps: int, renderer: str = "gymnasium"):
    global _worker_env
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    _worker_env = make_env(world, max_steps=max_steps, renderer=renderer)
    # Close the env when the worker exits, so no simulator process (ViZDoom) outlives it.
    mp_util.Finalize(_worker_env, _worker_env.close, exitpriority=10)


def _close_worker():
    global _worker_env
    if _worker_env is not None:
        _worker_env.close()
        _worker_env = None


def _collect_shard(args) -> dict:
    """Worker task: play a run of episodes, write them as one shard."""
    world, root, episode_ids, base_seed, max_steps, hold_max = args
    episodes = []
    for ep in episode_ids:
        rng = np.random.default_rng(collection_seed(base_seed, ep))
        episodes.append(play_episode(_worker_env, random_policy(world, rng, hold_max),
                                     collection_seed(base_seed, ep), max_steps))
    path = write_shard(Path(root), episode_ids, episodes, world)
    return dict(shard=path.name, episodes=len(episodes),
                steps=int(sum(len(e["rewards"]) for e in episodes)),
                returns=[float(e["rewards"].sum()) for e in episodes])


def pending_episodes(root: Path, episodes: int) -> list[int]:
    done = set()
    for shard in complete_shards(root):
        done.update(int(i) for i in read_json(shard / "meta.json")["episode_ids"])
    return [i for i in range(episodes) if i not in done]


def plan_shards(pending: list[int], per_shard: int) -> list[list[int]]:
    """Group pending episode ids into runs of consecutive ids, at most per_shard each."""
    groups, run = [], []
    for ep in pending:
        if run and (ep != run[-1] + 1 or len(run) == per_shard):
            groups.append(run)
            run = []
        run.append(ep)
    if run:
        groups.append(run)
    return groups


def collect(cfg: Config, episodes: int | None = None, workers: int | None = None,
            root: Path | None = None, progress: bool = True) -> "RolloutDataset":
    """Collect ``episodes`` random-play episodes (resuming whatever is on disk)."""
    episodes = cfg.collect.episodes if episodes is None else episodes
    workers = cfg.collect.workers if workers is None else workers
    if int(episodes) < 1:
        raise ValueError(f"episodes must be at least 1 (got {episodes}): pass --episodes N with N >= 1")
    if int(workers) < 1:
        raise ValueError(f"workers must be at least 1 (got {workers}): pass --workers W with W >= 1")
    root = paths.ready(Path(root) if root is not None else paths.data_dir(cfg))
    meta_path = root / "dataset.json"
    renderer = check_renderer(cfg)
    meta = dict(world=cfg.world, frame_shape=list(FRAME_SHAPE), action_size=cfg.action_size,
                seed=cfg.collect.seed, max_steps=cfg.collect.max_steps, hold_max=cfg.collect.hold_max,
                renderer=renderer)
    pending = pending_episodes(root, episodes)
    if meta_path.exists():
        old = read_json(meta_path)
        old.setdefault("hold_max", 10)  # folders written before the knob existed held 1-10 steps
        old.setdefault("renderer", world_info(cfg.world).renderer or "gymnasium")  # ... drawn officially
        for key in ("world", "seed", "max_steps", "hold_max"):
            if old.get(key) != meta[key]:
                raise ValueError(
                    f"{root} holds data collected with {key}={old.get(key)!r}, not {meta[key]!r}: "
                    "use another WM_ARTIFACTS folder or profile, or move that folder away first")
        # A finished folder drawn by the other renderer is fine to read; only adding to it would mix them.
        if pending and old["renderer"] != renderer:
            raise ValueError(
                f"{root} holds frames drawn by the {old['renderer']!r} renderer, and collecting more with "
                f"collect.renderer={renderer!r} would mix the two: collect with "
                f"cfg.with_overrides(collect={{'renderer': {old['renderer']!r}}}), or use another WM_ARTIFACTS folder")
    else:
        write_json(meta_path, meta)
    for stale in root.glob(f"{_TMP_PREFIX}*"):  # shards that were in flight when a run died
        shutil.rmtree(stale, ignore_errors=True)
    # Refuse to build on damaged shards rather than silently mixing them in.
    for shard in complete_shards(root):
        validate_shard(shard)

    groups = plan_shards(pending, cfg.collect.shard_episodes)
    if groups:
        _run_collection(cfg, root, groups, workers, progress)
    return RolloutDataset(root)


def check_renderer(cfg: Config) -> str:
    """The renderer collection draws with (Doom: its engine's, whatever ``collect.renderer`` says)."""
    from .carracing_fast import RENDERERS

    if cfg.collect.renderer not in RENDERERS:
        raise ValueError(f"collect.renderer {cfg.collect.renderer!r}: use one of {', '.join(RENDERERS)}")
    return world_info(cfg.world).renderer or cfg.collect.renderer


def _run_collection(cfg, root, groups, workers, progress):
    from tqdm.auto import tqdm

    tasks = [(cfg.world, str(root), g, cfg.collect.seed, cfg.collect.max_steps, cfg.collect.hold_max)
             for g in groups]
    total = sum(len(g) for g in groups)
    bar = tqdm(total=total, desc=f"collect {cfg.world}", unit="ep", disable=not progress)
    workers = min(workers, len(tasks))
    try:
        if workers == 1:
            _init_worker(cfg.world, cfg.collect.max_steps, cfg.collect.renderer)
            try:
                for res in map(_collect_shard, tasks):
                    bar.update(res["episodes"])
            finally:
                _close_worker()
        else:
            ctx = mp.get_context("spawn")  # fresh processes: no forked simulator state
            with ctx.Pool(workers, initializer=_init_worker,
                          initargs=(cfg.world, cfg.collect.max_steps, cfg.collect.renderer)) as pool:
                for res in pool.imap_unordered(_collect_shard, tasks):
                    bar.update(res["episodes"])
                pool.close()  # let workers exit on their own (running the env's close) ...
                pool.join()   # ... rather than be terminated by the with-block
    finally:
        bar.close()


# ----------------------------------------------------------------------------- reading

def complete_shards(root: Path) -> list[Path]:
    return sorted(p for p in Path(root).glob("shard-*") if p.is_dir())


def validate_shard(shard: Path) -> dict:
    """Open every array of a shard memory-mapped and check they agree; return them."""
    fix = (f"delete the folder {shard} and run `python -m wmlib collect` again: "
           "it re-collects just those episodes and keeps every other shard")
    try:
        meta = read_json(shard / "meta.json")
        arrays = {k: np.load(shard / f"{k}.npy", mmap_mode="r") for k in ARRAYS}
    except (OSError, ValueError, json.JSONDecodeError) as err:
        raise CorruptShardError(f"shard {shard.name} is truncated or damaged ({err}): {fix}") from err
    steps = int(arrays["offsets"][-1]) if len(arrays["offsets"]) else -1
    ok = (len(arrays["episode_ids"]) == meta["episodes"] == len(arrays["offsets"]) - 1
          and steps == meta["steps"]
          and all(len(arrays[k]) == steps for k in ("frames", "actions", "rewards", "dones"))
          and arrays["frames"].shape[1:] == FRAME_SHAPE)
    if not ok:
        raise CorruptShardError(f"shard {shard.name} is inconsistent (array lengths differ from meta.json): {fix}")
    return arrays


@dataclass
class Episode:
    episode_id: int
    frames: np.ndarray    # uint8 [T, 64, 64, 3] (memory-mapped)
    actions: np.ndarray   # float32 [T, A]
    rewards: np.ndarray   # float32 [T]
    dones: np.ndarray     # bool [T]

    def __len__(self):
        return len(self.rewards)


class RolloutDataset:
    """All complete shards of one dataset folder, memory-mapped.

    Episodes are numbered 0..n_episodes-1 in collection order (by episode id);
    frames have a global index too, for shuffled minibatches.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        if not (self.root / "dataset.json").exists():
            raise FileNotFoundError(
                f"no dataset at {self.root}: run `python -m wmlib collect <world>` first")
        self.meta = read_json(self.root / "dataset.json")
        self.world = self.meta["world"]
        self._shards = [validate_shard(s) for s in complete_shards(self.root)]
        rows = []  # (episode_id, shard index, start, stop)
        for si, arrs in enumerate(self._shards):
            off = np.asarray(arrs["offsets"])
            for k, ep in enumerate(np.asarray(arrs["episode_ids"])):
                rows.append((int(ep), si, int(off[k]), int(off[k + 1])))
        rows.sort()
        self._rows = rows
        self.episode_ids = np.array([r[0] for r in rows], np.int64)
        self.lengths = np.array([r[3] - r[2] for r in rows], np.int64)
        self.frame_starts = np.concatenate([[0], np.cumsum(self.lengths)]).astype(np.int64)

    @property
    def n_episodes(self) -> int:
        return len(self._rows)

    @property
    def n_frames(self) -> int:
        return int(self.frame_starts[-1])

    def __len__(self):
        return self.n_episodes

    def episode(self, i: int) -> Episode:
        ep, si, a, b = self._rows[i]
        s = self._shards[si]
        return Episode(ep, s["frames"][a:b], s["actions"][a:b], s["rewards"][a:b], s["dones"][a:b])

    def returns(self) -> np.ndarray:
        return np.array([float(np.sum(self.episode(i).rewards)) for i in range(self.n_episodes)])

    def split(self, val_episodes: int) -> tuple[np.ndarray, np.ndarray]:
        """Episode indices (train, validation): the last ``val_episodes`` are held out."""
        n = self.n_episodes
        if n < 2:
            raise ValueError(f"need at least 2 episodes to hold some out, found {n}: collect more")
        v = int(min(max(val_episodes, 1), n - 1))
        idx = np.arange(n)
        return idx[: n - v], idx[n - v:]

    def frame_indices(self, episodes) -> np.ndarray:
        """Global frame indices of the given episodes."""
        episodes = np.asarray(episodes, np.int64)
        if len(episodes) == 0:
            return np.zeros(0, np.int64)
        return np.concatenate([np.arange(self.frame_starts[e], self.frame_starts[e + 1]) for e in episodes])

    def gather_frames(self, frame_idx) -> np.ndarray:
        """uint8 frames for global frame indices, read shard by shard from the memory maps."""
        frame_idx = np.asarray(frame_idx, np.int64)
        out = np.empty((len(frame_idx), *FRAME_SHAPE), np.uint8)
        eps = np.searchsorted(self.frame_starts, frame_idx, side="right") - 1
        for e in np.unique(eps):
            mask = eps == e
            _, si, a, _ = self._rows[e]
            local = a + frame_idx[mask] - self.frame_starts[e]
            order = np.argsort(local)  # sorted reads are kinder to the page cache
            chunk = self._shards[si]["frames"][local[order]]
            dest = np.flatnonzero(mask)[order]
            out[dest] = chunk
        return out

    def iter_frame_batches(self, episodes, batch_size: int, shuffle: bool = True,
                           rng: np.random.Generator | None = None, max_frames: int = 0,
                           start_batch: int = 0):
        """Yield uint8 frame batches of the given episodes (memory stays one batch).

        ``start_batch`` skips batches already seen (exact resume within an epoch);
        the order depends only on ``rng``'s state at the call.
        """
        idx = self.frame_indices(episodes)
        if shuffle:
            rng = rng if rng is not None else np.random.default_rng()
            idx = rng.permutation(idx)
        if max_frames:
            idx = idx[:max_frames]
        for start in range(start_batch * batch_size, len(idx), batch_size):
            yield self.gather_frames(idx[start:start + batch_size])


def load_dataset(cfg: Config) -> RolloutDataset:
    return RolloutDataset(paths.data_dir(cfg))


def summarize(ds: RolloutDataset) -> str:
    r = ds.returns()
    return (f"{ds.world}: {ds.n_episodes} episodes, {ds.n_frames} frames, "
            f"return {r.mean():.1f} +- {r.std():.1f}, length {ds.lengths.mean():.1f} +- {ds.lengths.std():.1f}")


__all__ = ["collect", "RolloutDataset", "Episode", "CorruptShardError", "load_dataset",
           "play_episode", "collection_seed", "summarize", "check_world"]
