"""The web API's operating points, confidence levels, stable permalinks, technique names
in any case, the report's title and the model it names (issues 11 and 12)."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi", reason="the web extra (fastapi) is not installed")
from fastapi.testclient import TestClient  # noqa: E402

from propscope.predictors.keywords import KeywordPredictor  # noqa: E402
from propscope.reader import ReaderConfig  # noqa: E402
from propscope.techniques import TECHNIQUES, parse_technique_list  # noqa: E402
from propscope.web import WebSettings, create_app  # noqa: E402
from propscope.web.confidence import (  # noqa: E402
    CONFIDENCE_LEVELS,
    confidence_level,
    served_profile,
)

API = "/api/v1"
# keyword spans: so-called 0.9, disastrous 0.9, patriot 0.6
TEXT = "The so-called experts pushed a disastrous plan. Every patriot knows better.\n"


class ReaderKeywords(KeywordPredictor):
    """Keyword spans with a reader threshold of 0.7: the reader view drops 0.6 spans."""

    info = {"name": "reader-keywords", "version": "test"}
    reader = ReaderConfig(threshold=0.7)


@pytest.fixture
def app(tmp_path):
    return create_app(WebSettings(db=str(tmp_path / "a.sqlite3")), predictor=ReaderKeywords())


@pytest.fixture
def client(app):
    return TestClient(app)


def analyse(client, **body):
    r = client.post(f"{API}/analyze", json={"text": TEXT, **body})
    assert r.status_code == 200, r.text
    return r.json()


def test_reader_mode_is_the_default_and_benchmark_shows_more(client):
    reader = analyse(client)
    bench = analyse(client, mode="benchmark")
    assert [s["text"] for s in reader["spans"]] == ["so-called", "disastrous"]
    assert "patriot" in [s["text"] for s in bench["spans"]]
    assert reader["request"]["mode"] == "reader" and bench["request"]["mode"] == "benchmark"
    assert reader["reader_threshold"] == 0.7
    saved = client.get(f"{API}/analyses/{bench['id']}").json()
    assert saved["request"]["mode"] == "benchmark"
    assert saved["model"]["name"] == "reader-keywords"


def test_a_lower_threshold_shows_spans_below_the_reader_one(client):
    data = analyse(client, threshold=0.5)
    assert "patriot" in [s["text"] for s in data["spans"]]


@pytest.mark.parametrize("mode", ["READER", "fast", "", None, 1])
def test_mode_is_strict(client, mode):
    r = client.post(f"{API}/analyze", json={"text": TEXT, "mode": mode})
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "mode"


def test_batch_takes_a_mode_per_article(client):
    r = client.post(f"{API}/analyze/batch", json={"articles": [
        {"text": TEXT}, {"text": TEXT, "mode": "benchmark"}]})
    first, second = r.json()["results"]
    assert len(second["spans"]) > len(first["spans"])
    assert second["request"]["mode"] == "benchmark"


def test_config_serves_the_reader_threshold_and_the_levels(client):
    body = client.get(f"{API}/config").json()
    assert body["reader_threshold"] == 0.7
    assert body["modes"] == ["reader", "benchmark"] and body["default_mode"] == "reader"
    assert body["confidence_levels"] == [{"level": k, "min": v} for k, v in CONFIDENCE_LEVELS]
    assert body["model"]["name"] == "reader-keywords"


@pytest.mark.parametrize("score,level", [(0.95, "high"), (0.7, "high"), (0.69, "medium"),
                                         (0.5, "medium"), (0.49, "low"), (0.0, "low")])
def test_confidence_levels(score, level):
    assert confidence_level(score) == level


def test_spans_carry_their_confidence_level(client):
    data = analyse(client, mode="benchmark")
    assert {s["text"]: s["confidence"] for s in data["spans"]} == {
        "so-called": "high", "disastrous": "high", "patriot": "medium"}


def test_same_text_and_settings_give_the_same_permalink(app, client):
    first, again = analyse(client), analyse(client)
    assert first["id"] == again["id"] and first["permalink"] == again["permalink"]
    assert first["created"] == again["created"]  # the saved analysis, not a second one
    assert app.state.store.count() == 1
    others = {analyse(client, threshold=0.5)["id"], analyse(client, mode="benchmark")["id"],
              analyse(client, title="A headline")["id"]}
    assert first["id"] not in others and len(others) == 3
    assert analyse(client, save=False)["id"] is None


def test_the_id_depends_on_the_model(tmp_path):
    db = str(tmp_path / "a.sqlite3")
    one = TestClient(create_app(WebSettings(db=db), predictor=ReaderKeywords()))
    other = TestClient(create_app(WebSettings(db=db), predictor=KeywordPredictor()))
    assert analyse(one)["id"] != analyse(other)["id"]


def test_technique_names_in_any_case(client):
    data = analyse(client, techniques=["loaded_language", "NAME_CALLING,LABELING"])
    assert data["request"]["techniques"] == ["Loaded_Language", "Name_Calling,Labeling"]
    assert {s["technique"] for s in data["spans"]} <= {"Loaded_Language",
                                                       "Name_Calling,Labeling"}
    assert data["spans"]


def test_an_unknown_technique_suggests_the_nearest(client):
    r = client.post(f"{API}/analyze", json={"text": TEXT, "techniques": ["Loaded Languag"]})
    assert r.status_code == 422
    assert "did you mean 'Loaded_Language'" in r.json()["details"][0]["message"]


def test_cli_technique_list_any_case_and_suggestion():
    assert parse_technique_list("doubt;FLAG-WAVING") == ["Doubt", "Flag-Waving"]
    with pytest.raises(ValueError, match="did you mean 'Exaggeration,Minimisation'"):
        parse_technique_list("exageration")


def test_report_is_titled_with_the_headline(client):
    titled = analyse(client, title="Experts <wrong> again")
    report = client.get(f"{API}/analyses/{titled['id']}/report.html").text
    assert "<title>Experts &lt;wrong&gt; again · propscope report</title>" in report
    untitled = analyse(client, threshold=0.6)
    report = client.get(f"{API}/analyses/{untitled['id']}/report.html").text
    assert ("<title>The so-called experts pushed a disastrous plan. Every patriot knows "
            "better. · propscope report</title>") in report


def _luminance(hex_colour: str) -> float:
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[k:k + 2], 16) for k in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _hue(hex_colour: str) -> float:
    import colorsys

    r, g, b = (int(hex_colour[k:k + 2], 16) / 255 for k in (1, 3, 5))
    return colorsys.rgb_to_hsv(r, g, b)[0] * 360


def test_colours_pass_aa_for_black_text_and_tags_are_distinct():
    for t in TECHNIQUES.values():
        assert (_luminance(t.colour) + 0.05) / 0.05 >= 4.5, t.name
    assert len({t.colour for t in TECHNIQUES.values()}) == len(TECHNIQUES)
    assert len({t.tag for t in TECHNIQUES.values()}) == len(TECHNIQUES)


def test_the_four_once_alike_colours_differ_in_hue():
    names = ["Loaded_Language", "Flag-Waving", "Name_Calling,Labeling",
             "Exaggeration,Minimisation"]
    hues = [_hue(TECHNIQUES[n].colour) for n in names]
    for i, a in enumerate(hues):
        for b in hues[i + 1:]:
            assert min(abs(a - b), 360 - abs(a - b)) >= 40, (names, hues)


@pytest.mark.parametrize("arg,profile", [(None, "fast"), ("fast", "fast"),
                                         ("accurate", "accurate"), ("models/x", None)])
def test_served_profile(arg, profile):
    assert served_profile(arg) == profile


def test_the_page_and_the_saved_analysis_name_the_model_and_its_profile(tmp_path, monkeypatch):
    from propscope import model_io

    monkeypatch.setattr(model_io, "load_model", lambda path=None: ReaderKeywords())
    client = TestClient(create_app(WebSettings(model="accurate", db=str(tmp_path / "a.db"))))
    assert client.get("/healthz").json()["model"] == {
        "name": "reader-keywords", "version": "test", "profile": "accurate"}
    data = analyse(client)
    saved = client.get(f"{API}/analyses/{data['id']}").json()
    assert saved["model"]["profile"] == "accurate"
    assert client.get(f"{API}/config").json()["model"]["profile"] == "accurate"
