"""Fetching articles from URLs: a real HTTP server on 127.0.0.1 only, and the SSRF guard.

No test sends traffic off this machine: ``no_outside_connections`` makes any connection to
an address outside 127.0.0.0/8 and ::1 fail the test, and names that should resolve to
other addresses are answered by a patched ``getaddrinfo`` (the guard refuses them before
connecting, which is what is tested)."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from propscope import fetch
from propscope.cli.main import main
from propscope.fetch import FetchError, URLRefused, check_url, fetch_article, is_public

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<title>Experts push disastrous plan | The Daily Example</title>
<meta property="og:title" content="Experts push disastrous plan">
<meta property="og:site_name" content="The Daily Example">
<meta name="date" content="2024-03-05">
</head><body><nav>Home | World | Sport</nav><article><h1>Experts push disastrous plan</h1>
<p>The so-called experts pushed a disastrous plan on Tuesday, and every patriot knows
better than to trust them with anything that matters to this country.</p>
<p>Officials said the plan would be reviewed next month by the committee in charge of the
budget, which meets in the capital and publishes its minutes — café notes included.</p>
</article><footer>Copyright 2024</footer></body></html>"""


class Handler(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []  # (path, user agent) of every request served

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: N802
        type(self).seen.append((self.path, self.headers.get("User-Agent", "")))
        routes = {
            "/page": lambda: self._send(200, PAGE.encode(), "text/html; charset=utf-8"),
            "/plain": lambda: self._send(200, "Plain café text.\n".encode(), "text/plain"),
            "/big": lambda: self._send(200, b"<p>" + b"x" * 50_000 + b"</p>", "text/html"),
            "/big-chunked": self._chunked,
            "/slow": self._slow,
            "/trickle": self._trickle,
            "/binary": lambda: self._send(200, b"\x89PNG\r\n", "image/png"),
            "/missing": lambda: self._send(404, b"no", "text/plain"),
            "/to-page": lambda: self._redirect("/page"),
            "/to-private": lambda: self._redirect("http://10.1.2.3/secret"),
            "/to-loopback": lambda: self._redirect(f"http://127.0.0.1:{self.server.server_port}"
                                                   "/page"),
            "/loop": lambda: self._redirect("/loop"),
            "/caf%C3%A9?q=%C3%A9": lambda: self._send(200, b"Accents.", "text/plain"),
        }
        routes.get(self.path, lambda: self._send(404, b"", "text/plain"))()

    def _send(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, where):
        self.send_response(302)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _chunked(self):  # no Content-Length: the limit must hold while reading
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for _ in range(20):
            chunk = b"<p>" + b"y" * 5000 + b"</p>"
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def _trickle(self):  # headers a byte at a time: each read is quick, the whole is not
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(40):
            self.wfile.write(b"X")
            self.wfile.flush()
            time.sleep(0.1)
        self.wfile.write(b": y\r\nContent-Length: 0\r\n\r\n")

    def _slow(self):
        time.sleep(3)
        self._send(200, PAGE.encode(), "text/html")


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client that timed out and left
        pass


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def no_outside_connections(monkeypatch):
    """Fail on any connection attempt to an address off this machine; count connections."""
    made: list[str] = []
    real = fetch._connect

    def guarded(ip, port, timeout):
        made.append(ip)
        assert ipaddress.ip_address(ip).is_loopback, f"tried to connect to {ip}"
        return real(ip, port, timeout)

    monkeypatch.setattr(fetch, "_connect", guarded)
    Handler.seen.clear()
    return made


def fake_dns(monkeypatch, table: dict[str, list[str]]):
    """Names in ``table`` resolve to its addresses; others as usual."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in table:
            return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6,
                     "", (a, port)) for a in table[host]]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(fetch.socket, "getaddrinfo", getaddrinfo)


# ------------------------------------------------------------------ the page and its metadata


def test_fetches_a_page_with_its_metadata(server):
    art = fetch_article(f"{server}/page", allow_private=True)
    assert art.id == f"{server}/page"
    assert "so-called experts pushed a disastrous plan" in art.text
    assert "café notes" in art.text  # decoded as UTF-8
    assert "Home | World" not in art.text  # navigation is not article text
    assert art.title == "Experts push disastrous plan"
    assert art.date == "2024-03-05"
    assert art.source == "The Daily Example"
    assert art.url == f"{server}/page"
    path, agent = Handler.seen[-1]
    assert path == "/page" and agent.startswith("propscope/") and "propscope" in agent


def test_non_ascii_paths_and_host_names(server, monkeypatch):
    assert fetch_article(f"{server}/café?q=é", allow_private=True).text == "Accents."
    port = int(server.rsplit(":", 1)[1])
    fake_dns(monkeypatch, {"xn--bcher-kva.example": ["127.0.0.1"]})  # bücher.example
    assert fetch_article(f"http://bücher.example:{port}/plain", allow_private=True).text \
        == "Plain café text.\n"
    with pytest.raises(URLRefused, match="not a valid host name"):
        fetch_article("http://a..b/", allow_private=True)


def test_plain_text_pages_and_redirects_on_loopback(server):
    assert fetch_article(f"{server}/plain", allow_private=True).text == "Plain café text.\n"
    art = fetch_article(f"{server}/to-page", allow_private=True)
    assert art.url == f"{server}/page" and art.title == "Experts push disastrous plan"


@pytest.mark.parametrize("path, message", [
    ("/big", "too large"),
    ("/big-chunked", "too large"),
    ("/binary", "not a web page (content type image/png)"),
    ("/missing", "HTTP 404"),
    ("/loop", "more than 5 redirects"),
])
def test_bad_pages_are_one_line_errors(server, path, message):
    with pytest.raises(FetchError) as err:
        fetch_article(server + path, allow_private=True, max_bytes=40_000)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("path", ["/slow", "/trickle"])
def test_timeout_bounds_the_whole_fetch(server, path):
    start = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        fetch_article(server + path, allow_private=True, timeout=1.0)
    assert time.monotonic() - start < 2.5


# ------------------------------------------------------------------ SSRF


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{port}/page", "http://localhost:{port}/page", "http://[::1]:{port}/page",
    "http://[::ffff:127.0.0.1]:{port}/page", "http://0.0.0.0:{port}/page",
    "http://127.1:{port}/page", "http://2130706433:{port}/page",
])
def test_loopback_is_refused_before_connecting(server, no_outside_connections, url):
    port = server.rsplit(":", 1)[1]
    with pytest.raises(URLRefused, match="non-public address"):
        fetch_article(url.format(port=port))
    assert no_outside_connections == [] and Handler.seen == []


@pytest.mark.parametrize("address", [
    "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "100.64.0.1", "fd00::1",
    "fe80::1", "224.0.0.1", "::ffff:10.0.0.1", "2002:a00:1::", "64:ff9b::a00:1",
])
def test_names_resolving_to_private_addresses_are_refused(monkeypatch, no_outside_connections,
                                                          address):
    fake_dns(monkeypatch, {"intranet.example": [address]})
    with pytest.raises(URLRefused, match=f"resolves to the non-public address {address}"):
        fetch_article("http://intranet.example/admin")
    assert no_outside_connections == []


def test_one_private_address_among_public_ones_is_refused(monkeypatch, no_outside_connections):
    fake_dns(monkeypatch, {"mixed.example": ["93.184.215.14", "10.0.0.7"]})
    with pytest.raises(URLRefused, match="10.0.0.7"):
        check_url("https://mixed.example/")
    assert no_outside_connections == []


def test_connects_to_the_address_it_checked(monkeypatch, server):
    """The name is resolved once: the connection goes to the checked address (a second
    lookup, as in DNS rebinding, cannot swap in another), with the name in Host."""
    port = int(server.rsplit(":", 1)[1])
    lookups = []

    def getaddrinfo(host, p, *args, **kwargs):
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", p))]

    monkeypatch.setattr(fetch.socket, "getaddrinfo", getaddrinfo)
    art = fetch_article(f"http://news.example:{port}/page", allow_private=True)
    assert art.title == "Experts push disastrous plan" and lookups == ["news.example"]


def test_a_redirect_to_a_private_address_is_refused(monkeypatch, server,
                                                    no_outside_connections):
    """A public page redirecting inwards: the redirect target is checked before it is
    followed. (The 'public' address is served by the local server: ``_connect`` maps it.)"""
    port = int(server.rsplit(":", 1)[1])
    fake_dns(monkeypatch, {"public.example": ["93.184.215.14"]})
    guarded = fetch._connect

    def to_local(ip, p, timeout):
        return guarded("127.0.0.1" if ip == "93.184.215.14" else ip, p, timeout)

    monkeypatch.setattr(fetch, "_connect", to_local)
    for path, refused in (("/to-private", "10.1.2.3"), ("/to-loopback", "127.0.0.1")):
        with pytest.raises(URLRefused, match=refused):
            fetch_article(f"http://public.example:{port}{path}")
    assert [p for p, _ in Handler.seen] == ["/to-private", "/to-loopback"]
    assert no_outside_connections == ["127.0.0.1", "127.0.0.1"]


@pytest.mark.parametrize("url, message", [
    ("file:///etc/passwd", "only http and https"), ("ftp://example.com/a", "only http and https"),
    ("gopher://127.0.0.1:70/", "only http and https"), ("http:///nohost", "names no host"),
    ("http://example.com:99999/", "not a valid URL"),
])
def test_other_schemes_and_bad_urls_are_refused(no_outside_connections, url, message):
    with pytest.raises(URLRefused, match=message):
        fetch_article(url, allow_private=True)
    assert no_outside_connections == []


def test_a_slow_resolver_is_bounded_by_the_timeout(monkeypatch):
    def getaddrinfo(*args, **kwargs):
        time.sleep(3)
        return []

    monkeypatch.setattr(fetch.socket, "getaddrinfo", getaddrinfo)
    start = time.monotonic()
    with pytest.raises(FetchError, match="timed out resolving host 'slow.example'"):
        fetch_article("http://slow.example/", timeout=0.5)
    assert time.monotonic() - start < 1.5


def test_is_public():
    assert is_public("93.184.215.14") and is_public("2001:4860:4860::8888")
    assert not any(map(is_public, ["127.0.0.1", "10.0.0.1", "::1", "::", "fe80::1%eth0"]))


# ------------------------------------------------------------------ the faces


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_analyzes_a_url_with_allow_private(capsys, server):
    code, out, err = run_cli(capsys, "analyze", f"{server}/page", "--allow-private",
                             "--format", "json", "--model", "keywords")
    assert code == 0, err
    result = json.loads(out)
    art = result["article"]
    assert art["title"] == "Experts push disastrous plan" and art["date"] == "2024-03-05"
    assert art["source"] == "The Daily Example" and art["url"] == f"{server}/page"
    assert {s["technique"] for s in result["spans"]}  # the keyword model found something
    for s in result["spans"]:
        assert art["text"][s["start"]:s["end"]] == s["text"]


def test_cli_refuses_loopback_without_allow_private(capsys, server, tmp_path):
    local = tmp_path / "a.txt"
    local.write_text("Every patriot knows the so-called experts are wrong.")
    code, out, err = run_cli(capsys, "analyze", f"{server}/page", str(local),
                             "--format", "json", "--model", "keywords")
    assert code == 1 and Handler.seen == []
    assert "non-public address 127.0.0.1" in err and "--allow-private" in err
    assert "Traceback" not in err
    records = json.loads(out)
    assert "error" in records[0] and records[1]["article"]["id"] == "a"


def test_web_api_url_field(server, tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from propscope.web import WebSettings, create_app

    app = create_app(WebSettings(model="keywords", db=str(tmp_path / "a.sqlite3")))
    client = TestClient(app)
    refused = client.post("/api/v1/analyze", json={"url": f"{server}/page"})
    assert refused.status_code == 422 and refused.json()["code"] == "url_refused"
    assert Handler.seen == []
    bad = client.post("/api/v1/analyze", json={"url": "ftp://example.com/x"})
    assert bad.status_code == 422
    both = client.post("/api/v1/analyze", json={"url": f"{server}/page", "text": "x"})
    assert both.status_code == 422
    app.state.analyser.allow_private = True  # as `propscope serve --allow-private` sets it
    ok = client.post("/api/v1/analyze", json={"url": f"{server}/page"})
    assert ok.status_code == 200, ok.text
    art = ok.json()["article"]
    assert art["title"] == "Experts push disastrous plan" and art["date"] == "2024-03-05"
    assert art["source"] == "The Daily Example" and "disastrous plan" in art["text"]
    batch = client.post("/api/v1/analyze/batch", json={"articles": [
        {"url": f"{server}/page", "save": False}, {"url": f"{server}/missing"}]})
    first, second = batch.json()["results"]
    assert first["article"]["title"] == "Experts push disastrous plan"
    assert second["error"]["code"] == "fetch_failed" and "404" in second["error"]["message"]


def test_page_web_address_field_in_a_real_browser(server, tmp_path):
    """The page's web-address field: a real server (``serve --allow-private``) fetches the
    local page, and the result shows its title; a bad address gets a one-line message."""
    from pathlib import Path

    from .conftest import start_server, stop_server

    chromium = "/usr/bin/chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not Path(chromium).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the browser tests: playwright or chromium is missing")
        pytest.skip("playwright or chromium is not installed")
    proc, base, log = start_server(["--model", "keywords", "--allow-private", "--db",
                                    str(tmp_path / "a.sqlite3"), "--log-level", "warning"],
                                   tmp_path / "server.log")
    try:
        wait_for(f"{base}/healthz", proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium,
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(f"{base}/")
            page.wait_for_selector("body[data-ready=true]")
            page.fill("#url", f"{server}/page")
            page.click("#analyse")
            page.wait_for_selector("#result:not([hidden])", timeout=20_000)
            assert page.inner_text("#article-title") == "Experts push disastrous plan"
            assert "disastrous" in page.inner_text("#article")
            page.fill("#url", "ftp://example.com/x")
            page.click("#analyse")
            # a selector wait, not wait_for_function: the page's CSP forbids string evaluation
            page.locator("#status", has_text="http or https").wait_for(timeout=10_000)
            browser.close()
    finally:
        stop_server(proc, log)
    assert [p for p, _ in Handler.seen] == ["/page"]


def wait_for(url: str, proc, seconds: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if json.load(r)["status"] == "ok":
                    return
        except OSError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.1)
