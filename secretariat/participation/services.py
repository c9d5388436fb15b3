"""Participation measurement: each year's scheme, computing the scores, finalising and
reopening a year, and the network's setting for the recognition list.

Computing is set-based: a fixed number of statements whatever the number of members (see
``collect``). A finalised year is never recomputed or edited until reopened with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, selectinload

from secretariat.accounts.models import User
from secretariat.clock import network_today
from secretariat.db import utcnow
from secretariat.members.services import ValidationFailed
from secretariat.participation import collect, scoring
from secretariat.participation.models import (
    SHARE_CRITERIA,
    ConditionKind,
    ConditionResult,
    Criterion,
    CriterionKind,
    ParticipationScore,
    ParticipationSettings,
    SchemeAction,
    SchemeCondition,
    SchemeEvent,
    SchemeState,
    ScoreCondition,
    ScoreCriterion,
    ScoreEvidence,
    ScoringScheme,
)
from secretariat.permissions import Permission, ensure_permission
from secretariat.text import has_control_characters, paragraphs

#: Drop in total, year on year, that puts a member on the at-risk list.
SCORE_DROP = 15
#: Leadership changes within this many months put a member on the at-risk list.
LEADERSHIP_MONTHS = 6
MAX_REASON = 2_000


@dataclass(frozen=True)
class CriterionDefault:
    weight: int
    floor: Decimal
    target: Decimal
    bonus: Decimal | None = None


#: The method a network starts from; every figure can be changed per year.
DEFAULT_CRITERIA: dict[CriterionKind, CriterionDefault] = {
    CriterionKind.ATTENDANCE: CriterionDefault(25, Decimal(0), Decimal(75)),
    CriterionKind.REPORTING_ON_TIME: CriterionDefault(20, Decimal(0), Decimal(100)),
    CriterionKind.COMPLETENESS: CriterionDefault(10, Decimal(0), Decimal(100)),
    CriterionKind.COMMITMENTS: CriterionDefault(15, Decimal(0), Decimal(100)),
    CriterionKind.WORKING_GROUPS: CriterionDefault(10, Decimal(0), Decimal(2), Decimal(1)),
    CriterionKind.EXCHANGES: CriterionDefault(10, Decimal(0), Decimal(4)),
    CriterionKind.FOLLOW_UPS: CriterionDefault(10, Decimal(0), Decimal(100)),
}
DEFAULT_CONDITIONS = tuple(ConditionKind)


class SchemeError(Exception):
    """The operation is not possible in the year's state; says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _record(
    session: Session,
    scheme: ScoringScheme,
    action: SchemeAction,
    actor: User | None,
    comment: str | None = None,
) -> None:
    session.add(
        SchemeEvent(
            scheme=scheme,
            action=action,
            comment=comment,
            actor_id=actor.id if actor is not None else None,
            at=utcnow(),
        )
    )


def _ensure_not_final(scheme: ScoringScheme) -> None:
    if scheme.is_final:
        raise SchemeError(
            _("%(year)s is finalised: reopen it, with a reason, to change it.", year=scheme.year)
        )


# --- Schemes ------------------------------------------------------------------------------


def scheme_for_year(session: Session, year: int) -> ScoringScheme | None:
    return session.scalar(
        select(ScoringScheme)
        .where(ScoringScheme.year == year)
        .options(selectinload(ScoringScheme.criteria), selectinload(ScoringScheme.conditions))
    )


