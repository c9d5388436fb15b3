"""Cleaning of text typed by users, shared by the features' services."""

from __future__ import annotations

import unicodedata

#: Whitespace controls that cleaning turns into spaces or line breaks; the zero-width joiner
#: belongs inside emoji and some scripts' words.
_HARMLESS = frozenset("\t\n\r\u200d")


def has_control_characters(value: str | None) -> bool:
    """Whether the text holds control or invisible format characters (bidi overrides, NUL...)."""
    return any(
        unicodedata.category(ch) in ("Cc", "Cf") and ch not in _HARMLESS for ch in value or ""
    )


def single_line(value: str | None) -> str:
    """Trim the text and collapse its runs of spaces; tabs and line breaks become spaces."""
    return " ".join(unicodedata.normalize("NFC", value or "").split())


def paragraphs(value: str | None) -> str | None:
    """Trim multi-line text and unify its line breaks; None when nothing is left."""
    if value is None:
        return None
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None
