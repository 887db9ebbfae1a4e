"""``propscope serve``: the web page and REST API on uvicorn (needs the ``web`` extra).

Every argument error is one line: numbers are checked by argparse, ``--db`` is checked
(read only) before anything starts, and the listening
socket is opened here (not by uvicorn), so a port in use or an unknown host is a
``PropscopeError`` rather than a traceback or a log line and ``exit 1``.
"""

from __future__ import annotations

import argparse
import socket
import sys

from ..errors import PropscopeError
from .common import add_model_argument, at_least, non_empty


def port_number(text: str) -> int:
    """argparse type: a TCP port, 1 to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, got {value}")
    return value


def seconds(text: str) -> float:
    """argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


NAME = "serve"
HELP = "run the web app and REST API (paste an article, see its techniques)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", type=non_empty,
                   help="address to listen on (default 127.0.0.1; use a reverse proxy for "
                        "public access)")
    p.add_argument("--port", type=port_number, default=8000, help="port (default 8000)")
    add_model_argument(p)
    p.add_argument("--db", default="propscope.sqlite3", type=non_empty,
                   help="SQLite file of saved analyses, created on first use "
                        "(default ./propscope.sqlite3); a file holding anything else is "
                        "refused, never changed")
    p.add_argument("--max-bytes", type=at_least(1), default=1024 * 1024,
                   help="largest request body accepted, in bytes (default 1 MiB)")
    p.add_argument("--max-chars", type=at_least(1), default=200_000,
                   help="characters of text in flight, running and waiting, at most; more "
                        "answers 429, and one request longer than this 413 (default 200,000)")
    p.add_argument("--deadline", type=seconds, default=60.0,
                   help="seconds one request may take; then its work stops and it answers "
                        "503 (default 60)")
    p.add_argument("--workers", type=at_least(1), default=1,
                   help="analyses run at once (default 1: the model already uses every core)")
    p.add_argument("--queue", type=at_least(0), default=8,
                   help="analyses that may wait for a worker; beyond that, 429 (default 8)")
    p.add_argument("--max-batch", type=at_least(1), default=16,
                   help="articles in one batch request (default 16)")
    p.add_argument("--root-path", default="",
                   help="URL prefix when served by a reverse proxy under a sub-path, "
                        "e.g. /propscope")
    p.add_argument("--log-level", default="info",
                   choices=("critical", "error", "warning", "info", "debug"),
                   help="uvicorn's log level (default info)")
    p.add_argument("--allow-private", action="store_true",
                   help="let the API's and page's `url` reach private, loopback and "
                        "link-local addresses (refused by default: keep it so on a shared "
                        "server)")


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (uvicorn listens on it), or a one-line error."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
    except (OSError, UnicodeError) as e:
        raise PropscopeError(f"cannot listen on {host}:{port}: {_reason(e)}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as e:
        sock.close()
        raise PropscopeError(f"cannot listen on {host}:{port}: {_reason(e)}") from None
    sock.set_inheritable(True)
    return sock


def _reason(e: BaseException) -> str:
    return getattr(e, "strerror", None) or str(e) or type(e).__name__


def _model_line(model: dict) -> str:
    name = f"{model.get('name', '?')} {model.get('version') or ''}".strip()
    return f"{name}, {model['profile']} profile" if model.get("profile") else name


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..web import WebSettings, create_app
        from ..web.storage import check_database
    except ImportError as e:
        raise PropscopeError(f"the web app needs the 'web' extra ({e}); "
                             "install it with: pip install 'propscope[web]'") from None
    check_database(args.db)  # before anything is created: another application's file is refused
    sock = listen(args.host, args.port)
    settings = WebSettings(model=args.model, db=args.db, max_bytes=args.max_bytes,
                        workers=args.workers, queue_size=args.queue, max_batch=args.max_batch,
                        max_chars=args.max_chars, deadline=args.deadline)
    app = create_app(settings)
    app.state.analyser.allow_private = args.allow_private
    if app.state.model_error:
        print(f"propscope: warning: the model could not be loaded ({app.state.model_error}); "
              "analyses will answer 503", file=sys.stderr)
    prefix = f", public prefix {args.root_path}" if args.root_path else ""
    print(f"propscope: serving on http://{args.host}:{args.port}/{prefix} "
          f"(model {_model_line(app.state.analyser.model)}; saved analyses in {args.db})",
          file=sys.stderr)
    config = uvicorn.Config(app, root_path=args.root_path, log_level=args.log_level,
                            proxy_headers=True, server_header=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0