def create_scheme(session: Session, actor: User | None, year: int) -> ScoringScheme:
    """Start a year's scheme as a copy of the closest earlier year's (or the defaults)."""
    if actor is not None:
        ensure_permission(actor, Permission.MANAGE_PARTICIPATION)
    if not 2000 <= year <= 2100:
        raise ValidationFailed({"year": _("Enter a year between 2000 and 2100.")})
    if session.scalar(select(ScoringScheme.id).where(ScoringScheme.year == year)) is not None:
        raise ValidationFailed({"year": _("%(year)s already has a scheme.", year=year)})
    model = session.scalar(
        select(ScoringScheme)
        .where(ScoringScheme.year < year)
        .order_by(ScoringScheme.year.desc())
        .limit(1)
        .options(selectinload(ScoringScheme.criteria), selectinload(ScoringScheme.conditions))
    )
    scheme = ScoringScheme(year=year, state=SchemeState.PROVISIONAL, edited_at=utcnow())
    if model is not None:
        scheme.leading_from = model.leading_from
        scheme.active_from = model.active_from
        scheme.engaged_from = model.engaged_from
        scheme.recognition_size = model.recognition_size
        criteria = {
            c.kind: CriterionDefault(c.weight, c.floor, c.target, c.bonus) for c in model.criteria
        }
        conditions = [c.kind for c in model.conditions]
    else:
        scheme.leading_from, scheme.active_from, scheme.engaged_from = 80, 60, 40
        scheme.recognition_size = 3
        criteria = dict(DEFAULT_CRITERIA)
        conditions = list(DEFAULT_CONDITIONS)
    for position, kind in enumerate(CriterionKind):
        default = DEFAULT_CRITERIA[kind]
        values = criteria.get(
            kind, CriterionDefault(0, default.floor, default.target, default.bonus)
        )
        scheme.criteria.append(
            Criterion(
                kind=kind,
                weight=values.weight,
                floor=values.floor,
                target=values.target,
                bonus=values.bonus,
                position=position,
            )
        )
    for position, kind in enumerate(ConditionKind):
        if kind in conditions:
            scheme.conditions.append(SchemeCondition(kind=kind, position=position))
    session.add(scheme)
    _record(
        session,
        scheme,
        SchemeAction.CREATED,
        actor,
        _("Copied from %(year)s.", year=model.year) if model else _("Default method."),
    )
    session.flush()
    return scheme


@dataclass
class CriterionInput:
    weight: str = ""
    floor: str = ""
    target: str = ""
    bonus: str = ""


@dataclass
class SchemeData:
    criteria: dict[CriterionKind, CriterionInput] = field(default_factory=dict)
    conditions: set[ConditionKind] = field(default_factory=set)
    leading_from: str = ""
    active_from: str = ""
    engaged_from: str = ""
    recognition_size: str = ""


def _whole(raw: str, field_name: str, errors: dict[str, str], low: int, high: int) -> int | None:
    text = (raw or "").strip()
    if not text:
        errors[field_name] = _("Enter a whole number.")
        return None
    try:
        value = int(text)
    except ValueError:
        errors[field_name] = _("“%(value)s” is not a whole number.", value=text[:40])
        return None
    if not low <= value <= high:
        errors[field_name] = _("Enter a number from %(low)s to %(high)s.", low=low, high=high)
        return None
    return value


def _decimal(raw: str, field_name: str, errors: dict[str, str], *, required: bool = True):
    text = (raw or "").strip().replace(",", ".")
    if not text:
        if required:
            errors[field_name] = _("Enter a number.")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors[field_name] = _("“%(value)s” is not a number.", value=text[:40])
        return None
    if not value.is_finite() or value < 0 or value > 100_000:
        errors[field_name] = _("Enter a number from 0 to 100,000.")
        return None
    if value != value.quantize(Decimal("0.0001")):
        errors[field_name] = _("Use at most four decimal places.")
        return None
    return value


