"""Every kind of bad input gets a specific one-line error; good inputs become Articles."""

from __future__ import annotations

import json

import pytest

from propscope.errors import InputError, LabelError
from propscope.inputs import decode_bytes, iter_inputs, read_file
from propscope.language import is_english


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_file(tmp_path / "nope.txt")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_text("  \n")
    with pytest.raises(InputError, match="empty"):
        read_file(p)


def test_binary_file(tmp_path):
    p = tmp_path / "bin.txt"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(InputError, match="binary"):
        read_file(p)


def test_invalid_utf8_names_the_byte_offset():
    with pytest.raises(InputError, match=r"byte offset 6\b"):
        decode_bytes(b"hello \xff world", where="x")


def test_too_large_is_refused_with_configurable_limit():
    with pytest.raises(InputError, match="too large"):
        decode_bytes(b"a" * 100, max_bytes=100)
    assert decode_bytes(b"a" * 99, max_bytes=100) == "a" * 99


def test_utf8_bom_is_dropped():
    assert decode_bytes("\ufeffhi there".encode()) == "hi there"


def test_jsonl_broken_line_is_reported_and_others_kept(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text(json.dumps({"id": "a", "text": "good one", "source": "X"}) + "\n"
                 + "{not json\n" + json.dumps({"id": "c"}) + "\n"
                 + json.dumps({"id": "d", "text": "also good"}) + "\n")
    items = list(iter_inputs([str(p)]))
    assert [getattr(i, "id", None) for i in items] == ["a", None, None, "d"]
    assert f"{p}:2" in str(items[1]) and "not valid JSON" in str(items[1])
    assert 'missing "text"' in str(items[2])
    assert items[0].source == "X"


def test_folder_of_articles(tmp_path):
    (tmp_path / "article1.txt").write_text("One text here.")
    (tmp_path / "article2.txt").write_text("Two text here.")
    items = list(iter_inputs([str(tmp_path)]))
    assert [a.id for a in items] == ["1", "2"]


def test_html_is_extracted(tmp_path):
    p = tmp_path / "page.html"
    body = " ".join(["The mayor announced a new plan for the city today."] * 8)
    p.write_text(f"<html><head><title>News</title><script>var x=1;</script></head><body>"
                 f"<nav>Home | About</nav><article><p>{body}</p></article></body></html>")
    art = read_file(p)
    assert "mayor announced" in art.text
    assert "var x" not in art.text
    assert art.meta.get("extracted_from") == "html"


def test_crlf_text_kept_exactly(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"Line one\r\nLine two\r\n")
    assert read_file(p).text == "Line one\r\nLine two\r\n"


def test_language_check():
    assert is_english("The council said that it would vote on the plan and the fees.")
    assert not is_english("Le conseil municipal a voté mardi pour un nouveau plan de "
                          "stationnement que les critiques jugent désastreux pour la ville.")


def test_errors_are_one_line():
    e = LabelError("line 3: unknown technique 'X'", where="f.tsv")
    assert "\n" not in str(e) and str(e).startswith("f.tsv: ")
