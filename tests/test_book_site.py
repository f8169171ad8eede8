"""The published book: build the site at ci with the documented command, then read it in Chromium.

`python -m wmlib book build --profile ci` executes every chapter (TRAIN off, shipped models,
widget state stored, WM_BOOK=1) into a temporary folder and renders it with Jupyter Book 1.
The site is served on 127.0.0.1 by a thread of this process; headless Chromium opens every
HTML page and the test asserts: each page loads (no 404, no local resource missing), every
<img> shows (naturalWidth > 0), every internal link resolves (the file exists, and the
#anchor in it), the sidebar's table of contents reaches every chapter from every page,
the chapters with widgets embed their state, and the search page finds a chapter.
Requests that leave 127.0.0.1 (the CDN scripts for MathJax and ipywidgets) are blocked: the
site must build and read offline. Screenshots go to test-artifacts/book-site/.
"""
from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

from browser import CHROMIUM, CHROMIUM_ARGS, chromium_available

from wmlib.book import site as book_site
from wmlib.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
SHOTS = REPO / "test-artifacts" / "book-site"



class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no line per request in the test's output
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the site at ci (timed), serve it on a free loopback port; yield (html folder, base url)."""
    if not chromium_available():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `apt-get install -y chromium` (CI does this), "
                    "or point WM_CHROMIUM at a Chromium executable")
    root = tmp_path_factory.mktemp("site")
    chapters = [p.stem for p in book_site.chapters()]  # what the build will find
    out, artifacts = root / "book", root / "artifacts"
    start = time.time()
    proc = subprocess.run([sys.executable, "-m", "wmlib", "book", "build", "--profile", "ci", "--out", str(out),
                           "--artifacts", str(artifacts)], cwd=REPO, capture_output=True, text=True)
    seconds = time.time() - start
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"`python -m wmlib book build --profile ci` failed:\n{log[-6000:]}"
    html = out / "_build" / "html"
    assert str(html / "index.html") in proc.stdout, f"the command does not say where index.html is:\n{log[-2000:]}"
    print(f"\nsite built at ci in {seconds:.0f} s\n{proc.stdout[-1500:]}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(html)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield html, f"http://127.0.0.1:{server.server_address[1]}", out, chapters
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def pages(html: Path) -> list[str]:
    """Every HTML page of the site, relative to its root (the theme's _static templates excluded)."""
    return sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html") if "_static" not in p.parts
                  and "_sources" not in p.parts)


def _local_file(html: Path, base: str, url: str) -> Path:
    path = unquote(urlparse(url).path).lstrip("/")
    target = html / path
    return target / "index.html" if target.is_dir() or not path else target


def _has_anchor(file: Path, anchor: str, cache: dict) -> bool:
    if file not in cache:
        cache[file] = set(re.findall(r'\b(?:id|name)="([^"]+)"', file.read_text(errors="replace")))
    return unquote(anchor) in cache[file]


