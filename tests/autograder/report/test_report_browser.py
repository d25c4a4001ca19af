"""The report and a feedback page in a real Chromium (Playwright), loaded from file://.

Skipped only when no Chromium is installed (CI installs Debian's ``chromium``).
Screenshots of both pages are written to ``tests/artifacts/`` (ignored by git).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from report_site import HOSTILE, REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = REPO / "tests" / "artifacts"
pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="no Chromium installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


class Watched:
    """A page with everything it logged, raised, asked or requested."""

    def __init__(self, browser, width: int = 1200, height: int = 900) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.console: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self, path: Path) -> Watched:
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")
        return self

    def assert_clean(self) -> None:
        """No console message at all, no script error, no dialog, nothing but file://."""
        assert self.console == [] and self.errors == [] and self.dialogs == []
        assert self.requests and all(url.startswith("file://") for url in self.requests)

    def column(self, table: str, index: int) -> list[str]:
        return self.page.eval_on_selector_all(
            f"#{table} tbody tr:not([hidden])",
            f"rows => rows.map(r => r.cells[{index}].textContent.trim())")


def test_report_loads_offline_with_its_figures_and_no_errors(browser, site):
    _, index = site
    watched = Watched(browser).open(index)
    images = watched.page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(images) == 3 and all(width > 0 for width in images)
    ARTIFACTS.mkdir(exist_ok=True)
    watched.page.screenshot(path=ARTIFACTS / "report.png", full_page=True)
    watched.assert_clean()


def test_students_sort_by_a_click_on_a_header(browser, site):
    watched = Watched(browser).open(site[1])
    header = watched.page.locator("#students-table th", has_text="score")
    header.click()
    ascending = [float(s) for s in watched.column("students-table", 2)]
    assert ascending == sorted(ascending) and ascending[0] < ascending[-1]
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert [float(s) for s in watched.column("students-table", 2)] == sorted(ascending,
                                                                            reverse=True)
    watched.page.locator("#students-table th", has_text="student").click()
    ids = watched.column("students-table", 0)
    assert ids == sorted(ids) and len(ids) == 8
    watched.page.locator("#items-table th", has_text="pass rate").click()
    rates = watched.column("items-table", 3)
    assert rates == ["0%", "60%", "100%"]
    watched.assert_clean()


def test_students_filter_by_text_and_status(browser, site):
    watched = Watched(browser).open(site[1])
    watched.page.fill("#filter", "copy")
    assert watched.column("students-table", 0) == ["copy_a", "copy_b"]
    assert watched.page.inner_text("#shown") == "2 of 8 shown"
    watched.page.fill("#filter", "")
    watched.page.select_option("#status", "timeout")
    assert watched.column("students-table", 0) == ["slow"]
    watched.page.fill("#filter", "similar to")  # flags are searchable too
    watched.page.select_option("#status", "")
    assert watched.column("students-table", 0) == ["copy_a", "copy_b"]
    watched.assert_clean()


def test_every_link_resolves(browser, site):
    _, index = site
    pages = [index, *sorted(index.parent.glob("pair-*.html"))]
    checked = 0
    for page in pages:
        watched = Watched(browser).open(page)
        links = watched.page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
        assert links
        for link in links:
            parts = urlsplit(link)
            assert parts.scheme == "file", link
            target = Path(unquote(parts.path))
            assert target.is_file(), link
            if parts.fragment:
                assert f'id="{parts.fragment}"' in target.read_text(), link
            checked += 1
        watched.assert_clean()
    feedback = Watched(browser).open(index)
    feedback.page.click("#students-table a >> text=copy_a")
    feedback.page.wait_for_load_state("load")
    assert feedback.page.url.endswith("/copy_a/feedback.html")
    assert "hw1: feedback for copy_a" in feedback.page.inner_text("h1")
    assert checked >= 8 + 2 * 6 + 2  # rows; needs-a-person feedback + TA log; pair, back
    korean = Watched(browser).open(index)
    korean.page.click("#students-table a >> text=김민준")
    korean.page.wait_for_load_state("load")
    assert "feedback for 김민준" in korean.page.inner_text("h1")


def test_hostile_student_text_shows_as_text_and_runs_nothing(browser, site):
    out, index = site
    for page in [index, index.parent / "pair-001.html", out / "copy_a" / "feedback.html",
                 out / "unlucky" / "feedback.html"]:
        watched = Watched(browser).open(page)
        body = watched.page.inner_text("body")
        if page.name != "feedback.html" or page.parent.name == "copy_a":
            assert "<img src=x onerror=alert(1)>" in body and "</script><script>alert(2)" in body
        scripts = watched.page.eval_on_selector_all("script", "s => s.length")
        assert scripts == (1 if page == index else 0)
        sources = watched.page.eval_on_selector_all("img", "imgs => imgs.map(i => i.src)")
        assert all(src.endswith(".svg") for src in sources)
        watched.assert_clean()
    assert HOSTILE not in (out / "unlucky" / "feedback.html").read_text()  # error: TA-only


def test_feedback_page_is_readable_at_a_phones_width(browser, site):
    out, _ = site
    watched = Watched(browser, width=390, height=844).open(out / "copy_a" / "feedback.html")
    page = watched.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.eval_on_selector("li.fail", "li => getComputedStyle(li).color") == \
        "rgb(164, 20, 27)"
    assert page.eval_on_selector("li.pass", "li => getComputedStyle(li).color") == \
        "rgb(23, 107, 44)"
    headings = page.eval_on_selector_all("h2", "hs => hs.map(h => h.textContent)")
    assert "neural_network: 0 / 25 points" in headings and "sigmoid: 10 / 10 points" in headings
    assert page.eval_on_selector_all("em", "e => e.length") == 0
    assert "*star* w0 + w1*x1" in page.inner_text("body")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "feedback.png", full_page=True)
    watched.assert_clean()


def test_the_student_table_uses_a_wide_windows_width(browser, site):
    """At 1900 px every column (late days, flags) shows without scrolling the table."""
    watched = Watched(browser, width=1900, height=1000).open(site[1])
    page = watched.page
    wrap = page.eval_on_selector(
        "#students-table", "t => [t.parentElement.clientWidth, t.parentElement.scrollWidth, "
                           "t.getBoundingClientRect().right]")
    client, scroll, right = wrap
    assert client > 1500 and scroll <= client and right <= 1900
    late = page.locator("#students-table th", has_text="late days").bounding_box()
    assert late is not None and late["x"] + late["width"] <= 1900
    prose = page.eval_on_selector("#students + .controls, p.muted",
                                  "p => p.getBoundingClientRect().width")
    assert prose <= 72 * 16 + 1  # text stays at a readable measure
    watched.assert_clean()


def test_backticks_in_messages_show_as_code(browser, site):
    out, index = site
    watched = Watched(browser).open(index)
    codes = watched.page.eval_on_selector_all("#items-table code", "cs => cs.map(c => c.textContent)")
    assert "softmax" in codes and "neural_network" in codes
    assert "`" not in watched.page.inner_text("#items-table")
    feedback = Watched(browser).open(out / "copy_a" / "feedback.html")
    assert "neural_network" in feedback.page.eval_on_selector_all(
        "li.fail code", "cs => cs.map(c => c.textContent)")
    watched.assert_clean()
    feedback.assert_clean()
