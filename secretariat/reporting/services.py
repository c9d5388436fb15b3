"""Reporting-cycle operations: the only code that writes cycles and submissions.

Staff prepare a cycle (period, indicators, audience, dates) and open it; the audience is fixed
then. Focal points fill in their member's submission, prefilled from the previous cycle, save
drafts and submit. A submission made after the end of the due day in the network's time zone
is late; timeliness is judged on the first submission. Staff verify or return submissions,
close the cycle (which locks every submission) and may reopen one member's submission with a
reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from secretariat.accounts.models import User
from secretariat.clock import network_today
from secretariat.commitments.services import check_url
from secretariat.db import utcnow
from secretariat.groups.models import GroupMembership, GroupStatus, WorkingGroup
from secretariat.indicators.models import Indicator, Level
from secretariat.indicators.services import (
    EMPTY,
    BadValue,
    Value,
    check_period,
    display,
    parse_value,
    relative_change,
)
from secretariat.members.models import Member, MemberStatus
from secretariat.members.services import ValidationFailed
from secretariat.permissions import (
    OutOfScope,
    Permission,
    ensure_member_scope,
    ensure_permission,
    is_staff,
)
from secretariat.reporting.models import (
    Audience,
    CycleIndicator,
    CycleMember,
    CycleState,
    ReportingCycle,
    Submission,
    SubmissionAction,
    SubmissionEvent,
    SubmissionStatus,
    SubmissionValue,
    ValueSource,
)
from secretariat.text import has_control_characters, paragraphs, single_line

#: A change from the previous cycle larger than this fraction must be confirmed.
CHANGE_WARNING = Decimal("0.5")
#: Statuses a focal point may still edit (while the cycle takes submissions).
EDITABLE = frozenset({SubmissionStatus.DRAFT, SubmissionStatus.RETURNED})
#: Statuses whose values count as reported (prefill, roll-ups, exports of accepted data).
REPORTED = frozenset({SubmissionStatus.SUBMITTED, SubmissionStatus.VERIFIED})
MAX_COMMENT = 5_000


class CycleError(Exception):
    """The operation is not possible in the cycle's or submission's state; says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- Cycles -------------------------------------------------------------------------------


@dataclass
class CycleData:
    name: str
    period: str
    opens_on: date | None
    due_on: date | None
    grace_until: date | None = None
    audience: Audience = Audience.ALL_ACTIVE
    group_id: int | None = None
    member_ids: list[int] = field(default_factory=list)
    indicator_ids: list[int] = field(default_factory=list)
    #: Indicators among ``indicator_ids`` that may be left empty.
    optional_indicator_ids: list[int] = field(default_factory=list)
    instructions: str | None = None
    unreadable: dict[str, str] = field(default_factory=dict)


def validate_cycle(
    session: Session, data: CycleData, current: ReportingCycle | None = None
) -> dict[str, str]:
    """Return every problem with the data, by field; empty when it can be saved."""
    errors = dict(data.unreadable)
    raw_name = data.name or ""
    data.name = single_line(raw_name)
    data.instructions = paragraphs(data.instructions)
    if has_control_characters(raw_name):
        errors["name"] = _("Remove the invisible control characters from the name.")
    elif not data.name:
        errors["name"] = _("Name the cycle, for example “Annual report 2025”.")
    elif len(data.name) > 255:
        errors["name"] = _("Use at most 255 characters.")
    else:
        clash = session.scalar(select(ReportingCycle).where(ReportingCycle.name == data.name))
        if clash is not None and (current is None or clash.id != current.id):
            errors["name"] = _("Another cycle already has this name.")
    if data.instructions and has_control_characters(data.instructions):
        errors["instructions"] = _("Remove the invisible control characters.")
    locked = current is not None and current.state is not CycleState.DRAFT
    if locked:
        assert current is not None
        # The period is fixed once the cycle is open, whatever the form sent.
        data.period = current.period
    else:
        try:
            data.period = check_period(data.period)
        except BadValue as exc:
            errors["period"] = exc.message
    if data.opens_on is None:
        errors.setdefault("opens_on", _("Enter the day the cycle opens."))
    if data.due_on is None:
        errors.setdefault("due_on", _("Enter the due date."))
    if data.opens_on and data.due_on and data.due_on < data.opens_on:
        errors.setdefault("due_on", _("The due date cannot be before the opening date."))
    if data.grace_until and data.due_on and data.grace_until < data.due_on:
        errors.setdefault("grace_until", _("The grace period must end on or after the due date."))
    if not locked:
        _validate_audience(session, data, errors)
        _validate_indicators(session, data, errors)
    return errors


