"""Indicator pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("indicators", __name__, url_prefix="/indicators")