def validate_scheme(data: SchemeData) -> tuple[dict[str, str], dict[CriterionKind, tuple]]:
    """Check every figure; return the errors by field and the parsed criteria."""
    errors: dict[str, str] = {}
    parsed: dict[CriterionKind, tuple] = {}
    for kind in CriterionKind:
        raw = data.criteria.get(kind, CriterionInput())
        prefix = f"{kind.value}-"
        weight = _whole(raw.weight, prefix + "weight", errors, 0, 100)
        floor = _decimal(raw.floor, prefix + "floor", errors)
        target = _decimal(raw.target, prefix + "target", errors)
        bonus = None
        if kind is CriterionKind.WORKING_GROUPS:
            bonus = _decimal(raw.bonus, prefix + "bonus", errors, required=False)
        if kind in SHARE_CRITERIA:
            for name, value in (("floor", floor), ("target", target)):
                if value is not None and value > 100:
                    errors[prefix + name] = _("A share is at most 100 %.")
        if (
            floor is not None
            and target is not None
            and target <= floor
            and prefix + "target" not in errors
        ):
            errors[prefix + "target"] = _("The target must be above the floor.")
        parsed[kind] = (weight, floor, target, bonus)
    weights = [values[0] for values in parsed.values() if values[0] is not None]
    if len(weights) == len(CriterionKind) and sum(weights) == 0:
        errors["criteria"] = _("Give at least one criterion a weight above 0.")
    leading = _whole(data.leading_from, "leading_from", errors, 1, 100)
    active = _whole(data.active_from, "active_from", errors, 1, 100)
    engaged = _whole(data.engaged_from, "engaged_from", errors, 1, 100)
    if None not in (leading, active, engaged) and not (engaged < active < leading):  # type: ignore[operator]
        errors["leading_from"] = _(
            "The thresholds must rise: engaged below active, active below leading."
        )
    _whole(data.recognition_size, "recognition_size", errors, 1, 20)
    return errors, parsed


def update_scheme(session: Session, actor: User, scheme: ScoringScheme, data: SchemeData) -> None:
    """Change a provisional year's method; its scores are out of date until computed again."""
    ensure_permission(actor, Permission.EDIT_SCORING_SCHEME)
    _ensure_not_final(scheme)
    errors, parsed = validate_scheme(data)
    if errors:
        raise ValidationFailed(errors)
    changes: list[str] = []
    by_kind = {criterion.kind: criterion for criterion in scheme.criteria}
    for position, kind in enumerate(CriterionKind):
        weight, floor, target, bonus = parsed[kind]
        criterion = by_kind.get(kind)
        if criterion is None:
            criterion = Criterion(
                kind=kind, position=position, weight=0, floor=floor, target=target
            )
            scheme.criteria.append(criterion)
        before = (criterion.weight, criterion.floor, criterion.target, criterion.bonus)
        criterion.weight, criterion.floor, criterion.target, criterion.bonus = (
            weight,
            floor,
            target,
            bonus,
        )
        if before != (weight, floor, target, bonus):
            changes.append(kind.value)
    wanted = set(data.conditions)
    for condition in list(scheme.conditions):
        if condition.kind not in wanted:
            scheme.conditions.remove(condition)
            changes.append(f"-{condition.kind.value}")
    present = {condition.kind for condition in scheme.conditions}
    for position, kind in enumerate(ConditionKind):
        if kind in wanted and kind not in present:
            scheme.conditions.append(SchemeCondition(kind=kind, position=position))
            changes.append(f"+{kind.value}")
    thresholds = (
        int(data.leading_from),
        int(data.active_from),
        int(data.engaged_from),
        int(data.recognition_size),
    )
    if thresholds != (
        scheme.leading_from,
        scheme.active_from,
        scheme.engaged_from,
        scheme.recognition_size,
    ):
        changes.append("levels")
    (
        scheme.leading_from,
        scheme.active_from,
        scheme.engaged_from,
        scheme.recognition_size,
    ) = thresholds
    if changes:
        scheme.edited_at = utcnow()
        _record(session, scheme, SchemeAction.EDITED, actor, ", ".join(changes))
    session.flush()


# --- Computing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ComputeResult:
    members: int
    scored: int
    evidence: int


def _clear(session: Session, scheme_id: int) -> None:
    for model in (ScoreEvidence, ScoreCriterion, ScoreCondition, ParticipationScore):
        session.execute(delete(model).where(model.scheme_id == scheme_id))