def _validate_audience(session: Session, data: CycleData, errors: dict[str, str]) -> None:
    try:
        data.audience = Audience(data.audience)
    except ValueError:
        errors.setdefault("audience", _("Choose who is asked to report."))
        data.audience = Audience.ALL_ACTIVE
    if data.audience is Audience.GROUP:
        group = session.get(WorkingGroup, data.group_id) if data.group_id is not None else None
        if group is None:
            errors.setdefault("group_id", _("Choose the working group asked to report."))
        elif group.status is not GroupStatus.ACTIVE:
            errors.setdefault("group_id", _("This working group is closed."))
    else:
        data.group_id = None
    if data.audience is Audience.CHOSEN:
        data.member_ids = sorted(set(data.member_ids))
        if not data.member_ids:
            errors.setdefault("member_ids", _("Choose at least one member."))
        else:
            found = set(session.scalars(select(Member.id).where(Member.id.in_(data.member_ids))))
            if found != set(data.member_ids):
                errors.setdefault("member_ids", _("Choose members from the list."))
    else:
        data.member_ids = []


def _validate_indicators(session: Session, data: CycleData, errors: dict[str, str]) -> None:
    ids = list(dict.fromkeys(data.indicator_ids))
    data.indicator_ids = ids
    if not ids:
        errors.setdefault("indicator_ids", _("Choose the indicators to ask for."))
        return
    indicators = {i.id: i for i in session.scalars(select(Indicator).where(Indicator.id.in_(ids)))}
    if set(indicators) != set(ids):
        errors.setdefault("indicator_ids", _("Choose indicators from the list."))
    elif any(i.level is Level.NETWORK for i in indicators.values()):
        errors.setdefault(
            "indicator_ids",
            _("Network-level indicators are recorded by the secretariat, not asked of members."),
        )
    elif any(not i.is_active for i in indicators.values()):
        errors.setdefault("indicator_ids", _("Retired indicators cannot be asked for."))


def _apply_cycle(cycle: ReportingCycle, data: CycleData) -> None:
    cycle.name = data.name
    cycle.opens_on = data.opens_on  # type: ignore[assignment]
    cycle.due_on = data.due_on  # type: ignore[assignment]
    cycle.grace_until = data.grace_until
    cycle.instructions = data.instructions
    if cycle.state is not CycleState.DRAFT:
        # What was asked of whom, and for which period, is fixed once members were asked.
        return
    cycle.period = data.period
    cycle.audience = data.audience
    cycle.group_id = data.group_id
    optional = set(data.optional_indicator_ids)
    existing = {ci.indicator_id: ci for ci in cycle.indicators}
    cycle.indicators = [
        existing.get(indicator_id) or CycleIndicator(indicator_id=indicator_id)
        for indicator_id in data.indicator_ids
    ]
    for position, ci in enumerate(cycle.indicators, start=1):
        ci.position = position
        ci.is_required = ci.indicator_id not in optional
    chosen = {cm.member_id: cm for cm in cycle.members}
    cycle.members = [
        chosen.get(member_id) or CycleMember(member_id=member_id) for member_id in data.member_ids
    ]


def create_cycle(session: Session, actor: User, data: CycleData) -> ReportingCycle:
    ensure_permission(actor, Permission.MANAGE_REPORTING)
    errors = validate_cycle(session, data)
    if errors:
        raise ValidationFailed(errors)
    cycle = ReportingCycle(state=CycleState.DRAFT, audience=data.audience, created_by_id=actor.id)
    session.add(cycle)
    _apply_cycle(cycle, data)
    session.flush()
    return cycle


def update_cycle(session: Session, actor: User, cycle: ReportingCycle, data: CycleData) -> None:
    """Change a cycle; once open only its name, dates and instructions can change."""
    ensure_permission(actor, Permission.MANAGE_REPORTING)
    if cycle.state is CycleState.CLOSED:
        raise CycleError(_("This cycle is closed. Reopen a member's submission instead."))
    errors = validate_cycle(session, data, cycle)
    if errors:
        raise ValidationFailed(errors)
    due_before = cycle.due_on
    _apply_cycle(cycle, data)
    if cycle.due_on != due_before:
        _judge_timeliness_again(session, cycle)
    session.flush()


