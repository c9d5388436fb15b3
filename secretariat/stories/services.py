"""Story operations: the only code that writes stories, their members' approvals and evidence.

Staff write stories. Each member's focal point approves the text for its member; once every
member has approved, the story is approved and staff may publish it. Changing what the members
approved (title, narrative, quote, attribution, image, members) clears every approval and
returns the story to draft. Every operation re-checks the actor's permission and scope, and
only flushes: the request commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from secretariat import markdown
from secretariat.accounts.models import Role, User
from secretariat.db import utcnow
from secretariat.members.models import Member
from secretariat.members.services import ValidationFailed
from secretariat.permissions import OutOfScope, Permission, can_see_story, ensure_permission
from secretariat.stories import images, queries
from secretariat.stories.models import EvidenceKind, Story, StoryEvidence, StoryMember, StoryStatus
from secretariat.text import has_control_characters, paragraphs, single_line

__all__ = [
    "EVIDENCE_FIELDS",
    "StoryData",
    "ValidationFailed",
    "approve_story",
    "can_approve",
    "can_withdraw",
    "create_story",
    "delete_story",
    "ensure_story_scope",
    "evidence_by_kind",
    "publish_story",
    "unpublish_story",
    "update_story",
    "validate_story",
    "visible_story",
    "withdraw_approval",
]

MAX_TITLE = 200
MAX_QUOTE = 2_000
MAX_ATTRIBUTION = 200
MAX_ALT = 300

#: The form field that lists each kind of evidence (and carries its error).
EVIDENCE_FIELDS = {
    EvidenceKind.EXCHANGE: "exchange_ids",
    EvidenceKind.COMMITMENT: "commitment_ids",
    EvidenceKind.AGREEMENT: "agreement_ids",
    EvidenceKind.EVENT: "event_ids",
}


@dataclass
class StoryData:
    title: str
    member_ids: list[int]
    narrative: str
    quote: str | None = None
    quote_attribution: str | None = None
    #: The content of a newly uploaded image; None keeps the current one.
    image: bytes | None = None
    image_alt: str | None = None
    remove_image: bool = False
    #: The linked records by kind; None leaves the story's evidence as it is.
    evidence: dict[EvidenceKind, list[int]] | None = None
    #: Filled in by validation: the type of the uploaded image.
    image_type: str | None = None


# -- who may do what to one story ---------------------------------------------------------------


def _member_ids(story: Story) -> list[int]:
    return [m.member_id for m in story.members]


def ensure_story_scope(actor: User, story: Story | None) -> Story:
    """Refuse, with the uniform 404, a story the actor may not see."""
    ensure_permission(actor, Permission.VIEW_STORIES)
    if story is None or not can_see_story(actor, _member_ids(story)):
        raise OutOfScope()
    return story


def visible_story(session: Session, actor: User, story_id: int) -> Story:
    """The story with everything its page shows, if the actor may see it."""
    return ensure_story_scope(actor, queries.story_detail(session, story_id))


def _own_row(actor: User, story: Story) -> StoryMember | None:
    """The approval row of the actor's member, if the actor is a focal point of one."""
    if actor.role is not Role.FOCAL_POINT or actor.member_id is None:
        return None
    return next((m for m in story.members if m.member_id == actor.member_id), None)


def can_approve(actor: User, story: Story) -> bool:
    row = _own_row(actor, story)
    return row is not None and row.approved_at is None


def can_withdraw(actor: User, story: Story) -> bool:
    row = _own_row(actor, story)
    return row is not None and row.approved_at is not None


# -- validation ---------------------------------------------------------------------------------


def _clean(data: StoryData) -> None:
    data.title = single_line(data.title)
    data.narrative = paragraphs(data.narrative) or ""
    data.quote = paragraphs(data.quote)
    data.quote_attribution = single_line(data.quote_attribution) or None
    data.image_alt = single_line(data.image_alt) or None
    data.member_ids = list(dict.fromkeys(data.member_ids))
    if data.evidence is not None:
        data.evidence = {
            kind: list(dict.fromkeys(data.evidence.get(kind, ()))) for kind in EvidenceKind
        }


