"""Funders, programmes and grants: validated, then written (staff only)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from email_validator import EmailNotValidError, validate_email
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from secretariat.accounts.models import Role, User
from secretariat.accounts.services import AccountError, UserData, deactivate_user, invite_user
from secretariat.clock import network_today
from secretariat.funding.models import (
    Coverage,
    Frequency,
    Funder,
    FunderKind,
    Grant,
    GrantReport,
    Programme,
    ProgrammeIndicator,
    ProgrammeMember,
)
from secretariat.groups.models import GroupMembership, WorkingGroup
from secretariat.indicators.models import Indicator
from secretariat.indicators.services import BadValue, parse_number
from secretariat.members.models import Member, MemberStatus
from secretariat.members.services import is_country, is_currency, slugify
from secretariat.permissions import OutOfScope, Permission, ensure_permission

#: A grant report is due this many days after the end of the period it covers.
REPORT_DUE_DAYS = 60
#: Largest grant amount the column holds (14 digits, 2 after the point).
MAX_AMOUNT = Decimal("999999999999.99")


class FundingError(ValueError):
    """The data cannot be saved; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _clean(text: str | None) -> str | None:
    text = " ".join((text or "").split())
    return text or None


def _unique_slug(session: Session, model: type, wanted: str, own_id: int | None) -> str:
    base = wanted or "item"
    slug, n = base, 2
    while session.scalar(
        select(model.id).where(model.slug == slug, model.id != (own_id or 0))  # type: ignore[attr-defined]
    ):
        slug, n = f"{base[:95]}-{n}", n + 1
    return slug


# --- funders --------------------------------------------------------------------------------


@dataclass
class FunderData:
    name: str
    kind: object = FunderKind.OTHER
    country: str | None = None
    website: str | None = None
    notes: str | None = None


def _check_funder(data: FunderData) -> dict[str, str]:
    errors: dict[str, str] = {}
    data.name = _clean(data.name) or ""
    data.country = _clean(data.country)
    data.website = _clean(data.website)
    data.notes = (data.notes or "").strip() or None
    if not data.name:
        errors["name"] = _("Enter the funder's name.")
    elif len(data.name) > 255:
        errors["name"] = _("Use at most 255 characters.")
    if not isinstance(data.kind, FunderKind):
        errors["kind"] = _("Choose the kind of funder.")
    if data.country:
        data.country = data.country.upper()
        if not is_country(data.country):
            errors["country"] = _(
                "“%(code)s” is not a two-letter ISO 3166 country code.", code=data.country
            )
    if data.website and (
        len(data.website) > 500 or not re.match(r"^https?://[^\s/]+\.[^\s]+$", data.website)
    ):
        errors["website"] = _("Enter a web address starting with https://.")
    return errors


def _apply_funder(funder: Funder, data: FunderData) -> None:
    assert isinstance(data.kind, FunderKind)
    funder.name = data.name
    funder.kind = data.kind
    funder.country = data.country
    funder.website = data.website
    funder.notes = data.notes


def create_funder(session: Session, actor: User | None, data: FunderData) -> Funder:
    if actor is not None:
        ensure_permission(actor, Permission.MANAGE_FUNDING)
    errors = _check_funder(data)
    if errors:
        raise FundingError(errors)
    funder = Funder(slug=_unique_slug(session, Funder, slugify(data.name), None))
    _apply_funder(funder, data)
    session.add(funder)
    session.flush()
    return funder


def update_funder(session: Session, actor: User, funder: Funder, data: FunderData) -> None:
    ensure_permission(actor, Permission.MANAGE_FUNDING)
    errors = _check_funder(data)
    if errors:
        raise FundingError(errors)
    _apply_funder(funder, data)
    session.flush()


# --- programmes -----------------------------------------------------------------------------


@dataclass
class ProgrammeData:
    name: str
    starts_on: date | None
    ends_on: date | None
    coverage: object = Coverage.ALL
    description: str | None = None
    group_id: int | None = None
    member_ids: list[int] = field(default_factory=list)
    lead_id: int | None = None
    #: (indicator id, target or None), in the order shown.
    indicators: list[tuple[int, object]] = field(default_factory=list)


