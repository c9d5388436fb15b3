"""The submission form of a reporting cycle, for focal points (and staff on their behalf)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("submissions", __name__, url_prefix="/reporting")
