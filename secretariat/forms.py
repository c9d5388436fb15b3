"""Helpers shared by the features' forms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import flash
from wtforms import Form
from wtforms.fields.choices import SelectChoice


def options(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """Turn (value, label) pairs into select options."""
    return [SelectChoice(value=str(value), label=label) for value, label in pairs]


def show_errors(form: Form, errors: dict[str, str]) -> None:
    """Put a service's refusals next to their fields; the others become flashed messages."""
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is None or not hasattr(field, "errors"):
            flash(message, "error")
        else:
            field.errors = [*field.errors, message]


def flash_errors(errors: dict[str, str]) -> None:
    """Show a service's refusals as messages, for actions that have no form of their own."""
    for message in errors.values():
        flash(message, "error")
