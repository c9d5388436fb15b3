"""Pages of funding (being written)."""

from __future__ import annotations

from flask import Blueprint

from secretariat.permissions import Permission, requires

bp = Blueprint("funding", __name__, url_prefix="/funding")


@bp.route("/")
@requires(Permission.MANAGE_FUNDING)
def index():  # type: ignore[no-untyped-def]
    return ""
