"""Commitment pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("commitments", __name__, url_prefix="/commitments")
