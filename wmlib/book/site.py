"""The published book: execute every chapter on the shipped models, then build a static site.

    python -m wmlib book build                       # laptop profile, into build/book
    python -m wmlib book build --profile ci --out /tmp/site

Steps (``build``):

1. stage: copy ``book/`` (config, table of contents, intro and "run it yourself" pages) and
   every ``notebooks/NN_*.ipynb`` into ``<out>/src``;
2. execute each copied notebook with nbclient in its own folder, with ``WM_PROFILE`` set,
   ``WM_TRAIN`` unset (TRAIN off: shipped models and recorded results, nothing trained),
   ``WM_BOOK=1`` (each widget adds an animated GIF of what it shows) and the widget state
   stored in the notebook, so ipywidgets' static embedding draws the controls. Each notebook
   has a time limit; a failing cell raises ``NotebookFailed`` naming the notebook and the cell;
3. ``jupyter-book build`` (Jupyter Book 1, Sphinx: offline) with execution off, into
   ``<out>/_build/html``; ``index.html`` there is the site.

The notebooks in the repository are never touched (they stay stored without outputs).
The artifacts the chapters write go to ``--artifacts``, else ``$WM_ARTIFACTS``, else
``<out>/artifacts`` (empty on a fresh build: the site shows the shipped models).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..config import PROFILES
from . import course

REPO = Path(__file__).resolve().parents[2]
CHAPTER_GLOB = "[0-9][0-9]_*.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGETS_MARKER = "<!-- wm-book:widgets -->"
# Seconds one notebook may take to execute, per profile (the contract at laptop is 3 minutes
# on 2 cores; the limit leaves room for a loaded machine).
TIMEOUTS = {"ci": 600, "laptop": 900, "paper": 3600, "gpu": 3600}

__all__ = ["build", "stage", "chapters", "book_env", "execute_notebook", "execute_all", "run_jupyter_book",
           "widget_summary", "repository_url", "NotebookFailed", "BookBuildError", "BuildReport", "REPO",
           "TIMEOUTS"]


class BookBuildError(RuntimeError):
    """The site could not be built (a notebook failed, jupyter-book failed, a file is missing)."""


class NotebookFailed(BookBuildError):
    """A chapter's cell raised or ran out of time while the site was being built."""

    def __init__(self, notebook: str, cell: int | None, source: str, error: str):
        self.notebook, self.cell, self.source, self.error = notebook, cell, source, error
        where = f"cell {cell} (counting every cell from 1)" if cell is not None else "before any cell ran"
        first = next((line for line in source.splitlines() if line.strip()), "")
        super().__init__(f"{notebook}, {where} (code cell starting {first[:80]!r}) failed:\n{error}")


@dataclass
class BuildReport:
    """What ``build`` did: where the site is, each notebook's time, and what failed."""

    out: Path
    profile: str
    index: Path | None = None
    seconds: dict = field(default_factory=dict)       # notebook name -> execution seconds
    failures: list = field(default_factory=list)      # NotebookFailed
    widgets: dict = field(default_factory=dict)       # notebook name -> widget_summary(...)
    total_seconds: float = 0.0


def chapters(repo: Path = REPO) -> list[Path]:
    """The chapter notebooks, in order: ``notebooks/NN_*.ipynb``."""
    found = sorted((repo / "notebooks").glob(CHAPTER_GLOB))
    if not found:
        raise BookBuildError(f"no chapter notebooks ({CHAPTER_GLOB}) under {repo / 'notebooks'}")
    return found