def _text_problem(raw: str | None, value: str | None, limit: int) -> str | None:
    if has_control_characters(raw):
        return _("Remove the invisible control characters.")
    if value and len(value) > limit:
        return _(
            "Use at most %(limit)s characters (now %(length)s).",
            limit=format_number(limit),
            length=format_number(len(value)),
        )
    return None


def _evidence_problems(
    session: Session, evidence: dict[EvidenceKind, list[int]], member_ids: list[int]
) -> dict[str, str]:
    """Every linked record must exist and be about one of the story's members."""
    errors: dict[str, str] = {}
    for kind, field_name in EVIDENCE_FIELDS.items():
        ids = evidence.get(kind, [])
        if not ids:
            continue
        titles = queries.existing_records(session, kind, ids)
        if len(titles) < len(set(ids)):
            errors[field_name] = _("A chosen record no longer exists; reload the page.")
            continue
        related = queries.related_ids(session, kind, ids, member_ids) if member_ids else set()
        unrelated = [titles[i] for i in ids if i not in related]
        if unrelated:
            names = ", ".join(f"“{title}”" for title in unrelated)
            errors[field_name] = ngettext(
                "%(names)s is not about any of the story's members: choose records of "
                "the members involved, or add the member to the story.",
                "%(names)s are not about any of the story's members: choose records of "
                "the members involved, or add the members to the story.",
                len(unrelated),
                names=names,
            )
    return errors


def validate_story(session: Session, data: StoryData, story: Story | None = None) -> dict[str, str]:
    """Return every problem with the data, by form field; empty when it can be saved.

    Cleans the data in place (spaces, line breaks, duplicates) and records the image's type.
    """
    raw = StoryData(**vars(data))
    _clean(data)
    errors: dict[str, str] = {}

    if problem := _text_problem(raw.title, data.title, MAX_TITLE):
        errors["title"] = problem
    elif not data.title:
        errors["title"] = _("Enter the story's title.")

    if not data.member_ids:
        errors["member_ids"] = _("Choose at least one member the story is about.")
    else:
        found = set(session.scalars(select(Member.id).where(Member.id.in_(data.member_ids))))
        if len(found) < len(data.member_ids):
            errors["member_ids"] = _("A chosen member no longer exists; reload the page.")

    if problem := _text_problem(raw.narrative, data.narrative, markdown.MAX_LENGTH):
        errors["narrative"] = problem
    elif not data.narrative:
        errors["narrative"] = _("Tell the story: the narrative cannot be empty.")

    if problem := _text_problem(raw.quote, data.quote, MAX_QUOTE):
        errors["quote"] = problem
    if problem := _text_problem(raw.quote_attribution, data.quote_attribution, MAX_ATTRIBUTION):
        errors["quote_attribution"] = problem
    elif data.quote and not data.quote_attribution:
        errors["quote_attribution"] = _(
            "Say who said it, e.g. “Ana Silva, Deputy Mayor of Lisbon”."
        )
    elif data.quote_attribution and not data.quote and "quote" not in errors:
        errors["quote"] = _("Enter the quote, or leave the attribution empty.")

    if data.image is not None:
        if data.remove_image:
            errors["remove_image"] = _(
                "Either upload a new image or remove the current one, not both."
            )
        data.image_type, problem = images.check(data.image)
        if problem:
            errors["image"] = problem
    will_have_image = data.image is not None or (
        story is not None and story.image_sha256 is not None and not data.remove_image
    )
    if problem := _text_problem(raw.image_alt, data.image_alt, MAX_ALT):
        errors["image_alt"] = problem
    elif will_have_image and not data.image_alt:
        errors["image_alt"] = _(
            "Describe the image for people who cannot see it, e.g. "
            "“Children crossing the new bike lane in front of the school”."
        )

    if data.evidence is not None and "member_ids" not in errors:
        errors.update(_evidence_problems(session, data.evidence, data.member_ids))
    return errors