def _judge_timeliness_again(session: Session, cycle: ReportingCycle) -> None:
    """After the due date moved, judge every first submission against the new one."""
    submitted = session.scalars(
        select(Submission).where(
            Submission.cycle_id == cycle.id, Submission.first_submitted_at.is_not(None)
        )
    )
    for submission in submitted:
        assert submission.first_submitted_at is not None
        submission.is_late = is_late(cycle, submission.first_submitted_at)


def audience_member_ids(session: Session, cycle: ReportingCycle) -> list[int]:
    """The members the cycle's audience means today."""
    if cycle.audience is Audience.ALL_ACTIVE:
        stmt = select(Member.id).where(Member.status == MemberStatus.ACTIVE)
    elif cycle.audience is Audience.GROUP:
        stmt = select(GroupMembership.member_id).where(
            GroupMembership.group_id == cycle.group_id, GroupMembership.left_on.is_(None)
        )
    else:
        stmt = select(CycleMember.member_id).where(CycleMember.cycle_id == cycle.id)
    return sorted(set(session.scalars(stmt)))


def open_cycle(session: Session, actor: User, cycle: ReportingCycle) -> int:
    """Open a draft cycle: fix who is asked and let them report; return how many are asked."""
    ensure_permission(actor, Permission.MANAGE_REPORTING)
    if cycle.state is not CycleState.DRAFT:
        raise CycleError(_("Only a draft cycle can be opened."))
    if not cycle.indicators:
        raise CycleError(_("Choose the indicators to ask for before opening the cycle."))
    inactive = [ci.indicator.code for ci in cycle.indicators if not ci.indicator.is_active]
    if inactive:
        raise CycleError(
            _("Retired indicators cannot be asked for: %(codes)s.", codes=", ".join(inactive))
        )
    network = [ci.indicator.code for ci in cycle.indicators if ci.indicator.level is Level.NETWORK]
    if network:
        raise CycleError(
            _(
                "Network-level indicators are not asked of members: %(codes)s.",
                codes=", ".join(network),
            )
        )
    member_ids = audience_member_ids(session, cycle)
    if not member_ids:
        raise CycleError(_("Nobody would be asked to report: the audience has no members."))
    if cycle.audience is not Audience.CHOSEN:
        session.add_all(CycleMember(cycle=cycle, member_id=m) for m in member_ids)
    cycle.state = CycleState.OPEN
    cycle.opened_at = utcnow()
    session.flush()
    return len(member_ids)


