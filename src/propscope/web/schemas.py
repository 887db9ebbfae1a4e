"""Request and response models of the REST API, and the error responses it documents.

Requests are strict: ``"threshold": true`` or ``"save": "yes"`` are rejected, never
coerced, and the JSON schema says everything the validators check that a schema can say
(exactly one of ``text``/``html``, neither null nor blank, ids without control
characters), so a request valid by ``/openapi.json`` is not refused for its shape.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from .. import config
from ..techniques import TECHNIQUE_NAMES, resolve_technique, unknown_technique_message

API = "/api/v1"


def _any_case(name: str) -> str:
    """A pattern matching ``name`` in any ASCII case (JSON Schema has no flags)."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in name)


#: A technique name in any ASCII case, as a JSON Schema pattern.
TECHNIQUE_PATTERN = "^(" + "|".join(_any_case(n) for n in TECHNIQUE_NAMES) + ")$"


def _technique_items(schema: dict[str, Any]) -> None:
    for option in schema.get("anyOf", []):
        if option.get("type") == "array":
            option["items"]["pattern"] = TECHNIQUE_PATTERN

#: White space by Python's ``str.isspace`` or by JSON Schema (ECMA-262) ``\s``; spelled out
#: so that the schema's pattern and the server's check agree on every code point.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f"
              "\u205f\u3000\ufeff")
NOT_BLANK = f"[^{WHITESPACE}]"
_NOT_BLANK = re.compile(NOT_BLANK)
#: An article id: no control characters (they would corrupt TSV output), 1 to 200 characters.
ID_PATTERN = "^[^\\x00-\\x1f\\x7f]+$"
_ID = re.compile(ID_PATTERN)