@pytest.mark.browser
@pytest.mark.slow
def test_site_builds_and_reads_in_chromium(site, chromium):
    html, base, out, chapters = site
    found = pages(html)
    for needed in ["index.html", "intro.html", "run_it_yourself.html", "search.html",
                   *(f"notebooks/{c}.html" for c in chapters)]:
        assert needed in found, f"the site has no {needed}; its pages: {found}"
    SHOTS.mkdir(parents=True, exist_ok=True)

    page = chromium.new_page(viewport={"width": 1300, "height": 1000})
    missing: list[str] = []   # local requests that failed: scripts, styles, images

    def offline(route):  # the site must read offline: nothing leaves 127.0.0.1
        if route.request.url.startswith(base):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", offline)
    page.on("response", lambda r: r.url.startswith(base) and r.status >= 400 and missing.append(f"{r.status} {r.url}"))
    page.on("requestfailed", lambda r: r.url.startswith(base) and missing.append(f"failed {r.url}"))

    links: dict[str, set[str]] = {}
    anchors: dict = {}
    problems: list[str] = []
    for rel in found:
        redirect = re.search(r'http-equiv="Refresh" content="\d+;\s*url=([^"]+)"', (html / rel).read_text(), re.I)
        if redirect:  # index.html sends the reader to the intro: its target must exist (checked with the links)
            links.setdefault(urldefrag(f"{base}/{rel}")[0].rsplit("/", 1)[0] + "/" + redirect.group(1), set()).add(rel)
            continue
        response = page.goto(f"{base}/{rel}", wait_until="load")
        if response is None or response.status != 200:
            problems.append(f"{rel}: status {response.status if response else 'none'}")
            continue
        # Every image shows: loaded (eagerly, even below the fold) with a real width.
        broken = page.evaluate("""async () => {
            const imgs = [...document.images];
            for (const i of imgs) i.loading = 'eager';
            await Promise.all(imgs.map(i => i.decode().catch(() => null)));
            return imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.currentSrc.slice(0, 120) || i.alt);
        }""")
        problems += [f"{rel}: image does not show: {src}" for src in broken]
        # Every internal link (href inside the site) points at a file that exists, and its #anchor.
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            if href.startswith(base):
                links.setdefault(href, set()).add(rel)
        # The sidebar's table of contents reaches every chapter from this page.
        toc = page.eval_on_selector_all(".bd-sidebar-primary nav a[href]", "els => els.map(e => e.href)")
        toc_pages = {urlparse(urldefrag(h)[0]).path.lstrip("/") for h in toc}
        lost = [c for c in chapters if f"notebooks/{c}.html" not in toc_pages]
        if lost:
            problems.append(f"{rel}: the sidebar does not reach {lost}")
        if rel in ("intro.html", "notebooks/" + chapters[0] + ".html", "run_it_yourself.html"):
            page.screenshot(path=str(SHOTS / (rel.replace("/", "-") + ".png")), full_page=False)

    for href, sources in sorted(links.items()):
        url, fragment = urldefrag(href)
        file = _local_file(html, base, url)
        where = sorted(sources)[0]
        if not file.is_file():
            shown = file.relative_to(html) if file.is_relative_to(html) else file
            problems.append(f"{where}: link to {href} has no file ({shown})")
        elif fragment and file.suffix == ".html" and not _has_anchor(file, fragment, anchors):
            problems.append(f"{where}: link to {href}: no #{fragment} in {file.relative_to(html)}")

    problems += [f"local resource missing: {m}" for m in sorted(set(missing))]
    assert not problems, "the site has problems:\n" + "\n".join(problems[:60])

    # Widgets: chapters whose executed notebook shows widgets embed their state for the static page.
    executed = out / "src" / "notebooks"
    for chapter in chapters:
        nb = json.loads((executed / f"{chapter}.ipynb").read_text())
        views = sum("application/vnd.jupyter.widget-view+json" in o.get("data", {})
                    for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))
        if views:
            text = (html / "notebooks" / f"{chapter}.html").read_text()
            assert "application/vnd.jupyter.widget-state+json" in text, \
                f"{chapter}: {views} widget views but no embedded widget state on its page"

    # Search works offline: sphinx's own index, queried in the page.
    page.goto(f"{base}/search.html?q=controller", wait_until="load")
    page.wait_for_selector("#search-results ul.search li", timeout=30_000)
    hits = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
    assert any("/notebooks/" in h for h in hits), f"searching 'controller' finds no chapter: {hits[:10]}"
    page.screenshot(path=str(SHOTS / "search.png"))
    page.close()


# ----------------------------------------------------------------------------- the build's parts (fast)

def _notebook(path: Path, *sources: str) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A chapter")]
                                  + [nbformat.v4.new_code_cell(src) for src in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_a_failing_cell_is_named_with_its_notebook(tmp_path):
    env = book_site.book_env("ci", tmp_path / "artifacts", base=dict(os.environ, WM_TRAIN="1"))
    nb = _notebook(tmp_path / "09_planted.ipynb",
                   "import os\nassert os.environ['WM_BOOK'] == '1' and os.environ['WM_PROFILE'] == 'ci'\n"
                   "assert 'WM_TRAIN' not in os.environ  # TRAIN off for the site",
                   "raise ValueError('a planted failure')")
    with pytest.raises(book_site.NotebookFailed) as err:
        book_site.execute_notebook(nb, env, timeout=120, kernel_log=tmp_path / "kernels.log")
    assert (err.value.notebook, err.value.cell) == ("09_planted.ipynb", 3), str(err.value)
    assert "09_planted.ipynb, cell 3" in str(err.value) and "a planted failure" in str(err.value)
    # the executed copy keeps what ran: the first code cell passed (its environment checks held)
    import nbformat
    cells = nbformat.read(nb, as_version=4).cells
    assert cells[1].execution_count == 1 and not [o for o in cells[1].outputs if o.output_type == "error"]


def test_stage_copies_every_chapter_and_the_pages(tmp_path):
    src = book_site.stage(tmp_path / "out", repository="https://github.com/someone/world-models", profile="ci")
    chapters = [p.name for p in book_site.chapters()]
    assert sorted(p.name for p in (src / "notebooks").glob("*.ipynb")) == chapters and chapters[0].startswith("00_")
    for page in ("_config.yml", "_toc.yml", "intro.md", "run_it_yourself.md"):
        assert (src / page).exists(), page
    import yaml
    cfg = yaml.safe_load((src / "_config.yml").read_text())
    assert cfg["execute"]["execute_notebooks"] == "off"
    assert cfg["parse"]["myst_substitutions"]["book_profile"] == "ci"
    assert cfg["repository"]["url"] == "https://github.com/someone/world-models"
    assert "notebooks/[0-9][0-9]_*" in (src / "_toc.yml").read_text()
    # the repository's notebooks are untouched (stored clean)
    assert all(not c.get("outputs") for nb in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")
               for c in json.loads(nb.read_text())["cells"])


def test_book_build_command_defaults_to_laptop():
    args = build_parser().parse_args(["book", "build"])
    assert (args.profile, args.out, args.keep_going) == ("laptop", "build/book", False)
    assert args.func.__name__ == "cmd_book_build"
