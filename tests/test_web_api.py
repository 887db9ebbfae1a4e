"""The REST API and pages, in-process: every endpoint, every error code, limits, concurrency."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

pytest.importorskip("fastapi", reason="the web extra (fastapi) is not installed")
import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from propscope.errors import InputError  # noqa: E402
from propscope.predictors.keywords import KeywordPredictor  # noqa: E402
from propscope.techniques import TECHNIQUE_NAMES  # noqa: E402
from propscope.web import WebSettings, create_app  # noqa: E402

TEXT = ("The so-called experts pushed a disastrous plan. Every patriot knows better.\n"
        "It rained on Tuesday.\n")
XSS = ('Read this: <script>window.__xss = 1</script> and <img src=x onerror="window.__xss=2"> '
       "from an outrageous source.")
API = "/api/v1"


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "sub" / "analyses.sqlite3")


@pytest.fixture
def client(db):
    return TestClient(create_app(WebSettings(model="keywords", db=db)))


def post_raw(client, body: bytes, ctype: str | None = "application/json", path=f"{API}/analyze"):
    headers = {"content-type": ctype} if ctype else {}
    return client.post(path, content=body, headers=headers)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body


class GatePredictor:
    """The keyword predictor, held at a gate; counts how many run at once."""

    info = {"name": "gate", "version": "test"}

    def __init__(self, delay: float = 0.0) -> None:
        self.gate = threading.Event()
        self.delay = delay
        self.running = self.peak = 0
        self._lock = threading.Lock()

    def predict(self, texts):
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            if not self.gate.wait(10):
                raise RuntimeError("gate never opened")
            time.sleep(self.delay)
            return KeywordPredictor().predict(texts)
        finally:
            with self._lock:
                self.running -= 1


# ---------------------------------------------------------------- endpoints


def test_techniques(client):
    r = client.get(f"{API}/techniques")
    assert r.status_code == 200
    techs = r.json()["techniques"]
    assert [t["name"] for t in techs] == list(TECHNIQUE_NAMES)
    for t in techs:
        assert set(t) == {"name", "label", "definition", "example", "colour", "tag"}
        assert t["colour"].startswith("#")


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["model"]["name"] == "keywords"
    assert body["queue"]["capacity"] == WebSettings().workers + WebSettings().queue_size
    assert body["queue"]["max_chars"] == WebSettings().max_chars


def test_healthz_and_analyses_name_the_model_but_not_its_folder(db, tmp_path):
    class Located(KeywordPredictor):
        info = {"name": "located", "version": "1", "path": str(tmp_path / "secret-models")}

    c = TestClient(create_app(WebSettings(db=db), predictor=Located()))
    health = c.get("/healthz")
    assert health.json()["model"] == {"name": "located", "version": "1"}
    analysis = c.post(f"{API}/analyze", json={"text": TEXT})
    assert analysis.json()["model"] == {"name": "located", "version": "1"}
    for r in (health, analysis, c.get(f"{API}/analyses/{analysis.json()['id']}")):
        assert "secret-models" not in r.text and str(tmp_path) not in r.text


def test_analyze_text_and_saved_copy(client, db):
    r = client.post(f"{API}/analyze", json={"text": TEXT, "title": "Plans"})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["article"]["text"] == TEXT and data["article"]["title"] == "Plans"
    assert data["model"] == {"name": "keywords", "version": "test", "kind": "keyword rules"}
    assert {s["technique"] for s in data["spans"]} == {
        "Name_Calling,Labeling", "Loaded_Language", "Flag-Waving"}
    for s in data["spans"]:
        assert TEXT[s["start"]:s["end"]] == s["text"]
        assert 0 <= s["score"] <= 1
    # the first line holds two sentences, each with a span
    assert [x["flagged"] for x in data["sentences"]] == [True, True, False]
    assert data["summary"]["flagged_sentences"] == 2 and data["summary"]["sentences"] == 3
    assert data["permalink"] == f"/a/{data['id']}"
    assert data["propscope_version"]

    saved = client.get(f"{API}/analyses/{data['id']}")
    assert saved.status_code == 200 and saved.json() == data
    dl = client.get(f"{API}/analyses/{data['id']}", params={"download": "true"})
    assert "attachment" in dl.headers["content-disposition"]
    assert client.get(f"/a/{data['id']}").status_code == 200

    # the file is created on first use and outlives the app: the permalink still works
    other = TestClient(create_app(WebSettings(model="keywords", db=db)))
    assert other.get(f"{API}/analyses/{data['id']}").json()["spans"] == data["spans"]


def test_db_created_on_first_use(tmp_path):
    path = tmp_path / "new.sqlite3"
    c = TestClient(create_app(WebSettings(model="keywords", db=str(path))))
    assert not path.exists()
    assert c.post(f"{API}/analyze", json={"text": TEXT}).status_code == 200
    assert path.exists()


def test_analyze_html_returns_extracted_text(client):
    page = ("<html><head><title>Border news</title><script>evil()</script></head><body>"
            "<nav>Home | About</nav><article><h1>Border news</h1>"
            "<p>Every patriot must read this outrageous report about the border, which "
            "the so-called experts ignored for years while the problem grew.</p>"
            "<p>The ministry published its figures on Monday and promised a review.</p>"
            "</article></body></html>")
    r = client.post(f"{API}/analyze", json={"html": page})
    assert r.status_code == 200, r.text
    data = r.json()
    text = data["article"]["text"]
    assert "patriot" in text and "evil()" not in text and "<p>" not in text
    assert data["article"]["meta"] == {"extracted_from": "html"}
    assert data["article"]["title"] == "Border news"
    assert data["spans"]
    for s in data["spans"]:
        assert text[s["start"]:s["end"]] == s["text"]


def test_threshold_techniques_and_no_save(client):
    r = client.post(f"{API}/analyze", json={"text": TEXT, "threshold": 0.8,
                                            "techniques": ["Name_Calling,Labeling"],
                                            "save": False})
    data = r.json()
    assert r.status_code == 200
    assert [s["text"] for s in data["spans"]] == ["so-called"]
    assert data["id"] is None and data["permalink"] is None
    assert data["request"] == {"threshold": 0.8, "techniques": ["Name_Calling,Labeling"],
                               "mode": "reader"}


def test_offsets_count_code_points(client):
    text = "🎉🎉 Zoë’s outrageous 𝒳 claim from a traitor."
    data = client.post(f"{API}/analyze", json={"text": text}).json()
    assert [s["text"] for s in data["spans"]] == ["outrageous", "traitor"]
    for s in data["spans"]:
        assert text[s["start"]:s["end"]] == s["text"]


def test_batch(client):
    r = client.post(f"{API}/analyze/batch", json={"articles": [
        {"text": "A radical idea."}, {"html": "<html><body></body></html>"},
        {"text": "Nothing to see.", "save": False}]})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == 3
    assert results[0]["spans"][0]["text"] == "radical" and results[0]["id"]
    assert results[1]["error"]["code"] == "bad_input"
    assert results[2]["spans"] == [] and results[2]["id"] is None
    assert client.get(f"{API}/analyses/{results[0]['id']}").status_code == 200


def test_batch_isolates_every_article(db):
    class Picky(KeywordPredictor):
        info = {"name": "picky", "version": "test"}

        def predict(self, texts, **options):
            if any("boom" in t for t in texts):
                raise RuntimeError("a bug in the predictor")
            if any("refuse" in t for t in texts):
                raise InputError("cannot read this text")
            return super().predict(texts, **options)

    c = TestClient(create_app(WebSettings(db=db), predictor=Picky()))
    r = c.post(f"{API}/analyze/batch", json={"articles": [
        {"text": "A radical idea."}, {"text": "boom"}, {"text": "\ufeffa"},
        {"html": "<p>\u200b</p>"}, {"text": "please refuse"}, {"text": "A traitor."}]})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert results[0]["spans"][0]["text"] == "radical"
    assert results[1]["error"]["code"] == "internal_error"
    assert "bug" not in results[1]["error"]["message"]
    assert results[2]["spans"] == [] and results[2]["article"]["text"] == "\ufeffa"
    assert results[3]["error"]["code"] == "bad_input"
    assert results[4]["error"] == {"id": None, "code": "bad_input", "input": "articles.4",
                                   "message": "cannot read this text"}
    assert results[5]["spans"][0]["text"] == "traitor"


def test_batch_duplicate_ids(client):
    r = client.post(f"{API}/analyze/batch", json={"articles": [
        {"id": "a1", "text": "A radical idea."},
        {"id": "b", "text": "Nothing."},
        {"id": "a1", "text": "A different, outrageous text."},
        {"id": "a1", "text": "A radical idea."},
        {"text": "A radical idea."}]})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert results[0]["article"]["id"] == "a1" and results[0]["spans"]
    assert results[1]["article"]["id"] == "b"
    err = results[2]["error"]
    assert (err["id"], err["code"], err["input"]) == ("a1", "duplicate_id", "articles.2")
    assert "articles.2" in err["message"] and "articles.0" in err["message"]
    assert "'a1'" in err["message"]
    # the same id with the same text: the first analysis again, said so
    assert results[3]["spans"] == results[0]["spans"] and results[3]["id"] == results[0]["id"]
    assert any("articles.0" in w for w in results[3]["warnings"])
    assert results[4]["spans"] and results[4]["article"]["id"] != "a1"


def test_batch_limits(db):
    c = TestClient(create_app(WebSettings(model="keywords", db=db, max_batch=2)))
    r = c.post(f"{API}/analyze/batch", json={"articles": [{"text": "a"}] * 3})
    assert_error(r, 422, "too_many_articles")
    assert_error(c.post(f"{API}/analyze/batch", json={"articles": []}), 422, "invalid_fields")
    body = assert_error(c.post(f"{API}/analyze/batch", json={"articles": [{"text": "a"}, {}]}),
                        422, "invalid_fields")
    assert body["details"][0]["field"].startswith("articles.1")


def test_report_html_is_escaped_and_scriptless(client):
    data = client.post(f"{API}/analyze", json={"text": XSS}).json()
    r = client.get(f"{API}/analyses/{data['id']}/report.html")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "attachment" in r.headers["content-disposition"]
    assert "script-src" not in r.headers["content-security-policy"]  # default-src 'none'
    assert "<script" not in r.text and "<img" not in r.text
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in r.text
    assert "<mark" in r.text


def test_xss_text_round_trips_as_data(client):
    data = client.post(f"{API}/analyze", json={"text": XSS}).json()
    assert data["article"]["text"] == XSS  # kept verbatim, as data
    page = client.get(f"/a/{data['id']}")
    # the page is a fixed template: article text never appears in its HTML
    assert "__xss" not in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_pages_and_docs(client):
    for path in ("/", "/docs"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "https://" not in r.text and "http://" not in r.text.replace(
            "http://127.0.0.1:8000", "")  # no CDN: every asset is local
    assert client.get("/a/doesnotexist").status_code == 404
    assert client.head("/").status_code == 200 and client.head("/healthz").status_code == 200
    for asset in ("app.js", "style.css", "docs.js", "favicon.svg"):
        assert client.get(f"/static/{asset}").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {f"{API}/analyze", f"{API}/analyze/batch", f"{API}/techniques",
            f"{API}/analyses/{{analysis_id}}", "/healthz"} <= set(spec["paths"])
    responses = spec["paths"][f"{API}/analyze"]["post"]["responses"]
    assert {"200", "400", "413", "415", "422", "429", "503"} <= set(responses)


def test_root_path_behind_a_proxy(db):
    c = TestClient(create_app(WebSettings(model="keywords", db=db)), root_path="/ps")
    page = c.get("/ps/")
    assert 'src="/ps/static/app.js"' in page.text
    data = c.post("/ps/api/v1/analyze", json={"text": TEXT}).json()
    assert data["permalink"] == f"/ps/a/{data['id']}"


def test_not_found_and_method(client):
    assert_error(client.get(f"{API}/analyses/AAAAAAAAAAAA"), 404, "not_found")
    assert_error(client.get(f"{API}/analyses/..%2f..%2fetc"), 404, "not_found")
    assert_error(client.get(f"{API}/analyses/AAAAAAAAAAAA/report.html"), 404, "not_found")
    assert_error(client.get(f"{API}/nothing"), 404, "not_found")
    assert_error(client.get(f"{API}/analyze"), 405, "method_not_allowed")


def test_404_does_not_echo_a_huge_id(client):
    huge = "A" * 60_000  # (the test client refuses URLs over 65,536 characters)
    for path in (f"{API}/analyses/{huge}", f"{API}/analyses/{huge}/report.html"):
        r = client.get(path)
        assert_error(r, 404, "not_found")
        assert len(r.content) < 200 and "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" not in r.text
    # an id of the right form is named
    assert "'AAAAAAAAAAAA'" in client.get(f"{API}/analyses/AAAAAAAAAAAA").json()["message"]


@pytest.mark.parametrize("path,allowed", [
    (f"{API}/techniques", "GET, HEAD, OPTIONS"),
    (f"{API}/analyses/AAAAAAAAAAAA", "GET, HEAD, OPTIONS"),
    (f"{API}/analyses/AAAAAAAAAAAA/report.html", "GET, HEAD, OPTIONS"),
    ("/healthz", "GET, HEAD, OPTIONS"),
    ("/", "GET, HEAD, OPTIONS"),
    (f"{API}/analyze", "OPTIONS, POST"),
    (f"{API}/analyze/batch", "OPTIONS, POST"),
])
def test_methods_405_with_allow_and_options(client, path, allowed):
    for method in ("PUT", "PATCH", "DELETE", "TRACE"):
        r = client.request(method, path, content=b"x", headers={"content-type": "text/plain"})
        assert_error(r, 405, "method_not_allowed")  # not 415: the method is checked first
        assert r.headers["allow"] == allowed
    r = client.options(path)
    assert r.status_code == 204 and r.headers["allow"] == allowed and not r.content
    if "GET" in allowed:
        head = client.head(path)
        get = client.get(path)
        assert head.status_code == get.status_code and not head.content
        assert head.headers["content-type"] == get.headers["content-type"]
    else:
        assert_error(client.get(path), 405, "method_not_allowed")


# ---------------------------------------------------------------- error codes


@pytest.mark.parametrize("body,code", [
    (b'{"text": "abc"', "malformed_json"),
    (b"not json at all", "malformed_json"),
    (b"", "empty_body"),
    (b'["a list"]', "malformed_request"),
    (b'"a string"', "malformed_request"),
    (b"[" * 50_000 + b"]" * 50_000, "malformed_json"),
])
def test_400_malformed(client, body, code):
    assert_error(post_raw(client, body), 400, code)


def test_413_too_large(db):
    c = TestClient(create_app(WebSettings(model="keywords", db=db, max_bytes=2000)))
    big = json.dumps({"text": "word " * 1000}).encode()
    body = assert_error(post_raw(c, big), 413, "too_large")
    assert "2,000" in body["message"]

    def chunks():  # no Content-Length: the limit holds while streaming too
        for _ in range(10):
            yield b" " * 500

    r = c.post(f"{API}/analyze", content=chunks(), headers={"content-type": "application/json"})
    assert_error(r, 413, "too_large")
    assert c.post(f"{API}/analyze", json={"text": "short radical text"}).status_code == 200


def test_413_default_limit_is_one_mebibyte(client):
    assert WebSettings().max_bytes == 1024 * 1024
    big = json.dumps({"text": "a" * (1024 * 1024)}).encode()
    assert_error(post_raw(client, big), 413, "too_large")
    fits = json.dumps({"text": "outrageous " * 90_000}).encode()
    assert len(fits) < 1024 * 1024
    # within the byte limit, but more characters than the default budget holds at once
    body = assert_error(post_raw(client, fits), 413, "too_long")
    assert "990,000 characters" in body["message"] and "200,000" in body["message"]
    roomy = TestClient(create_app(WebSettings(model="keywords", db=":memory:",
                                           max_chars=1024 * 1024)))
    assert post_raw(roomy, fits).status_code == 200


def test_413_too_long_counts_a_batch_together(db):
    c = TestClient(create_app(WebSettings(model="keywords", db=db, max_chars=100)))
    one = {"text": "radical " * 10}  # 80 characters
    assert c.post(f"{API}/analyze/batch", json={"articles": [one]}).status_code == 200
    r = c.post(f"{API}/analyze/batch", json={"articles": [one, one]})
    assert_error(r, 413, "too_long")


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", None])
def test_415_not_json(client, ctype):
    assert_error(post_raw(client, b'{"text": "hello"}', ctype), 415, "unsupported_media_type")


def test_json_content_type_variants_accepted(client):
    r = post_raw(client, b'{"text": "a radical text"}', "application/json; charset=utf-8")
    assert r.status_code == 200


@pytest.mark.parametrize("payload,field", [
    ({}, "(body)"),
    ({"text": "a", "html": "<p>a</p>"}, "(body)"),
    ({"text": "   \n"}, "(body)"),
    ({"text": 5}, "text"),
    ({"text": "a", "threshold": 1.5}, "threshold"),
    ({"text": "a", "threshold": "high"}, "threshold"),
    ({"text": "a", "techniques": ["Nope"]}, "techniques"),
    ({"text": "a", "techniques": []}, "techniques"),
    ({"text": "a", "colour": "red"}, "colour"),
    ({"text": "a", "title": "t" * 1001}, "title"),
    ({"text": "lone \ud800 surrogate"}, "text"),
    ({"text": "a", "threshold": True}, "threshold"),  # a bool is not a number
    ({"text": "a", "threshold": "0.5"}, "threshold"),
    ({"text": "a", "save": "yes"}, "save"),
    ({"text": "a", "save": 1}, "save"),
    ({"text": None, "html": "<p>a</p>"}, "text"),
    ({"text": "\ufeff\u3000 \x1c"}, "(body)"),  # blank by the schema's and Python's rules
    ({"text": "a", "id": "a\tb"}, "id"),
    ({"text": "a", "id": ""}, "id"),
])
def test_422_invalid_fields(client, payload, field):
    body = json.dumps(payload).encode()  # ensure_ascii keeps a lone surrogate sendable
    err = assert_error(post_raw(client, body), 422, "invalid_fields")
    assert err["details"][0]["field"] == field
    assert all(set(d) == {"field", "message"} for d in err["details"])  # input not echoed


def test_422_no_text_in_html(client):
    r = client.post(f"{API}/analyze", json={"html": "<html><body><script>1</script></body></html>"})
    assert_error(r, 422, "bad_input")


def test_503_when_the_model_fails_to_load(db):
    c = TestClient(create_app(WebSettings(model="/no/such/model", db=db)))
    body = assert_error(c.post(f"{API}/analyze", json={"text": TEXT}), 503, "model_unavailable")
    assert "no such model folder" in body["message"]
    assert_error(c.post(f"{API}/analyze/batch", json={"articles": [{"text": TEXT}]}),
                 503, "model_unavailable")
    assert_error(c.get("/healthz"), 503, "model_unavailable")
    assert c.get(f"{API}/techniques").status_code == 200  # the rest still works
    assert c.get("/").status_code == 200


def test_predictor_failures_never_leak_a_trace(db):
    class Broken:
        info = {"name": "broken"}

        def predict(self, texts):
            raise RuntimeError("secret internal detail /home/x/model.py line 3")

    class Refusing:
        info = {"name": "refusing"}

        def predict(self, texts):
            raise InputError("cannot read this text")

    c = TestClient(create_app(WebSettings(db=db), predictor=Broken()),
                   raise_server_exceptions=False)
    body = assert_error(c.post(f"{API}/analyze", json={"text": TEXT}), 500, "internal_error")
    assert "secret" not in body["message"]
    c = TestClient(create_app(WebSettings(db=db), predictor=Refusing()))
    assert_error(c.post(f"{API}/analyze", json={"text": TEXT}), 422, "bad_input")


def test_unsaveable_analysis_still_answers(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    c = TestClient(create_app(WebSettings(model="keywords", db=str(blocker / "x.sqlite3"))))
    r = c.post(f"{API}/analyze", json={"text": TEXT})
    assert r.status_code == 200
    assert r.json()["id"] is None and any("saved" in w for w in r.json()["warnings"])
    assert_error(c.get(f"{API}/analyses/AAAAAAAAAAAA"), 503, "storage_unavailable")


# ---------------------------------------------------------------- queue and concurrency


def run_async(scenario):
    return asyncio.run(asyncio.wait_for(scenario(), timeout=30))


async def wait_until(condition, timeout=5.0):
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.01)


def test_429_when_the_queue_is_full_and_healthz_stays_up(db):
    gate = GatePredictor()
    app = create_app(WebSettings(db=db, workers=1, queue_size=1), predictor=gate)
    transport = httpx.ASGITransport(app=app)

    async def scenario():
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            try:
                first = [asyncio.create_task(
                    c.post(f"{API}/analyze", json={"text": f"radical {k}"})) for k in range(2)]
                await wait_until(lambda: app.state.jobs.in_flight == 2)
                full = await c.post(f"{API}/analyze", json={"text": "radical 3"})
                batch = await c.post(f"{API}/analyze/batch", json={"articles": [{"text": "x"}]})
                health = await c.get("/healthz")
                techs = await c.get(f"{API}/techniques")
            finally:
                gate.gate.set()
            done = await asyncio.gather(*first)
            after = await c.post(f"{API}/analyze", json={"text": "radical 4"})
        return full, batch, health, techs, done, after

    full, batch, health, techs, done, after = run_async(scenario)
    assert_error(full, 429, "busy")
    assert 1 <= int(full.headers["retry-after"]) <= 60
    assert_error(batch, 429, "busy")
    assert health.status_code == 200
    assert health.json()["queue"]["running"] == 1 and health.json()["queue"]["waiting"] == 1
    assert techs.status_code == 200
    assert [r.status_code for r in done] == [200, 200]
    assert after.status_code == 200
    assert gate.peak == 1
    assert app.state.jobs.stats()["rejected"] == 2


def test_simultaneous_requests_get_their_own_results(db):
    gate = GatePredictor(delay=0.02)
    gate.gate.set()
    app = create_app(WebSettings(db=db, workers=2, queue_size=8), predictor=gate)
    transport = httpx.ASGITransport(app=app)
    texts = [f"Article {k}: the {' and then the '.join(['patriot'] * (k + 1))} view."
             for k in range(8)]

    async def scenario():
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            rs = await asyncio.gather(*(c.post(f"{API}/analyze", json={"text": t})
                                        for t in texts))
            saved = await asyncio.gather(*(c.get(f"{API}/analyses/{r.json()['id']}")
                                           for r in rs))
        return rs, saved

    rs, saved = run_async(scenario)
    assert all(r.status_code == 200 for r in rs)
    for k, (r, s) in enumerate(zip(rs, saved, strict=True)):
        assert r.json()["article"]["text"] == texts[k]
        assert len(r.json()["spans"]) == k + 1
        assert s.json()["article"]["text"] == texts[k]
    assert len({r.json()["id"] for r in rs}) == len(texts)
    assert 1 <= gate.peak <= 2  # never more analyses at once than workers
    assert app.state.store.count() == len(texts)


# ---------------------------------------------------------------- the command


def test_serve_command_is_registered():
    from propscope.cli.main import build_parser

    args = build_parser().parse_args(["serve", "--port", "9999", "--model", "keywords",
                                      "--db", "x.sqlite3", "--queue", "3"])
    assert (args.port, args.model, args.db, args.queue, args.host) == (
        9999, "keywords", "x.sqlite3", 3, "127.0.0.1")


@pytest.mark.parametrize("argv,says", [
    (["--workers", "0"], "--workers: must be at least 1"),
    (["--port", "99999"], "--port: a port is 1 to 65535, got 99999"),
    (["--port", "http"], "--port: expected a port number"),
    (["--max-chars", "-5"], "--max-chars: must be at least 1"),
    (["--deadline", "0"], "--deadline: must be more than 0 seconds"),
    (["--deadline", "inf"], "--deadline: must be more than 0 seconds"),
    (["--host", "no-such-host.invalid"], "cannot listen on no-such-host.invalid:"),
])
def test_serve_argument_errors_are_one_line(capsys, argv, says):
    from propscope.cli.main import main

    assert main(["serve", "--model", "keywords", "--db", ":memory:", *argv]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and "Traceback" not in err


def test_serve_on_a_port_in_use_is_one_line(capsys):
    import socket

    from propscope.cli.main import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--model", "keywords", "--db", ":memory:",
                     "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in err
    assert err.count("\n") == 1
