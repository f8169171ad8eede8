"""Safe files: atomic writes, JSON, checkpoints, checksums (where they go: ``wmlib.paths``).

Checkpoints are plain tensors plus JSON-able metadata, written atomically (temp
file, then rename) and loaded with ``weights_only=True``.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=2, sort_keys=True).encode())


def read_json(path: Path):
    return json.loads(Path(path).read_text())


def save_checkpoint(path: Path, payload: dict) -> None:
    """Save a dict of tensors / state_dicts / JSON-able values atomically."""
    import io

    import torch

    buf = io.BytesIO()
    torch.save(payload, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: Path, map_location="cpu") -> dict:
    """Load a checkpoint safely (weights only: no pickled code runs)."""
    import torch

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}: train that stage first")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # truncated or foreign file
        raise ValueError(
            f"checkpoint {path} is unreadable ({err}); delete it and re-run the stage "
            "to rebuild it") from err


def file_sha256(path: Path) -> str:
    """A file's SHA-256, read in blocks (checkpoints can be large)."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def link_stages(source: Path, target: Path, names=None, skip=()) -> Path:
    """``target/<name>`` -> ``source/<name>`` (a symlink; one already there is kept) for each stage folder or
    file ``names`` of a run folder (default: every entry of ``source`` not in ``skip``): another root reads
    those stages, never retrains or writes them, and builds the rest in its own folder. -> ``target``."""
    source, target = Path(source), Path(target)
    names = [e.name for e in sorted(source.iterdir()) if e.name not in skip] if names is None else list(names)
    missing = [n for n in names if not (source / n).exists()]
    if missing:
        raise FileNotFoundError(f"{source} has no {', '.join(missing)}: build those stages there first "
                                "(`python -m wmlib reproduce <world> --artifacts <root>` builds every stage)")
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        if not (target / name).exists():
            os.symlink((source / name).resolve(), target / name, target_is_directory=(source / name).is_dir())
    return target


__all__ = ["atomic_write_bytes", "write_json", "read_json", "save_checkpoint", "load_checkpoint",
           "file_sha256", "link_stages"]
