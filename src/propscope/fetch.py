"""Fetching an article from a URL (``propscope analyze https://...``, the web API's ``url``).

Safe by default for a server (no SSRF): only ``http``/``https``; the host name is resolved
once and *every* address it resolves to must be public (not private, loopback, link-local,
shared, reserved, multicast or unspecified, also when an IPv4 address hides inside an IPv6
one) unless ``allow_private``; the connection then goes to the checked address itself, so a
second lookup cannot swap in another one (DNS rebinding). Redirects (at most
``MAX_REDIRECTS``) are checked the same way before they are followed. A total deadline, a
size limit, HTML (or plain text) only, and a user agent naming the tool. No proxy from the
environment is used. The page's main text comes from trafilatura, as for ``.html`` files;
its title, date and site name become the article's metadata.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from . import __version__
from .errors import InputError, describe
from .inputs import is_blank
from .spans import Article

#: Seconds a whole fetch (every redirect, the whole body) may take.
TIMEOUT_S = 20.0
#: Bytes a page may have (the body as sent; it is never decompressed).
MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = f"propscope/{__version__} (propaganda technique analyser; article fetcher)"
SCHEMES = ("http", "https")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FetchError(InputError):
    """A page that could not be fetched (network, HTTP status, size, type, time)."""

    code = "fetch_failed"


class URLRefused(InputError):
    """A URL that is not fetched at all: another scheme, or a private/loopback address."""

    code = "url_refused"


def looks_like_url(text: str) -> bool:
    """Whether a command-line input is a URL (``scheme://...``) rather than a path."""
    return bool(_URL_LIKE.match(text))


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    """Whether an IP address is a public unicast one (what a server may fetch from)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and (v4 := _embedded_v4(ip)) is not None:
        ip = v4
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``ip``) and what to ask for."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    ip: str


def _resolve(host: str, port: int, timeout: float = TIMEOUT_S) -> list[str]:
    """Every address of ``host``, looked up in a thread so that a slow resolver cannot
    hold the fetch past ``timeout``."""
    found: list[Any] = []

    def lookup() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError) as e:
            found.append(e)

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(timeout)
    if not found:
        raise FetchError(f"timed out resolving host {host!r}", where=host)
    if isinstance(found[0], BaseException):
        e = found[0]
        raise FetchError(f"cannot resolve host {host!r} ({getattr(e, 'strerror', None) or e})",
                         where=host)
    return list(dict.fromkeys(str(info[4][0]) for info in found[0]))


def check_url(url: str, allow_private: bool = False, timeout: float = TIMEOUT_S) -> Target:
    """Parse, resolve and check ``url``; raise ``URLRefused`` before any connection."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as e:
        raise URLRefused(f"not a valid URL ({e})", where=url) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise URLRefused(f"only http and https URLs are fetched, not {scheme or 'this'!r}",
                         where=url)
    host = parts.hostname
    if not host:
        raise URLRefused("the URL names no host", where=url)
    try:  # an international name travels as its ASCII (IDNA) form
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise URLRefused(f"not a valid host name {host!r}", where=url) from None
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port, timeout)
    if not addresses:
        raise FetchError(f"host {host!r} has no address", where=url)
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise URLRefused(
                    f"refused: {host} resolves to the non-public address {address} "
                    "(private, loopback, link-local or reserved; --allow-private permits it)",
                    where=url)
    path = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                 safe="/?&=%:@!$'()*+,;~[]")  # non-ASCII characters percent-encoded
    return Target(url, scheme, host, port, path, addresses[0])