def _valid_unicode(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("is not valid Unicode (lone surrogate code point)") from None
    return value


#: An http(s) URL: this start and no control character or space anywhere (two patterns, as a
#: trailing ``$`` means "before a final line break" to some validators). The server checks
#: more when it fetches (``propscope.fetch``).
URL_PATTERN = "^[Hh][Tt][Tt][Pp][Ss]?://[^\\x00-\\x20]"
URL_NOT = "[\\x00-\\x20]"
_URL, _URL_NOT = re.compile(URL_PATTERN), re.compile(URL_NOT)


def _one_source_schema(schema: dict[str, Any]) -> None:
    """``text``, ``html`` and ``url``: non-null, non-blank strings, exactly one given."""
    props = schema["properties"]
    for name in ("text", "html", "url"):
        prop = props[name]
        prop.pop("anyOf", None)
        prop.pop("default", None)
        prop.update(type="string", minLength=1, pattern=NOT_BLANK)
    props["url"].update(pattern=URL_PATTERN, maxLength=2000, **{"not": {"pattern": URL_NOT}})
    schema["oneOf"] = [{"required": [name]} for name in ("text", "html", "url")]


class AnalyzeRequest(BaseModel):
    """One article: give ``text`` (plain text), ``html`` (a web page) or ``url`` (a page
    the server fetches), exactly one."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_one_source_schema)

    text: str | None = Field(None, description="plain article text; offsets refer to it")
    html: str | None = Field(None, description="an HTML page; its main text is extracted "
                                               "and analysed (returned in article.text)")
    url: str | None = Field(None, description="an http(s) page the server fetches (with a "
                                              "time and size limit; private and loopback "
                                              "addresses are refused unless the server allows "
                                              "them); its title, date and site become "
                                              "article.title, .date and .source")
    id: str | None = Field(None, min_length=1, max_length=200, pattern=ID_PATTERN,
                           description="your id for the article, returned as article.id; "
                                       "in a batch, one id may not name two different texts")
    title: str | None = Field(None, max_length=1000)
    threshold: float | None = Field(config.DEFAULT_THRESHOLD, ge=0.0, le=1.0,
                                    allow_inf_nan=False,
                                    description="drop spans whose confidence is below this "
                                                "(default, or null: the model's own reader "
                                                "threshold)")
    techniques: list[str] | None = Field(
        None, min_length=1,
        json_schema_extra=_technique_items,
        description="only these techniques (default: all 14), named in any case as in "
                    f"GET {API}/techniques; an unknown name's error suggests the nearest")
    mode: Literal["reader", "benchmark"] = Field(
        "reader", description="operating point: `reader` (calibrated confidences, spans "
                              "from the model's reader threshold up, cleaned, at most 2 "
                              "labels a passage) or `benchmark` (every span the SemEval-"
                              "tuned decoding finds)")
    save: bool = Field(True, description="save the analysis and return a permalink")
    #: the article fetched for ``url`` (or why it could not be), set before admission
    _page: Any = PrivateAttr(None)

    @field_validator("text", "html", "url", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:  # only an explicit null gets here: a default is not validated
            raise ValueError("must be a string (leave the field out instead of null)")
        return value

    @field_validator("text", "html", "url", "title", "id")
    @classmethod
    def _unicode(cls, value: str | None) -> str | None:
        return value if value is None else _valid_unicode(value)

    @field_validator("techniques")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        out = []
        for name in value:
            found = resolve_technique(name)
            if found is None:
                raise ValueError(unknown_technique_message(name))
            out.append(found)
        return out

    @model_validator(mode="after")
    def _one_source(self) -> AnalyzeRequest:
        given = [f for f in ("text", "html", "url") if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError('give exactly one of "text", "html" or "url"')
        if not _NOT_BLANK.search(self.body):
            raise ValueError(f'"{given[0]}" is empty')
        if self.url is not None and (len(self.url) > 2000 or not _URL.match(self.url)
                                      or _URL_NOT.search(self.url)):
            raise ValueError('"url" must be an http or https URL of at most 2000 characters')
        return self

    @property
    def body(self) -> str:
        """The text, HTML or URL given."""
        for value in (self.text, self.html, self.url):
            if value is not None:
                return value
        return ""

    @property
    def cost(self) -> int:
        """Characters to analyse (for HTML, an upper bound; for a URL, its page's text
        once fetched)."""
        text = getattr(self._page, "text", None)
        return len(text) if isinstance(text, str) else len(self.body)


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    articles: list[AnalyzeRequest] = Field(..., min_length=1)


class ErrorBody(BaseModel):
    code: str = Field(..., description="stable machine-readable code")
    message: str = Field(..., description="one human-readable line")
    details: list[dict[str, str]] | None = Field(None, description="per-field problems (422)")


class SpanOut(BaseModel):
    start: int = Field(..., description="character offset (Unicode code points) in article.text")
    end: int
    technique: str
    score: float = Field(..., description="confidence; in reader mode a calibrated probability")
    confidence: Literal["high", "medium", "low"] | None = Field(
        None, description="the score as a level (cut-offs in GET /api/v1/config)")
    text: str
    voice: Literal["quoted", "attributed", "author"] | None = Field(
        None, description="inside quotation marks, reported speech of a named speaker, or "
                          "the author's own voice")
    speaker: str | None = Field(None, description="who is quoted or reported, where named")
    targets: list[TargetOut] | None = Field(
        None, description="entities the span aims at (techniques that target someone; "
                          "absent without spaCy: see notes)")


class TargetOut(BaseModel):
    entity: str = Field(..., description="the entity, its mentions in the article merged "
                                         "(\"Trump\", \"Donald Trump\" -> \"Donald Trump\")")
    type: Literal["person", "organisation", "place", "group"]
    text: str = Field(..., description="the mention the span aims at")
    start: int = Field(..., description="the mention's character offset in article.text")
    end: int


class SentenceOut(BaseModel):
    start: int
    end: int
    flagged: bool
    techniques: list[str]


class AnalysisOut(BaseModel):
    id: str | None = Field(..., description="saved analysis id (null when not saved)")
    permalink: str | None
    created: str
    article: dict[str, Any] = Field(..., description="id, text (what offsets refer to), title")
    spans: list[SpanOut]
    sentences: list[SentenceOut]
    summary: dict[str, Any]
    model: dict[str, Any]
    warnings: list[str]
    targets: list[dict[str, Any]] | None = Field(
        None, description="who is targeted: entity, type, count, techniques, mentions")
    notes: list[str] | None = Field(None, description="what was not done and why (e.g. "
                                                      "targets without spaCy)")
    request: dict[str, Any] = Field(..., description="threshold, techniques and mode asked for")
    reader_threshold: float | None = Field(
        None, description="the model's reader threshold (where the page's slider starts)")
    propscope_version: str


class ConfigOut(BaseModel):
    modes: list[str]
    default_mode: str
    reader_threshold: float | None = Field(..., description="the model's reader threshold")
    confidence_levels: list[dict[str, Any]] = Field(
        ..., description="`{level, min}` from high to low: a score at or above `min` has "
                         "that level")
    model: dict[str, Any] | None = Field(..., description="name, version, profile")


class ErrorRecord(BaseModel):
    """``errors.error_record``: the one shape of an error about one input (also in the
    CLI's JSON output and the ``error_code`` / ``error`` columns of a batch run)."""

    id: str | None = Field(..., description="the article's id, where it has one")
    code: str = Field(..., description="stable machine-readable code")
    message: str = Field(..., description="one human-readable line")
    input: str | None = Field(..., description="its position in the request: articles.N")


class BatchItemOut(BaseModel):
    error: ErrorRecord


class BatchOut(BaseModel):
    results: list[AnalysisOut | BatchItemOut]


def error(description: str) -> dict[str, Any]:
    """A documented error response of a JSON route."""
    return {"model": ErrorBody, "description": description}


def json_error(description: str) -> dict[str, Any]:
    """A documented JSON error response of a route whose own media type is not JSON."""
    return {"description": description, "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}


ANALYZE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: error("malformed body (not JSON, empty, not an object)"),
    413: error("body larger than the server's byte limit, or text longer than its "
               "character limit"),
    415: error("Content-Type is not application/json"),
    422: error("invalid fields, no article text found, or a `url` refused (`url_refused`) "
               "or not fetched (`fetch_failed`)"),
    429: error("the server has as much work in flight as it accepts; retry after "
               "Retry-After seconds"),
    503: error("the model failed to load, or the analysis did not finish within the "
               "server's time limit"),
}

SAVED_ERRORS: dict[int | str, dict[str, Any]] = {
    404: error("no saved analysis with this id"),
    422: error("invalid query parameter"),
    503: error("saved analyses cannot be read now"),
}

REPORT_ERRORS: dict[int | str, dict[str, Any]] = {
    404: json_error("no saved analysis with this id"),
    422: json_error("invalid parameter"),
    503: json_error("saved analyses cannot be read now"),
}