def compute(
    session: Session, actor: User | None, scheme: ScoringScheme, now: datetime | None = None
) -> ComputeResult:
    """Compute the year's scores again from the records (provisional years only).

    ``actor`` is None when the nightly job or the command runs it.
    """
    if actor is not None:
        ensure_permission(actor, Permission.MANAGE_PARTICIPATION)
    _ensure_not_final(scheme)
    now = now or utcnow()
    window = collect.Window(year=scheme.year, now=now, today=network_today(now))
    session.flush()
    _clear(session, scheme.id)

    members = collect.scored_members(window).subquery("scored")
    member_rows = session.execute(select(members.c.id, members.c.region_id)).all()
    criteria = [criterion for criterion in scheme.criteria if criterion.weight > 0]
    kinds = {criterion.kind for criterion in criteria}
    gaps = collect.network_gaps(session, window)

    for kind, collector in collect.COLLECTORS.items():
        if kind in kinds and kind not in gaps:
            collector(session, scheme.id, window, members)
    condition_kinds = {condition.kind for condition in scheme.conditions}
    # The annual-submission condition is judged on the on-time rows, whatever their weight.
    reporting = tuple(
        kind
        for kind in (CriterionKind.REPORTING_ON_TIME, CriterionKind.COMPLETENESS)
        if kind in kinds
        or (
            kind is CriterionKind.REPORTING_ON_TIME
            and ConditionKind.ANNUAL_SUBMISSION in condition_kinds
        )
    )
    if reporting:
        collect.collect_reporting(session, scheme.id, window, members, reporting)
    counts = collect.evidence_counts(session, scheme.id)

    with_focal_point = attended = freshness = None
    if ConditionKind.PRIMARY_FOCAL_POINT in condition_kinds:
        with_focal_point = collect.members_with_primary_focal_point(session, window, members)
    if ConditionKind.EVENT_ATTENDED in condition_kinds and CriterionKind.ATTENDANCE not in gaps:
        attended = collect.members_who_attended(session, window, members)
    if ConditionKind.EVIDENCE_FRESH in condition_kinds:
        freshness = collect.evidence_freshness(session, window, members)

    # When the scores were written; ``now`` is the moment they measure (tests pass one).
    written_at = utcnow()
    scores: list[dict] = []
    lines: list[dict] = []
    conditions: list[dict] = []
    scored = 0
    for member_id, region_id in member_rows:
        measures = [
            scoring.measure(
                criterion.kind,
                criterion.weight,
                criterion.floor,
                criterion.target,
                criterion.bonus,
                counts.get((member_id, criterion.kind), scoring.Counts()),
                gaps.get(criterion.kind),
            )
            for criterion in criteria
        ]
        total, weight_used = scoring.total(measures)
        results = _conditions(
            member_id,
            condition_kinds,
            counts.get((member_id, CriterionKind.REPORTING_ON_TIME)),
            with_focal_point,
            attended,
            freshness,
        )
        outcome, missed = scoring.outcome(results.values())
        scored += total is not None
        scores.append(
            {
                "scheme_id": scheme.id,
                "member_id": member_id,
                "region_id": region_id,
                "total": total,
                "level": scoring.level(
                    total, scheme.leading_from, scheme.active_from, scheme.engaged_from
                ),
                "conditions_outcome": outcome,
                "conditions_missed": missed,
                "weight_used": weight_used,
                "computed_at": written_at,
            }
        )
        lines.extend(
            {
                "scheme_id": scheme.id,
                "member_id": member_id,
                "kind": item.kind,
                "weight": item.weight,
                "items": item.counts.items,
                "hits": item.counts.hits
                if item.kind is not CriterionKind.COMPLETENESS
                else item.counts.part,
                "extra": item.counts.extra
                if item.kind is not CriterionKind.COMPLETENESS
                else item.counts.whole,
                "measured": item.measured,
                "points": item.points,
                "left_out": item.left_out,
            }
            for item in measures
        )
        conditions.extend(
            {"scheme_id": scheme.id, "member_id": member_id, "kind": kind, "result": result}
            for kind, result in results.items()
        )
    # Core executemany inserts (no RETURNING, no ORM bookkeeping): one statement each,
    # whatever the row count.
    connection = session.connection()
    for model, rows in (
        (ParticipationScore, scores),
        (ScoreCriterion, lines),
        (ScoreCondition, conditions),
    ):
        if rows:
            connection.execute(insert(model.__table__), rows)
    scheme.computed_at = written_at
    _record(
        session,
        scheme,
        SchemeAction.COMPUTED,
        actor,
        _("%(count)s members measured.", count=len(member_rows)),
    )
    session.flush()
    evidence = sum(c.items for c in counts.values())
    return ComputeResult(members=len(member_rows), scored=scored, evidence=evidence)