def _connect(ip: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to an address already checked, with no name lookup (tests replace
    this)."""
    sock = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((ip, port))
    except BaseException:
        sock.close()
        raise
    return sock


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP(S) to a checked address; ``Host``, SNI and the certificate use the name."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.target = target

    def connect(self) -> None:
        sock = _connect(self.target.ip, self.target.port, float(self.timeout or TIMEOUT_S))
        if self.target.scheme == "https":
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=self.target.host)
        self.sock = sock


@dataclass
class Page:
    url: str  # after redirects
    body: bytes
    content_type: str
    charset: str | None


def _left(deadline: float, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError("timed out", where=url)
    return left


def _read_body(resp: http.client.HTTPResponse, url: str, max_bytes: int,
               deadline: float) -> bytes:
    length = resp.getheader("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise FetchError(f"page too large ({int(length):,} bytes; the limit is "
                         f"{max_bytes:,})", where=url)
    chunks, size = [], 0
    while chunk := resp.read1(65536):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"page too large (more than {max_bytes:,} bytes)", where=url)
        chunks.append(chunk)
        _left(deadline, url)
    return b"".join(chunks)


def _get(target: Target, deadline: float, max_bytes: int) -> tuple[int, str | None, Page]:
    """One request: ``(status, Location, page)``. Each socket operation waits at most the
    time left, and a watchdog cuts the connection at the deadline (a server sending its
    headers a byte at a time cannot hold it longer)."""
    left = _left(deadline, target.url)
    conn = _PinnedConnection(target, timeout=left)
    watchdog = threading.Timer(left, _cut, (conn,))
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("GET", target.path, headers={
            "User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml,text/plain",
            "Accept-Encoding": "identity", "Connection": "close"})
        resp = conn.getresponse()
        _left(deadline, target.url)  # the watchdog's cut reads as the end of the headers
        if resp.status in (301, 302, 303, 307, 308):
            return resp.status, resp.getheader("Location"), Page(target.url, b"", "", None)
        ctype = resp.getheader("Content-Type") or ""
        body = _read_body(resp, target.url, max_bytes, deadline) if resp.status == 200 else b""
        _left(deadline, target.url)  # ... or of the body
        media = ctype.split(";")[0].strip().lower()
        charset = resp.msg.get_content_charset()
        return resp.status, None, Page(target.url, body, media, charset)
    finally:
        watchdog.cancel()
        conn.close()


def _cut(conn: http.client.HTTPConnection) -> None:
    if conn.sock is not None:
        try:
            conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def fetch_page(url: str, allow_private: bool = False, timeout: float = TIMEOUT_S,
               max_bytes: int = MAX_BYTES) -> Page:
    """The body of ``url`` (following checked redirects), or a one-line error."""
    deadline = time.monotonic() + timeout
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        target = check_url(current, allow_private, _left(deadline, url))
        try:
            status, location, page = _get(target, deadline, max_bytes)
        except (OSError, http.client.HTTPException) as e:
            if isinstance(e, TimeoutError) or time.monotonic() >= deadline:
                raise FetchError("timed out", where=url) from None
            if isinstance(e, ssl.SSLError):
                raise FetchError(f"TLS failed ({e.reason or e})", where=url) from None
            reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
            raise FetchError(f"cannot fetch ({reason})", where=url) from None
        if location is not None:
            current = urljoin(current, location)
            continue
        if status != 200:
            raise FetchError(f"the server answered HTTP {status}", where=url)
        if page.content_type not in (*_HTML_TYPES, "text/plain"):
            raise FetchError(f"not a web page (content type {page.content_type or 'none'})",
                             where=url)
        return page
    raise FetchError(f"more than {MAX_REDIRECTS} redirects", where=url)


def _decode(page: Page) -> str:
    if page.charset:
        try:
            return page.body.decode(page.charset, errors="replace")
        except LookupError:
            pass
    from trafilatura.utils import decode_file

    return str(decode_file(page.body))


def page_article(page: Page, aid: str) -> Article:
    """The article of a fetched page: main text, title, date, site (``Article``)."""
    import trafilatura

    text = _decode(page)
    if page.content_type == "text/plain":
        if is_blank(text):
            raise InputError("the page is empty", where=page.url)
        return Article(id=aid, text=text, url=page.url, meta={"fetched": page.url})
    try:
        body = trafilatura.extract(text, url=page.url, include_comments=False,
                                   include_tables=False, favor_recall=True)
        meta = trafilatura.extract_metadata(text, default_url=page.url)
    except Exception as e:  # a page trafilatura cannot parse is this input's problem only
        raise InputError(f"cannot extract text from this page ({type(e).__name__})",
                         where=page.url) from None
    if not body or is_blank(body):
        raise InputError("no article text found on this page", where=page.url)
    return Article(id=aid, text=body, url=page.url,
                   title=(meta.title or None) if meta else None,
                   date=(meta.date or None) if meta else None,
                   source=(meta.sitename or meta.hostname or None) if meta else None,
                   meta={"extracted_from": "html", "fetched": page.url})


def fetch_article(url: str, allow_private: bool = False, timeout: float = TIMEOUT_S,
                  max_bytes: int = MAX_BYTES, aid: str | None = None) -> Article:
    """The article at ``url`` (id: the URL as given), or a one-line ``InputError`` (also
    for a failure nobody foresaw: one URL never stops the other inputs)."""
    try:
        return page_article(fetch_page(url, allow_private, timeout, max_bytes), aid or url)
    except InputError:
        raise
    except Exception as e:
        raise FetchError(f"cannot fetch ({describe(e)})", where=url) from None
