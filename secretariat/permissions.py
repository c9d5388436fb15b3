"""The one place that decides who may do what.

Views declare a permission with ``@requires(...)`` (or ``@public``); an app-wide hook refuses
any endpoint that declares nothing. Services re-check data-level scope with
``ensure_member_scope``. Outside one's scope the answer is always a uniform 404.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, request
from flask_login import current_user
from werkzeug.exceptions import NotFound

from secretariat.accounts.models import Role, User
from secretariat.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])

PERMISSION_ATTRIBUTE = "_secretariat_permission"


class Permission(enum.StrEnum):
    #: Anyone, signed in or not (sign-in pages, static files, error pages).
    PUBLIC = "public"
    #: Any signed-in user (home, own account, sign-out).
    SIGNED_IN = "signed_in"
    #: The member directory: public fields of every member.
    VIEW_MEMBER_DIRECTORY = "members.directory"
    #: A member's full record; focal points only their own member.
    VIEW_MEMBER = "members.view"
    #: Add, edit and end contacts; focal points only their own member's.
    EDIT_CONTACTS = "contacts.edit"
    #: Create and edit members, change status, import and export, staff dashboard.
    MANAGE_MEMBERS = "members.manage"
    #: Invite, edit and deactivate users.
    MANAGE_USERS = "users.manage"
    #: Configurable lists (regions, tiers, themes).
    MANAGE_SETTINGS = "settings.manage"
    #: Working-group list and pages (members and roles).
    VIEW_GROUPS = "groups.view"
    #: Create, edit and close groups; add and remove their members.
    MANAGE_GROUPS = "groups.manage"
    #: Event pages; focal points only the events their member is invited to.
    VIEW_EVENTS = "events.view"
    #: Register or decline for an event; focal points only for their own member's contacts.
    RESPOND_TO_EVENTS = "events.respond"
    #: Create, edit and cancel events, send invitations, record and import attendance.
    MANAGE_EVENTS = "events.manage"
    #: A personal calendar feed of one's upcoming events.
    USE_CALENDAR_FEED = "calendar.feed"
    #: Propose a peer exchange; focal points only exchanges involving their own member.
    PROPOSE_EXCHANGES = "exchanges.propose"
    #: Record, confirm, edit and delete any exchange; the network graph and its exports.
    MANAGE_EXCHANGES = "exchanges.manage"
    #: Partner organisations: list, pages, create, edit, archive, their contacts.
    MANAGE_PARTNERS = "partners.manage"
    #: Agreement list and pages with documents; focal points only their member's agreements.
    VIEW_AGREEMENTS = "agreements.view"
    #: Create, edit and move agreements through their lifecycle; documents and obligations.
    MANAGE_AGREEMENTS = "agreements.manage"
    #: Follow-up pages and status updates; focal points only those assigned to them or their
    #: member.
    UPDATE_FOLLOW_UPS = "followups.update"
    #: Create, edit and reassign any follow-up; the overview of overdue follow-ups by owner.
    MANAGE_FOLLOW_UPS = "followups.manage"
    #: A member's commitments and their history; focal points only their own member's.
    VIEW_COMMITMENTS = "commitments.view"
    #: Add and edit commitments, post progress updates with evidence; focal points only for
    #: their own member.
    UPDATE_COMMITMENTS = "commitments.update"
    #: The network view of all commitments; verify progress updates.
    MANAGE_COMMITMENTS = "commitments.manage"
    #: Indicators, their targets and network values; the values of every member.
    MANAGE_INDICATORS = "indicators.manage"
    #: Fill in and submit a reporting cycle's form; focal points only for their own member.
    SUBMIT_REPORTS = "reporting.submit"
    #: Create, open and close reporting cycles; review, verify, return, reopen; exports.
    MANAGE_REPORTING = "reporting.manage"
    #: A member's participation scorecard; focal points only their own member's.
    VIEW_SCORECARD = "participation.scorecard"
    #: The regional recognition list; focal points only when the network shows it to members.
    VIEW_RECOGNITION = "participation.recognition"
    #: The network overview of participation, every scorecard, the at-risk list.
    VIEW_PARTICIPATION = "participation.view"
    #: Compute a year's scores, finalise the year, reopen it with a reason.
    MANAGE_PARTICIPATION = "participation.manage"
    #: Edit a year's scoring scheme and the network's participation settings.
    EDIT_SCORING_SCHEME = "participation.scheme"
    #: Choose how one's own reminders arrive (immediately, weekly digest, not at all).
    CHOOSE_NOTIFICATIONS = "notifications.choose"
    #: Reminder rules, the outbox with retries, the dry run and the scheduler's state.
    MANAGE_NOTIFICATIONS = "notifications.manage"
    #: Funders, programmes, grants and their reporting dates.
    MANAGE_FUNDING = "funding.manage"
    #: Success stories; focal points only those about their own member.
    VIEW_STORIES = "stories.view"
    #: Approve (or withdraw approval of) a story about one's own member, as its focal point.
    APPROVE_STORIES = "stories.approve"
    #: Write, edit, publish and unpublish success stories.
    MANAGE_STORIES = "stories.manage"
    #: Build, publish and re-issue impact reports; the figures' record lists.
    MANAGE_IMPACT_REPORTS = "impact.manage"
    #: The funder portal: the programmes one's funder pays for and their published reports.
    VIEW_FUNDED_PROGRAMMES = "portal.view"


_STAFF = frozenset({Role.ADMIN, Role.STAFF})

POLICY: dict[Permission, frozenset[Role]] = {
    Permission.VIEW_MEMBER_DIRECTORY: _STAFF | {Role.FOCAL_POINT},
    Permission.VIEW_MEMBER: _STAFF | {Role.FOCAL_POINT},
    Permission.EDIT_CONTACTS: _STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_MEMBERS: _STAFF,
    Permission.MANAGE_USERS: frozenset({Role.ADMIN}),
    Permission.MANAGE_SETTINGS: frozenset({Role.ADMIN}),
    Permission.VIEW_GROUPS: _STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_GROUPS: _STAFF,
    Permission.VIEW_EVENTS: _STAFF | {Role.FOCAL_POINT},
    Permission.RESPOND_TO_EVENTS: _STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_EVENTS: _STAFF,
    Permission.USE_CALENDAR_FEED: _STAFF | {Role.FOCAL_POINT},
    Permission.PROPOSE_EXCHANGES: _STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_EXCHANGES: _STAFF,
    Permission.MANAGE_PARTNERS: _STAFF,
    Permission.VIEW_AGREEMENTS: _STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_AGREEMENTS: _STAFF,
    Permission.UPDATE_FOLLOW_UPS: _STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_FOLLOW_UPS: _STAFF,
    Permission.VIEW_COMMITMENTS: _STAFF | {Role.FOCAL_POINT},
    Permission.UPDATE_COMMITMENTS: _STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_COMMITMENTS: _STAFF,
    Permission.MANAGE_INDICATORS: _STAFF,
    Permission.SUBMIT_REPORTS: _STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_REPORTING: _STAFF,
    Permission.VIEW_SCORECARD: _STAFF | {Role.FOCAL_POINT},
    Permission.VIEW_RECOGNITION: _STAFF | {Role.FOCAL_POINT},
    Permission.VIEW_PARTICIPATION: _STAFF,
    Permission.MANAGE_PARTICIPATION: _STAFF,
    Permission.EDIT_SCORING_SCHEME: frozenset({Role.ADMIN}),
    Permission.CHOOSE_NOTIFICATIONS: _STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_NOTIFICATIONS: frozenset({Role.ADMIN}),
    Permission.MANAGE_FUNDING: _STAFF,
    Permission.VIEW_STORIES: _STAFF | {Role.FOCAL_POINT},
    Permission.APPROVE_STORIES: frozenset({Role.FOCAL_POINT}),
    Permission.MANAGE_STORIES: _STAFF,
    Permission.MANAGE_IMPACT_REPORTS: _STAFF,
    Permission.VIEW_FUNDED_PROGRAMMES: frozenset({Role.FUNDER}),
}


class OutOfScope(NotFound):
    """Raised for any record outside the actor's scope; rendered as the uniform 404."""


