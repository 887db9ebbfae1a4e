"""The web page's voices and targets in a real browser (the fixtures of
test_web_browser.py: Debian's chromium, ``propscope serve --model keywords``): the
tooltip's voice and target lines, the "author's voice only" filter, and the "who is
targeted" panel whose entities highlight their passages. Needs spaCy for targets (CI
installs it; elsewhere the test skips without it)."""

from __future__ import annotations

from .conftest import needs_spacy
from .test_web_browser import browser, marks, page, server, viewport  # noqa: F401

# keyword spans: so-called (Name calling, author, aimed at Tom Reed), outrageous (Loaded
# language, author, the subject Tom Reed), patriot (Flag-waving, quoted: Anna Berg),
# traitor (Name calling, quoted: Anna Berg, aimed at Bob Smith)
ARTICLE = ("Senator Tom Reed, a so-called expert, pushed an outrageous plan on Monday.\n\n"
           "“Every patriot knows that the traitor Bob Smith lies,” said Anna Berg.")


pytestmark = needs_spacy()


def test_voice_filter_tooltip_and_targets_panel(page, server):  # noqa: F811
    page.goto(server + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#text", ARTICLE)
    page.click("#analyse")
    # the server loads spaCy on its first targets: allow for that
    page.wait_for_selector("#article mark", timeout=60_000)
    assert marks(page) == ["so-called", "outrageous", "patriot", "traitor"]

    # the tooltip says whose voice a passage is in and whom it targets
    page.hover("#article mark:nth-of-type(4)")
    tip = page.locator("#tooltip")
    tip.wait_for(state="visible")
    assert "Quoted: Anna Berg" in tip.inner_text()
    assert "Targets: Bob Smith" in tip.inner_text()
    page.hover("#article mark:nth-of-type(1)")
    assert "In the author's own voice" in tip.inner_text()
    assert "Targets: Tom Reed" in tip.inner_text()
    page.mouse.move(5, 5)
    tip.wait_for(state="hidden")

    # who is targeted: most targeted first, with counts, and what they are worth
    assert "suggestions" in page.locator("#targets-note").inner_text()
    entities = page.locator("#targets button")
    assert entities.evaluate_all("bs => bs.map(b => b.dataset.entity)") == ["Tom Reed",
                                                                           "Bob Smith"]
    assert entities.nth(0).locator(".count").inner_text() == "2"
    assert entities.nth(0).locator(".etype").inner_text() == "person"
    # selecting an entity highlights its passages; selecting it again clears them
    entities.nth(1).click()
    assert page.locator('#targets button[data-entity="Bob Smith"]').get_attribute(
        "aria-pressed") == "true"
    targeted = "ms => ms.map(m => m.textContent)"
    assert page.eval_on_selector_all("#article mark.targeted", targeted) == ["traitor"]
    page.click('#targets button[data-entity="Tom Reed"]')
    assert page.eval_on_selector_all("#article mark.targeted", targeted) == ["so-called",
                                                                             "outrageous"]
    page.click('#targets button[data-entity="Tom Reed"]')
    assert page.locator("#article mark.targeted").count() == 0

    # the author's voice only: quoted passages go, and so do their targets
    assert page.is_visible("#voice-filter")
    page.check("#author-only")
    assert marks(page) == ["so-called", "outrageous"]
    assert entities.evaluate_all("bs => bs.map(b => b.dataset.entity)") == ["Tom Reed"]
    assert "2 of 4 spans shown" in page.inner_text("#summary")
    page.uncheck("#author-only")
    assert len(marks(page)) == 4
