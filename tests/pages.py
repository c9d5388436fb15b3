"""Helpers for comparing rendered pages."""

from __future__ import annotations

import re

_CSRF_VALUE = re.compile(r'(name="csrf_token" value=")[^"]*(")')


def without_tokens(body: str | bytes) -> str:
    """The page with its CSRF tokens blanked: they embed a timestamp, so two renderings a
    second apart differ there and only there."""
    text = body.decode() if isinstance(body, bytes) else body
    return _CSRF_VALUE.sub(r"\1\2", text)
