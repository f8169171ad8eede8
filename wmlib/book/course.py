"""Coursework: the chapters as an nbgrader course, with a student and an instructor version of each.

    python -m wmlib course generate [--out build/course] [--chapters 00 01 ...]
    python -m wmlib course autograde SUBMITTED [--out build/course] [--student NAME]

The instructor's source is the repository's notebooks. Each build-it-yourself cell is an nbgrader
*solution* cell (the answer between ``### BEGIN SOLUTION`` and ``### END SOLUTION``), the check below
it a *graded test* cell worth points (its give-away part between ``### BEGIN HIDDEN TESTS`` and
``### END HIDDEN TESTS``), and each exercise's model answer a solution region the student never sees.
``generate`` lays out an nbgrader course folder (``source/<chapter>/<chapter>.ipynb`` and
``nbgrader_config.py``), runs ``nbgrader generate_assignment`` for every chapter and leaves the student
versions in ``<out>/release/<chapter>/``, after checking that no line of an answer is left in them.
``autograde`` puts a student's filled notebooks where nbgrader looks for submissions and runs
``nbgrader autograde``; the scores come back per graded cell. nbgrader's own commands (release,
collect, formgrader, feedback) work on the same folder: ``book/instructors.md`` says how.

Autograding executes the notebooks, so it runs at whatever ``WM_PROFILE`` / ``WM_ARTIFACTS`` the
caller has set (``ci``: seconds per chapter, for a quick marking; ``laptop``: what students ran).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
COURSE_ID = "world-models"
BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"

CONFIG = '''# nbgrader's configuration for the World Models course (written by `python -m wmlib course generate`).
c = get_config()  # noqa: F821 (nbgrader defines it)
c.CourseDirectory.course_id = {course!r}
# Autograding executes whole chapters: a training cell may take minutes at the laptop profile.
c.Execute.timeout = {timeout}
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
'''


# ----------------------------------------------------------------------------- exercises: time estimates

@dataclass(frozen=True)
class Exercise:
    """An exercise's estimated hands-on time at the laptop profile, on the shipped models (an estimate,
    not a measurement), and the pipeline stages it re-runs (a "project": their recorded times add up)."""
    minutes: int
    stages: tuple[str, ...] = ()
    world: str = "doom"

    @property
    def project(self) -> bool:
        return bool(self.stages) or self.minutes > 15


# One entry per exercise, in the order of each chapter's "## Exercises" list.
EXERCISES: dict[str, tuple[Exercise, ...]] = {
    "00_worlds": (Exercise(15), Exercise(10), Exercise(5), Exercise(15)),
    "01_vision": (Exercise(15, ("train V",)), Exercise(15), Exercise(15, ("train V",)), Exercise(10), Exercise(10)),
    "02_memory": (Exercise(15, ("train M",)), Exercise(15), Exercise(15, ("train M",)), Exercise(10),
                  Exercise(15, ("train M",))),
    # 03's projects evolve the car's C at laptop (3: more generations on the shipped run; 5, 6: a fresh folder,
    # whose V and M are trained first): no Doom stage times apply, so their whole time is the estimate.
    "03_controller": (Exercise(10), Exercise(15), Exercise(60), Exercise(15), Exercise(180), Exercise(180),
                      Exercise(10), Exercise(10)),
    "04_dream": (Exercise(15, ("train C in the dream (tau 1.15)", "score C in the real game")), Exercise(10),
                 Exercise(15, ("score C in the real game",)), Exercise(10), Exercise(5)),
    "05_temperature": (Exercise(15), Exercise(15, ("train C in the dream (tau 1.15)", "score C in the real game")),
                       Exercise(10), Exercise(15, ("iterative round 1", "iterative round 1")), Exercise(15)),
    "06_iterative": (Exercise(15, ("iterative round 1",)), Exercise(15, ("iterative round 1",)),
                     Exercise(15, ("iterative round 1",)), Exercise(15), Exercise(10)),
    "07_when_the_dream_lies": (Exercise(10, ("collect", "train V", "encode", "train M",
                                             "train C in the dream (tau 1.15)")), Exercise(15), Exercise(15),
                               Exercise(10), Exercise(15)),
    # 08's project plays two iterative rounds at laptop (experiments/curiosity.py: the current and the curious arm)
    "08_beyond_the_paper": (Exercise(10), Exercise(15), Exercise(15, ("iterative round 1", "iterative round 1"))),
}


def exercise_rows(chapter: str, profile: str = "laptop") -> list[dict]:
    """The exercises of ``chapter`` (a notebook stem) with their estimated times -> one dict per exercise."""
    from ..config import get_config
    from .chapter import stage_seconds

    rows = []
    for n, ex in enumerate(EXERCISES.get(chapter, ()), 1):
        recorded = [stage_seconds(get_config(ex.world, profile), s) for s in ex.stages]
        known = [s for s in recorded if s is not None]
        rows.append(dict(exercise=n, kind="project" if ex.project else "lab", minutes=ex.minutes,
                         stages=list(ex.stages), stage_minutes=sum(known) / 60 if known else None,
                         unrecorded=[s for s, t in zip(ex.stages, recorded) if t is None]))
    return rows


def exercise_table(chapter: str, profile: str = "laptop") -> str:
    """A Markdown table of ``chapter``'s exercises: lab or project, and the estimated time at ``profile``."""
    lines = [f"| Exercise | Kind | Time at `{profile}` on the shipped models (an estimate) |", "|---|---|---|"]
    for r in exercise_rows(chapter, profile):
        time = f"about {r['minutes']} min of your own work"
        if r["stages"]:
            runs = ", ".join(f"*{s}*" if n == 1 else f"{n} x *{s}*" for s, n in Counter(r["stages"]).items())
            if r["stage_minutes"] is not None and not r["unrecorded"]:
                time += f", plus a retrain ({runs}: {r['stage_minutes']:.0f} min in the shipped run's record)"
            else:
                time += f", plus a retrain ({runs}: its cell prints the recorded time when `TRAIN` is on)"
        lines.append(f"| {r['exercise']} | {r['kind']} | {time} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the instructor's source

def chapters(source: Path | str = NOTEBOOKS, only=None) -> list[Path]:
    """The chapter notebooks of ``source`` (``NN_name.ipynb``), or those whose number or name is in ``only``."""
    found = sorted(Path(source).glob("[0-9][0-9]_*.ipynb"))
    if only:
        wanted = {str(x) for x in only}
        found = [p for p in found if p.stem in wanted or p.stem[:2] in wanted]
        missing = wanted - {p.stem for p in found} - {p.stem[:2] for p in found}
        if missing:
            raise ValueError(f"no chapter {', '.join(sorted(missing))} in {source}")
    if not found:
        raise FileNotFoundError(f"no chapter notebooks (NN_*.ipynb) in {source}")
    return found


def graded_cells(path: Path | str) -> list[dict]:
    """The nbgrader cells of a notebook: grade_id, kind (solution / test / answer), points, source."""
    import nbformat

    cells = []
    for cell in nbformat.read(str(path), as_version=4).cells:
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        if meta.get("grade") and not meta.get("solution"):
            kind = "test"
        elif cell.cell_type == "markdown":
            kind = "answer"
        else:
            kind = "solution"
        cells.append(dict(grade_id=meta["grade_id"], kind=kind, points=float(meta.get("points") or 0),
                          cell_type=cell.cell_type, source=cell.source))
    return cells


def answer_code(path: Path | str, grade_id: str) -> str:
    """The source of the code cell ``grade_id`` in the instructor's notebook (its answer included)."""
    for cell in graded_cells(path):
        if cell["grade_id"] == grade_id and cell["cell_type"] == "code":
            return cell["source"]
    raise KeyError(f"{path}: no code cell with grade_id {grade_id!r}")


def load_answer(path: Path | str, grade_id: str) -> dict:
    """Run a self-contained model-answer cell of the instructor's notebook -> the names it defines."""
    namespace: dict = {"__name__": f"answer_{grade_id.replace('-', '_')}"}
    exec(compile(answer_code(path, grade_id), f"{Path(path).name}:{grade_id}", "exec"), namespace)
    return namespace


def _regions(source: str, begin: str, end: str) -> tuple[list[str], list[str]]:
    """Lines inside ``begin``/``end`` regions, and lines outside them."""
    inside, outside, within = [], [], False
    for line in source.splitlines():
        if begin in line:
            within = True
        elif end in line:
            within = False
        else:
            (inside if within else outside).append(line)
    return inside, outside


def _answer_lines(nb) -> set[str]:
    """Every line of an answer or a hidden test that appears nowhere else in the notebook (stripped)."""
    inside, outside = [], []
    for cell in nb.cells:
        for begin, end in ((BEGIN, END), (BEGIN_HIDDEN, END_HIDDEN)):
            i, _ = _regions(cell.source, begin, end)
            inside += i
        _, o = _regions(cell.source, BEGIN, END)
        _, o = _regions("\n".join(o), BEGIN_HIDDEN, END_HIDDEN)
        outside += o
    meaningful = {line.strip() for line in inside if len(re.sub(r"\W", "", line)) >= 6}
    return meaningful - {line.strip() for line in outside}


def leaks(student: Path | str, instructor: Path | str) -> list[str]:
    """Lines of the instructor's answers or hidden tests found in the student's notebook (none, to pass)."""
    import nbformat

    secret = _answer_lines(nbformat.read(str(instructor), as_version=4))
    text = {line.strip() for cell in nbformat.read(str(student), as_version=4).cells
            for line in cell.source.splitlines()}
    markers = [m for m in (BEGIN, END, BEGIN_HIDDEN, END_HIDDEN) if any(m in t for t in text)]
    return sorted(secret & text) + markers


def public_version(nb):
    """The chapter as the public book site shows it: the build-it-yourself answers stay (the book teaches
    them and runs on them), the exercises' model answers and the hidden tests go, and so do nbgrader's
    region markers. Edits ``nb`` (an nbformat notebook) in place and returns it."""
    kept = []
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if re.search(r"-ex\d", grade_id):
            continue  # an exercise's model answer (text or code): the instructor's version only
        _, outside = _regions(cell.source, BEGIN_HIDDEN, END_HIDDEN)
        cell.source = "\n".join(line for line in outside if BEGIN not in line and END not in line)
        kept.append(cell)
    nb.cells = kept
    return nb


# ----------------------------------------------------------------------------- nbgrader, driven

@dataclass
class Course:
    """An nbgrader course folder and what ``generate`` made in it."""
    root: Path
    assignments: list[str] = field(default_factory=list)

    @property
    def release(self) -> Path:
        return self.root / "release"

    def student_version(self, assignment: str) -> Path:
        return self.release / assignment / f"{assignment}.ipynb"

    def instructor_version(self, assignment: str) -> Path:
        return self.root / "source" / assignment / f"{assignment}.ipynb"


def nbgrader(root: Path | str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` in the course folder ``root``; its log comes back, an error raises.

    ``env``: variables to set for it (and the kernels it starts); a value of None unsets one."""
    environ = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = str(value)
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=str(root), capture_output=True,
                          text=True, env=environ)
    if proc.returncode != 0:
        raise RuntimeError(f"`nbgrader {' '.join(args)}` failed in {root}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def layout(out: Path | str = "build/course", source: Path | str = NOTEBOOKS, only=None,
           timeout: int = 1800) -> Course:
    """An nbgrader course folder at ``out``: ``source/<chapter>/<chapter>.ipynb`` and ``nbgrader_config.py``."""
    root = Path(out).resolve()
    course = Course(root)
    for nb in chapters(source, only):
        folder = root / "source" / nb.stem
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        shutil.copy2(nb, folder / nb.name)
        course.assignments.append(nb.stem)
    (root / "nbgrader_config.py").write_text(CONFIG.format(course=COURSE_ID, timeout=timeout))
    return course


def generate(out: Path | str = "build/course", source: Path | str = NOTEBOOKS, only=None) -> Course:
    """Lay out the course and run ``nbgrader generate_assignment`` for every chapter.

    The student versions land in ``<out>/release/<chapter>/``; it raises if any line of an answer or
    a hidden test is left in one of them.
    """
    course = layout(out, source, only)
    nbgrader(course.root, "generate_assignment", "*", "--force")  # every chapter in source/, in one process
    for assignment in course.assignments:
        found = leaks(course.student_version(assignment), course.instructor_version(assignment))
        if found:
            raise RuntimeError(f"{course.student_version(assignment)} still holds answer lines: {found[:5]}")
    return course


def submit(course: Course | Path | str, submitted: Path | str, student: str = "student") -> list[str]:
    """Copy a student's notebooks (``NN_name.ipynb`` files in ``submitted``, or in its per-chapter folders)
    to ``<course>/submitted/<student>/<chapter>/``, where nbgrader looks -> the chapters submitted."""
    root = Path(course.root if isinstance(course, Course) else course).resolve()
    known = {p.name for p in (root / "source").iterdir()} if (root / "source").exists() else set()
    found = []
    for nb in sorted(Path(submitted).rglob("[0-9][0-9]_*.ipynb")):
        if ".ipynb_checkpoints" in nb.parts or nb.stem not in known:
            continue
        folder = root / "submitted" / student / nb.stem
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(nb, folder / nb.name)
        found.append(nb.stem)
    if not found:
        raise FileNotFoundError(f"no notebook of this course ({', '.join(sorted(known)) or 'none generated'}) "
                                f"in {submitted}: run `python -m wmlib course generate` first")
    return found


def scores(course: Course | Path | str, assignment: str, student: str = "student") -> dict[str, tuple]:
    """Autograded scores of one submission, per graded cell: {grade_id: (score, max_score)}."""
    from nbgrader.api import Gradebook

    root = Path(course.root if isinstance(course, Course) else course).resolve()
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", COURSE_ID) as gb:
        submission = gb.find_submission(assignment, student)
        return {grade.name: (grade.score, grade.max_score)
                for nb in submission.notebooks for grade in nb.grades}


def autograde(course: Course | Path | str, submitted: Path | str, student: str = "student",
              env: dict | None = None) -> dict[str, dict[str, tuple]]:
    """Autograde a student's notebooks with nbgrader -> {chapter: {grade_id: (score, max_score)}}.

    The notebooks execute in a fresh kernel with the environment of the caller plus ``env``.
    """
    root = Path(course.root if isinstance(course, Course) else course).resolve()
    assignments = submit(root, submitted, student)
    nbgrader(root, "autograde", "*", "--student", student, "--force", env=env)
    return {assignment: scores(root, assignment, student) for assignment in assignments}


def report(results: dict[str, dict[str, tuple]]) -> str:
    """Scores as text, one line per graded cell and a total per chapter."""
    lines = []
    for assignment, cells in results.items():
        got = sum(s or 0 for s, _ in cells.values())
        top = sum(m for _, m in cells.values())
        lines.append(f"{assignment}: {got:g} / {top:g}")
        for gid, (s, m) in cells.items():
            if m:
                lines.append(f"  {gid:28s} {'needs grading' if s is None else f'{s:g}'} / {m:g}")
    return "\n".join(lines)


__all__ = ["Exercise", "EXERCISES", "exercise_rows", "exercise_table", "chapters", "graded_cells", "answer_code",
           "load_answer", "leaks", "public_version", "Course", "nbgrader", "layout", "generate", "submit", "scores", "autograde",
           "report"]
