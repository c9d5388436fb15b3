"""Helpers shared by the features' forms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, abort, flash, request
from wtforms import Form
from wtforms.fields.choices import SelectChoice

#: Larger numbers name no row (and would overflow the database's integer).
MAX_ID = 2**31 - 1


def refuse_oversized_ids(bp: Blueprint) -> None:
    """Answer 404 for a URL whose id is too large to be a row's (instead of a database error)."""

    @bp.url_value_preprocessor
    def _ids_in_range(_endpoint: str | None, values: dict | None) -> None:
        if values and any(isinstance(v, int) and v > MAX_ID for v in values.values()):
            abort(404)


def row_id(value: str | None) -> int | None:
    """The number in the text if a row id could be it; None otherwise."""
    value = value or ""
    # str.isdigit() also accepts "²", which int() refuses.
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
        return None
    return int(value)


def posted(form: Form) -> bool:
    """Whether the form was posted and not refused as a whole (an expired CSRF token); its
    fields' errors are left for the service to report along with its own."""
    if request.method != "POST":
        return False
    form.validate()
    return "csrf_token" not in form.errors


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
