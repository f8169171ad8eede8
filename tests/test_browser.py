"""The book in a real browser: every notebook with widgets, run in JupyterLab, widgets moved.

JupyterLab serves a temporary copy of notebooks/ on 127.0.0.1 (so autosave can
never write outputs into the committed files) at the ci profile. For each
notebook that builds widgets, headless Chromium runs all cells, moves a slider
or clicks a button in each widget cell, and the test asserts the rendered image
changed. Screenshots are kept under test-artifacts/browser/.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import re

import pytest

from browser import CHROMIUM, CHROMIUM_ARGS, LabPage, chromium_available, jupyterlab

REPO = Path(__file__).resolve().parents[1]
SHOTS = REPO / "test-artifacts" / "browser"
# Notebooks that show a widget: they import one of its classes (07 imports only helper functions).
SHOWS_WIDGET = re.compile(r"from wmlib\.book\.widgets import [^\n]*\b[A-Z][a-z]+[A-Z]\w*")
WIDGET_NOTEBOOKS = sorted(p.with_suffix(".ipynb").name for p in (REPO / "notebooks").glob("[0-9][0-9]_*.py")
                          if SHOWS_WIDGET.search(p.read_text()))

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not chromium_available():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `apt-get install -y chromium` (CI does this)")
    root = tmp_path_factory.mktemp("book")
    shutil.copytree(REPO / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns("*.py", "_vizdoom*", ".ipynb_checkpoints"))
    env = dict(os.environ, WM_PROFILE="ci", WM_ARTIFACTS=str(root / "artifacts"), SDL_VIDEODRIVER="dummy",
               WM_BROWSER_LOG=str(root / "jupyterlab.log"), JUPYTER_CONFIG_DIR=str(root / "jupyter-config"))
    from playwright.sync_api import sync_playwright

    with jupyterlab(root, env) as (base, token), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser, base, token
        browser.close()


def test_some_notebooks_have_widgets():
    assert len(WIDGET_NOTEBOOKS) >= 2, WIDGET_NOTEBOOKS


def drive_the_dream(lp, cell):
    """The dream player's own controls: Play with the autopilot, the tau slider, taking over by hand."""
    lp.wait_for_text(cell, "chosen by the autopilot")      # Play let the trained C drive
    base = cell.locator(".noUi-base").first               # the tau slider: a click near its left end
    base.scroll_into_view_if_needed()                      # (arrow keys would steer: the player takes keys)
    box = base.bounding_box()
    base.click(position={"x": 2, "y": box["height"] / 2})
    lp.wait_for_text(cell, "tau = 0.")                     # from 1 or 1.15: the dream's temperature follows the slider
    lp.click_button(cell, "left")                          # you take the wheel
    lp.wait_for_text(cell, "chosen by you")
    lp.click_button(cell, "autopilot")                     # autopilot off
    lp.wait_for_text(cell, "autopilot off")
    lp.screenshot("dream-driven", cell)


@pytest.mark.parametrize("notebook", WIDGET_NOTEBOOKS)
def test_widgets_respond_in_jupyterlab(lab, notebook):
    browser, base, token = lab
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    lp = LabPage(page, SHOTS, notebook.removesuffix(".ipynb"))
    try:
        lp.open(base, token, f"notebooks/{notebook}")
        lp.run_all(timeout=600)
        cells = lp.widget_cells()
        assert cells.count() >= 1, f"{notebook}: no slider or button rendered"
        for i in range(cells.count()):
            cell = cells.nth(i)
            before_src, before_png = lp.images(cell), lp.screenshot(f"cell{i}-before", cell)
            if cell.locator(".widget-play").count():
                lp.play_for(cell)  # Play steps the widget by itself (the loop, the dream)
            elif cell.locator(".noUi-handle").count():
                lp.move_slider(cell)
            else:
                lp.click_button(cell)
            page.wait_for_timeout(2500)  # the kernel redraws, the browser repaints
            after_src, after_png = lp.images(cell), lp.screenshot(f"cell{i}-after", cell)
            assert before_src != after_src or before_png != after_png, \
                f"{notebook}: widget cell {i} did not change its picture"
            if cell.locator("button", has_text="autopilot").count() and "C would now do" in lp.status_text(cell):
                drive_the_dream(lp, cell)  # a player with a C to fly it (04's first look has none on your own M)
    finally:
        lp.screenshot("page")
        page.close()
