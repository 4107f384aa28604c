"""Chat routes (filled in by the chat issue)."""

from __future__ import annotations

from aiohttp import web


def add_routes(app: web.Application) -> None:
    """Mount the chat page, its websocket and the Rasa REST endpoint on the app."""
