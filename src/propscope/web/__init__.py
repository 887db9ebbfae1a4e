"""The web app and REST API (``propscope serve``); needs the ``web`` extra."""

from .app import WebSettings, create_app

__all__ = ["WebSettings", "create_app"]