# -- writing ------------------------------------------------------------------------------------


def _content(story: Story) -> tuple:
    """What the focal points approve: a change to any of it asks them again."""
    return (
        story.title,
        story.narrative,
        story.quote,
        story.quote_attribution,
        story.image_sha256,
        story.image_type,
        story.image_alt,
        frozenset(_member_ids(story)),
    )


def _apply(story: Story, data: StoryData) -> None:
    story.title = data.title
    story.narrative = data.narrative
    story.quote = data.quote
    story.quote_attribution = data.quote_attribution if data.quote else None
    if data.image is not None:
        assert data.image_type is not None
        story.image_sha256 = images.store(data.image)
        story.image_type = data.image_type
    elif data.remove_image:
        story.image_sha256 = None
        story.image_type = None
    story.image_alt = data.image_alt if story.image_sha256 else None
    wanted = set(data.member_ids)
    for row in list(story.members):
        if row.member_id not in wanted:
            story.members.remove(row)
    present = set(_member_ids(story))
    for member_id in data.member_ids:
        if member_id not in present:
            story.members.append(StoryMember(member_id=member_id))
    if data.evidence is not None:
        _apply_evidence(story, data.evidence)


def _apply_evidence(story: Story, evidence: dict[EvidenceKind, list[int]]) -> None:
    for kind in EvidenceKind:
        column = queries.EVIDENCE_COLUMNS[kind]
        wanted = evidence.get(kind, [])
        current = {getattr(item, column): item for item in story.evidence if item.kind is kind}
        for record_id, item in current.items():
            if record_id not in wanted:
                story.evidence.remove(item)
        for record_id in wanted:
            if record_id not in current:
                story.evidence.append(StoryEvidence(kind=kind, **{column: record_id}))


