"""The shipped run: what the run behind the shipped models measured, and the extra controllers it evolved.

A chapter shows results before the reader trains anything. They come from here:

    wmlib/pretrained/<world>/run/<profile>/...      the JSON files of that run's artifacts folder
                                                    (same relative paths as ``wmlib.paths``: reproduce.json,
                                                    vae/log.json, mdnrnn/eval.json, temperature/table.json,
                                                    iterate/rounds.json, controller-z/test-deployed-100.json ...)
    wmlib/pretrained/<world>/run/baselines/...      its random-policy baselines
    wmlib/pretrained/<world>/controllers/<name>.pt  controllers beside the shipped one (fp16 parameters):
                                                    Doom ``round-0`` and ``tau-0.10`` ... ``tau-1.30`` (they read
                                                    ``mdnrnn-round-0.pt``), the car's ``z`` (V only)

``result(cfg, path)`` takes a path that ``wmlib.paths`` names for the reader's own run and returns
the reader's file when it exists, else the shipped run's file at the same place, with a word
saying which. ``ship_run`` (called by ``export-pretrained``) writes the mirror; loading never
trains or plays anything.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import paths
from ..artifacts import file_sha256, load_checkpoint, read_json, save_checkpoint, write_json
from ..config import Config
from .shipped_files import CONTROLLERS, controller_payload, mdnrnn_payload, shipped_dir

RUN = "run"
SHIPPED_PROFILE = "laptop"                # the shipped models were trained at this profile
MAX_JSON_BYTES = 2_000_000                # per file: logs and scores, never data
SKIP_DIRS = {"data", "series"}            # recorded frames and codes stay in the reader's artifacts


@dataclass
class Result:
    """A JSON result and where it came from."""
    data: dict
    source: str        # "yours" or "shipped"
    path: Path

    @property
    def shipped(self) -> bool:
        return self.source == "shipped"

    def label(self) -> str:
        return "your run" if self.source == "yours" else f"the shipped {SHIPPED_PROFILE} run"


def shipped_run_dir(world: str, root: Path | None = None) -> Path:
    """``wmlib/pretrained/<world>/run``: the mirror of ``<artifacts>/<world>`` (JSON only)."""
    return shipped_dir(world, root) / RUN


def _relative(cfg: Config, path: Path) -> Path:
    """``path`` relative to ``<artifacts>/<world>``, with the profile folder named as the shipped run's."""
    world_dir = paths.root(cfg) / cfg.world
    try:
        rel = Path(path).resolve().relative_to(world_dir.resolve())
    except ValueError as err:
        raise ValueError(f"{path} is not inside {world_dir}: pass a path that wmlib.paths names for this config") from err
    parts = rel.parts
    if parts and parts[0] == cfg.profile:
        parts = (SHIPPED_PROFILE,) + parts[1:]
    return Path(*parts)


def shipped_path(cfg: Config, path: Path, root: Path | None = None) -> Path:
    """Where the shipped run keeps the file that ``path`` names for the reader."""
    return shipped_run_dir(cfg.world, root) / _relative(cfg, path)


def result(cfg: Config, path: Path, root: Path | None = None) -> Result | None:
    """The reader's JSON at ``path`` if it exists, else the shipped run's; None when neither has it."""
    path = Path(path)
    if path.exists():
        return Result(read_json(path), "yours", path)
    shipped = shipped_path(cfg, path, root)
    if shipped.exists():
        return Result(read_json(shipped), "shipped", shipped)
    return None


def shipped_result(world: str, relative: str, root: Path | None = None) -> dict:
    """One file of the shipped run by its relative path (``"laptop/temperature/table.json"``)."""
    path = shipped_run_dir(world, root) / relative
    if not path.exists():
        raise FileNotFoundError(f"the shipped {world} run has no {relative}: re-export it with "
                                f"`python -m wmlib export-pretrained {world}` from a run that made it")
    return read_json(path)


