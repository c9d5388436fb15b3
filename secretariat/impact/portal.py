"""The funder portal (being written)."""

from __future__ import annotations

from flask import Blueprint

from secretariat.permissions import Permission, requires

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.route("/")
@requires(Permission.VIEW_FUNDED_PROGRAMMES)
def index():  # type: ignore[no-untyped-def]
    return ""
