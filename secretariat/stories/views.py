"""Pages of the success stories: list, story page, writing, approvals, publication, image."""

from __future__ import annotations

import unicodedata
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from secretariat.accounts.forms import ConfirmForm
from secretariat.db import get_session
from secretariat.forms import flash_errors, posted, refuse_oversized_ids, row_id, show_errors
from secretariat.members.forms import STATUS_LABELS as STATUS
from secretariat.members.models import MemberStatus
from secretariat.permissions import Permission, is_staff, requires
from secretariat.stories import images, queries, services
from secretariat.stories.forms import StoryForm, template_labels
from secretariat.stories.models import EvidenceKind, Story, StoryStatus

bp = Blueprint("stories", __name__, url_prefix="/stories")

refuse_oversized_ids(bp)

#: The query-string arguments of the list that the pagination keeps.
LIST_ARGS = ("status", "member", "q")


def _int_arg(name: str) -> int | None:
    return row_id(request.args.get(name))


def _search_arg() -> str:
    # Without controls: PostgreSQL refuses a NUL in a query parameter.
    text = "".join(ch for ch in request.args.get("q", "") if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())[:100]


def _visible(story_id: int) -> Story:
    """The story with everything its page shows, or the uniform 404 outside one's scope."""
    return services.visible_story(get_session(), current_user, story_id)


def _confirmed() -> None:
    """Refuse a POST action whose form (its CSRF token) is not valid."""
    if not ConfirmForm().validate_on_submit():
        abort(400)


# -- list --------------------------------------------------------------------------------------


@bp.route("/")
@requires(Permission.VIEW_STORIES)
def index():  # type: ignore[no-untyped-def]
    db = get_session()
    staff = is_staff(current_user)
    status = request.args.get("status", "")
    filters = queries.StoryFilters(
        status=StoryStatus(status) if status in StoryStatus._value2member_map_ else None,
        member_id=_int_arg("member") if staff else None,
        search=_search_arg(),
    )
    page = queries.story_page(
        db,
        current_user,
        filters,
        _int_arg("page") or 1,
        current_app.config.get("STORIES_PER_PAGE", 25),
    )
    return render_template(
        "stories/index.html",
        page=page,
        filters=filters,
        args={k: v for k in LIST_ARGS if (v := request.args.get(k))},
        staff=staff,
        awaiting=0 if staff else queries.awaiting_approval(db, current_user.member_id),
        members=queries.member_choices(db) if staff else [],
        **template_labels(),
    )


# -- write -------------------------------------------------------------------------------------


def _member_options() -> list[tuple[int, str]]:
    """Every member by name; those not active say their status."""
    return [
        (member_id, name if status is MemberStatus.ACTIVE else f"{name} ({STATUS[status]})")
        for member_id, name, status in queries.member_choices(get_session())
    ]


def _ids(values: list[str] | None) -> list[int]:
    return [i for value in values or [] if (i := row_id(value)) is not None]


def _story_data(form: StoryForm, *, with_evidence: bool) -> services.StoryData:
    upload = request.files.get(form.image.name)
    content = None
    if upload is not None and upload.filename:
        # One byte past the limit is enough to know the file is too large.
        content = upload.stream.read(images.MAX_BYTES + 1)
    return services.StoryData(
        title=form.title.data or "",
        member_ids=_ids(form.member_ids.data),
        narrative=form.narrative.data or "",
        quote=form.quote.data or None,
        quote_attribution=form.quote_attribution.data or None,
        image=content,
        image_alt=form.image_alt.data or None,
        remove_image=bool(form.remove_image.data),
        evidence=(
            {
                kind: _ids(getattr(form, field_name).data)
                for kind, field_name in services.EVIDENCE_FIELDS.items()
            }
            if with_evidence
            else None
        ),
    )


def _refused(form: StoryForm, data: services.StoryData, errors: dict[str, str]) -> bool:
    """Show the refusals next to their fields; return whether a good upload must be redone."""
    show_errors(form, errors)
    return data.image is not None and "image" not in errors


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_STORIES)
def new():  # type: ignore[no-untyped-def]
    form = StoryForm(members=_member_options())
    reupload = False
    if request.method == "GET":
        member_id = _int_arg("member")
        form.member_ids.data = [str(member_id)] if member_id else []
    if posted(form):
        data = _story_data(form, with_evidence=False)
        try:
            story = services.create_story(get_session(), current_user, data)
        except services.ValidationFailed as exc:
            reupload = _refused(form, data, exc.errors)
        else:
            flash(
                _(
                    "The story is saved as a draft. Link the records it rests on from “Edit”; "
                    "the focal points of its members are asked to approve it."
                ),
                "success",
            )
            return redirect(url_for("stories.detail", story_id=story.id))
    return render_template(
        "stories/form.html", form=form, story=None, reupload=reupload, **template_labels()
    )