def _lock(session: Session, story: Story) -> None:
    """Lock the story's row until the request ends and read its latest state and approvals.

    Two focal points approving at once, or staff editing while one approves, would otherwise
    each decide the status from what the other had not yet written.
    """
    session.scalars(
        select(Story)
        .where(Story.id == story.id)
        .options(selectinload(Story.members))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _back_to_draft(story: Story) -> None:
    """Clear every approval: the members are asked again about the text as it now stands."""
    for row in story.members:
        row.approved_at = None
        row.approved_by_id = None
    story.status = StoryStatus.DRAFT
    story.published_at = None
    story.published_by_id = None


def create_story(session: Session, actor: User, data: StoryData) -> Story:
    """Write a new story as a draft; its members' focal points are then asked to approve it."""
    ensure_permission(actor, Permission.MANAGE_STORIES)
    errors = validate_story(session, data)
    if errors:
        raise ValidationFailed(errors)
    story = Story(status=StoryStatus.DRAFT, created_by_id=actor.id)
    _apply(story, data)
    session.add(story)
    session.flush()
    return story


def update_story(session: Session, actor: User, story: Story, data: StoryData) -> bool:
    """Save the staff's changes; return whether they cleared approvals given before.

    A change to what the members approve returns the story to draft (a published one too);
    linking or unlinking evidence alone keeps the approvals.
    """
    ensure_permission(actor, Permission.MANAGE_STORIES)
    _lock(session, story)
    errors = validate_story(session, data, story)
    if errors:
        raise ValidationFailed(errors)
    before = _content(story)
    _apply(story, data)
    cleared = False
    if _content(story) != before:
        cleared = story.status is not StoryStatus.DRAFT or any(
            row.approved_at is not None for row in story.members
        )
        _back_to_draft(story)
    session.flush()
    return cleared


def _refresh_status(story: Story) -> None:
    if story.members and all(row.approved_at is not None for row in story.members):
        if story.status is StoryStatus.DRAFT:
            story.status = StoryStatus.APPROVED
    elif story.status is not StoryStatus.DRAFT:
        story.status = StoryStatus.DRAFT
        story.published_at = None
        story.published_by_id = None


def _approval_row(session: Session, actor: User, story: Story) -> StoryMember:
    ensure_permission(actor, Permission.APPROVE_STORIES)
    ensure_story_scope(actor, story)
    _lock(session, story)
    row = _own_row(actor, story)
    if row is None:
        raise OutOfScope()
    return row


def approve_story(session: Session, actor: User, story: Story) -> None:
    """Approve the story for the focal point's member; approved once every member has."""
    row = _approval_row(session, actor, story)
    if row.approved_at is not None:
        raise ValidationFailed(
            {"story": _("Your member already approved this story as it stands.")}
        )
    row.approved_at = utcnow()
    row.approved_by_id = actor.id
    _refresh_status(story)
    session.flush()


def withdraw_approval(session: Session, actor: User, story: Story) -> None:
    """Withdraw the member's approval; the story goes back to draft (off publication too)."""
    row = _approval_row(session, actor, story)
    if row.approved_at is None:
        raise ValidationFailed({"story": _("Your member has not approved this story.")})
    row.approved_at = None
    row.approved_by_id = None
    _refresh_status(story)
    session.flush()


def publish_story(session: Session, actor: User, story: Story) -> None:
    """Publish an approved story: it can then be chosen for impact reports."""
    ensure_permission(actor, Permission.MANAGE_STORIES)
    _lock(session, story)
    if story.status is StoryStatus.PUBLISHED:
        raise ValidationFailed({"story": _("This story is already published.")})
    waiting = [row.member.name for row in story.members if row.approved_at is None]
    if story.status is not StoryStatus.APPROVED or waiting:
        raise ValidationFailed(
            {
                "story": _(
                    "Only an approved story can be published; it still waits for the "
                    "approval of %(members)s.",
                    members=", ".join(waiting),
                )
            }
        )
    story.status = StoryStatus.PUBLISHED
    story.published_at = utcnow()
    story.published_by_id = actor.id
    session.flush()


def unpublish_story(session: Session, actor: User, story: Story) -> None:
    """Take the story off publication; it stays approved and can be published again."""
    ensure_permission(actor, Permission.MANAGE_STORIES)
    _lock(session, story)
    if story.status is not StoryStatus.PUBLISHED:
        raise ValidationFailed({"story": _("This story is not published.")})
    story.status = StoryStatus.APPROVED
    story.published_at = None
    story.published_by_id = None
    session.flush()


def delete_story(session: Session, actor: User, story: Story) -> None:
    """Delete a story that is neither published nor chosen for an impact report."""
    ensure_permission(actor, Permission.MANAGE_STORIES)
    if story.status is StoryStatus.PUBLISHED:
        raise ValidationFailed(
            {"story": _("A published story cannot be deleted: unpublish it first.")}
        )
    uses = queries.report_uses(session, story.id)
    if uses:
        raise ValidationFailed(
            {
                "story": ngettext(
                    "This story is chosen for an impact report: take it out of the report "
                    "before deleting it.",
                    "This story is chosen for %(num)d impact reports: take it out of them "
                    "before deleting it.",
                    uses,
                )
            }
        )
    session.delete(story)
    session.flush()


def evidence_by_kind(items: Iterable[StoryEvidence]) -> dict[EvidenceKind, list[int]]:
    """The linked record ids by kind (as the form and StoryData hold them)."""
    result: dict[EvidenceKind, list[int]] = {kind: [] for kind in EvidenceKind}
    for item in items:
        result[item.kind].append(getattr(item, queries.EVIDENCE_COLUMNS[item.kind]))
    return result
