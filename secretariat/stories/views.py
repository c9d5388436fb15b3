"""Pages of stories (being written)."""

from __future__ import annotations

from flask import Blueprint

from secretariat.permissions import Permission, requires

bp = Blueprint("stories", __name__, url_prefix="/stories")


@bp.route("/")
@requires(Permission.VIEW_STORIES)
def index():  # type: ignore[no-untyped-def]
    return ""
