"""Experiments and benchmarks are not run in CI; at least every wmlib name they import must exist.

A module move (the house issue) once broke ``experiments/doom_levers.py`` silently: it
imported a function that had moved. This walks each script's imports, including the
ones inside functions, and resolves them against the library.
"""
import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for folder in ("experiments", "benchmarks") for p in (ROOT / folder).glob("*.py"))


def wmlib_imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "wmlib":
            yield node.lineno, node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "wmlib":
                    yield node.lineno, a.name, []


def test_there_are_scripts_to_check():
    assert len(SCRIPTS) >= 5 and any(p.parent.name == "benchmarks" for p in SCRIPTS)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_wmlib_name_a_script_imports_exists(path):
    missing = []
    for line, module, names in wmlib_imports(path):
        mod = importlib.import_module(module)
        missing += [f"line {line}: {module}.{n}" for n in names if n != "*" and not hasattr(mod, n)
                    and importlib.util.find_spec(f"{module}.{n}") is None]
    assert not missing, f"{path.name} imports names wmlib no longer has: {missing}"
