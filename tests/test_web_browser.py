"""The web page in a real browser: Debian's chromium driven by Playwright, against the real
server (``propscope serve --model keywords``) on a free loopback port.

Skips when chromium or playwright is absent, except under CI (CI=true), which installs both.
Set PROPSCOPE_SCREENSHOT=path.png to also save the page screenshot there (docs/), and
PROPSCOPE_TEST_MODEL=PATH to serve another model for it (the other tests expect keywords).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import start_server, stop_server

pytest.importorskip("fastapi", reason="the web extra (fastapi) is not installed")

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

ARTICLE = (
    "Every patriot knows the so-called experts are wrong.\n\n"
    "Their outrageous plan is a catastrophe, and everyone knows it. Experts agree that the "
    "radical proposal will fail.\n\n"
    'Quoted from a comment: <script>window.__xss = 1</script> and '
    '<img src=x onerror="window.__xss = 2"> were in the article.'
)
# keyword spans: patriot 0.6, so-called 0.9, outrageous 0.9, catastrophe 0.9,
# everyone knows 0.9, Experts agree 0.9, radical 0.6
N_SPANS, N_ABOVE_07 = 7, 5


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    if not Path(CHROMIUM).exists():
        return f"chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    why = _missing()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser test: {why}")
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("web")
    proc, base, log = start_server(
        ["--model", os.environ.get("PROPSCOPE_TEST_MODEL", "keywords"),
         "--db", str(folder / "web.sqlite3"), "--log-level", "warning"],
        folder / "server.log")
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                if json.load(r)["status"] == "ok":
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail("the server did not start:\n" + (folder / "server.log").read_text())
        time.sleep(0.1)
    yield base
    stop_server(proc, log)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def viewport() -> dict[str, int]:
    return {"width": 1280, "height": 900}


@pytest.fixture
def page(browser, viewport):
    # reduced motion: no smooth scrolling, so nothing moves under a hover or a screenshot
    context = browser.new_context(viewport=viewport, reduced_motion="reduce")
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
          if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    pg.problems = problems
    yield pg
    context.close()
    assert not problems, problems  # no script errors, no CSP violations, no alert()


def analyse(page, server, text=ARTICLE):
    page.goto(server + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#text", text)
    page.click("#analyse")
    page.wait_for_selector("#article mark")


def marks(page) -> list[str]:
    return page.eval_on_selector_all("#article mark", "ms => ms.map(m => m.textContent)")


def test_paste_highlight_hover_slider_legend_permalink(page, server, tmp_path):
    analyse(page, server)
    assert marks(page) == ["patriot", "so-called", "outrageous", "catastrophe", "everyone knows",
                           "Experts agree", "radical"]
    assert page.inner_text("#status").startswith(f"Done: {N_SPANS} spans")
    assert "/a/" in page.url  # the address is now the permalink
    # highlight colour is the technique's colour, text stays black (AA contrast)
    colours = page.eval_on_selector(
        "#article mark", "m => [getComputedStyle(m).backgroundColor, getComputedStyle(m).color]")
    assert colours == ["rgb(105, 219, 124)", "rgb(0, 0, 0)"]  # Flag-Waving #69db7c on black

    # hovering a span shows its technique, definition and confidence
    page.hover("#article mark:nth-of-type(3)")
    tip = page.locator("#tooltip")
    tip.wait_for(state="visible")
    assert "Loaded language" in tip.inner_text()
    assert "strong emotional charge" in tip.inner_text()
    assert "high confidence (0.90)" in tip.inner_text()
    page.mouse.move(5, 5)
    tip.wait_for(state="hidden")

    # the legend counts each technique; the summary has a bar per technique
    legend = page.locator("#legend button")
    assert legend.count() == 6
    loaded = page.locator('#legend button[data-technique="Loaded_Language"]')
    assert loaded.locator(".count").inner_text() == "2"
    assert page.locator("#chart li").count() == 6
    assert "3 of 4 sentences" in page.inner_text("#summary")

    # the confidence slider hides spans below it, live (keyboard: 14 steps of 0.05)
    page.focus("#confidence")
    for _ in range(14):
        page.keyboard.press("ArrowRight")
    assert page.inner_text("#confidence-value") == "0.70"
    assert len(marks(page)) == N_ABOVE_07
    assert "patriot" not in marks(page) and "radical" not in marks(page)
    assert loaded.locator(".count").inner_text() == "1"
    page.focus("#confidence")
    page.keyboard.press("Home")
    assert len(marks(page)) == N_SPANS

    # clicking a legend entry hides that technique; clicking again shows it
    loaded.click()
    assert loaded.get_attribute("aria-pressed") == "false"
    assert "outrageous" not in marks(page) and "radical" not in marks(page)
    assert len(marks(page)) == N_SPANS - 2
    loaded.click()
    assert len(marks(page)) == N_SPANS

    # the permalink opens the same analysis in a new page
    link = page.get_attribute("#permalink", "href")
    assert link == page.url
    other = page.context.new_page()
    other.goto(link)
    other.wait_for_selector("#article mark")
    assert marks(other) == marks(page)
    assert other.input_value("#text") == ARTICLE
    # the downloads work
    for sel, kind in (("#download-json", "application/json"), ("#download-html", "text/html")):
        r = page.request.get(server + page.get_attribute(sel, "href"))
        assert r.ok and r.headers["content-type"].startswith(kind)
    other.close()


def test_article_markup_stays_inert(page, server):
    analyse(page, server)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#article script, #article img").count() == 0
    text = page.inner_text("#article")
    assert "<script>window.__xss = 1</script>" in text
    assert '<img src=x onerror="window.__xss = 2">' in text
    # the same after a reload from the permalink
    page.reload()
    page.wait_for_selector("#article mark")
    assert page.evaluate("window.__xss") is None
    assert page.locator("#article script, #article img").count() == 0


def test_keyboard_focus_shows_tooltip_and_escape_hides(page, server):
    analyse(page, server, "A radical plan.")
    page.focus("#article mark")
    tip = page.locator("#tooltip")
    tip.wait_for(state="visible")
    assert "medium confidence (0.60)" in tip.inner_text()
    assert page.get_attribute("#article mark", "aria-describedby") == "tooltip"
    page.keyboard.press("Escape")
    tip.wait_for(state="hidden")


def test_upload_html_file_and_overlapping_spans(page, server, tmp_path):
    html = tmp_path / "news.html"
    html.write_text("<html><head><title>Border news</title></head><body><article>"
                    "<p>Every patriot must read this outrageous report on the border, which "
                    "the so-called experts ignored for years.</p></article></body></html>")
    page.goto(server + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.set_input_files("#file", str(html))
    page.wait_for_selector("#article mark")
    assert "<p>" not in page.inner_text("#article")
    assert page.inner_text("#article-title") == "Border news"
    assert "patriot" in marks(page)

    # overlapping spans (a real model makes them) stay visible as stacked underlines
    saved = page.request.get(server + page.get_attribute("#download-json", "href")).json()
    text = saved["article"]["text"]
    start = text.index("outrageous")
    saved["spans"] = [
        {"start": start, "end": start + 10, "technique": "Loaded_Language", "score": 0.9,
         "text": "outrageous"},
        {"start": start, "end": start + 17, "technique": "Exaggeration,Minimisation",
         "score": 0.5, "text": text[start:start + 17]},
    ]
    page.route(f"**/api/v1/analyses/{saved['id']}",
               lambda route: route.fulfill(json=saved))
    page.reload()
    page.wait_for_selector("#article mark")
    both = page.locator(
        '#article mark[data-techniques="Loaded_Language Exaggeration,Minimisation"]')
    assert both.inner_text() == "outrageous"
    assert both.evaluate("m => getComputedStyle(m).boxShadow") != "none"
    both.hover()
    tip = page.locator("#tooltip")
    tip.wait_for(state="visible")
    assert "Loaded language" in tip.inner_text() and "Exaggeration" in tip.inner_text()


def test_bundled_example_screenshot(page, server, tmp_path):
    from propscope.config import EXAMPLES_DIR

    text = (EXAMPLES_DIR / "example.txt").read_text(encoding="utf-8")
    analyse(page, server, text)
    # keyboard focus, not the mouse: a hover could land on whatever scrolled under the
    # pointer on a loaded machine; then wait until the tooltip sits under its mark
    n = min(3, page.locator("#article mark").count())  # reader mode may mark few
    page.focus(f"#article mark:nth-of-type({n})")
    page.locator("#tooltip").wait_for(state="visible")
    wait_for_tooltip_under(page, f"#article mark:nth-of-type({n})")
    page.evaluate("document.fonts.ready.then(() => true)")
    shot = tmp_path / "web.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("PROPSCOPE_SCREENSHOT"):
        shutil.copy(shot, os.environ["PROPSCOPE_SCREENSHOT"])


def test_errors_are_shown(page, server):
    page.goto(server + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.click("#analyse")
    assert "Paste some text" in page.inner_text("#status")
    page.goto(server + "/a/AAAAAAAAAAAA")
    # a selector wait, not wait_for_function: the page's CSP forbids string evaluation
    page.locator("#status", has_text="no saved analysis").wait_for()
    page.problems.clear()  # the 404s above are expected console errors


def tooltip_gap(page, selector: str) -> float:
    """Pixels from the bottom of the mark to the top of the tooltip (8 when placed)."""
    return page.eval_on_selector(selector, """m => {
        const t = document.getElementById("tooltip");
        return t.hidden ? -1e9 : t.getBoundingClientRect().top - m.getBoundingClientRect().bottom;
    }""")


def wait_for_tooltip_under(page, selector: str) -> None:
    deadline = time.monotonic() + 10
    while abs(tooltip_gap(page, selector) - 8) > 1.5:
        assert time.monotonic() < deadline, tooltip_gap(page, selector)
        page.wait_for_timeout(50)


LONG = "\n\n".join(["It rained on Tuesday and the shops opened late as usual."] * 60
                    + ["Then came a radical plan from the so-called experts."])


def test_keyboard_focus_far_down_keeps_the_tooltip_by_its_mark(page, server):
    analyse(page, server, LONG)
    page.evaluate("window.scrollTo(0, 0)")
    page.focus("#permalink")
    while page.evaluate("document.activeElement.tagName") != "MARK":
        page.keyboard.press("Tab")  # the page scrolls down to the first mark
    assert page.evaluate("document.activeElement.textContent") == "radical"
    assert page.evaluate("window.scrollY") > 500
    tip = page.locator("#tooltip")
    tip.wait_for(state="visible")
    assert "medium confidence (0.60)" in tip.inner_text()
    wait_for_tooltip_under(page, "#article mark:focus")
    page.keyboard.press("Tab")  # the next mark: the tooltip follows
    assert page.evaluate("document.activeElement.textContent") == "so-called"
    assert "high confidence (0.90)" in tip.inner_text()
    wait_for_tooltip_under(page, "#article mark:focus")


def test_article_is_not_an_inner_scroll_box(page, server):
    analyse(page, server, LONG)
    box = page.eval_on_selector("#article", """a => [getComputedStyle(a).overflowY,
        a.scrollHeight - a.clientHeight]""")
    assert box == ["visible", 0]


def test_passage_list_jumps_to_each_passage(page, server):
    analyse(page, server)
    items = page.locator("#passages a")
    assert items.count() == N_SPANS
    assert items.nth(4).inner_text().endswith("everyone knows")
    assert items.nth(4).locator(".ptag").inner_text() == "BAND"
    items.nth(4).click()
    assert page.evaluate("document.activeElement.textContent") == "everyone knows"
    tip = page.locator("#tooltip")
    tip.wait_for(state="visible")
    assert "Bandwagon" in tip.inner_text()


def test_each_passage_carries_a_tag(page, server):
    analyse(page, server)
    tags = page.eval_on_selector_all("#article mark", "ms => ms.map(m => m.dataset.tag)")
    assert tags == ["FLAG", "NAME", "LOAD", "FEAR", "BAND", "AUTH", "LOAD"]
    shown = page.eval_on_selector(
        "#article mark", "m => getComputedStyle(m, '::before').content")
    assert shown == '"FLAG"'


def test_slider_starts_at_the_reader_threshold_and_lower_asks_again(page, server):
    """The keywords model has no calibrated threshold (0), so the server's answers are
    given one of 0.7 here, as a real model's reader mode would."""
    asked: list[dict] = []

    def with_reader_threshold(route):
        body = json.loads(route.request.post_data or "{}")
        asked.append(body)
        response = route.fetch()
        data = response.json()
        if body.get("threshold") is None:
            data["spans"] = [s for s in data["spans"] if s["score"] >= 0.7]
        data["reader_threshold"] = 0.7
        route.fulfill(response=response, json=data)

    page.route("**/api/v1/analyze", with_reader_threshold)
    analyse(page, server)
    assert page.input_value("#confidence") == "0.7"
    assert page.inner_text("#confidence-value") == "0.70"
    assert len(marks(page)) == N_ABOVE_07
    page.focus("#confidence")
    for _ in range(4):
        page.keyboard.press("ArrowLeft")
    page.locator("#article mark", has_text="patriot").wait_for()
    for _ in range(400):  # each key press asks again, one at a time: wait for the last (0.5)
        if asked[-1].get("threshold") == pytest.approx(0.5) and len(marks(page)) == N_SPANS:
            break
        page.wait_for_timeout(50)
    assert asked[-1]["threshold"] == pytest.approx(0.5)
    assert len(marks(page)) == N_SPANS


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}])
def test_phone_width_page(page, server):
    analyse(page, server, LONG.replace("shops opened", "outrageous shops opened"))
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1] == 390
    box = page.eval_on_selector("#article", """a => [getComputedStyle(a).overflowY,
        a.scrollHeight - a.clientHeight, a.getBoundingClientRect().right]""")
    assert box[:2] == ["visible", 0] and box[2] <= 390
    page.focus("#article mark")
    page.locator("#tooltip").wait_for(state="visible")
    right = page.eval_on_selector("#tooltip", "t => t.getBoundingClientRect().right")
    assert right <= 390
