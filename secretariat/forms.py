"""Helpers shared by the features' forms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wtforms.fields.choices import SelectChoice


def options(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """Turn (value, label) pairs into select options."""
    return [SelectChoice(value=str(value), label=label) for value, label in pairs]