def _check_programme(session: Session, data: ProgrammeData) -> dict[str, str]:
    errors: dict[str, str] = {}
    data.name = _clean(data.name) or ""
    data.description = (data.description or "").strip() or None
    if not data.name:
        errors["name"] = _("Enter the programme's name.")
    elif len(data.name) > 255:
        errors["name"] = _("Use at most 255 characters.")
    if data.starts_on is None:
        errors["starts_on"] = _("Enter the day the programme starts.")
    if data.ends_on is None:
        errors["ends_on"] = _("Enter the day the programme ends.")
    elif data.starts_on is not None and data.ends_on < data.starts_on:
        errors["ends_on"] = _("The programme cannot end before it starts.")
    if not isinstance(data.coverage, Coverage):
        errors["coverage"] = _("Choose which members the programme covers.")
    elif data.coverage is Coverage.GROUP:
        if data.group_id is None or session.get(WorkingGroup, data.group_id) is None:
            errors["group_id"] = _("Choose the working group whose members it covers.")
    elif data.coverage is Coverage.CHOSEN:
        ids = sorted(set(data.member_ids))
        found = set(session.scalars(select(Member.id).where(Member.id.in_(ids)))) if ids else set()
        if not ids:
            errors["member_ids"] = _("Choose at least one member.")
        elif found != set(ids):
            errors["member_ids"] = _("Some of the chosen members do not exist.")
        data.member_ids = ids
    if data.lead_id is not None:
        lead = session.get(User, data.lead_id)
        if lead is None or lead.role not in (Role.ADMIN, Role.STAFF) or not lead.is_active:
            errors["lead_id"] = _("The lead must be an active member of staff.")
    seen: set[int] = set()
    checked: list[tuple[int, object]] = []
    for indicator_id, raw_target in data.indicators:
        if indicator_id in seen:
            errors["indicators"] = _("Each indicator can be listed once.")
            continue
        seen.add(indicator_id)
        target = _decimal(raw_target)
        if target is False:
            errors["indicators"] = _("Targets must be numbers (use a point for decimals).")
        checked.append((indicator_id, target))
    if seen:
        known = set(session.scalars(select(Indicator.id).where(Indicator.id.in_(seen))))
        if known != seen:
            errors["indicators"] = _("Some of the chosen indicators do not exist.")
    data.indicators = checked
    return errors


