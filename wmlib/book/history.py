"""The project's measured history: the tables of its experiment log, as JSON (notebook 07).

    wmlib/pretrained/<world>/history/<name>.json

Each file is one table of the log, transcribed cell by cell: ``title``, ``question`` (what it asks),
``measured`` (machine and conditions, as the log states them), ``command`` (per file, and per row where
the table has a command column), ``columns`` ([{key, label}]), ``rows`` and optional ``facts`` (the
numbers the log states beside the table). A score is ``{"mean", "std"}`` (plus ``note``,
``at_minutes``), a paired difference ``{"diff", "se"}``, a validation / test pair
``{"validation", "test"}``; a cell the log states in words stays a string.

    doc = load("doom", "levers")
    show(doc)                          # the table as Markdown, with what was measured and how to re-run it
"""
from __future__ import annotations

from pathlib import Path

from ..artifacts import read_json
from ..config import check_world

HISTORY_ROOT = Path(__file__).resolve().parents[1] / "pretrained"


def history_dir(world: str, root: Path | None = None) -> Path:
    return Path(root or HISTORY_ROOT) / check_world(world) / "history"


def names(world: str, root: Path | None = None) -> list[str]:
    """Every table of ``world``'s history, by file name."""
    return sorted(p.stem for p in history_dir(world, root).glob("*.json"))


def load(world: str, name: str, root: Path | None = None) -> dict:
    path = history_dir(world, root) / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no history table {name!r} for {world} (have: {', '.join(names(world, root))})")
    return read_json(path)


def number(x) -> str:
    """A number as the log wrote it: no digits added or dropped (whole numbers grouped by thousands)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    return repr(float(x))


def text(value) -> str:
    """One cell as text: ``m ± s``, ``+d ± se``, ``v / m ± s``, lists joined by `` / ``, words as they are."""
    if value is None:
        return "-"
    if isinstance(value, list):
        return " / ".join(text(v) for v in value)
    if isinstance(value, dict):
        if "validation" in value and "test" in value:
            out = f"{number(value['validation'])} / {text(value['test'])}"
        elif "diff" in value:
            out = f"{'+' if value['diff'] >= 0 else '-'}{number(abs(value['diff']))} ± {number(value['se'])}"
        elif "mean" in value:
            out = number(value["mean"]) + (f" ± {number(value['std'])}" if "std" in value else "")
        else:
            return ", ".join(f"{k} {text(v)}" for k, v in value.items())
        if "at_minutes" in value:
            out += f" at {number(value['at_minutes'])} min"
        if value.get("note"):
            out += f" ({value['note']})"
        return out
    if isinstance(value, (int, float)):
        return number(value)
    return str(value).replace("|", "\\|")


def mean(value) -> float | None:
    """The mean (or the test mean, or the difference) a cell holds, else None."""
    if isinstance(value, dict):
        for key in ("mean", "diff"):
            if key in value:
                return float(value[key])
        if "test" in value:
            return mean(value["test"])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def table_md(doc: dict, columns: list[str] | None = None, rows=None) -> str:
    """The table (all its columns, or the keys ``columns``) as Markdown."""
    cols = [c for c in doc["columns"] if columns is None or c["key"] in columns]
    lines = ["| " + " | ".join(c["label"] for c in cols) + " |", "|" + "---|" * len(cols)]
    for row in doc["rows"] if rows is None else rows:
        lines.append("| " + " | ".join(text(row.get(c["key"])) for c in cols) + " |")
    return "\n".join(lines)


def describe(doc: dict, columns: list[str] | None = None, rows=None) -> str:
    """Title, the table, what was measured and the command that re-runs it, as Markdown."""
    parts = [f"**{doc['title']}**", "", table_md(doc, columns, rows), "", f"*Measured:* {doc['measured']}."]
    if doc.get("command"):
        parts.append(f"*Re-run:* `{doc['command']}`" + (" (rows name their own commands)"
                                                          if any(c["key"] == "command" for c in doc["columns"]) else ""))
    return "\n".join(parts)


def show(doc: dict, columns: list[str] | None = None, rows=None) -> str:
    """Display ``describe(doc)`` in a notebook."""
    from IPython.display import Markdown, display

    out = describe(doc, columns, rows)
    display(Markdown(out))
    return out


__all__ = ["HISTORY_ROOT", "history_dir", "names", "load", "number", "text", "mean", "table_md", "describe", "show"]