def has_permission(user: Any, permission: Permission) -> bool:
    """Whether the user holds the permission at all (scope is checked separately)."""
    if permission is Permission.PUBLIC:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if permission is Permission.SIGNED_IN:
        return True
    return user.role in POLICY[permission]


def can_access_member(user: Any, member_id: int) -> bool:
    """Whether the user may see the full record of this member."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role in _STAFF:
        return True
    return user.role is Role.FOCAL_POINT and user.member_id == member_id


def is_staff(user: Any) -> bool:
    """Whether the user is secretariat staff (staff or admin), who see every member."""
    return bool(getattr(user, "is_authenticated", False)) and user.role in _STAFF


def ensure_member_scope(user: User, member_id: int) -> None:
    """Refuse, with the uniform 404, any member outside the user's scope."""
    if not can_access_member(user, member_id):
        raise OutOfScope()


def can_see_agreement(user: Any, party_member_ids: Iterable[int]) -> bool:
    """Staff see every agreement; a focal point those their member is a party to."""
    if is_staff(user):
        return True
    return (
        has_permission(user, Permission.VIEW_AGREEMENTS)
        and user.member_id is not None
        and user.member_id in set(party_member_ids)
    )


def can_access_follow_up(user: Any, owner_id: int, member_id: int | None) -> bool:
    """Staff reach every follow-up; others those they own or, for a focal point, its member's."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role in _STAFF:
        return True
    if not has_permission(user, Permission.UPDATE_FOLLOW_UPS):
        return False
    return owner_id == user.id or (member_id is not None and member_id == user.member_id)


def can_see_story(user: Any, member_ids: Iterable[int]) -> bool:
    """Staff see every story; a focal point those about their own member."""
    if is_staff(user):
        return True
    return (
        has_permission(user, Permission.VIEW_STORIES)
        and user.member_id is not None
        and user.member_id in set(member_ids)
    )


def can_see_programme(user: Any, funder_ids: Iterable[int]) -> bool:
    """Staff see every programme; a funder's users those their funder has a grant for."""
    if is_staff(user):
        return True
    return (
        has_permission(user, Permission.VIEW_FUNDED_PROGRAMMES)
        and user.funder_id is not None
        and user.funder_id in set(funder_ids)
    )


def ensure_permission(user: User, permission: Permission) -> None:
    """Refuse, with the uniform 404, an operation the user's role does not allow."""
    if not has_permission(user, permission):
        raise OutOfScope()


def requires(permission: Permission) -> Callable[[F], F]:
    """Declare the permission a view needs; anonymous users are sent to sign in."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if permission is not Permission.PUBLIC and not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not has_permission(current_user, permission):
                raise OutOfScope()
            return view(*args, **kwargs)

        setattr(wrapped, PERMISSION_ATTRIBUTE, permission)
        return wrapped  # type: ignore[return-value]

    return decorator


public = requires(Permission.PUBLIC)


def declared_permission(view: Callable[..., Any]) -> Permission | None:
    return getattr(view, PERMISSION_ATTRIBUTE, None)


def init_app(app: Flask) -> None:
    """Refuse every endpoint that does not declare its permission (deny by default)."""

    @app.before_request
    def _deny_undeclared() -> None:
        endpoint = request.endpoint
        if endpoint is None or endpoint == "static":
            return
        view = app.view_functions.get(endpoint)
        if view is None or declared_permission(view) is None:
            raise NotFound()
