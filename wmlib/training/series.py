"""V's encoding of a dataset: per-step mu and logvar, stored compactly (float16).

The series folder sits beside the data (``<world>/<profile>/series``) and is
aligned with the dataset's global frame index, so actions and dones come from
the rollout shards themselves:

    mu.npy, logvar.npy        float16 [n_frames, z]   one row per recorded step
    first_mu.npy, first_logvar.npy  float16 [n_episodes, z]  codes of each first frame
                              (the dream starts from them)
    meta.json                 z_size, n_frames, n_episodes, vae checkpoint it came from

M re-samples ``z = mu + exp(logvar / 2) * eps`` every batch, as the paper did.
Writing goes chunk by chunk into memory-mapped files under a temporary name,
renamed when complete, so memory stays flat and a killed encode leaves no
half-written series behind.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from ..artifacts import read_json, write_json
from .. import paths
from ..config import Config
from ..worlds.data import RolloutDataset, load_dataset


class SeriesWriter:
    """Fill mu/logvar rows in chunks; ``commit()`` makes the series visible atomically."""

    def __init__(self, path: Path, n_frames: int, n_episodes: int, z_size: int):
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + f".tmp-{os.getpid()}")
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)
        mk = lambda name, n: np.lib.format.open_memmap(self.tmp / name, "w+", np.float16, (n, z_size))
        self.mu, self.logvar = mk("mu.npy", n_frames), mk("logvar.npy", n_frames)
        self.first_mu, self.first_logvar = mk("first_mu.npy", n_episodes), mk("first_logvar.npy", n_episodes)
        self.meta = dict(z_size=z_size, n_frames=n_frames, n_episodes=n_episodes)

    def write(self, start: int, mu: np.ndarray, logvar: np.ndarray) -> None:
        self.mu[start:start + len(mu)] = mu
        self.logvar[start:start + len(mu)] = logvar

    def commit(self, frame_starts: np.ndarray, **meta) -> Path:
        first = np.asarray(frame_starts[:-1])
        self.first_mu[:] = self.mu[first]
        self.first_logvar[:] = self.logvar[first]
        for arr in (self.mu, self.logvar, self.first_mu, self.first_logvar):
            arr.flush()
        write_json(self.tmp / "meta.json", {**self.meta, **meta})
        if self.path.exists():
            shutil.rmtree(self.path)
        os.replace(self.tmp, self.path)
        return self.path


class EncodedSeries:
    """Per-episode (mu, logvar, actions, dones) read lazily from memory maps."""

    def __init__(self, path: Path, dataset: RolloutDataset):
        self.path = Path(path)
        if not (self.path / "meta.json").exists():
            raise FileNotFoundError(
                f"no encoded series at {self.path}: train V and encode the data first "
                "(`python -m wmlib train-vae <world>` then `python -m wmlib encode <world>`)")
        self.meta = read_json(self.path / "meta.json")
        self.dataset = dataset
        if self.meta["n_frames"] != dataset.n_frames:
            raise ValueError(
                f"series at {self.path} covers {self.meta['n_frames']} frames but the dataset has "
                f"{dataset.n_frames}: the data changed since encoding; run `python -m wmlib encode` again")
        load = lambda name: np.load(self.path / name, mmap_mode="r")
        self.mu, self.logvar = load("mu.npy"), load("logvar.npy")
        self.first_mu, self.first_logvar = load("first_mu.npy"), load("first_logvar.npy")
        self.z_size = int(self.meta["z_size"])

    @property
    def n_episodes(self) -> int:
        return self.dataset.n_episodes

    @property
    def lengths(self) -> np.ndarray:
        return self.dataset.lengths

    def split(self, val_episodes: int):
        return self.dataset.split(val_episodes)

    def episode(self, i: int) -> dict:
        a, b = self.dataset.frame_starts[i], self.dataset.frame_starts[i + 1]
        ep = self.dataset.episode(i)
        return dict(mu=np.asarray(self.mu[a:b], np.float32), logvar=np.asarray(self.logvar[a:b], np.float32),
                    actions=np.asarray(ep.actions, np.float32), dones=np.asarray(ep.dones, bool))


def load_series(cfg: Config) -> EncodedSeries:
    return EncodedSeries(paths.series_dir(cfg), load_dataset(cfg))


__all__ = ["SeriesWriter", "EncodedSeries", "load_series"]
