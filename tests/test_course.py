"""Coursework with nbgrader (wmlib.book.course): every chapter's student version holds no answer; autograding
gives the instructor's version full marks, an unfilled student version zero on every graded cell, and a planted
bug loses exactly the points of the cell that tests it.

Autograding executes notebooks, so it runs at the ci profile, TRAIN off, in a private artifacts folder, on
chapters 00 and 01 cut after their last graded cell (what comes later in a chapter is never graded; the whole
chapters run under nbval). Every chapter's student version is generated and searched for answers.
"""
import re
from pathlib import Path

import nbformat
import pytest

from wmlib.book import course

pytestmark = pytest.mark.slow

GRADED = ("00", "01")   # the chapters autograded here
KL = "kl = 0.5 * (mu ** 2 + logvar.exp() - logvar - 1).sum(dim=1)"   # in 01's paper_loss answer


def trimmed(path, dest):
    """The notebook cut after its last graded cell."""
    nb = nbformat.read(str(path), as_version=4)
    last = max(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade"))
    nb.cells = nb.cells[:last + 1]
    nbformat.write(nb, str(dest))
    return dest


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """Every chapter, as a course: instructor versions in source/, student versions in release/."""
    return course.generate(tmp_path_factory.mktemp("course-full"))


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Chapters 00 and 01 cut after their last graded cell, as a course, and where their notebooks run."""
    root = tmp_path_factory.mktemp("course-small")
    (root / "src").mkdir()
    for nb in course.chapters(only=GRADED):
        trimmed(nb, root / "src" / nb.name)
    built = course.generate(root / "course", source=root / "src")
    env = dict(WM_PROFILE="ci", WM_TRAIN=None, WM_ARTIFACTS=str(root / "artifacts"), SDL_VIDEODRIVER="dummy")
    return built, env, root


def graded(path):
    return {c["grade_id"]: c["points"] for c in course.graded_cells(path) if c["kind"] == "test"}


def submit_copies(built, root, name, edit=None):
    """A folder with the given version of every chapter of ``built`` (``edit``: source -> source per cell)."""
    folder = root / name
    folder.mkdir()
    for a in built.assignments:
        src = built.instructor_version(a) if name != "blank" else built.student_version(a)
        nb = nbformat.read(str(src), as_version=4)
        for cell in nb.cells:
            cell.source = edit(cell.source) if edit else cell.source
        nbformat.write(nb, str(folder / f"{a}.ipynb"))
    return folder


def test_every_chapter_has_a_student_version_without_answers(full):
    assert full.assignments == [p.stem for p in course.chapters()]
    for a in full.assignments:
        student, instructor = full.student_version(a), full.instructor_version(a)
        assert sorted(p.name for p in student.parent.iterdir()) == [student.name]  # nothing beside it
        assert course.leaks(student, instructor) == [], a
        text = student.read_text()
        assert "notebooks/solutions" not in text and "<summary>Solution" not in text, a
        for cell in nbformat.read(str(student), as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution"):
                stub = "raise NotImplementedError()" if cell.cell_type == "code" else "YOUR ANSWER HERE"
                assert stub in cell.source, (a, meta["grade_id"])


def test_every_chapter_has_a_graded_build_and_every_exercise_a_time_and_a_model_answer(full):
    page = (Path(__file__).resolve().parents[1] / "book" / "instructors.md").read_text()
    for a in full.assignments:
        cells = course.graded_cells(full.instructor_version(a))
        tests = [c for c in cells if c["kind"] == "test"]
        assert tests and all(c["points"] > 0 for c in tests), a
        assert any(c["kind"] == "solution" for c in cells), a
        for c in tests:  # the instructors' page lists every graded cell with its points
            assert f"| `{c['grade_id']}` | {c['points']:g} |" in page, (a, c["grade_id"])
        exercises = [c.source for c in nbformat.read(str(full.instructor_version(a)), as_version=4).cells
                     if c.cell_type == "markdown" and re.match(r"\*\*\d+\.\*\*", c.source)]
        answers = [c for c in cells if c["kind"] == "answer" and "-ex" in c["grade_id"]]
        assert len(exercises) == len(answers) == len(course.EXERCISES[a]), (a, len(exercises), len(answers))
        assert all("Hint" in text for text in exercises), a
        assert all("Model answer" in c["source"] for c in answers), a


def test_course_commands_parse():
    from wmlib.cli import build_parser

    args = build_parser().parse_args(["course", "generate"])
    assert (args.out, args.chapters, args.func.__name__) == ("build/course", None, "cmd_course_generate")
    args = build_parser().parse_args(["course", "autograde", "subs/alice", "--student", "alice"])
    assert (args.submitted, args.student, args.func.__name__) == ("subs/alice", "alice", "cmd_course_autograde")


def test_the_leak_check_finds_a_planted_answer(full, tmp_path):
    a = "01_vision"
    answer = next(line.strip() for c in nbformat.read(str(full.instructor_version(a)), as_version=4).cells
                  for line in c.source.splitlines() if KL in line)
    nb = nbformat.read(str(full.student_version(a)), as_version=4)
    nb.cells[-1].source += "\n    " + answer
    nbformat.write(nb, str(tmp_path / "leaky.ipynb"))
    assert course.leaks(tmp_path / "leaky.ipynb", full.instructor_version(a)) == [answer]


def test_autograde_instructor_full_marks_blank_zero_planted_bug_loses_its_cell(small):
    built, env, root = small
    results = {}
    for name, edit in (("instructor", None), ("blank", None), ("bug", lambda s: s.replace(KL, "kl = -" + KL[6:]))):
        folder = submit_copies(built, root, name, edit)
        results[name] = course.autograde(built, folder, student=name, env=env)
    print(course.report(results["instructor"]))
    for a in built.assignments:
        points = graded(built.instructor_version(a))
        assert points and set(results["instructor"][a]) >= set(points), a
        for gid, top in points.items():
            assert results["instructor"][a][gid] == (top, top), (a, gid, results["instructor"][a][gid])
            assert results["blank"][a][gid] == (0, top), (a, gid, results["blank"][a][gid])
            lost = gid == "01-loss-test"
            assert results["bug"][a][gid] == (0 if lost else top, top), (a, gid, results["bug"][a][gid])


def test_the_public_site_shows_no_model_answer_and_no_hidden_test(tmp_path):
    from wmlib.book import site

    src = site.stage(tmp_path / "book")
    for nb in course.chapters():
        page = src / "notebooks" / nb.name
        public = {c["grade_id"]: c for c in course.graded_cells(page)}
        instructor = course.graded_cells(nb)
        hidden, _ = zip(*(course._regions(c["source"], course.BEGIN_HIDDEN, course.END_HIDDEN) for c in instructor))
        hidden_lines = {line.strip() for lines in hidden for line in lines if len(line.strip()) > 12}
        text = page.read_text()
        assert "Model answer" not in text and "HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text, nb.stem
        assert not [g for g in public if "-ex" in g], nb.stem          # exercises' answers: instructors only
        for c in instructor:                                             # builds and their checks stay
            if "-ex" not in c["grade_id"]:
                assert c["grade_id"] in public, (nb.stem, c["grade_id"])
        shown = {line.strip() for c in public.values() for line in c["source"].splitlines()}
        assert not (hidden_lines - {line.strip() for c in instructor for line in
                                    course._regions(c["source"], course.BEGIN_HIDDEN, course.END_HIDDEN)[1]}) & shown