def _conditions(
    member_id: int,
    kinds: set[ConditionKind],
    reporting: scoring.Counts | None,
    with_focal_point: set[int] | None,
    attended: set[int] | None,
    freshness: dict[int, bool] | None,
) -> dict[ConditionKind, ConditionResult]:
    met, missed, na = ConditionResult.MET, ConditionResult.MISSED, ConditionResult.NOT_APPLICABLE
    results: dict[ConditionKind, ConditionResult] = {}
    for kind in ConditionKind:
        if kind not in kinds:
            continue
        if kind is ConditionKind.PRIMARY_FOCAL_POINT:
            results[kind] = met if member_id in (with_focal_point or ()) else missed
        elif kind is ConditionKind.ANNUAL_SUBMISSION:
            # Judged once a cycle's due day has passed: every cycle asked must be submitted.
            if reporting is None or reporting.items == 0:
                results[kind] = na
            else:
                results[kind] = met if reporting.extra == reporting.items else missed
        elif kind is ConditionKind.EVENT_ATTENDED:
            if attended is None:
                results[kind] = na
            else:
                results[kind] = met if member_id in attended else missed
        else:
            fresh = (freshness or {}).get(member_id)
            results[kind] = na if fresh is None else (met if fresh else missed)
    return results


def finalise(session: Session, actor: User, scheme: ScoringScheme) -> None:
    """Close the year: its method and scores are frozen from now on."""
    ensure_permission(actor, Permission.MANAGE_PARTICIPATION)
    _ensure_not_final(scheme)
    if scheme.scores_out_of_date:
        raise SchemeError(
            _("The method changed after the scores were computed: compute them again first.")
        )
    scheme.state = SchemeState.FINAL
    scheme.finalised_at = utcnow()
    scheme.finalised_by_id = actor.id
    _record(session, scheme, SchemeAction.FINALISED, actor)
    session.flush()


def reopen(session: Session, actor: User, scheme: ScoringScheme, reason: str) -> None:
    """Make a finalised year provisional again; the reason is kept in the year's history."""
    ensure_permission(actor, Permission.MANAGE_PARTICIPATION)
    if not scheme.is_final:
        raise SchemeError(_("%(year)s is not finalised.", year=scheme.year))
    text = paragraphs(reason)
    if not text:
        raise ValidationFailed({"reason": _("Say why the year is reopened.")})
    if has_control_characters(text):
        raise ValidationFailed({"reason": _("Remove the invisible control characters.")})
    if len(text) > MAX_REASON:
        raise ValidationFailed({"reason": _("Use at most %(max)s characters.", max=MAX_REASON)})
    scheme.state = SchemeState.PROVISIONAL
    scheme.finalised_at = None
    scheme.finalised_by_id = None
    _record(session, scheme, SchemeAction.REOPENED, actor, text)
    session.flush()


# --- Settings -----------------------------------------------------------------------------


def settings(session: Session) -> ParticipationSettings:
    """The network's settings (the migration creates the row; defaults if it is missing)."""
    row = session.get(ParticipationSettings, 1)
    return (
        row
        if row is not None
        else ParticipationSettings(id=1, recognition_visible_to_members=False)
    )


def set_recognition_visibility(session: Session, actor: User, visible: bool) -> None:
    ensure_permission(actor, Permission.EDIT_SCORING_SCHEME)
    row = session.get(ParticipationSettings, 1)
    if row is None:
        row = ParticipationSettings(id=1)
        session.add(row)
    row.recognition_visible_to_members = visible
    session.flush()