def stage(out: Path, repo: Path = REPO, repository: str | None = None, profile: str = "laptop") -> Path:
    """Copy the book's pages and the chapter notebooks into ``<out>/src`` (emptied first); return it."""
    book = repo / "book"
    if not (book / "_config.yml").exists():
        raise BookBuildError(f"{book / '_config.yml'} not found: the site is built from a clone of the repository")
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(book, src, ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints"))
    (src / "notebooks").mkdir(exist_ok=True)
    for nb in chapters(repo):  # without the exercises' model answers and hidden tests (course.public_version)
        page = course.public_version(nbformat.read(str(nb), as_version=4))
        nbformat.write(page, str(src / "notebooks" / nb.name))
    _configure(src / "_config.yml", repository or repository_url(repo), profile)
    return src


def repository_url(repo: Path = REPO) -> str | None:
    """The repository's web address: ``$GITHUB_REPOSITORY`` (set in GitHub Actions), else git's origin."""
    if os.environ.get("GITHUB_REPOSITORY"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{os.environ['GITHUB_REPOSITORY']}"
    try:
        url = subprocess.run(["git", "-C", str(repo), "remote", "get-url", "origin"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    if url.startswith("git@"):  # git@github.com:owner/name.git -> https://github.com/owner/name
        url = "https://" + url[4:].replace(":", "/", 1)
    url = url.removesuffix(".git")
    return url if url.startswith("https://") else None


def _configure(config: Path, url: str | None, profile: str) -> None:
    """The staged config: the profile the pages say they ran at, and the repository link (and its
    button) pointing at ``url``; without one, no link."""
    import yaml

    cfg = yaml.safe_load(config.read_text())
    cfg.setdefault("parse", {}).setdefault("myst_substitutions", {})["book_profile"] = profile
    if url:
        cfg.setdefault("repository", {})["url"] = url
        cfg.setdefault("html", {})["use_repository_button"] = True
    else:
        cfg.pop("repository", None)
        cfg.setdefault("html", {})["use_repository_button"] = False
    config.write_text(yaml.safe_dump(cfg, sort_keys=False))


def book_env(profile: str, artifacts: Path, base: dict | None = None) -> dict:
    """The kernel's environment: the profile, TRAIN off, the book switch, a private artifacts root."""
    env = dict(os.environ if base is None else base)
    env.pop("WM_TRAIN", None)  # TRAIN off: nothing is trained for the site
    env.update(WM_PROFILE=profile, WM_BOOK="1", WM_ARTIFACTS=str(artifacts), SDL_VIDEODRIVER="dummy",
               TQDM_DISABLE="1",  # progress bars become widgets on the page (this stops those not set explicitly)
               PYDEVD_DISABLE_FILE_VALIDATION="1")
    return env


def execute_notebook(path: Path, env: dict, timeout: float, kernel_name: str = "python3",
                     kernel_log: Path | None = None) -> float:
    """Execute ``path`` in place (in its own folder); return its seconds. Raises ``NotebookFailed``.

    ``timeout`` bounds the whole notebook (each cell gets what is left of it). The kernel's own
    stderr goes to ``kernel_log`` (appended) rather than the terminal."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    current = {"index": None, "source": ""}

    def on_cell_start(cell, cell_index, **_):
        current.update(index=cell_index + 1, source=cell.source)

    start = time.time()
    deadline = start + timeout
    client = NotebookClient(
        nb, kernel_name=kernel_name, resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True, allow_errors=False, record_timing=False,
        timeout_func=lambda cell: max(1, int(deadline - time.time())),  # the notebook's time, not each cell's
        on_cell_start=on_cell_start, startup_timeout=120)
    log = open(kernel_log, "a") if kernel_log else None
    error = None
    try:
        if log:
            log.write(f"--- {path.name}\n")
            log.flush()
        client.execute(env=env, **({"stderr": log} if log else {}))
    except CellTimeoutError:
        error = f"the notebook ran past its {timeout:.0f} s limit (--timeout)"
    except CellExecutionError as err:
        error = f"{err.ename}: {err.evalue}\n{_tail(str(err))}"
    except DeadKernelError as err:
        error = f"the kernel died: {err}" + (f" (its log: {kernel_log})" if kernel_log else "")
    finally:
        if log:
            log.close()
    if error:
        try:
            client.set_widgets_metadata()  # the widgets shown before the failure still draw on the page
        except Exception:  # noqa: BLE001 (a partial state is a nicety, never a second error)
            pass
    _save(nb, path)
    if error:
        raise NotebookFailed(path.name, current["index"], current["source"], error)
    return time.time() - start


def _tail(text: str, lines: int = 25) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # the traceback's terminal colours
    return "\n".join(text.splitlines()[-lines:])


def _save(nb, path: Path) -> None:
    import nbformat

    nbformat.write(nb, path)


def widget_summary(path: Path) -> tuple[int, int, list[str]]:
    """In an executed notebook: the explorers shown (widget views in cells that build one of
    ``wmlib.book.widgets``' explorers; progress bars are widgets too and are not counted), the
    animations, and the explorers' class names."""
    import nbformat

    from . import widgets

    names = sorted(n for n in dir(widgets) if isinstance(getattr(widgets, n), type)
                   and issubclass(getattr(widgets, n), widgets.base._Shown) and n != "_Shown")
    nb = nbformat.read(path, as_version=4)
    views = animations = 0
    used: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outs = cell.get("outputs", [])
        animations += sum("wm-animation" in str(o.get("data", {}).get("text/html", "")) for o in outs)
        built = [n for n in names if re.search(rf"\b{n}\b", cell.source)]
        if built and any(WIDGET_VIEW in o.get("data", {}) for o in outs):
            views += sum(WIDGET_VIEW in o.get("data", {}) for o in outs)
            used += [n for n in built if n not in used]
    return views, animations, used


def _write_widget_table(src: Path, report: BuildReport) -> None:
    """Fill the "run it yourself" page's list of explorers from the executed notebooks."""
    page = src / "run_it_yourself.md"
    if not page.exists() or WIDGETS_MARKER not in page.read_text():
        return
    rows = ["| chapter | explorers (their controls render; redrawing needs a kernel) | animations |",
            "|---|---|---|"]
    for name, (views, animations, used) in report.widgets.items():
        if views or animations:
            explorers = ", ".join(f"`{n}`" for n in used) or "none"
            rows.append(f"| [{name.removesuffix('.ipynb')}](notebooks/{name}) | {explorers} | {animations} |")
    if len(rows) == 2:
        table = "No chapter shows an explorer in this build."
    else:
        table = ("Read from the notebooks executed for this build. An explorer's controls show the state the "
                 "notebook left them in; an animation plays what an explorer does when you drive it.\n\n"
                 + "\n".join(rows))
    page.write_text(page.read_text().replace(WIDGETS_MARKER, table))


def execute_all(src: Path, env: dict, timeout: float, report: BuildReport, log=print,
                keep_going: bool = True) -> None:
    """Execute every staged chapter in order, recording times and failures in ``report``."""
    for nb in sorted((src / "notebooks").glob(CHAPTER_GLOB)):
        log(f"executing {nb.name} (profile {report.profile}, TRAIN off, limit {timeout:.0f} s) ...")
        try:
            report.seconds[nb.name] = execute_notebook(nb, env, timeout, kernel_log=src.parent / "kernels.log")
            log(f"  {nb.name}: {report.seconds[nb.name]:.1f} s")
        except NotebookFailed as err:
            report.failures.append(err)
            log(f"  FAILED at cell {err.cell}: {err.error.splitlines()[0] if err.error else ''}")
            if not keep_going:
                raise
        report.widgets[nb.name] = widget_summary(nb)


def run_jupyter_book(src: Path, out: Path, log=print) -> Path:
    """``jupyter-book build`` the staged source into ``<out>/_build/html``; return its index.html."""
    exe = shutil.which("jupyter-book", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                             os.environ.get("PATH", "")]))
    cmd = [exe] if exe else [sys.executable, "-c", "from jupyter_book.cli.main import main; main()"]
    cmd += ["build", str(src), "--path-output", str(out), "--builder", "html"]
    log(" ".join(cmd))
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    (out / "jupyter-book.log").write_text(proc.stdout + "\n" + proc.stderr)
    if proc.returncode != 0:
        raise BookBuildError(f"jupyter-book build failed (exit {proc.returncode}); the log is in "
                             f"{out / 'jupyter-book.log'}:\n{_tail(proc.stdout + proc.stderr, 40)}")
    warnings = [line for line in (proc.stdout + proc.stderr).splitlines() if "WARNING" in line]
    if warnings:
        log(f"jupyter-book: {len(warnings)} warnings (in {out / 'jupyter-book.log'})")
    index = out / "_build" / "html" / "index.html"
    if not index.exists():
        raise BookBuildError(f"jupyter-book finished but {index} is missing; see {out / 'jupyter-book.log'}")
    return index


def build(profile: str = "laptop", out: str | Path = "build/book", artifacts: str | Path | None = None,
          timeout: float | None = None, keep_going: bool = False, repository: str | None = None,
          repo: Path = REPO, log=print) -> BuildReport:
    """Execute every chapter at ``profile`` with TRAIN off and build the site; see the module docstring.

    A failing notebook raises ``NotebookFailed`` after every chapter has been tried (so one
    build names them all); ``keep_going=True`` builds the site anyway, with the failed
    chapters shown as far as they ran.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: one of {', '.join(PROFILES)}")
    start = time.time()
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    artifacts = Path(artifacts or os.environ.get("WM_ARTIFACTS") or out / "artifacts").resolve()
    timeout = float(timeout or TIMEOUTS[profile])
    report = BuildReport(out=out, profile=profile)
    src = stage(out, repo, repository, profile)
    log(f"staged the book in {src} ({len(list((src / 'notebooks').glob(CHAPTER_GLOB)))} chapters); "
        f"artifacts in {artifacts}")
    execute_all(src, book_env(profile, artifacts), timeout, report, log, keep_going=True)
    (out / "executed.json").write_text(json.dumps(
        dict(profile=profile, seconds=report.seconds,
             failures=[dict(notebook=f.notebook, cell=f.cell, error=f.error) for f in report.failures]), indent=1))
    if report.failures and not keep_going:
        names = ", ".join(f"{f.notebook} (cell {f.cell})" for f in report.failures)
        first = report.failures[0]
        parts = [first.error, *(str(f) for f in report.failures[1:]),
                 f"{len(report.failures)} notebook(s) failed: {names}; --keep-going builds the site anyway"]
        raise NotebookFailed(first.notebook, first.cell, first.source, "\n\n".join(parts))
    _write_widget_table(src, report)
    report.index = run_jupyter_book(src, out, log)
    report.total_seconds = time.time() - start
    return report