@bp.route("/<int:story_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_STORIES)
def edit(story_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    story = _visible(story_id)
    form = StoryForm(obj=story, members=_member_options())
    reupload = False
    if request.method == "GET":
        form.member_ids.data = [str(row.member_id) for row in story.members]
        for kind, ids in services.evidence_by_kind(story.evidence).items():
            getattr(form, services.EVIDENCE_FIELDS[kind]).data = [str(i) for i in ids]
    if posted(form):
        data = _story_data(form, with_evidence=True)
        try:
            cleared = services.update_story(db, current_user, story, data)
        except services.ValidationFailed as exc:
            reupload = _refused(form, data, exc.errors)
        else:
            flash(_("The story is saved."), "success")
            if cleared:
                flash(
                    _(
                        "The approvals given before were cleared and the story is back to "
                        "draft: its members' focal points are asked to approve it again."
                    ),
                    "info",
                )
            return redirect(url_for("stories.detail", story_id=story.id))
    chosen = {
        kind: set(_ids(getattr(form, field_name).data))
        for kind, field_name in services.EVIDENCE_FIELDS.items()
    }
    return render_template(
        "stories/form.html",
        form=form,
        story=story,
        reupload=reupload,
        approvals=sum(1 for row in story.members if row.approved_at is not None),
        report_uses=queries.report_uses(db, story.id),
        choices=queries.evidence_choices(
            db, [row.member_id for row in story.members], keep=story.evidence
        ),
        chosen=chosen,
        kinds=EvidenceKind,
        **template_labels(),
    )


# -- the story page ----------------------------------------------------------------------------


@bp.route("/<int:story_id>")
@requires(Permission.VIEW_STORIES)
def detail(story_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    story = _visible(story_id)
    staff = is_staff(current_user)
    openable = queries.openable_evidence(db, current_user, story)
    by_kind: dict[EvidenceKind, list[Any]] = {kind: [] for kind in EvidenceKind}
    for item in openable:
        by_kind[item.kind].append(item)
    return render_template(
        "stories/detail.html",
        story=story,
        staff=staff,
        evidence=by_kind,
        hidden_evidence=len(story.evidence) - len(openable),
        waiting=[row.member for row in story.members if row.approved_at is None],
        can_approve=services.can_approve(current_user, story),
        can_withdraw=services.can_withdraw(current_user, story),
        report_uses=queries.report_uses(db, story.id) if staff else 0,
        **template_labels(),
    )


@bp.route("/<int:story_id>/image")
@requires(Permission.VIEW_STORIES)
def image(story_id: int):  # type: ignore[no-untyped-def]
    story = services.ensure_story_scope(current_user, get_session().get(Story, story_id))
    path = images.image_path(story)
    if path is None or story.image_type not in images.MEDIA_TYPES:
        if story.image_sha256:
            current_app.logger.error("The image of story %s is missing from its folder", story.id)
        abort(404)
    response = send_file(
        path,
        mimetype=images.MEDIA_TYPES[story.image_type],
        download_name=f"story-{story.id}{images.EXTENSIONS[story.image_type]}",
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Revalidated on each view (the ETag spares the download): it changes with the story.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# -- approvals ---------------------------------------------------------------------------------


@bp.route("/<int:story_id>/approve", methods=["POST"])
@requires(Permission.APPROVE_STORIES)
def approve(story_id: int):  # type: ignore[no-untyped-def]
    story = _visible(story_id)
    _confirmed()
    try:
        services.approve_story(get_session(), current_user, story)
    except services.ValidationFailed as exc:
        flash_errors(exc.errors)
    else:
        member = current_user.member.name
        waiting = [row.member.name for row in story.members if row.approved_at is None]
        if waiting:
            flash(
                _(
                    "You approved the story for %(member)s; it still waits for the approval "
                    "of %(others)s.",
                    member=member,
                    others=", ".join(waiting),
                ),
                "success",
            )
        else:
            flash(
                _(
                    "You approved the story for %(member)s. Every member has approved it: "
                    "the secretariat can publish it.",
                    member=member,
                ),
                "success",
            )
    return redirect(url_for("stories.detail", story_id=story.id))


@bp.route("/<int:story_id>/withdraw", methods=["POST"])
@requires(Permission.APPROVE_STORIES)
def withdraw(story_id: int):  # type: ignore[no-untyped-def]
    story = _visible(story_id)
    _confirmed()
    was_published = story.status is StoryStatus.PUBLISHED
    try:
        services.withdraw_approval(get_session(), current_user, story)
    except services.ValidationFailed as exc:
        flash_errors(exc.errors)
    else:
        if was_published:
            message = _(
                "Your approval is withdrawn: the story is back to draft and no longer published."
            )
        else:
            message = _("Your approval is withdrawn: the story is back to draft.")
        flash(message, "success")
    return redirect(url_for("stories.detail", story_id=story.id))


# -- publication and deletion ------------------------------------------------------------------


@bp.route("/<int:story_id>/publish", methods=["POST"])
@requires(Permission.MANAGE_STORIES)
def publish(story_id: int):  # type: ignore[no-untyped-def]
    story = _visible(story_id)
    _confirmed()
    try:
        services.publish_story(get_session(), current_user, story)
    except services.ValidationFailed as exc:
        flash_errors(exc.errors)
    else:
        flash(_("The story is published: it can be chosen for impact reports."), "success")
    return redirect(url_for("stories.detail", story_id=story.id))


@bp.route("/<int:story_id>/unpublish", methods=["POST"])
@requires(Permission.MANAGE_STORIES)
def unpublish(story_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    story = _visible(story_id)
    _confirmed()
    try:
        services.unpublish_story(db, current_user, story)
    except services.ValidationFailed as exc:
        flash_errors(exc.errors)
    else:
        flash(_("The story is no longer published; it stays approved."), "success")
        uses = queries.report_uses(db, story.id)
        if uses:
            flash(
                ngettext(
                    "It is still chosen for an impact report.",
                    "It is still chosen for %(num)d impact reports.",
                    uses,
                ),
                "info",
            )
    return redirect(url_for("stories.detail", story_id=story.id))


@bp.route("/<int:story_id>/delete", methods=["POST"])
@requires(Permission.MANAGE_STORIES)
def delete(story_id: int):  # type: ignore[no-untyped-def]
    story = _visible(story_id)
    _confirmed()
    title = story.title
    try:
        services.delete_story(get_session(), current_user, story)
    except services.ValidationFailed as exc:
        flash_errors(exc.errors)
        return redirect(url_for("stories.detail", story_id=story.id))
    flash(_("“%(title)s” is deleted.", title=title), "success")
    return redirect(url_for("stories.index"))
