"""Label Studio round trip: ``propscope export label-studio`` -> a real Label Studio server
(a project made with label-studio-sdk, tasks imported, annotations submitted through its
API, exported) -> ``propscope import label-studio`` -> the PTC folder ``train`` and
``evaluate`` read. Offsets and labels must survive exactly, non-ASCII text and CRLF
included. Offline parts first; the server tests are marked slow: the round trip through
its API, and its own editor in a real browser (how it counts offsets when a person selects).

Label Studio pins packages that clash with ours, so it lives in its own virtual
environment (``make labelstudio-venv``: ``.venv-labelstudio``, or
``PROPSCOPE_LABEL_STUDIO_VENV``). Without it the server test skips, except under CI
(``CI=true``), where it fails. The server listens on 127.0.0.1 only; its version check,
error reports and analytics are switched off, and any other outgoing request goes to a
proxy address on loopback that answers nothing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from propscope.cli.main import main
from propscope.corpus import check_labels, load_labelled, read_labels
from propscope.labelstudio import (
    LABELS_FILE,
    import_export,
    labeling_config,
    utf16_to_index,
)
from propscope.spans import Span
from propscope.techniques import TECHNIQUE_LIST, TECHNIQUE_NAMES

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(os.environ.get("PROPSCOPE_LABEL_STUDIO_VENV", ROOT / ".venv-labelstudio"))
DRIVER = Path(__file__).with_name("labelstudio_driver.py")
#: an article with CRLF line ends, accents, curly quotes and characters outside the BMP
HARD = ("Zoë’s “so-called” experts 🎉🎉 pushed a disastrous plan.\r\n"
        "Every patriot knows 𝒳 better — an outrageous lie by a traitor.\r\n")
PLAIN = "Radical ideas from a so-called expert.\n"
SKIPPED = "Nothing to see in this outrageous article.\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def at(text: str, phrase: str) -> tuple[int, int]:
    start = text.index(phrase)
    return start, start + len(phrase)


def region(text: str, phrase: str, label: str, rid: str, shift: int = 0) -> dict:
    a, b = at(text, phrase)
    return {"id": rid, "from_name": "technique", "to_name": "text", "type": "labels",
            "value": {"start": a + shift, "end": b + shift, "text": phrase,
                      "labels": [label]}}


# ------------------------------------------------------------------ offline


def test_labeling_config_lists_the_techniques_with_colours_and_hints():
    root = ET.fromstring(labeling_config())
    labels = root.find("Labels")
    assert labels.get("name") == "technique" and labels.get("toName") == "text"
    assert root.find("Text").get("value") == "$text"
    got = {e.get("value"): (e.get("background"), e.get("hint")) for e in labels}
    assert got == {t.name: (t.colour, t.definition) for t in TECHNIQUE_LIST}
    assert len(got) == 14


def test_export_writes_tasks_with_predictions(capsys, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "hard.txt").write_bytes(HARD.encode())
    code, _, err = run(capsys, "export", "label-studio", str(tmp_path / "in"), "--out",
                       str(tmp_path / "tasks.json"), "--config", str(tmp_path / "l.xml"),
                       "--model", "keywords")
    assert code == 0, err
    (task,) = json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8"))
    assert task["data"] == {"text": HARD, "id": "hard", "source": "in"}
    (pred,) = task["predictions"]
    assert pred["model_version"] == "propscope keywords test"
    found = [(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
             for r in pred["result"]]
    want = [(s.start, s.end, s.technique) for s in
            __import__("propscope").analyze(HARD, model="keywords").spans]
    assert found == want and len(found) >= 4
    for r in pred["result"]:
        v = r["value"]
        assert HARD[v["start"]:v["end"]] == v["text"] and 0 < r["score"] <= 1
    assert (tmp_path / "l.xml").read_text() == labeling_config()


def test_utf16_offsets():
    text = "a🎉b"
    assert [utf16_to_index(text, k) for k in range(5)] == [0, 1, None, 2, 3]


def task(tid, text, annotations, aid=None):
    return {"id": tid, "data": {"text": text, **({"id": aid} if aid else {})},
            "annotations": annotations}


def test_import_keeps_what_fits_and_says_what_it_skipped():
    b = at(HARD, "outrageous")
    astral = sum(ord(c) > 0xFFFF for c in HARD[:b[0]])  # 🎉🎉 and 𝒳: one more unit each
    assert astral == 3
    items = [
        task(1, HARD, [{"id": 10, "result": [
            region(HARD, "so-called", "Name_Calling,Labeling", "r1"),
            region(HARD, "outrageous", "loaded_language", "r2", shift=astral),  # UTF-16
            region(HARD, "patriot", "Bogus", "r3"),
            {"id": "r4", "type": "labels", "value": {"start": 0, "end": 4, "text": "nope",
                                                     "labels": ["Doubt"]}},
            {"id": "c", "type": "textarea", "value": {"text": ["a comment"]}},
        ]}], aid="news/hard 1"),
        task(2, PLAIN, [{"id": 20, "result": [], "updated_at": "2024-01-02"},
                        {"id": 21, "result": [region(PLAIN, "Radical", "Slogans", "x")],
                         "updated_at": "2024-01-01"}], aid="plain"),
        task(3, SKIPPED, [{"id": 30, "was_cancelled": True, "result": []}]),
        task(4, SKIPPED, []),
        task(5, "  \n", [{"id": 50, "result": []}]),
        {"id": 6, "data": {"image": "x.png"}, "annotations": []},
    ]
    got = import_export(items)
    assert list(got.articles) == ["news_hard_1", "plain"]
    assert got.labels["news_hard_1"] == sorted([
        Span(*at(HARD, "so-called"), "Name_Calling,Labeling"),
        Span(*b, "Loaded_Language")])
    assert got.labels["plain"] == []  # reviewed: the latest annotation marks nothing
    assert got.skipped == [
        "task 1: region r3: unknown label 'Bogus'",
        "task 1: region r4: offsets [0, 4) do not match the text ('nope')",
        "task 3: no annotation (not reviewed, or skipped)",
        "task 4: no annotation (not reviewed, or skipped)",
        "task 5: empty task (no text)",
        "task 6: empty task (no text)",
    ]
    assert any("'news/hard 1' written as 'news_hard_1'" in n for n in got.notes)
    assert any("task 2: 2 annotations; took annotation 20" in n for n in got.notes)


def test_import_refuses_a_folder_of_an_earlier_import_unless_forced(capsys, tmp_path):
    export = tmp_path / "export.json"
    one = [task(1, PLAIN, [{"id": 1, "result": []}], aid="a")]
    export.write_text(json.dumps(one))
    assert run(capsys, "import", "label-studio", str(export), "--out", str(tmp_path / "o"))[0] == 0
    export.write_text(json.dumps([task(2, HARD, [{"id": 2, "result": []}], aid="b")]))
    code, _, err = run(capsys, "import", "label-studio", str(export), "--out", str(tmp_path / "o"))
    assert code == 2 and "already holds 2 article or label files" in err
    code, _, err = run(capsys, "import", "label-studio", str(export), "--out",
                       str(tmp_path / "o"), "--force")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["articleb.txt", LABELS_FILE]


def test_import_force_never_deletes_articles_an_import_did_not_write(capsys, tmp_path):
    """--force replaces an earlier import's output; a folder of articles without the
    import's labels file (a corpus, say) is refused, and nothing in it is touched."""
    corpus = tmp_path / "train-articles"
    corpus.mkdir()
    (corpus / "article111.txt").write_text("A corpus article.\n")
    (corpus / "article222.txt").write_text("Another one.\n")
    export = tmp_path / "export.json"
    export.write_text(json.dumps([task(1, PLAIN, [{"id": 1, "result": []}], aid="a")]))
    code, _, err = run(capsys, "import", "label-studio", str(export), "--out", str(corpus),
                       "--force")
    assert code == 2 and f"no {LABELS_FILE}" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in corpus.iterdir()) == ["article111.txt", "article222.txt"]


