"""The API against its own OpenAPI schema: schemathesis generates requests from
``/openapi.json`` (valid ones, schema-violating ones, undocumented methods) for every
operation of the in-process app and fails on any 5xx, any response that breaks the
schema (status, content type, body, headers), any schema-violating request accepted,
and any unsupported method not answered 405 with ``Allow``.

Skips without schemathesis, except under CI (CI=true), which installs the test extra.
Not checked: that every schema-valid request is accepted (``positive_data_acceptance``).
Some cannot be: HTML with no article text, or more articles than the server's
``max_batch``, are valid by shape and still answered 422.
"""

from __future__ import annotations

import os

import pytest

pytest.importorskip("fastapi", reason="the web extra (fastapi) is not installed")
try:
    import schemathesis
except ImportError:  # CI installs the test extra, so it must never skip there
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("schemathesis is not installed (pip install -e '.[test]')",
                allow_module_level=True)
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import positive_data_acceptance  # noqa: E402

from propscope.spans import Article  # noqa: E402
from propscope.web import WebSettings, create_app  # noqa: E402

#: Generated cases per operation: bounded so the suite stays under a minute.
EXAMPLES = 60

app = create_app(WebSettings(model="keywords", db=":memory:"))
# generated `url` requests never reach the network: every page is this one
app.state.analyser.fetcher = lambda url, **_: Article(id=url, text="A fetched page.", url=url)
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case):
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


# ---------------------------------------------------------------- what the schema says


@pytest.fixture(scope="module")
def spec() -> dict:
    return app.openapi()


def _validator(spec: dict, name: str):
    jsonschema = pytest.importorskip("jsonschema")
    return jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": spec["components"]})


@pytest.mark.parametrize("body,valid", [
    ({"text": "An article."}, True),
    ({"text": "An article.", "id": "a-1", "save": False, "threshold": 1,
      "techniques": ["Doubt"]}, True),
    ({"text": "An article.", "threshold": None}, True),  # the model's own threshold
    ({}, False),  # exactly one of text/html, by the schema too
    ({"text": "a", "html": "<p>a</p>"}, False),
    ({"text": None, "html": "<p>a</p>"}, False),
    ({"text": " \n\t\u3000\ufeff"}, False),
    ({"text": ""}, False),
    ({"text": "a", "threshold": True}, False),
    ({"text": "a", "save": "yes"}, False),
    ({"text": "a", "id": "x\ty"}, False),
    ({"text": "a", "colour": "red"}, False),
    ({"url": "https://news.example/a?b=c"}, True),
    ({"url": "ftp://news.example/a"}, False),
    ({"url": "https://news.example/a\n"}, False),
    ({"url": "https://news.example/a", "text": "a"}, False),
])
def test_request_schema_agrees_with_the_server(spec, body, valid):
    assert _validator(spec, "AnalyzeRequest").is_valid(body) is valid
    from fastapi.testclient import TestClient

    r = TestClient(app).post("/api/v1/analyze", json=body)
    assert (r.status_code == 200) is valid, r.text


def test_error_responses_are_documented_as_json(spec):
    paths = spec["paths"]
    report = paths["/api/v1/analyses/{analysis_id}/report.html"]["get"]["responses"]
    assert report["200"]["content"].keys() == {"text/html"}
    assert report["404"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    saved = paths["/api/v1/analyses/{analysis_id}"]["get"]["responses"]
    assert {"200", "404", "422", "503"} <= set(saved)
    for code in ("400", "413", "415", "422", "429", "503"):
        content = paths["/api/v1/analyze"]["post"]["responses"][code]["content"]
        assert content["application/json"]["schema"]["$ref"].endswith("/ErrorBody")

