"""Attendance files exported by video-conferencing tools (Zoom, Teams, Meet, Webex...).

Read the participants table, match people to contacts by e-mail (ignoring case), show the
plan, then write it. Rows that match nobody are kept for staff to resolve, never dropped;
importing the same file again changes nothing.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from secretariat.accounts.models import User
from secretariat.db import utcnow
from secretariat.events.models import (
    Attendance,
    AttendanceImport,
    AttendanceSource,
    Event,
    Invitation,
    UnmatchedAttendee,
    UnmatchedStatus,
)
from secretariat.events.services import ensure_started, event_zone
from secretariat.members.models import Contact
from secretariat.members.services import ValidationFailed, fold
from secretariat.permissions import Permission, ensure_permission

#: Column names used by the common tools, by what they hold (compared in lower case).
ALIASES: dict[str, tuple[str, ...]] = {
    "name": (
        "name",
        "name (original name)",
        "full name",
        "participant",
        "participant name",
        "display name",
        "attendee",
        "attendee name",
        "user name",
    ),
    "first_name": ("first name", "given name"),
    "last_name": ("last name", "surname", "family name"),
    "email": (
        "email",
        "e-mail",
        "user email",
        "email address",
        "e-mail address",
        "attendee email",
        "participant email",
    ),
    "joined": ("join time", "first join", "time joined", "joined", "join", "joined at"),
    "left": ("leave time", "last leave", "time exited", "left", "leave", "left at", "exit time"),
    "minutes": (
        "duration (minutes)",
        "duration (mins)",
        "duration (min)",
        "duration",
        "in-meeting duration",
        "attendance duration",
        "time in session (minutes)",
        "total duration",
        "minutes",
    ),
}
COLUMN_OF = {alias: key for key, aliases in ALIASES.items() for alias in aliases}

TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y, %I:%M:%S %p",
    "%m/%d/%y, %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y, %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%H:%M:%S",
    "%I:%M:%S %p",
    "%I:%M %p",
    "%H:%M",
)
DURATION_PART = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(h|hr|hrs|hours?|m|min|mins|minutes?|s|sec|secs|seconds?)\b"
)
SECTION_TITLE = re.compile(r"^\d+\.\s+\S")


@dataclass
class Line:
    """One person's row(s) in the file, merged by e-mail (or name when there is none)."""

    numbers: list[int]
    name: str | None
    email: str | None
    joined_at: datetime | None
    left_at: datetime | None
    minutes: int | None

    @property
    def key(self) -> str:
        return self.email if self.email else "name:" + fold(self.name or "")


@dataclass
class AttendanceFile:
    lines: list[Line] = field(default_factory=list)
    #: Problems that stop the import, each with its line number.
    errors: list[tuple[int | None, str]] = field(default_factory=list)
    #: Things skipped or ignored, reported but not in the way.
    notices: list[tuple[int | None, str]] = field(default_factory=list)


def decode(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM) or UTF-16 with a BOM, as the tools export."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ValidationFailed({"file": _("The file is damaged UTF-16 text.")}) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationFailed(
            {
                "file": _(
                    "Line %(line)d is not UTF-8 text (byte 0x%(byte)02X). Export the file again "
                    "as CSV UTF-8 and upload it.",
                    line=line,
                    byte=data[exc.start],
                )
            }
        ) from exc


def _header_key(cell: str) -> str:
    return " ".join(cell.strip().lstrip("\ufeff").lower().split())