def test_import_errors_are_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    for content, message in ((b"{", "not a Label Studio JSON export"),
                             (b'[{"text": "a", "label": []}]', "not JSON_MIN or CSV"),
                             (b"[]", "no reviewed task to import")):
        bad.write_bytes(content)
        code, _, err = run(capsys, "import", "label-studio", str(bad), "--out",
                           str(tmp_path / "o"))
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    code, _, err = run(capsys, "import", "label-studio", str(tmp_path / "none.json"),
                       "--out", str(tmp_path / "o"))
    assert code == 2 and "no such file" in err


# ------------------------------------------------------------------ a real Label Studio


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory):
    """A Label Studio server on 127.0.0.1 with a fresh SQLite folder: (url, token)."""
    if not (VENV / "bin" / "label-studio").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Label Studio is not installed in {VENV} (make labelstudio-venv)")
        pytest.skip(f"Label Studio is not installed in {VENV} (make labelstudio-venv)")
    data = tmp_path_factory.mktemp("label-studio")
    port, token = free_port(), "0123456789abcdef0123456789abcdef01234567"
    dead = "http://127.0.0.1:9"  # any outgoing request ends here, on this machine
    env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data), "SENTRY_DSN": "",
           "FRONTEND_SENTRY_DSN": "", "COLLECT_ANALYTICS": "false",
           "LATEST_VERSION_CHECK": "false", "HTTP_PROXY": dead, "HTTPS_PROXY": dead,
           "http_proxy": dead, "https_proxy": dead, "NO_PROXY": "127.0.0.1,localhost",
           "no_proxy": "127.0.0.1,localhost"}
    log = (data / "server.log").open("w")
    proc = subprocess.Popen(
        [str(VENV / "bin" / "label-studio"), "start", "--no-browser", "--internal-host",
         "127.0.0.1", "--port", str(port), "--data-dir", str(data), "--username",
         "reviewer@example.com", "--password", "round-trip-1", "--user-token", token,
         "--enable-legacy-api-token", "--log-level", "WARNING"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
        start_new_session=True)  # its own process group: stopped whole below
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # migrations of a new database: about 100 s
        while True:
            if proc.poll() is not None:
                pytest.fail(f"Label Studio exited ({proc.returncode}): "
                            f"{(data / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("Label Studio did not start within 300 s")
            time.sleep(2)
        yield url, token, env
    finally:
        stop_group(proc)
        log.close()


def stop_group(proc: subprocess.Popen) -> None:
    """Stop a process started in its own session, and whatever it started."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        try:  # the leader is gone; its children may not be
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return


@pytest.mark.slow
def test_round_trip_through_label_studio(capsys, tmp_path, label_studio):
    url, token, env = label_studio
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name, text in (("hard", HARD), ("plain", PLAIN), ("skipped", SKIPPED)):
        (inputs / f"{name}.txt").write_bytes(text.encode())
    tasks_path, config_path = tmp_path / "tasks.json", tmp_path / "labeling.xml"
    code, _, err = run(capsys, "export", "label-studio", str(inputs), "--out",
                       str(tasks_path), "--config", str(config_path), "--model", "keywords")
    assert code == 0, err
    tasks = json.loads(tasks_path.read_text(encoding="utf-8"))
    tasks.append({"data": {"text": "", "id": "empty"}})  # a task with no text
    tasks_path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")

    # the reviewer: keeps one prediction, relabels one, drops the rest, adds spans after
    # the emoji and across a CRLF, and makes two mistakes propscope must skip
    hard = tasks[0]["predictions"][0]["result"]
    kept = next(r for r in hard if r["value"]["text"] == "so-called")
    relabelled = {**next(r for r in hard if r["value"]["text"] == "traitor"), "id": "t"}
    relabelled["value"] = {**relabelled["value"], "labels": ["Loaded_Language"]}
    added = region(HARD, "pushed a disastrous plan.\r\nEvery patriot", "Exaggeration,"
                   "Minimisation", "n1")
    after_emoji = region(HARD, "𝒳 better", "Doubt", "n2")
    unknown = region(HARD, "lie", "Propaganda", "n3")
    wrong = {**region(HARD, "experts", "Doubt", "n4")}
    wrong["value"] = {**wrong["value"], "start": wrong["value"]["start"] + 3}
    annotations = {
        "hard": {"result": [kept, relabelled, added, after_emoji, unknown, wrong]},
        "plain": {"result": [region(PLAIN, "Radical ideas", "Slogans", "p")]},
        "skipped": {"result": [], "was_cancelled": True},
    }
    ann_path, export_path = tmp_path / "annotations.json", tmp_path / "export.json"
    ann_path.write_text(json.dumps(annotations, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run([str(VENV / "bin" / "python"), str(DRIVER), url, token,
                           str(config_path), str(tasks_path), str(ann_path), str(export_path)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    exported = json.loads(export_path.read_text(encoding="utf-8"))
    assert len(exported) == 4
    assert next(t for t in exported if t["data"]["id"] == "hard")["data"]["text"] == HARD

    out = tmp_path / "reviewed"
    code, _, err = run(capsys, "import", "label-studio", str(export_path), "--out", str(out))
    assert code == 0, err
    assert "unknown label 'Propaganda'" in err and "do not match the text" in err
    assert "no annotation (not reviewed, or skipped)" in err  # the cancelled one
    assert "empty task (no text)" in err
    assert "2 articles, 5 spans; skipped 4" in err

    corpus = load_labelled(out, out / LABELS_FILE)  # what train --extra-* reads
    assert {a: x.text for a, x in corpus.articles.items()} == {"hard": HARD, "plain": PLAIN}
    assert (out / "articlehard.txt").read_bytes() == HARD.encode()  # CRLF kept
    assert corpus.gold["hard"] == sorted([
        Span(*at(HARD, "so-called"), "Name_Calling,Labeling"),
        Span(*at(HARD, "traitor"), "Loaded_Language"),
        Span(*at(HARD, "pushed a disastrous plan.\r\nEvery patriot"),
             "Exaggeration,Minimisation"),
        Span(*at(HARD, "𝒳 better"), "Doubt")])
    assert corpus.gold["plain"] == [Span(*at(PLAIN, "Radical ideas"), "Slogans")]
    assert all(s.technique in TECHNIQUE_NAMES for v in corpus.gold.values() for s in v)
    check_labels(read_labels(out / LABELS_FILE), corpus.articles)

    # evaluate scores predictions against the reviewed labels
    pred = tmp_path / "pred.tsv"
    code, _, err = run(capsys, "predict", str(out), "--out", str(pred), "--model", "keywords")
    assert code == 0, err
    code, stdout, err = run(capsys, "evaluate", str(pred), str(out / LABELS_FILE),
                            "--articles", str(out), "--measure", "flc", "--json")
    assert code == 0, err
    assert 0 < json.loads(stdout)["f1"] < 1


CHROMIUM = "/usr/bin/chromium"
#: what the editor test selects with the mouse: after the emoji, after a CRLF, at a line end
SELECT = ("outrageous", "𝒳 better", "plan.")


@pytest.mark.slow
def test_the_editor_counts_offsets_as_propscope_does(capsys, tmp_path, label_studio):
    """How Label Studio's own editor counts offsets (code points? UTF-16 units? CRLF?):
    a reviewer selects words with the mouse in a real browser, and the exported offsets
    must be Python string indices of the text as imported."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the browser tests: playwright or chromium is missing")
        pytest.skip("playwright or chromium is not installed")
    url, token, _ = label_studio
    api = httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=60)
    project = api.post("/api/projects", json={"title": "editor offsets",
                                              "label_config": labeling_config()}).json()
    api.post(f"/api/projects/{project['id']}/import",
             json=[{"data": {"text": HARD, "id": "hard"}}]).raise_for_status()
    (task_id,) = [t["id"] for t in api.get("/api/tasks", params={"project": project["id"]})
                  .json()["tasks"]]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/user/login/")
        page.fill("input[name=email]", "reviewer@example.com")
        page.fill("input[name=password]", "round-trip-1")
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.goto(f"{url}/projects/{project['id']}/data?task={task_id}")
        page.get_by_text("Loaded_Language", exact=True).first.wait_for(timeout=60_000)
        for words in SELECT:
            page.get_by_text("Loaded_Language", exact=True).first.click()
            drag_over(page, words)
        page.get_by_role("button", name="Submit").click()
        deadline = time.monotonic() + 30
        while True:  # the export lists annotated tasks only: none until the submit lands
            exported = api.get(f"/api/projects/{project['id']}/export",
                               params={"exportType": "JSON"}).json()
            if exported:
                break
            assert time.monotonic() < deadline, "the annotation was not saved"
            time.sleep(0.5)
        browser.close()
    got = import_export(exported)
    assert got.skipped == [] and got.articles["hard"].text == HARD
    assert got.labels["hard"] == sorted(Span(*at(HARD, w), "Loaded_Language") for w in SELECT)
    regions = exported[0]["annotations"][0]["result"]
    assert sorted((r["value"]["start"], r["value"]["end"]) for r in regions) == sorted(
        at(HARD, w) for w in SELECT)  # as exported: no conversion was needed


def drag_over(page, words: str) -> None:
    """Select ``words`` in the editor's text with the mouse."""
    box = page.evaluate("""(words) => {
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const i = n.textContent.indexOf(words);
        if (i >= 0 && n.parentElement.closest('[class*=richtext]')) {
          const r = document.createRange();
          r.setStart(n, i);
          r.setEnd(n, i + words.length);
          const b = r.getBoundingClientRect();
          return {x: b.left, y: b.top, w: b.width, h: b.height};
        }
      }
      return null;
    }""", words)
    assert box, f"{words!r} is not in the editor"
    y = box["y"] + box["h"] / 2
    page.mouse.move(box["x"] + 0.5, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["w"] - 0.5, y, steps=8)
    page.mouse.up()
    page.wait_for_timeout(300)