def ship_run(cfg: Config, shipped: Path, borrowed: bool = False) -> list[Path]:
    """Copy every JSON result of ``cfg``'s run (and the world's baselines) into the mirror of the shipped folder
    ``shipped`` (``shipped/run``).

    ``borrowed``: the run evolved its Cs on the shipped V and M; the mirror keeps the shipped run's stages that
    this run has no folder for (V's and M's logs), and takes this run's for the rest."""
    run_dir, out = paths.run_dir(cfg), Path(shipped) / RUN
    sources = ((run_dir, SHIPPED_PROFILE), (run_dir.parent / "baselines", "baselines"))
    if borrowed:  # replace what this run recorded (its folders or files at the top), keep the rest
        for src_dir, name in sources:
            for top in {src.relative_to(src_dir).parts[0] for src in src_dir.rglob("*.json")}:
                old = out / name / top
                if old.is_dir():
                    shutil.rmtree(old)
                elif old.exists():
                    old.unlink()
    elif out.exists():
        shutil.rmtree(out)  # a mirror of one run, never a mix of two
    written = []
    for src_dir, name in sources:
        if not src_dir.exists():
            continue
        for src in sorted(src_dir.rglob("*.json")):
            rel = src.relative_to(src_dir)
            if set(rel.parts[:-1]) & SKIP_DIRS or src.stat().st_size > MAX_JSON_BYTES:
                continue
            dst = out / name / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            written.append(dst)
    return written


# ----------------------------------------------------------------------------- extra controllers

def controller_file(world: str, name: str, root: Path | None = None) -> Path:
    return shipped_dir(world, root) / CONTROLLERS / f"{name}.pt"


def ship_controller(world: str, name: str, params, mode: str, z_size: int, hidden: int, note: str,
                    root: Path | None = None, mdnrnn: str = "mdnrnn") -> Path:
    """Save C's parameters as fp16 with what it reads and which shipped M it was evolved with."""
    path = controller_file(world, name, root)
    ship_files([(path, controller_payload(params, mode, z_size, hidden, note=note, mdnrnn=mdnrnn))])
    return path


def ship_mdnrnn(world: str, name: str, m, first_mu, first_logvar, root: Path | None = None) -> Path:
    """An M beside the shipped one (Doom's round 0, which the round-0 and sweep controllers read)."""
    path = controller_file(world, name, root)
    ship_files([(path, mdnrnn_payload(m, first_mu, first_logvar))])
    return path


def ship_files(files: list[tuple[Path, dict]]) -> None:
    """Save extra Ms and Cs ((path, payload) each) and index their folder once (name: sha256 of every file)."""
    for path, payload in files:
        save_checkpoint(path, payload)
    for folder in sorted({path.parent for path, _ in files}):
        write_index(folder)


def write_index(folder: Path) -> None:
    """``index.json``: the sha256 of every extra model in ``folder``, by name."""
    write_json(folder / "index.json", {p.stem: file_sha256(p) for p in sorted(folder.glob("*.pt"))})


def shipped_controllers(world: str, root: Path | None = None) -> list[str]:
    """Names of the extra controllers shipped for ``world`` (no M files)."""
    folder = controller_file(world, "x", root).parent
    return sorted(p.stem for p in folder.glob("*.pt") if not p.stem.startswith("mdnrnn"))


def load_controller(world: str, name: str, root: Path | None = None) -> dict:
    """dict(params (float64), mode, z_size, hidden, note, mdnrnn): one extra shipped C."""
    path = controller_file(world, name, root)
    if not path.exists():
        have = ", ".join(shipped_controllers(world, root)) or "none"
        raise FileNotFoundError(f"no shipped controller {name!r} for {world} (shipped: {have}); train it "
                                "with the command its chapter names, or reinstall wmlib from the repository")
    ckpt = load_checkpoint(path)
    ckpt["params"] = ckpt["params"].float().numpy().astype(np.float64)
    return ckpt


def load_mdnrnn(world: str, name: str, device="cpu", root: Path | None = None):
    """(M, first_mu, first_logvar) of an extra shipped M (``"mdnrnn-round-0"``), or the shipped one (``"mdnrnn"``)."""
    from ..models.mdnrnn import MDNRNN

    folder = shipped_dir(world, root)
    path = (folder / "mdnrnn.pt") if name == "mdnrnn" else controller_file(world, name, root)
    ckpt = load_checkpoint(path)
    m = MDNRNN.from_checkpoint(ckpt, device)
    return m, ckpt["first_mu"].float().numpy(), ckpt["first_logvar"].float().numpy()


__all__ = ["Result", "SHIPPED_PROFILE", "shipped_run_dir", "shipped_path", "result", "shipped_result", "ship_run",
           "controller_file", "ship_controller", "ship_mdnrnn", "ship_files", "write_index", "shipped_controllers", "load_controller",
           "load_mdnrnn"]
