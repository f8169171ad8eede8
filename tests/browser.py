"""Drive the book in a real browser: JupyterLab on 127.0.0.1, Debian's Chromium via playwright.

Used by ``tests/test_browser.py``. The server binds to loopback only, uses a
random token, and is stopped (by its own process id) when the test ends.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = os.environ.get("WM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def jupyterlab(root: Path, env: dict, timeout: float = 90):
    """Start JupyterLab serving ``root`` on 127.0.0.1; yield (base_url, token)."""
    port, token = free_port(), secrets.token_hex(16)
    log = open(Path(env.get("WM_BROWSER_LOG", os.devnull)), "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
         "--ServerApp.open_browser=False", "--allow-root"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early with code {proc.returncode}")
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.time() > deadline:
                    raise TimeoutError("JupyterLab did not start within the time limit")
                time.sleep(0.5)
        yield base, token
    finally:
        proc.terminate()  # only the server we started, by its own id
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


class LabPage:
    """A notebook open in JupyterLab, with the few actions the tests need."""

    def __init__(self, page, shots: Path, name: str):
        self.page, self.shots, self.name = page, shots, name
        shots.mkdir(parents=True, exist_ok=True)

    def open(self, base: str, token: str, relpath: str):
        # A workspace of its own, reset: JupyterLab would otherwise restore the tabs
        # of the notebooks opened before, and their toolbars would shadow this one's.
        workspace = f"wm-{self.name}".replace("_", "-")
        self.page.goto(f"{base}/lab/workspaces/{workspace}/tree/{relpath}?reset&token={token}")
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
        self.dismiss_dialogs()
        self.wait_kernel_idle(120)

    def dismiss_dialogs(self, wait_ms: int = 3000):
        """Accept start-up dialogs (kernel choice and the like) so clicks reach the notebook."""
        deadline = time.time() + wait_ms / 1000
        while time.time() < deadline:
            dialog = self.page.locator(".jp-Dialog .jp-mod-accept")
            if dialog.count():
                self.screenshot("dialog")
                dialog.first.click()
                deadline = time.time() + wait_ms / 1000
            self.page.wait_for_timeout(200)

    def wait_kernel_idle(self, timeout: float):
        self.page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']:visible").first.wait_for(
            timeout=timeout * 1000)

    def run_all(self, timeout: float = 600):
        self.page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        self.page.locator(".lm-Menu-item[data-command='runmenu:run-all']").first.click()
        deadline = time.time() + timeout
        # Done when no prompt shows [*] and the last code cell has a number; a last cell whose input is
        # hidden (a folded check) may show no prompt: then no [*] and an idle kernel for 10 s also end it.
        idle_for, state = 0, {}
        while time.time() < deadline:
            state = self.page.evaluate("""() => {
                const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.textContent);
                const status = document.body.innerText.includes('| Idle');
                return {busy: p.some(t => t.includes('*')), last: p.length ? p[p.length - 1] : '', idle: status,
                        prompts: p.slice(-4)};
            }""")
            if not state["busy"] and any(ch.isdigit() for ch in state["last"]):
                break
            idle_for = idle_for + 1 if (not state["busy"] and state["idle"]) else 0
            if idle_for >= 10:
                break
            time.sleep(1)
        else:
            self.screenshot("timeout")
            raise TimeoutError(f"{self.name}: cells still running after {timeout:.0f} s (last prompts: "
                               f"{state.get('prompts')}, kernel idle: {state.get('idle')})")
        errors = self.page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        tracebacks = self.page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
        if tracebacks.count():
            self.screenshot("error")
            raise AssertionError(f"{self.name}: a cell raised:\n{tracebacks.first.inner_text()[:2000]}")
        return errors.count()

    def screenshot(self, tag: str, locator=None) -> bytes:
        path = self.shots / f"{self.name}-{tag}.png"
        target = locator if locator is not None else self.page
        return target.screenshot(path=str(path))

    def widget_cells(self):
        """Code cells whose output holds a slider or a button."""
        return self.page.locator(".jp-CodeCell").filter(
            has=self.page.locator(".widget-slider, .widget-hslider, .jupyter-button"))

    def images(self, cell) -> list[str]:
        return cell.locator(".jp-OutputArea img").evaluate_all("els => els.map(e => e.src)")

    def move_slider(self, cell, presses: int = 8):
        handle = cell.locator(".noUi-handle").first
        handle.scroll_into_view_if_needed()
        handle.focus()
        for _ in range(presses):
            handle.press("ArrowRight")

    def play_for(self, cell, ms: int = 3000):
        """Press a Play widget's play button, let it tick for ``ms``, then pause it (a short recording may
        already have played to its end, which stops Play by itself)."""
        play = cell.locator(".widget-play button:has(i.fa-play)").first
        play.scroll_into_view_if_needed()
        play.click()
        self.page.wait_for_timeout(ms)
        pause = cell.locator(".widget-play button:has(i.fa-pause)")
        if pause.count():
            pause.first.click()

    def status_text(self, cell) -> str:
        return " ".join(cell.locator(".widget-html-content").all_inner_texts())

    def wait_for_text(self, cell, text: str, timeout: float = 20):
        """Wait until ``text`` shows in the cell's HTML widgets (the kernel answers asynchronously)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.status_text(cell):
                return True
            self.page.wait_for_timeout(300)
        raise AssertionError(f"{self.name}: {text!r} never showed; the cell says {self.status_text(cell)[:400]!r}")

    def click_button(self, cell, text: str | None = None):
        buttons = cell.locator("button.jupyter-button")
        target = buttons.filter(has_text=text).first if text else buttons.first
        target.scroll_into_view_if_needed()
        target.click()
