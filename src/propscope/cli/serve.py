"""``propscope serve``: the web page and REST API on uvicorn (needs the ``web`` extra)."""

from __future__ import annotations

import argparse
import sys

from ..errors import PropscopeError
from .common import add_model_argument

NAME = "serve"
HELP = "run the web app and REST API (paste an article, see its techniques)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; use a reverse proxy for "
                        "public access)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    add_model_argument(p)
    p.add_argument("--db", default="propscope.sqlite3",
                   help="SQLite file of saved analyses, created on first use "
                        "(default ./propscope.sqlite3)")
    p.add_argument("--max-bytes", type=int, default=1024 * 1024,
                   help="largest request body accepted, in bytes (default 1 MiB)")
    p.add_argument("--workers", type=int, default=1,
                   help="analyses run at once (default 1: the model already uses every core)")
    p.add_argument("--queue", type=int, default=8,
                   help="analyses that may wait for a worker; beyond that, 429 (default 8)")
    p.add_argument("--max-batch", type=int, default=16,
                   help="articles in one batch request (default 16)")
    p.add_argument("--root-path", default="",
                   help="URL prefix when served by a reverse proxy under a sub-path, "
                        "e.g. /propscope")
    p.add_argument("--log-level", default="info",
                   choices=("critical", "error", "warning", "info", "debug"))


def run(args: argparse.Namespace) -> int:
    for name in ("workers", "max_batch", "max_bytes"):
        if getattr(args, name) < 1:
            raise PropscopeError(f"--{name.replace('_', '-')} must be at least 1")
    if args.queue < 0:
        raise PropscopeError("--queue must be 0 or more")
    try:
        import uvicorn

        from ..web import Settings, create_app
    except ImportError as e:
        raise PropscopeError(f"the web app needs the 'web' extra ({e}); "
                             "install it with: pip install 'propscope[web]'") from None
    settings = Settings(model=args.model, db=args.db, max_bytes=args.max_bytes,
                        workers=args.workers, queue_size=args.queue, max_batch=args.max_batch)
    app = create_app(settings)
    if app.state.model_error:
        print(f"propscope: warning: the model could not be loaded ({app.state.model_error}); "
              "analyses will answer 503", file=sys.stderr)
    prefix = f", public prefix {args.root_path}" if args.root_path else ""
    print(f"propscope: serving on http://{args.host}:{args.port}/{prefix} "
          f"(saved analyses in {args.db})", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, root_path=args.root_path,
                log_level=args.log_level, proxy_headers=True, server_header=False)
    return 0