def _decimal(raw: object) -> Decimal | None | bool:
    """A Decimal from a number or text (read as indicators read them), None when empty,
    False when it is not a usable number."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, Decimal):
        return raw if raw.is_finite() else False
    try:
        return parse_number(str(raw))
    except BadValue:
        return False


def _apply_programme(programme: Programme, data: ProgrammeData) -> None:
    assert isinstance(data.coverage, Coverage)
    assert data.starts_on is not None and data.ends_on is not None
    programme.name = data.name
    programme.description = data.description
    programme.starts_on = data.starts_on
    programme.ends_on = data.ends_on
    programme.coverage = data.coverage
    programme.group_id = data.group_id if data.coverage is Coverage.GROUP else None
    programme.lead_id = data.lead_id
    wanted = set(data.member_ids) if data.coverage is Coverage.CHOSEN else set()
    programme.chosen_members = [pm for pm in programme.chosen_members if pm.member_id in wanted]
    have = {pm.member_id for pm in programme.chosen_members}
    programme.chosen_members += [ProgrammeMember(member_id=m) for m in sorted(wanted - have)]
    current = {pi.indicator_id: pi for pi in programme.indicators}
    rows = []
    for position, (indicator_id, target) in enumerate(data.indicators, start=1):
        row = current.get(indicator_id) or ProgrammeIndicator(indicator_id=indicator_id)
        row.target = target if isinstance(target, Decimal) else None
        row.position = position
        rows.append(row)
    programme.indicators = rows


def create_programme(session: Session, actor: User | None, data: ProgrammeData) -> Programme:
    if actor is not None:
        ensure_permission(actor, Permission.MANAGE_FUNDING)
    errors = _check_programme(session, data)
    if errors:
        raise FundingError(errors)
    programme = Programme(slug=_unique_slug(session, Programme, slugify(data.name), None))
    _apply_programme(programme, data)
    session.add(programme)
    session.flush()
    return programme


def update_programme(
    session: Session, actor: User, programme: Programme, data: ProgrammeData
) -> None:
    ensure_permission(actor, Permission.MANAGE_FUNDING)
    errors = _check_programme(session, data)
    if errors:
        raise FundingError(errors)
    _apply_programme(programme, data)
    session.flush()


def covered_member_select(programme: Programme) -> Select[tuple[int]]:
    """The ids of the members a programme covers today, as a statement (for subqueries)."""
    if programme.coverage is Coverage.ALL:
        return select(Member.id).where(Member.status == MemberStatus.ACTIVE)
    if programme.coverage is Coverage.GROUP:
        return select(GroupMembership.member_id).where(
            GroupMembership.group_id == programme.group_id, GroupMembership.left_on.is_(None)
        )
    return select(ProgrammeMember.member_id).where(ProgrammeMember.programme_id == programme.id)


def covered_member_ids(session: Session, programme: Programme) -> list[int]:
    """The members a programme covers today."""
    return sorted(set(session.scalars(covered_member_select(programme))))


# --- grants ---------------------------------------------------------------------------------


@dataclass
class GrantData:
    funder_id: int | None
    programme_id: int | None
    amount: object
    currency: str | None
    starts_on: date | None
    ends_on: date | None
    frequency: object = Frequency.ANNUAL
    reference: str | None = None


def report_schedule(
    starts_on: date, ends_on: date, frequency: Frequency
) -> list[tuple[date, date, date]]:
    """(period start, period end, due day) of each report: every 12 or 6 months from the start,
    the last period ending with the grant, each due ``REPORT_DUE_DAYS`` after its end."""
    step = relativedelta(months=12 if frequency is Frequency.ANNUAL else 6)
    periods = []
    n = 0
    start = starts_on
    while start <= ends_on:
        n += 1
        # Counted from the grant's start, so 31 August stays the end of August.
        end = min(starts_on + step * n - timedelta(days=1), ends_on)
        periods.append((start, end, end + timedelta(days=REPORT_DUE_DAYS)))
        start = end + timedelta(days=1)
    return periods


def _check_grant(session: Session, data: GrantData) -> dict[str, str]:
    errors: dict[str, str] = {}
    data.reference = _clean(data.reference)
    data.currency = (data.currency or "").strip().upper() or None
    if data.funder_id is None or session.get(Funder, data.funder_id) is None:
        errors["funder_id"] = _("Choose the funder.")
    if data.programme_id is None or session.get(Programme, data.programme_id) is None:
        errors["programme_id"] = _("Choose the programme it funds.")
    amount = _decimal(data.amount)
    if amount is None:
        errors["amount"] = _("Enter the amount.")
    elif amount is False or not isinstance(amount, Decimal):
        errors["amount"] = _("Enter the amount as a number (use a point for decimals).")
    elif amount <= 0 or amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        errors["amount"] = _("Enter a positive amount with at most two decimals.")
    else:
        data.amount = amount
    if not data.currency or not is_currency(data.currency):
        errors["currency"] = _("Enter a three-letter ISO 4217 currency code, e.g. EUR.")
    if data.starts_on is None:
        errors["starts_on"] = _("Enter the day the grant starts.")
    if data.ends_on is None:
        errors["ends_on"] = _("Enter the day the grant ends.")
    elif data.starts_on is not None and data.ends_on < data.starts_on:
        errors["ends_on"] = _("The grant cannot end before it starts.")
    if not isinstance(data.frequency, Frequency):
        errors["frequency"] = _("Choose how often the funder receives a report.")
    if data.reference and len(data.reference) > 100:
        errors["reference"] = _("Use at most 100 characters.")
    return errors


def _apply_grant(grant: Grant, data: GrantData) -> None:
    assert data.funder_id is not None and data.programme_id is not None
    assert isinstance(data.amount, Decimal) and isinstance(data.frequency, Frequency)
    assert data.currency and data.starts_on and data.ends_on
    grant.funder_id = data.funder_id
    grant.programme_id = data.programme_id
    grant.reference = data.reference
    grant.amount = data.amount
    grant.currency = data.currency
    grant.starts_on = data.starts_on
    grant.ends_on = data.ends_on
    grant.frequency = data.frequency
    # Reports already sent stay as they were; the others follow the new dates (a report of
    # the same period keeps its row, so the unique period end is never written twice).
    existing = {report.period_end: report for report in grant.reports}
    kept = [report for report in grant.reports if report.sent_on is not None]
    for start, end, due in report_schedule(data.starts_on, data.ends_on, data.frequency):
        report = existing.get(end)
        if report is None:
            kept.append(GrantReport(period_start=start, period_end=end, due_on=due))
        elif report.sent_on is None:
            report.period_start, report.due_on = start, due
            kept.append(report)
    grant.reports = kept


def create_grant(session: Session, actor: User | None, data: GrantData) -> Grant:
    if actor is not None:
        ensure_permission(actor, Permission.MANAGE_FUNDING)
    errors = _check_grant(session, data)
    if errors:
        raise FundingError(errors)
    grant = Grant()
    _apply_grant(grant, data)
    session.add(grant)
    session.flush()
    return grant


def update_grant(session: Session, actor: User, grant: Grant, data: GrantData) -> None:
    ensure_permission(actor, Permission.MANAGE_FUNDING)
    errors = _check_grant(session, data)
    if errors:
        raise FundingError(errors)
    _apply_grant(grant, data)
    session.flush()


# --- grant reports --------------------------------------------------------------------------


def mark_report_sent(
    session: Session, actor: User, report: GrantReport, sent_on: date | None
) -> None:
    """Record the day a report went to the funder: not in the future, not before its period
    ended."""
    ensure_permission(actor, Permission.MANAGE_FUNDING)
    if report.sent_on is not None:
        message = _(
            "This report is already marked as sent on %(date)s.", date=format_date(report.sent_on)
        )
    elif sent_on is None:
        message = _("Enter the day the report was sent.")
    elif sent_on > network_today():
        message = _("The day the report was sent cannot be in the future.")
    elif sent_on < report.period_end:
        message = _(
            "A report cannot be sent before the end of the period it covers (%(date)s).",
            date=format_date(report.period_end),
        )
    else:
        report.sent_on = sent_on
        session.flush()
        return
    raise FundingError({"sent_on": message})


def mark_report_unsent(session: Session, actor: User, report: GrantReport) -> None:
    """Undo a report's "sent" mark: it is owed again."""
    ensure_permission(actor, Permission.MANAGE_FUNDING)
    if report.sent_on is None:
        raise FundingError({"sent_on": _("This report is not marked as sent.")})
    report.sent_on = None
    session.flush()


