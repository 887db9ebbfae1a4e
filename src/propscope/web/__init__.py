"""The web app and REST API (``propscope serve``); needs the ``web`` extra."""

from .app import Settings, create_app

__all__ = ["Settings", "create_app"]
