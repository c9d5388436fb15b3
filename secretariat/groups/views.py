"""Pages of the working groups: list, group page, memberships and their history."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from secretariat.accounts.models import Role, User
from secretariat.clock import network_today
from secretariat.db import get_session, utcnow
from secretariat.events import queries as event_queries
from secretariat.events.forms import template_labels as event_labels
from secretariat.followups import queries as followup_queries
from secretariat.followups.forms import template_labels as followup_labels
from secretariat.forms import flash_errors, options, show_errors
from secretariat.groups import queries, services
from secretariat.groups.forms import (
    ROLE_LABELS,
    AddMembersForm,
    ChangeRoleForm,
    CloseGroupForm,
    GroupForm,
    RemoveMemberForm,
    template_labels,
)
from secretariat.groups.models import GroupMembership, GroupRole, GroupStatus, WorkingGroup
from secretariat.members.forms import template_labels as member_labels
from secretariat.members.services import slugify
from secretariat.permissions import Permission, is_staff, requires
from secretariat.vocabularies.models import Vocabulary
from secretariat.vocabularies.services import terms

bp = Blueprint("groups", __name__, url_prefix="/groups")


def _group_or_404(slug: str) -> WorkingGroup:
    group = get_session().scalar(select(WorkingGroup).where(WorkingGroup.slug == slug))
    if group is None:
        abort(404)
    return group


def _membership_or_404(group: WorkingGroup, membership_id: int) -> GroupMembership:
    membership = get_session().get(GroupMembership, membership_id)
    if membership is None or membership.group_id != group.id:
        abort(404)
    return membership


@bp.route("/")
@requires(Permission.VIEW_GROUPS)
def index():  # type: ignore[no-untyped-def]
    show = request.args.get("status", GroupStatus.ACTIVE.value)
    status = GroupStatus(show) if show in GroupStatus._value2member_map_ else None
    rows = queries.group_rows(get_session(), status)
    return render_template("groups/index.html", rows=rows, status=status, **template_labels())


def _group_form(**kwargs) -> GroupForm:  # type: ignore[no-untyped-def]
    db = get_session()
    staff = db.scalars(
        select(User)
        .where(User.role.in_((Role.ADMIN, Role.STAFF)), User.is_active.is_(True))
        .order_by(User.name)
    )
    return GroupForm(
        themes=[(t.id, t.label) for t in terms(db, Vocabulary.THEME, active_only=True)],
        staff=[(u.id, u.name) for u in staff],
        **kwargs,
    )


def _keep_current_choice(field, value, label) -> None:  # type: ignore[no-untyped-def]
    """A retired theme or a former staff lead still shows on the group that has it."""
    if value is not None and all(choice.value != str(value) for choice in field.choices):
        field.choices.extend(options([(value, label)]))


def _group_data(form: GroupForm) -> services.GroupData:
    return services.GroupData(
        name=form.name.data or "",
        slug=(form.slug.data or "").strip() or slugify(form.name.data or ""),
        theme_id=int(form.theme_id.data) if form.theme_id.data else None,
        description=form.description.data or None,
        started_on=form.started_on.data,
        staff_lead_id=int(form.staff_lead_id.data) if form.staff_lead_id.data else None,
    )


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_GROUPS)
def new():  # type: ignore[no-untyped-def]
    form = _group_form()
    if form.validate_on_submit():
        try:
            group = services.create_group(get_session(), current_user, _group_data(form))
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("The group %(name)s is created.", name=group.name), "success")
            return redirect(url_for("groups.detail", group_slug=group.slug))
    return render_template("groups/form.html", form=form, group=None)


@bp.route("/<group_slug>")
@requires(Permission.VIEW_GROUPS)
def detail(group_slug: str):  # type: ignore[no-untyped-def]
    db = get_session()
    group = queries.group_detail(db, group_slug)
    if group is None:
        abort(404)
    current, past = queries.split_memberships(group.memberships)
    upcoming, recent = event_queries.group_events(db, current_user, group.id)
    pending, closed = followup_queries.follow_ups_for(db, current_user, group_id=group.id)
    context = {}
    if is_staff(current_user):
        from secretariat.exchanges import queries as exchange_queries

        exchanges, count = exchange_queries.exchanges_for_group(db, group)
        context = {"group_exchanges": exchanges, "group_exchange_count": count}
    return render_template(
        "groups/detail.html",
        group=group,
        current=current,
        past=past,
        upcoming_events=upcoming,
        past_events=recent,
        today=network_today(),
        pending_follow_ups=pending,
        closed_follow_ups=closed,
        **context,
        **template_labels(),
        **member_labels(),
        **event_labels(),
        **followup_labels(),
    )


@bp.route("/<group_slug>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_GROUPS)
def edit(group_slug: str):  # type: ignore[no-untyped-def]
    group = _group_or_404(group_slug)
    form = _group_form(obj=group)
    _keep_current_choice(form.theme_id, group.theme_id, group.theme and group.theme.label)
    _keep_current_choice(
        form.staff_lead_id, group.staff_lead_id, group.staff_lead and group.staff_lead.name
    )
    if request.method == "GET":
        form.theme_id.data = str(group.theme_id or "")
        form.staff_lead_id.data = str(group.staff_lead_id or "")
    if form.validate_on_submit():
        try:
            services.update_group(get_session(), current_user, group, _group_data(form))
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("The group %(name)s is saved.", name=group.name), "success")
            return redirect(url_for("groups.detail", group_slug=group.slug))
    return render_template("groups/form.html", form=form, group=group)


@bp.route("/<group_slug>/close", methods=["GET", "POST"])
@requires(Permission.MANAGE_GROUPS)
def close(group_slug: str):  # type: ignore[no-untyped-def]
    group = _group_or_404(group_slug)
    form = CloseGroupForm()
    if request.method == "GET":
        form.closed_on.data = utcnow().date()
    if form.validate_on_submit():
        try:
            ended = services.close_group(get_session(), current_user, group, form.closed_on.data)
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(
                _(
                    "The group %(name)s is closed; %(count)d current memberships ended.",
                    name=group.name,
                    count=ended,
                ),
                "success",
            )
            return redirect(url_for("groups.detail", group_slug=group.slug))
    return render_template("groups/close.html", form=form, group=group)


@bp.route("/<group_slug>/reopen", methods=["POST"])
@requires(Permission.MANAGE_GROUPS)
def reopen(group_slug: str):  # type: ignore[no-untyped-def]
    group = _group_or_404(group_slug)
    try:
        services.reopen_group(get_session(), current_user, group)
    except services.ValidationFailed as exc:
        flash_errors(exc.errors)
    else:
        flash(_("The group %(name)s is active again.", name=group.name), "success")
    return redirect(url_for("groups.detail", group_slug=group.slug))


@bp.route("/<group_slug>/members/add", methods=["GET", "POST"])
@requires(Permission.MANAGE_GROUPS)
def add_members(group_slug: str):  # type: ignore[no-untyped-def]
    db = get_session()
    group = _group_or_404(group_slug)
    candidates = queries.joinable_members(db, group)
    form = AddMembersForm(members=[(m.id, m.name) for m in candidates])
    if request.method == "GET":
        form.joined_on.data = utcnow().date()
        form.role.data = GroupRole.MEMBER.value
    if form.validate_on_submit():
        try:
            added = services.add_members(
                db,
                current_user,
                group,
                list(form.member_ids.data or []),
                GroupRole(form.role.data),
                form.joined_on.data,
            )
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(
                _(
                    "%(count)d members added to %(name)s as %(role)s.",
                    count=len(added),
                    name=group.name,
                    role=ROLE_LABELS[GroupRole(form.role.data)],
                ),
                "success",
            )
            return redirect(url_for("groups.detail", group_slug=group.slug))
    return render_template(
        "groups/add_members.html",
        form=form,
        group=group,
        candidates=candidates,
        **member_labels(),
    )


@bp.route("/<group_slug>/members/<int:membership_id>/role", methods=["GET", "POST"])
@requires(Permission.MANAGE_GROUPS)
def change_role(group_slug: str, membership_id: int):  # type: ignore[no-untyped-def]
    group = _group_or_404(group_slug)
    membership = _membership_or_404(group, membership_id)
    form = ChangeRoleForm()
    if request.method == "GET":
        form.changed_on.data = utcnow().date()
        form.role.data = membership.role.value
    if form.validate_on_submit():
        try:
            services.change_role(
                get_session(),
                current_user,
                membership,
                GroupRole(form.role.data),
                form.changed_on.data,
            )
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(
                _(
                    "%(member)s is now %(role)s of %(name)s.",
                    member=membership.member.name,
                    role=ROLE_LABELS[GroupRole(form.role.data)],
                    name=group.name,
                ),
                "success",
            )
            return redirect(url_for("groups.detail", group_slug=group.slug))
    return _membership_page(form, group, membership, "role")


@bp.route("/<group_slug>/members/<int:membership_id>/remove", methods=["GET", "POST"])
@requires(Permission.MANAGE_GROUPS)
def remove_member(group_slug: str, membership_id: int):  # type: ignore[no-untyped-def]
    group = _group_or_404(group_slug)
    membership = _membership_or_404(group, membership_id)
    form = RemoveMemberForm()
    if request.method == "GET":
        form.left_on.data = utcnow().date()
    if form.validate_on_submit():
        try:
            services.remove_member(get_session(), current_user, membership, form.left_on.data)
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(
                _(
                    "%(member)s has left %(name)s; the membership stays in the history.",
                    member=membership.member.name,
                    name=group.name,
                ),
                "success",
            )
            return redirect(url_for("groups.detail", group_slug=group.slug))
    return _membership_page(form, group, membership, "remove")


def _membership_page(form, group, membership, action: str):  # type: ignore[no-untyped-def]
    """The form that changes a member's role ("role") or ends its membership ("remove")."""
    return render_template(
        "groups/membership.html",
        form=form,
        group=group,
        membership=membership,
        action=action,
        **template_labels(),
    )