# --- funder contacts (the funder's users) ---------------------------------------------------


def invite_funder_contact(
    session: Session, actor: User, funder: Funder, name: str | None, email: str | None
) -> User:
    """Create a user of the funder and e-mail them an invitation (validated first)."""
    ensure_permission(actor, Permission.MANAGE_FUNDING)
    errors: dict[str, str] = {}
    name = _clean(name)
    email = (email or "").strip()
    if not name:
        errors["name"] = _("Enter the person's name.")
    elif len(name) > 255:
        errors["name"] = _("Use at most 255 characters.")
    if not email:
        errors["email"] = _("Enter the person's e-mail address.")
    else:
        try:
            email = validate_email(email, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            errors["email"] = _("“%(email)s” is not an e-mail address.", email=email)
    if errors:
        raise FundingError(errors)
    assert name is not None
    data = UserData(email=email, name=name, role=Role.FUNDER, funder=funder)
    try:
        return invite_user(session, data, invited_by=actor)
    except AccountError as exc:
        raise FundingError({exc.field or "email": exc.message}) from exc


def deactivate_funder_contact(session: Session, actor: User, funder: Funder, user: User) -> None:
    """End the access of one of the funder's users (only theirs: anyone else is out of scope)."""
    ensure_permission(actor, Permission.MANAGE_FUNDING)
    if user.role is not Role.FUNDER or user.funder_id != funder.id:
        raise OutOfScope()
    if not user.is_active:
        raise FundingError({"user": _("%(name)s is already deactivated.", name=user.name)})
    try:
        deactivate_user(session, actor, user)
    except AccountError as exc:
        raise FundingError({"user": exc.message}) from exc
