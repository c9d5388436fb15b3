"""Staff pages of impact reports (being written)."""

from __future__ import annotations

from flask import Blueprint

from secretariat.permissions import Permission, requires

bp = Blueprint("impact", __name__, url_prefix="/impact")


@bp.route("/")
@requires(Permission.MANAGE_IMPACT_REPORTS)
def index():  # type: ignore[no-untyped-def]
    return ""