def close_cycle(session: Session, actor: User, cycle: ReportingCycle) -> None:
    """Close an open cycle: every submission is locked from then on."""
    ensure_permission(actor, Permission.MANAGE_REPORTING)
    if cycle.state is not CycleState.OPEN:
        raise CycleError(_("Only an open cycle can be closed."))
    cycle.state = CycleState.CLOSED
    cycle.closed_at = utcnow()
    # An ORM update, so that submissions already loaded in the session see the change too.
    session.execute(
        update(Submission)
        .where(Submission.cycle_id == cycle.id, Submission.is_reopened.is_(True))
        .values(is_reopened=False)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()


def delete_cycle(session: Session, actor: User, cycle: ReportingCycle) -> None:
    """Delete a draft cycle (nobody has been asked anything yet)."""
    ensure_permission(actor, Permission.MANAGE_REPORTING)
    if cycle.state is not CycleState.DRAFT:
        raise CycleError(_("Only a draft cycle can be deleted."))
    session.delete(cycle)
    session.flush()


# --- Deadlines ----------------------------------------------------------------------------


def is_late(cycle: ReportingCycle, at: datetime) -> bool:
    """Whether a submission at this instant comes after the end of the due day, locally."""
    return network_today(at) > cycle.due_on


def takes_submissions(cycle: ReportingCycle, today: date) -> bool:
    """Whether focal points may save and submit in the cycle on this (network) day."""
    if cycle.state is not CycleState.OPEN or today < cycle.opens_on:
        return False
    return cycle.grace_until is None or today <= cycle.grace_until


def is_asked(session: Session, cycle: ReportingCycle, member_id: int) -> bool:
    return (
        session.scalar(
            select(CycleMember.id).where(
                CycleMember.cycle_id == cycle.id, CycleMember.member_id == member_id
            )
        )
        is not None
    )


def can_edit(
    actor: User, cycle: ReportingCycle, submission: Submission | None, today: date
) -> bool:
    """Whether the actor may change the member's values now.

    Staff may correct any submission of an opened cycle, even a closed one; a focal point
    only a draft or returned one while the cycle takes submissions, or one staff reopened.
    """
    if cycle.state is CycleState.DRAFT:
        return False
    if is_staff(actor):
        return True
    status = submission.status if submission is not None else SubmissionStatus.DRAFT
    if status not in EDITABLE:
        return False
    if submission is not None and submission.is_reopened:
        return True
    return takes_submissions(cycle, today)


def locked_reason(cycle: ReportingCycle, submission: Submission | None, today: date) -> str:
    """Why a focal point cannot change the submission (for the page)."""
    if cycle.state is CycleState.DRAFT:
        return _("This cycle has not been opened yet.")
    status = submission.status if submission is not None else SubmissionStatus.DRAFT
    if status is SubmissionStatus.SUBMITTED:
        return _("Submitted: the secretariat will review it. Ask them if something must change.")
    if status is SubmissionStatus.VERIFIED:
        return _("Verified by the secretariat.")
    if cycle.state is CycleState.CLOSED:
        return _("This cycle is closed. Ask the secretariat to reopen your submission.")
    if today < cycle.opens_on:
        return _("This cycle opens on %(day)s.", day=format_date(cycle.opens_on))
    return _("The time for submissions is over. Ask the secretariat to reopen your submission.")


# --- Submissions --------------------------------------------------------------------------


@dataclass
class Previous:
    """A member's last reported value of an indicator, from an earlier cycle."""

    cycle_name: str
    period: str
    value: Value


def previous_values(session: Session, cycle: ReportingCycle, member_id: int) -> dict[int, Previous]:
    """The member's most recent reported values for the cycle's indicators, before it."""
    indicator_ids = [ci.indicator_id for ci in cycle.indicators]
    if not indicator_ids:
        return {}
    rows = session.execute(
        select(SubmissionValue, ReportingCycle.name, ReportingCycle.period)
        .join(Submission, Submission.id == SubmissionValue.submission_id)
        .join(ReportingCycle, ReportingCycle.id == Submission.cycle_id)
        .where(
            Submission.member_id == member_id,
            Submission.status.in_(REPORTED),
            ReportingCycle.id != cycle.id,
            ReportingCycle.period < cycle.period,
            SubmissionValue.indicator_id.in_(indicator_ids),
        )
        .order_by(ReportingCycle.period.desc(), ReportingCycle.opens_on.desc())
    ).all()
    found: dict[int, Previous] = {}
    for value, name, period in rows:
        if value.indicator_id not in found and not value.is_empty:
            found[value.indicator_id] = Previous(
                name, period, Value(value.number_value, value.bool_value, value.text_value)
            )
    return found


@dataclass
class ValueInput:
    """What was typed for one indicator."""

    raw: str = ""
    comment: str = ""
    evidence_url: str = ""
    #: The focal point ticked "this change is right" for a large change.
    confirmed: bool = False


@dataclass
class SubmissionInput:
    values: dict[int, ValueInput]
    general_comment: str = ""


@dataclass
class Problems:
    """Errors (blocking) and large-change warnings, by indicator id (0 for general)."""

    errors: dict[int, str] = field(default_factory=dict)
    warnings: dict[int, str] = field(default_factory=dict)
    #: Indicators whose value moved by more than half, confirmed or not.
    large_changes: set[int] = field(default_factory=set)
    #: Which input of the indicator each error is about: "value", "comment" or "evidence".
    places: dict[int, str] = field(default_factory=dict)

    @property
    def blocking(self) -> bool:
        return bool(self.errors)


class SubmissionInvalid(Exception):
    def __init__(self, problems: Problems) -> None:
        super().__init__("submission has errors")
        self.problems = problems


def _check_url(raw: str) -> str | None:
    url, problem = check_url(raw)
    if problem:
        raise BadValue(problem)
    return url


def check_submission(
    cycle: ReportingCycle,
    data: SubmissionInput,
    previous: dict[int, Previous],
    *,
    final: bool,
) -> tuple[dict[int, Value], Problems]:
    """Read every typed value and find every problem; nothing is written."""
    problems = Problems()
    parsed: dict[int, Value] = {}
    for ci in cycle.indicators:
        indicator = ci.indicator
        given = data.values.get(indicator.id, ValueInput())
        try:
            value = parse_value(indicator, given.raw)
        except BadValue as exc:
            problems.errors[indicator.id] = exc.message
            continue
        try:
            _check_url(given.evidence_url)
        except BadValue as exc:
            problems.errors[indicator.id] = exc.message
            problems.places[indicator.id] = "evidence"
            continue
        if has_control_characters(given.comment) or len(given.comment or "") > MAX_COMMENT:
            problems.errors[indicator.id] = _(
                "Keep the comment under 5,000 characters, without control characters."
            )
            problems.places[indicator.id] = "comment"
            continue
        parsed[indicator.id] = value
        if final and ci.is_required and value.is_empty:
            problems.errors[indicator.id] = _("This indicator is required: enter a value.")
            continue
        before = previous.get(indicator.id)
        if before is not None and value.number is not None and before.value.number is not None:
            change = relative_change(before.value.number, value.number)
            if change is not None and change > CHANGE_WARNING:
                problems.large_changes.add(indicator.id)
                if not given.confirmed:
                    problems.warnings[indicator.id] = _(
                        "This is %(percent)s%% away from %(period)s (%(previous)s). "
                        "Tick the box to confirm the value is right.",
                        percent=f"{change * 100:.0f}",
                        period=before.period,
                        previous=display(indicator, before.value.number, None, None),
                    )
    comment = data.general_comment or ""
    if has_control_characters(comment) or len(comment) > MAX_COMMENT:
        problems.errors[0] = _("Keep the comment under 5,000 characters.")
    return parsed, problems


def find_submission(session: Session, cycle: ReportingCycle, member_id: int) -> Submission | None:
    return session.scalar(
        select(Submission)
        .where(Submission.cycle_id == cycle.id, Submission.member_id == member_id)
        .options(selectinload(Submission.values))
    )


def save_submission(
    session: Session,
    actor: User,
    cycle: ReportingCycle,
    member: Member,
    data: SubmissionInput,
    *,
    submit: bool,
    now: datetime | None = None,
) -> Submission:
    """Save the member's values as a draft, or submit them; all or nothing.

    Raises SubmissionInvalid with every error (and, on submit, every unconfirmed large
    change) before anything is written.
    """
    ensure_permission(actor, Permission.SUBMIT_REPORTS)
    ensure_member_scope(actor, member.id)
    if not is_asked(session, cycle, member.id):
        raise OutOfScope()
    if cycle.state is CycleState.DRAFT:
        # Chosen members are listed while the cycle is prepared; they are not asked yet.
        if not is_staff(actor):
            raise OutOfScope()
        raise CycleError(_("This cycle has not been opened yet."))
    now = now or utcnow()
    today = network_today(now)
    submission = find_submission(session, cycle, member.id)
    if not can_edit(actor, cycle, submission, today):
        raise CycleError(locked_reason(cycle, submission, today))
    previous = previous_values(session, cycle, member.id)
    parsed, problems = check_submission(cycle, data, previous, final=submit)
    if problems.errors or (submit and problems.warnings):
        raise SubmissionInvalid(problems)

    if submission is None:
        submission = Submission(cycle=cycle, member=member, status=SubmissionStatus.DRAFT)
        session.add(submission)
        submission.values = []
    existing = {v.indicator_id: v for v in submission.values}
    for ci in cycle.indicators:
        indicator_id = ci.indicator_id
        value = parsed.get(indicator_id, EMPTY)
        given = data.values.get(indicator_id, ValueInput())
        row = existing.get(indicator_id)
        comment = paragraphs(given.comment)
        evidence = _check_url(given.evidence_url)
        if value.is_empty and not comment and not evidence:
            if row is not None:
                submission.values.remove(row)
            continue
        if row is None:
            row = SubmissionValue(indicator_id=indicator_id, source=ValueSource.ENTERED)
            submission.values.append(row)
        before = previous.get(indicator_id)
        row.number_value, row.bool_value, row.text_value = value.number, value.boolean, value.text
        row.comment = comment
        row.evidence_url = evidence
        row.source = (
            ValueSource.UNCHANGED
            if before is not None and not value.is_empty and _same(before.value, value)
            else ValueSource.ENTERED
        )
        # Only a confirmed large change is recorded as such (a stray tick means nothing).
        row.change_confirmed = given.confirmed and indicator_id in problems.large_changes
    submission.general_comment = paragraphs(data.general_comment)
    staff_edit = is_staff(actor)
    if submit:
        submission.status = SubmissionStatus.SUBMITTED
        submission.submitted_at = now
        submission.submitted_by_id = actor.id
        if submission.first_submitted_at is None:
            submission.first_submitted_at = now
            submission.is_late = is_late(cycle, now)
        submission.is_reopened = False
        action = SubmissionAction.SUBMITTED
    else:
        action = SubmissionAction.EDITED_BY_STAFF if staff_edit else SubmissionAction.SAVED
    _log(submission, action, actor, None, now)
    session.flush()
    return submission


def _same(a: Value, b: Value) -> bool:
    if a.number is not None and b.number is not None:
        return a.number == b.number
    return a == b


def _log(
    submission: Submission,
    action: SubmissionAction,
    actor: User | None,
    comment: str | None,
    now: datetime | None = None,
) -> None:
    submission.history.append(
        SubmissionEvent(
            action=action,
            comment=comment,
            actor_id=actor.id if actor is not None else None,
            at=now or utcnow(),
        )
    )


def verify_submission(session: Session, actor: User, submission: Submission) -> None:
    ensure_permission(actor, Permission.MANAGE_REPORTING)
    if submission.status is not SubmissionStatus.SUBMITTED:
        raise CycleError(_("Only a submitted report can be verified."))
    submission.status = SubmissionStatus.VERIFIED
    submission.reviewed_by_id = actor.id
    submission.reviewed_at = utcnow()
    _log(submission, SubmissionAction.VERIFIED, actor, None)
    session.flush()


def _reason(raw: str | None, what: str) -> str:
    reason = paragraphs(raw)
    if not reason:
        raise ValidationFailed({"comment": what})
    if has_control_characters(reason) or len(reason) > MAX_COMMENT:
        raise ValidationFailed({"comment": _("Keep it under 5,000 characters.")})
    return reason


def return_submission(
    session: Session, actor: User, submission: Submission, comment: str | None
) -> None:
    """Send a submitted (or verified) report back to the member to fix, saying what."""
    ensure_permission(actor, Permission.MANAGE_REPORTING)
    if submission.status not in REPORTED:
        raise CycleError(_("Only a submitted or verified report can be returned."))
    reason = _reason(comment, _("Say what the member should fix."))
    submission.status = SubmissionStatus.RETURNED
    submission.return_comment = reason
    submission.reviewed_by_id = actor.id
    submission.reviewed_at = utcnow()
    if not takes_submissions(submission.cycle, network_today()):
        # Past the deadline for everyone: let this member fix it all the same.
        submission.is_reopened = True
    _log(submission, SubmissionAction.RETURNED, actor, reason)
    session.flush()


def reopen_submission(
    session: Session, actor: User, cycle: ReportingCycle, member: Member, comment: str | None
) -> Submission:
    """Let one member change their submission after closing (or after the grace period)."""
    ensure_permission(actor, Permission.MANAGE_REPORTING)
    if not is_asked(session, cycle, member.id):
        raise OutOfScope()
    today = network_today()
    if cycle.state is CycleState.DRAFT:
        raise CycleError(_("This cycle has not been opened yet."))
    if cycle.state is CycleState.OPEN and today < cycle.opens_on:
        raise CycleError(
            _(
                "The cycle opens on %(day)s; nothing needs reopening yet.",
                day=format_date(cycle.opens_on),
            )
        )
    if takes_submissions(cycle, today):
        raise CycleError(
            _("The cycle still takes submissions; return the report instead if it needs fixing.")
        )
    reason = _reason(comment, _("Say why this submission is reopened."))
    submission = find_submission(session, cycle, member.id)
    if submission is None:
        submission = Submission(cycle=cycle, member=member, status=SubmissionStatus.DRAFT)
        session.add(submission)
    elif submission.status in REPORTED:
        submission.status = SubmissionStatus.RETURNED
        submission.return_comment = reason
    submission.is_reopened = True
    _log(submission, SubmissionAction.REOPENED, actor, reason)
    session.flush()
    return submission


def visible_submission(session: Session, actor: User, submission_id: int) -> Submission:
    """The submission, if the actor may see it; the uniform 404 otherwise."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise OutOfScope()
    ensure_member_scope(actor, submission.member_id)
    return submission