def read_attendance_file(data: bytes, event: Event) -> AttendanceFile:
    """Read the participants table of the file; every problem is reported with its line."""
    if not data.strip():
        raise ValidationFailed({"file": _("The file is empty.")})
    text = decode(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(("\t", ";", ","), key=first.count) if first else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    result = AttendanceFile()
    # The first row naming people; Zoom's meeting summary above its table has an e-mail
    # column too (the host's), so a row with e-mail addresses alone is only a fallback.
    header_index = email_only = None
    for index, row in enumerate(rows):
        keys = {COLUMN_OF.get(_header_key(cell)) for cell in row}
        if "name" in keys or {"first_name", "last_name"} <= keys:
            header_index = index
            break
        if "email" in keys and email_only is None:
            email_only = index
    if header_index is None:
        header_index = email_only
    if header_index is None:
        raise ValidationFailed(
            {
                "file": _(
                    "No participants table found: the file needs a column of e-mail addresses "
                    "or names (e.g. “Email”, “Name”)."
                )
            }
        )
    if header_index:
        result.notices.append(
            (
                None,
                _(
                    "Lines 1–%(last)d before the column names were skipped (meeting summary).",
                    last=header_index,
                ),
            )
        )
    columns: dict[str, int] = {}
    for position, cell in enumerate(rows[header_index]):
        key = COLUMN_OF.get(_header_key(cell))
        if key is None:
            if cell.strip():
                result.notices.append(
                    (
                        header_index + 1,
                        _("Column “%(name)s” is not used; it was ignored.", name=cell.strip()),
                    )
                )
        elif key not in columns:
            columns[key] = position
    zone = event_zone(event)
    merged: dict[str, Line] = {}
    for index in range(header_index + 1, len(rows)):
        number = index + 1
        row = rows[index]
        if not any(cell.strip() for cell in row):
            result.notices.append((number, _("Empty row; skipped.")))
            continue
        if SECTION_TITLE.match(row[0].strip()) and not any(c.strip() for c in row[1:]):
            result.notices.append(
                (
                    number,
                    _(
                        "Lines %(first)d–%(last)d hold another section of the report; they "
                        "were not read.",
                        first=number,
                        last=len(rows),
                    ),
                )
            )
            break
        if [_header_key(c) for c in row] == [_header_key(c) for c in rows[header_index]]:
            result.notices.append((number, _("The column names again; skipped.")))
            continue
        line = _read_row(row, columns, number, event, zone, result)
        if line is None:
            continue
        previous = merged.get(line.key)
        if previous is None:
            merged[line.key] = line
        else:
            _merge(previous, line)
    if not merged and not result.errors:
        result.errors.append((None, _("The file lists no participants.")))
    result.lines = list(merged.values())
    return result


def _cell(row: list[str], columns: dict[str, int], key: str) -> str:
    position = columns.get(key)
    if position is None or position >= len(row):
        return ""
    return row[position].strip()


def _read_row(
    row: list[str],
    columns: dict[str, int],
    number: int,
    event: Event,
    zone: ZoneInfo,
    result: AttendanceFile,
) -> Line | None:
    name = _cell(row, columns, "name") or " ".join(
        p for p in (_cell(row, columns, "first_name"), _cell(row, columns, "last_name")) if p
    )
    email = _cell(row, columns, "email").lower() or None
    problems = []
    if email is not None:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            problems.append(_("“%(value)s” is not an e-mail address.", value=email))
    if not name and not email:
        problems.append(_("The row has neither a name nor an e-mail address."))
    joined = _time(_cell(row, columns, "joined"), event, zone)
    left = _time(_cell(row, columns, "left"), event, zone)
    minutes = _minutes(_cell(row, columns, "minutes"))
    for key, label, value in (
        ("joined", _("join time"), joined),
        ("left", _("leave time"), left),
        ("minutes", _("duration"), minutes),
    ):
        if value is False:
            problems.append(
                _(
                    "The %(what)s “%(value)s” is not understood.",
                    what=label,
                    value=_cell(row, columns, key),
                )
            )
    if problems:
        result.errors.extend((number, problem) for problem in problems)
        return None
    if minutes is None and isinstance(joined, datetime) and isinstance(left, datetime):
        minutes = max(0, round((left - joined).total_seconds() / 60))
    return Line(
        numbers=[number],
        name=name or None,
        email=email,
        joined_at=joined or None,
        left_at=left or None,
        minutes=minutes,
    )


def _merge(line: Line, other: Line) -> None:
    """The same person joining several times: earliest join, latest leave, total minutes."""
    line.numbers.extend(other.numbers)
    line.name = line.name or other.name
    if other.joined_at and (line.joined_at is None or other.joined_at < line.joined_at):
        line.joined_at = other.joined_at
    if other.left_at and (line.left_at is None or other.left_at > line.left_at):
        line.left_at = other.left_at
    if other.minutes is not None:
        line.minutes = (line.minutes or 0) + other.minutes


def _time(value: str, event: Event, zone: ZoneInfo) -> datetime | None | bool:
    """A time in the file, read in the event's zone; False when it is not understood.

    Day and month order is ambiguous (03/04): the reading closest to the event wins.
    """
    if not value:
        return None
    value = " ".join(value.replace("\u202f", " ").split())
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.tzinfo is not None:
        return parsed
    start_local = event.starts_at.astimezone(zone)
    candidates = []
    if parsed is not None:
        candidates.append(parsed)
    for fmt in TIME_FORMATS:
        try:
            candidate = datetime.strptime(value, fmt)  # noqa: DTZ007 - zone attached below
        except ValueError:
            continue
        if "%d" not in fmt:  # a time of day only: on the event's (first) day
            candidate = datetime.combine(start_local.date(), candidate.time())
        candidates.append(candidate)
    if not candidates:
        return False
    best = min(candidates, key=lambda c: abs(c - start_local.replace(tzinfo=None)))
    return best.replace(tzinfo=zone)


def _minutes(value: str) -> int | None | bool:
    """Minutes from "45", "45.5", "1:05:03", "1h 5m", "65 mins"; False if not understood."""
    if not value:
        return None
    text = value.strip().lower()
    if re.fullmatch(r"\d+(?:[.,]\d+)?", text):
        return round(float(text.replace(",", ".")))
    if re.fullmatch(r"\d+:\d{2}(?::\d{2})?", text):
        parts = [int(p) for p in text.split(":")]
        if len(parts) == 2:
            parts.append(0)
        return round(parts[0] * 60 + parts[1] + parts[2] / 60)
    found = DURATION_PART.findall(text)
    if found and DURATION_PART.sub("", text).strip(" ,") == "":
        total = 0.0
        for amount, unit in found:
            number = float(amount.replace(",", "."))
            total += (
                number * 60
                if unit.startswith("h")
                else number / 60
                if unit.startswith("s")
                else number
            )
        return round(total)
    return False


# -- planning -------------------------------------------------------------------------------


@dataclass
class Match:
    line: Line
    contact: Contact
    invited: bool
    #: "new", "changed" or "unchanged" compared with what is recorded.
    effect: str


@dataclass
class Unmatched:
    line: Line
    problem: str
    #: "new" (kept for staff to resolve), "known" (already waiting or resolved) or "matched"
    #: (an earlier unmatched row of this person that now matches).
    effect: str
    suggestions: list[Contact] = field(default_factory=list)


@dataclass
class ImportPlan:
    event: Event
    filename: str
    digest: str
    file: AttendanceFile
    matches: list[Match] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    #: When this very file was imported before (then nothing changes).
    previous: AttendanceImport | None = None
    #: What the event already records, by contact and by match key, for apply_import.
    recorded: dict[int, Attendance] = field(default_factory=dict)
    waiting: dict[str, UnmatchedAttendee] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.file.errors

    @property
    def uninvited(self) -> list[Match]:
        return [m for m in self.matches if not m.invited and m.effect != "unchanged"]

    @property
    def changes(self) -> int:
        return sum(m.effect != "unchanged" for m in self.matches) + sum(
            u.effect == "new" for u in self.unmatched
        )


def plan_import(session: Session, event: Event, data: bytes, filename: str) -> ImportPlan:
    """Read the file and work out, without writing, what importing it would do."""
    file = read_attendance_file(data, event)
    digest = hashlib.sha256(data).hexdigest()
    plan = ImportPlan(event=event, filename=filename, digest=digest, file=file)
    plan.previous = session.scalar(
        select(AttendanceImport)
        .where(AttendanceImport.event_id == event.id, AttendanceImport.digest == digest)
        .options(joinedload(AttendanceImport.imported_by))
        .order_by(AttendanceImport.imported_at.desc())
        .limit(1)
    )
    if not plan.ok:
        return plan
    emails = {line.email for line in file.lines if line.email}
    contacts_by_email: dict[str, list[Contact]] = {}
    if emails:
        for contact in session.scalars(
            select(Contact)
            .where(func.lower(Contact.email).in_(emails))
            .options(joinedload(Contact.member))
        ):
            contacts_by_email.setdefault((contact.email or "").lower(), []).append(contact)
    invited = set(
        session.scalars(select(Invitation.member_id).where(Invitation.event_id == event.id))
    )
    plan.recorded = recorded = {
        row.contact_id: row
        for row in session.scalars(
            select(Attendance).where(
                Attendance.event_id == event.id, Attendance.contact_id.is_not(None)
            )
        )
    }
    plan.waiting = waiting = {
        row.match_key: row
        for row in session.scalars(
            select(UnmatchedAttendee).where(UnmatchedAttendee.event_id == event.id)
        )
    }
    event_day = event.starts_at.astimezone(event_zone(event)).date()
    names = _contacts_by_name(session, [line for line in file.lines if not line.email])
    for line in file.lines:
        contact, problem = _match(line, contacts_by_email, event_day)
        if contact is not None:
            row = recorded.get(contact.id)
            if row is None:
                effect = "new"
            elif row.attended and (row.joined_at, row.left_at, row.minutes) == (
                line.joined_at or row.joined_at,
                line.left_at or row.left_at,
                line.minutes if line.minutes is not None else row.minutes,
            ):
                effect = "unchanged"
            else:
                effect = "changed"
            plan.matches.append(Match(line, contact, contact.member_id in invited, effect))
        else:
            known = waiting.get(line.key)
            effect = "known" if known is not None else "new"
            suggestions = names.get(fold(line.name or ""), []) if not line.email else []
            plan.unmatched.append(Unmatched(line, problem, effect, suggestions))
    return plan


def _contacts_by_name(session: Session, lines: list[Line]) -> dict[str, list[Contact]]:
    wanted = {fold(line.name) for line in lines if line.name}
    if not wanted:
        return {}
    found: dict[str, list[Contact]] = {}
    for contact in session.scalars(select(Contact).options(joinedload(Contact.member))):
        key = fold(contact.name)
        if key in wanted:
            found.setdefault(key, []).append(contact)
    return found


def _match(
    line: Line, contacts_by_email: dict[str, list[Contact]], event_day: date
) -> tuple[Contact | None, str]:
    if not line.email:
        return None, _("No e-mail address in the file: match the person by hand.")
    candidates = contacts_by_email.get(line.email, [])
    if not candidates:
        return None, _("No contact has this e-mail address.")
    members = {c.member_id for c in candidates}
    if len(members) > 1:
        names = ", ".join(sorted({c.member.name for c in candidates}))
        return None, _(
            "Contacts of several members share this address (%(members)s).", members=names
        )
    current = [c for c in candidates if c.is_current(event_day)]
    if current:
        return current[0], ""
    # Only former (or future) contacts of one member: the one who held the role last.
    return max(candidates, key=lambda c: c.active_to or date.max), ""


def apply_import(
    session: Session, actor: User, plan: ImportPlan, reason: str | None
) -> AttendanceImport | None:
    """Write the plan; None when this file was imported before and nothing changes."""
    ensure_permission(actor, Permission.MANAGE_EVENTS)
    event = plan.event
    ensure_started(event)
    if not plan.ok:
        raise ValidationFailed({"file": _("The file has errors; correct them first.")})
    reason = (reason or "").strip()
    if plan.uninvited and not reason:
        names = ", ".join(sorted({m.contact.member.name for m in plan.uninvited}))
        raise ValidationFailed(
            {
                "reason": _(
                    "Not invited: %(members)s. Say why they are recorded as attending.",
                    members=names,
                )
            }
        )
    if plan.changes == 0:
        return None
    now = utcnow()
    for match in plan.matches:
        if match.effect == "unchanged":
            continue
        row = plan.recorded.get(match.contact.id)
        if row is None:
            row = Attendance(
                event_id=event.id,
                member_id=match.contact.member_id,
                contact_id=match.contact.id,
                source=AttendanceSource.IMPORT,
                not_invited_reason=None if match.invited else reason,
            )
            session.add(row)
        row.attended = True
        row.joined_at = match.line.joined_at or row.joined_at
        row.left_at = match.line.left_at or row.left_at
        if match.line.minutes is not None:
            row.minutes = match.line.minutes
        row.recorded_by_id = actor.id
    for match in plan.matches:
        earlier = plan.waiting.get(match.line.key)
        if earlier is not None and earlier.status is UnmatchedStatus.OPEN:
            earlier.status = UnmatchedStatus.MATCHED
            earlier.contact_id = match.contact.id
            earlier.resolved_by_id = actor.id
            earlier.resolved_at = now
    for item in plan.unmatched:
        if item.effect != "new":
            continue
        session.add(
            UnmatchedAttendee(
                event_id=event.id,
                match_key=item.line.key[:400],
                name=item.line.name,
                email=item.line.email,
                joined_at=item.line.joined_at,
                left_at=item.line.left_at,
                minutes=item.line.minutes,
                problem=item.problem,
                status=UnmatchedStatus.OPEN,
            )
        )
    record = AttendanceImport(
        event_id=event.id,
        filename=plan.filename[:255],
        digest=plan.digest,
        rows=sum(len(line.numbers) for line in plan.file.lines),
        matched=len(plan.matches),
        unmatched=len(plan.unmatched),
        imported_by_id=actor.id,
    )
    session.add(record)
    session.flush()
    return record


# -- resolving the unmatched ----------------------------------------------------------------


def resolve_unmatched(
    session: Session,
    actor: User,
    item: UnmatchedAttendee,
    contact: Contact | None,
    *,
    save_email: bool = False,
    reason: str | None = None,
) -> Attendance:
    """Match a waiting row to a contact: the contact attended (and may keep the address)."""
    ensure_permission(actor, Permission.MANAGE_EVENTS)
    event = session.get(Event, item.event_id)
    assert event is not None
    errors: dict[str, str] = {}
    if item.status is not UnmatchedStatus.OPEN:
        errors["contact_id"] = _("This row is already resolved.")
    elif contact is None:
        errors["contact_id"] = _("Choose the contact this person is.")
    if errors:
        raise ValidationFailed(errors)
    assert contact is not None
    invited = session.scalar(
        select(Invitation.id).where(
            Invitation.event_id == event.id, Invitation.member_id == contact.member_id
        )
    )
    reason = (reason or "").strip()
    if invited is None and not reason:
        raise ValidationFailed(
            {
                "reason": _(
                    "%(member)s was not invited: say why it is recorded as attending.",
                    member=contact.member.name,
                )
            }
        )
    row = session.scalar(
        select(Attendance).where(
            Attendance.event_id == event.id, Attendance.contact_id == contact.id
        )
    )
    if row is None:
        row = Attendance(
            event_id=event.id,
            member_id=contact.member_id,
            contact_id=contact.id,
            source=AttendanceSource.IMPORT,
            not_invited_reason=None if invited else reason,
        )
        session.add(row)
    row.attended = True
    row.joined_at = row.joined_at or item.joined_at
    row.left_at = row.left_at or item.left_at
    row.minutes = row.minutes if row.minutes is not None else item.minutes
    row.recorded_by_id = actor.id
    if save_email and item.email and not contact.email:
        clash = session.scalar(
            select(Contact.id).where(
                func.lower(Contact.email) == item.email, Contact.member_id != contact.member_id
            )
        )
        if clash is None:
            contact.email = item.email
    item.status = UnmatchedStatus.MATCHED
    item.contact_id = contact.id
    item.resolved_by_id = actor.id
    item.resolved_at = utcnow()
    session.flush()
    return row


def dismiss_unmatched(session: Session, actor: User, item: UnmatchedAttendee) -> None:
    """Mark a waiting row as not one of the members' people (staff, speakers, guests)."""
    ensure_permission(actor, Permission.MANAGE_EVENTS)
    if item.status is not UnmatchedStatus.OPEN:
        raise ValidationFailed({"contact_id": _("This row is already resolved.")})
    item.status = UnmatchedStatus.DISMISSED
    item.resolved_by_id = actor.id
    item.resolved_at = utcnow()
    session.flush()


def reopen_unmatched(session: Session, actor: User, item: UnmatchedAttendee) -> None:
    """Undo a dismissal."""
    ensure_permission(actor, Permission.MANAGE_EVENTS)
    if item.status is not UnmatchedStatus.DISMISSED:
        raise ValidationFailed({"contact_id": _("Only a dismissed row can be reopened.")})
    item.status = UnmatchedStatus.OPEN
    item.resolved_by_id = None
    item.resolved_at = None
    session.flush()
