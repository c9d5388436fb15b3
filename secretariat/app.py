"""The application factory: config -> extensions -> blueprints. Never touches the schema."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_interval, format_skeleton
from flask import Flask, current_app, render_template
from flask_babel import (
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from secretariat import db, markdown, permissions
from secretariat.config import load_config
from secretariat.extensions import babel, csrf, login_manager
from secretariat.resources import resource_path


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` overrides settings read from the environment."""
    settings = load_config(config)
    app = Flask(
        "secretariat",
        template_folder=str(resource_path("templates")),
        static_folder=str(resource_path("static")),
        instance_path=settings["INSTANCE_PATH"],
        instance_relative_config=False,
    )
    app.config.update(settings)
    app.jinja_env.add_extension("jinja2.ext.do")
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_error_pages(app)
    _register_template_helpers(app)
    permissions.init_app(app)
    return app


def _select_locale() -> str:
    return current_app.config["DEFAULT_LOCALE"]


def _select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def _init_extensions(app: Flask) -> None:
    csrf.init_app(app)
    babel.init_app(
        app,
        default_locale=app.config["DEFAULT_LOCALE"],
        default_timezone=app.config["TIMEZONE"],
        locale_selector=_select_locale,
        timezone_selector=_select_timezone,
    )
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def _load_user(session_id: str):  # type: ignore[no-untyped-def]
        from secretariat.accounts.services import load_session_user

        return load_session_user(db.get_session(), session_id)


def _register_blueprints(app: Flask) -> None:
    from secretariat.accounts.views import bp as accounts_bp
    from secretariat.accounts.views import users_bp
    from secretariat.agreements.views import bp as agreements_bp
    from secretariat.commitments.views import bp as commitments_bp
    from secretariat.dashboard.views import bp as dashboard_bp
    from secretariat.events.views import bp as events_bp
    from secretariat.exchanges.views import bp as exchanges_bp
    from secretariat.followups.views import bp as followups_bp
    from secretariat.funding.views import bp as funding_bp
    from secretariat.groups.views import bp as groups_bp
    from secretariat.impact.portal import bp as portal_bp
    from secretariat.impact.views import bp as impact_bp
    from secretariat.indicators.views import bp as indicators_bp
    from secretariat.members.views import bp as members_bp
    from secretariat.notifications.views import bp as notifications_bp
    from secretariat.participation.views import bp as participation_bp
    from secretariat.partners.views import bp as partners_bp
    from secretariat.reporting.portal import bp as submissions_bp
    from secretariat.reporting.views import bp as reporting_bp
    from secretariat.stories.views import bp as stories_bp
    from secretariat.vocabularies.views import bp as vocabularies_bp

    for blueprint in (
        accounts_bp,
        users_bp,
        dashboard_bp,
        members_bp,
        groups_bp,
        events_bp,
        exchanges_bp,
        partners_bp,
        agreements_bp,
        followups_bp,
        commitments_bp,
        indicators_bp,
        reporting_bp,
        submissions_bp,
        participation_bp,
        notifications_bp,
        funding_bp,
        stories_bp,
        impact_bp,
        portal_bp,
        vocabularies_bp,
    ):
        app.register_blueprint(blueprint)


def _register_error_pages(app: Flask) -> None:
    titles = {
        400: _l("Bad request"),
        403: _l("Not allowed"),
        404: _l("Page not found"),
        405: _l("Method not allowed"),
        413: _l("File too large"),
        500: _l("Something went wrong"),
    }

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        code = error.code or 500
        if code < 400 or error.response is not None:
            return error
        template = f"errors/{code}.html" if code in (403, 404, 413, 500) else "errors/generic.html"
        return (
            render_template(template, code=code, title=titles.get(code, error.name), error=error),
            code,
        )


def _register_template_helpers(app: Flask) -> None:
    from secretariat.agreements.services import secretariat_name
    from secretariat.permissions import Permission, can_access_member, has_permission

    @app.context_processor
    def _inject() -> dict[str, Any]:
        return {
            "Permission": Permission,
            "can": lambda permission: has_permission(current_user, permission),
            "can_access_member": lambda member_id: can_access_member(current_user, member_id),
            "network_name": app.config["NETWORK_NAME"],
            "secretariat_name": lambda: secretariat_name(app.config["NETWORK_NAME"]),
            "format_currency": format_currency,
            "get_locale": get_locale,
        }

    app.add_template_filter(markdown.render, "markdown")

    @app.template_filter("date")
    def _date(value: date | None, format: str = "medium") -> str:
        return format_date(value, format) if value else ""

    @app.template_filter("datetime")
    def _datetime(value: datetime | None, format: str = "medium") -> str:
        return format_datetime(value, format) if value else ""

    @app.template_filter("interval")
    def _interval(start: datetime, end: datetime, zone: str | None = None) -> str:
        """A time range in a zone (the network's by default): "Wed, Mar 3, 2027, 14:00 – 16:00"."""
        tz = ZoneInfo(zone or app.config["TIMEZONE"])
        start, end = start.astimezone(tz), end.astimezone(tz)
        locale = get_locale()
        if start.date() == end.date():
            text = (
                format_skeleton("yMMMEd", start, tzinfo=tz, locale=locale)
                + ", "
                + format_interval(start, end, "Hm", tzinfo=tz, locale=locale)
            )
        else:
            text = " – ".join(
                format_skeleton("yMMMEd", moment, tzinfo=tz, locale=locale)
                + ", "
                + format_skeleton("Hm", moment, tzinfo=tz, locale=locale)
                for moment in (start, end)
            )
        return f"{text} {start.tzname()}"

    @app.template_filter("number")
    def _number(value: Any) -> str:
        return format_decimal(value) if value is not None else ""
