"""Experiments and benchmarks are not run in CI; at least every wmlib name they import must exist.

A module move (the house issue) once broke an experiment script silently: it imported a
function that had moved. This walks each script's imports, including the ones inside
functions, and resolves them against the library. A script uses the library's public names
only (a private one may change under it without notice), and no experiment hard-codes a
/tmp folder (runs go where ``--artifacts`` says).
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


def private_uses(path: Path):
    """(line, name) of every private wmlib name the script imports or reads off a wmlib module."""
    tree = ast.parse(path.read_text(), str(path))
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "wmlib":
            if any(p.startswith("_") for p in node.module.split(".")):
                yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{a.name}") for a in node.names if a.name.startswith("_"))
            aliases |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "wmlib":
                    yield from ((node.lineno, a.name) for p in a.name.split(".") if p.startswith("_"))
                    aliases.add(a.asname or a.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__") \
                and isinstance(node.value, ast.Name) and node.value.id in aliases:
            yield node.lineno, f"{node.value.id}.{node.attr}"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_script_uses_only_public_wmlib_names(path):
    found = [f"line {line}: {name}" for line, name in private_uses(path)]
    assert not found, f"{path.name} uses private wmlib names (use or ask for a public function): {found}"


def test_the_private_name_check_sees_both_ways_in(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("from wmlib.training.mdnrnn import _epoch_generators\n"
                      "from wmlib.book import pretrained as pt\npt._load('doom', 'vae')\n")
    assert [name for _, name in private_uses(script)] == ["wmlib.training.mdnrnn._epoch_generators", "pt._load"]


def test_no_experiment_hard_codes_a_tmp_folder():
    found = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "experiments").rglob("*"))
             if p.suffix in (".py", ".sh", ".toml", ".md") and "/tmp" in p.read_text()]
    assert not found, f"{found} name a /tmp folder: take the folder as an argument (--artifacts)"
