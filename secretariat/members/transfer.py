"""Import and export of members and contacts (CSV or XLSX).

An import is planned first: every row is parsed and validated and compared with the
database, and nothing is written unless every row is valid. Members are matched by slug,
contacts by member and e-mail (or member and name when there is no e-mail), so importing
the same file twice changes nothing, and an exported file imports back unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from secretariat.accounts.models import User
from secretariat.db import utcnow
from secretariat.members import services
from secretariat.members.models import Contact, ContactRole, Member, MemberKind, MemberStatus
from secretariat.permissions import Permission, ensure_permission
from secretariat.tabular import Table, TableError
from secretariat.vocabularies.models import Term, Vocabulary
from secretariat.vocabularies.services import terms

MEMBER_COLUMNS = [
    "slug",
    "name",
    "kind",
    "country",
    "region",
    "population",
    "joined_on",
    "status",
    "tier",
    "annual_fee",
    "fee_currency",
    "next_election_on",
    "leader_term_ends_on",
    "website",
    "notes",
]
MEMBER_REQUIRED = {"slug", "name", "kind", "country"}

CONTACT_COLUMNS = [
    "member",
    "name",
    "email",
    "phone",
    "job_title",
    "role",
    "is_primary",
    "active_from",
    "active_to",
    "language",
]
CONTACT_REQUIRED = {"member", "name", "role"}

TRUE_WORDS = {"yes", "y", "true", "1", "x"}
FALSE_WORDS = {"no", "n", "false", "0"}


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class Change:
    """One row that will create or update a record; ``changes`` maps field to (old, new)."""

    row: int
    key: str
    label: str
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass
class ImportPlan:
    kind: str
    creates: list[Change] = field(default_factory=list)
    updates: list[Change] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: Callables that write the rows; run only when there are no errors.
    _writers: list[Callable[[Session, User | None], None]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def has_changes(self) -> bool:
        return bool(self.creates or self.updates)


class ImportRefused(Exception):
    def __init__(self, plan: ImportPlan) -> None:
        super().__init__(f"{len(plan.errors)} error(s) in the file")
        self.plan = plan


# -- cell parsing --------------------------------------------------------------------------


class CellError(ValueError):
    pass


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise CellError(
            _("“%(value)s” is not a date; write it as YYYY-MM-DD.", value=value)
        ) from exc


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CellError(_("“%(value)s” is not a whole number.", value=value))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip().replace("_", "")
    try:
        return int(text)
    except ValueError as exc:
        raise CellError(_("“%(value)s” is not a whole number.", value=value)) from exc


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise CellError(_("“%(value)s” is not an amount.", value=value)) from exc
    if not amount.is_finite():
        raise CellError(_("“%(value)s” is not an amount.", value=value))
    return amount  # more than two decimal places is refused by the member validation


def _bool(value: Any) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(_("Write yes or no, not “%(value)s”.", value=value))


def _choice(enum_cls: type, value: Any, what: str) -> Any:
    text = (_text(value) or "").lower().replace(" ", "_").replace("-", "_")
    try:
        return enum_cls(text)
    except ValueError as exc:
        allowed = ", ".join(member.value for member in enum_cls)
        raise CellError(
            _(
                "Unknown %(what)s “%(value)s”; use one of: %(allowed)s.",
                what=what,
                value=value or "",
                allowed=allowed,
            )
        ) from exc


def _check_headers(table: Table, known: list[str], required: set[str]) -> list[RowError]:
    errors = []
    for header in table.headers:
        if header and header not in known:
            errors.append(
                RowError(
                    1,
                    header,
                    _("Unknown column; the columns are: %(columns)s.", columns=", ".join(known)),
                )
            )
    seen: set[str] = set()
    for header in table.headers:
        if header in seen:
            errors.append(RowError(1, header, _("This column appears twice.")))
        seen.add(header)
    for column in sorted(required - set(table.headers)):
        errors.append(RowError(1, column, _("This column is required.")))
    return errors


def _diff(obj: Any, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {
        name: (getattr(obj, name), new) for name, new in values.items() if getattr(obj, name) != new
    }


class _CellReader:
    """Parse the cells of one row, collecting every problem instead of stopping at the first."""

    def __init__(self, number: int, row: dict[str, Any], errors: list[RowError]) -> None:
        self.number = number
        self.row = row
        self.errors = errors

    def __call__(self, column: str, parse: Callable[[Any], Any]) -> Any:
        try:
            return parse(self.row.get(column))
        except CellError as exc:
            self.errors.append(RowError(self.number, column, str(exc)))
            return None


# -- members -------------------------------------------------------------------------------


def plan_member_import(session: Session, table: Table) -> ImportPlan:
    """Validate every row and work out what would be created and changed."""
    plan = ImportPlan(kind="members")
    plan.errors.extend(_check_headers(table, MEMBER_COLUMNS, MEMBER_REQUIRED))
    if plan.errors:
        return plan
    present = set(table.headers)
    regions = {t.label.casefold(): t for t in terms(session, Vocabulary.REGION)}
    tiers = {t.label.casefold(): t for t in terms(session, Vocabulary.TIER)}
    existing = {
        m.slug: m for m in session.scalars(select(Member).options(joinedload(Member.region)))
    }
    seen_slugs: dict[str, int] = {}

    for number, row in table.rows:
        row_errors: list[RowError] = []
        cell = _CellReader(number, row, row_errors)

        slug = (_text(row.get("slug")) or "").lower()
        target = existing.get(slug)
        values: dict[str, Any] = {}
        values["name"] = _text(row.get("name")) or ""
        values["slug"] = slug
        values["kind"] = cell("kind", lambda v: _choice(MemberKind, v, _("kind")))
        values["country"] = (_text(row.get("country")) or "").upper()
        if "region" in present:
            values["region_id"] = cell("region", lambda v: _term(regions, v, _("region")))
        if "population" in present:
            values["population"] = cell("population", _int)
        if "joined_on" in present:
            values["joined_on"] = cell("joined_on", _date)
            if values["joined_on"] is None and target is not None and target.joined_on:
                del values["joined_on"]  # an empty cell keeps the date the services set
        if "tier" in present:
            values["tier_id"] = cell("tier", lambda v: _term(tiers, v, _("tier")))
        if "annual_fee" in present:
            values["annual_fee"] = cell("annual_fee", _decimal)
        if "fee_currency" in present:
            values["fee_currency"] = (_text(row.get("fee_currency")) or "").upper() or None
        for column in ("next_election_on", "leader_term_ends_on"):
            if column in present:
                values[column] = cell(column, _date)
        for column in ("website", "notes"):
            if column in present:
                values[column] = _text(row.get(column))
        status = None
        if "status" in present and _text(row.get("status")):
            status = cell("status", lambda v: _choice(MemberStatus, v, _("status")))

        if slug and slug in seen_slugs:
            row_errors.append(
                RowError(
                    number,
                    "slug",
                    _(
                        "The slug “%(slug)s” is also on row %(other)d.",
                        slug=slug,
                        other=seen_slugs[slug],
                    ),
                )
            )
        elif slug:
            seen_slugs[slug] = number

        # Validate the record as it would be saved, with the same rules as the form.
        base = (
            services.MemberData.from_member(target)
            if target
            else services.MemberData(name="", slug="", kind=MemberKind.CITY, country="")
        )
        data = services.MemberData(**{**base.__dict__, **values})
        if values["kind"] is None:
            data.kind = None  # type: ignore[assignment]
        field_errors = services.validate_member(session, data, target.id if target else None)
        column_of = {"region_id": "region", "tier_id": "tier"}
        for name, message in field_errors.items():
            column = column_of.get(name, name)
            if any(e.column == column for e in row_errors):
                continue
            if name == "kind" and values["kind"] is None:
                continue
            row_errors.append(RowError(number, column, message))

        if row_errors:
            plan.errors.extend(row_errors)
            continue

        if target is None:
            plan.creates.append(Change(number, slug, data.name))
            new_status = status or MemberStatus.ACTIVE
            plan._writers.append(_member_creator(data, new_status))
        else:
            changes = _diff(target, {k: getattr(data, k) for k in values})
            if status is not None and status != target.status:
                changes["status"] = (target.status, status)
            if changes:
                plan.updates.append(Change(number, slug, data.name, changes))
                plan._writers.append(_member_updater(target.id, data, status))
            else:
                plan.unchanged += 1
    return plan


def _term(by_label: dict[str, Term], value: Any, what: str) -> int | None:
    label = _text(value)
    if label is None:
        return None
    term = by_label.get(label.casefold())
    if term is None:
        known = ", ".join(t.label for t in by_label.values())
        raise CellError(
            _(
                "Unknown %(what)s “%(value)s”; known: %(known)s.",
                what=what,
                value=label,
                known=known,
            )
        )
    return term.id


def _member_creator(data: services.MemberData, status: MemberStatus):  # type: ignore[no-untyped-def]
    def write(session: Session, actor: User | None) -> None:
        services.create_member(
            session, actor, data, status=status, reason=_("Created by a file import.")
        )

    return write


def _member_updater(member_id: int, data: services.MemberData, status: MemberStatus | None):  # type: ignore[no-untyped-def]
    def write(session: Session, actor: User | None) -> None:
        member = session.get(Member, member_id)
        assert member is not None
        services.update_member(session, actor, member, data)
        if status is not None and status != member.status:
            services.change_status(session, actor, member, status, _("Changed by a file import."))

    return write


def apply_plan(session: Session, actor: User | None, plan: ImportPlan) -> None:
    """Write a plan that has no errors; refuse one that has any."""
    if actor is not None:
        ensure_permission(actor, Permission.MANAGE_MEMBERS)
    if not plan.ok:
        raise ImportRefused(plan)
    for write in plan._writers:
        write(session, actor)
    session.flush()


def import_members(session: Session, actor: User | None, table: Table) -> ImportPlan:
    plan = plan_member_import(session, table)
    apply_plan(session, actor, plan)
    return plan


def member_rows(session: Session, members: list[Member] | None = None) -> list[list[Any]]:
    if members is None:
        members = list(
            session.scalars(
                select(Member)
                .options(joinedload(Member.region), joinedload(Member.tier))
                .order_by(Member.slug)
            )
        )
    return [
        [
            m.slug,
            m.name,
            m.kind.value,
            m.country,
            m.region.label if m.region else None,
            m.population,
            m.joined_on,
            m.status.value,
            m.tier.label if m.tier else None,
            m.annual_fee,
            m.fee_currency,
            m.next_election_on,
            m.leader_term_ends_on,
            m.website,
            m.notes,
        ]
        for m in members
    ]


# -- contacts ------------------------------------------------------------------------------


def _contact_key(member_slug: str, email: str | None, name: str) -> str:
    return f"{member_slug}|{'@' + email.lower() if email else services.fold(name)}"


def plan_contact_import(session: Session, table: Table, today: date | None = None) -> ImportPlan:
    """Validate every contact row and work out what would be created and changed."""
    today = today or utcnow().date()
    plan = ImportPlan(kind="contacts")
    plan.errors.extend(_check_headers(table, CONTACT_COLUMNS, CONTACT_REQUIRED))
    if plan.errors:
        return plan
    present = set(table.headers)
    members = {m.slug: m for m in session.scalars(select(Member))}
    existing: dict[str, list[Contact]] = {}
    for contact in session.scalars(
        select(Contact).options(joinedload(Contact.member)).order_by(Contact.id)
    ):
        existing.setdefault(
            _contact_key(contact.member.slug, contact.email, contact.name), []
        ).append(contact)
    seen: dict[tuple[str, date | None], int] = {}
    primary_rows: dict[str, int] = {}

    for number, row in table.rows:
        row_errors: list[RowError] = []
        cell = _CellReader(number, row, row_errors)

        member_slug = (_text(row.get("member")) or "").lower()
        member = members.get(member_slug)
        if member is None:
            row_errors.append(
                RowError(
                    number, "member", _("No member has the slug “%(slug)s”.", slug=member_slug)
                )
            )
        name = _text(row.get("name")) or ""
        email = _text(row.get("email")) if "email" in present else None
        key = _contact_key(member_slug, email, name)
        try:
            row_start = _date(row.get("active_from")) if "active_from" in present else None
        except CellError:
            row_start = None
        target = _match_contact(existing.get(key, []), row_start)
        base = (
            services.ContactData.from_contact(target)
            if target
            else services.ContactData(name="", role=ContactRole.OTHER)
        )
        values: dict[str, Any] = {"name": name}
        values["role"] = cell("role", lambda v: _choice(ContactRole, v, _("role")))
        for column in ("email", "phone", "job_title", "language"):
            if column in present:
                values[column] = _text(row.get(column))
        if "is_primary" in present:
            values["is_primary"] = cell("is_primary", _bool)
        for column in ("active_from", "active_to"):
            if column in present:
                values[column] = cell(column, _date)
        if values.get("active_from", 0) is None and target is not None and target.active_from:
            del values["active_from"]  # an empty cell keeps the start date (today by default)
        data = services.ContactData(**{**base.__dict__, **values})
        if values["role"] is None:
            data.role = None  # type: ignore[assignment]
        for name_, message in services.validate_contact(data, today).items():
            if any(e.column == name_ for e in row_errors):
                continue
            if name_ == "role" and values["role"] is None:
                continue
            row_errors.append(RowError(number, name_, message))
        if (key, row_start) in seen:
            row_errors.append(
                RowError(
                    number,
                    "email" if email else "name",
                    _("The same contact is also on row %(other)d.", other=seen[(key, row_start)]),
                )
            )
        else:
            seen[(key, row_start)] = number
        if data.is_primary and member is not None:
            if member_slug in primary_rows:
                row_errors.append(
                    RowError(
                        number,
                        "is_primary",
                        _(
                            "Row %(other)d already makes another contact the primary focal point "
                            "of this member.",
                            other=primary_rows[member_slug],
                        ),
                    )
                )
            else:
                primary_rows[member_slug] = number

        if row_errors:
            plan.errors.extend(row_errors)
            continue
        assert member is not None
        label = f"{data.name} ({member.name})"
        if target is None:
            plan.creates.append(Change(number, key, label))
            plan._writers.append(_contact_creator(member.id, data))
        else:
            changes = _diff(target, {k: getattr(data, k) for k in values})
            if changes:
                plan.updates.append(Change(number, key, label, changes))
                plan._writers.append(_contact_updater(target.id, data))
            else:
                plan.unchanged += 1
    return plan


def _match_contact(candidates: list[Contact], start: date | None) -> Contact | None:
    """The contact a row updates: the same person and, when there are several, start date."""
    if start is not None:
        for contact in candidates:
            if contact.active_from == start:
                return contact
    if len(candidates) == 1:
        return candidates[0]
    current = [c for c in candidates if c.active_to is None]
    return current[-1] if current else (candidates[-1] if candidates else None)


def _contact_creator(member_id: int, data: services.ContactData):  # type: ignore[no-untyped-def]
    def write(session: Session, actor: User | None) -> None:
        member = session.get(Member, member_id)
        assert member is not None
        services.add_contact(session, actor, member, data)

    return write


def _contact_updater(contact_id: int, data: services.ContactData):  # type: ignore[no-untyped-def]
    def write(session: Session, actor: User | None) -> None:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        services.update_contact(session, actor, contact, data)

    return write


def import_contacts(session: Session, actor: User | None, table: Table) -> ImportPlan:
    plan = plan_contact_import(session, table)
    apply_plan(session, actor, plan)
    return plan


def contact_rows(session: Session) -> list[list[Any]]:
    contacts = session.scalars(
        select(Contact)
        .join(Contact.member)
        .options(joinedload(Contact.member))
        .order_by(Member.slug, Contact.name, Contact.id)
    )
    return [
        [
            c.member.slug,
            c.name,
            c.email,
            c.phone,
            c.job_title,
            c.role.value,
            "yes" if c.is_primary else "no",
            c.active_from,
            c.active_to,
            c.language,
        ]
        for c in contacts
    ]


def plan_import(session: Session, what: str, table: Table) -> ImportPlan:
    if what == "members":
        return plan_member_import(session, table)
    if what == "contacts":
        return plan_contact_import(session, table)
    raise TableError(_("Unknown import kind."))
