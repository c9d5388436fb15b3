"""Member and contact operations: the only code that writes the registry."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import pycountry
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from secretariat.accounts.models import User
from secretariat.db import utcnow
from secretariat.members.models import (
    Contact,
    ContactRole,
    Member,
    MemberKind,
    MemberStatus,
    MemberStatusChange,
)
from secretariat.permissions import Permission, ensure_member_scope, ensure_permission
from secretariat.vocabularies.models import Term, Vocabulary

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Slugs that would collide with the register's own addresses (/members/new, ...).
RESERVED_SLUGS = frozenset({"new", "import", "export"})


class ValidationFailed(Exception):
    """Input was refused; ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def fold(text: str) -> str:
    """Fold case and accents for search: "São Paulo" -> "sao paulo", "Москва" -> "москва"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.split())


def slugify(text: str) -> str:
    """Make an ASCII slug from a name; empty when the name has no Latin letters or digits."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower())[:100].strip("-")


def country_name(code: str | None) -> str:
    country = pycountry.countries.get(alpha_2=code) if code else None
    return country.name if country else (code or "")


def is_country(code: str) -> bool:
    return len(code) == 2 and pycountry.countries.get(alpha_2=code.upper()) is not None


def is_currency(code: str) -> bool:
    return len(code) == 3 and pycountry.currencies.get(alpha_3=code.upper()) is not None


def is_language(code: str) -> bool:
    return len(code) == 2 and pycountry.languages.get(alpha_2=code.lower()) is not None


def is_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and " " not in value


# -- members --------------------------------------------------------------------------------


@dataclass
class MemberData:
    name: str
    slug: str
    kind: MemberKind
    country: str
    region_id: int | None = None
    population: int | None = None
    joined_on: date | None = None
    tier_id: int | None = None
    annual_fee: Decimal | None = None
    fee_currency: str | None = None
    next_election_on: date | None = None
    leader_term_ends_on: date | None = None
    website: str | None = None
    notes: str | None = None

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_member(cls, member: Member) -> MemberData:
        return cls(**{name: getattr(member, name) for name in cls.field_names()})


def validate_member(session: Session, data: MemberData, member_id: int | None) -> dict[str, str]:
    """Return every problem with the data, by field; empty when it can be saved."""
    errors: dict[str, str] = {}
    data.name = " ".join((data.name or "").split())
    data.slug = (data.slug or "").strip().lower()
    data.country = (data.country or "").strip().upper()
    if data.fee_currency:
        data.fee_currency = data.fee_currency.strip().upper()
    if data.website:
        data.website = data.website.strip()
    if data.notes:
        data.notes = data.notes.replace("\r\n", "\n").replace("\r", "\n")
    if not data.name:
        errors["name"] = _("Enter the member's name.")
    elif len(data.name) > 255:
        errors["name"] = _("Use at most 255 characters.")
    if not data.slug:
        errors["slug"] = _("Enter a short name for web addresses (letters, digits, hyphens).")
    elif not SLUG_PATTERN.match(data.slug) or len(data.slug) > 100:
        errors["slug"] = _(
            "Use lower-case letters a-z, digits and single hyphens only (e.g. sao-paulo)."
        )
    elif data.slug in RESERVED_SLUGS:
        errors["slug"] = _("“%(slug)s” is reserved; choose another short name.", slug=data.slug)
    else:
        clash = session.scalar(select(Member.id).where(Member.slug == data.slug))
        if clash is not None and clash != member_id:
            errors["slug"] = _("Another member already uses “%(slug)s”.", slug=data.slug)
    if not isinstance(data.kind, MemberKind):
        errors["kind"] = _("Choose a kind of member.")
    if not is_country(data.country):
        errors["country"] = _("“%(code)s” is not an ISO 3166 country code.", code=data.country)
    for field, vocabulary in (("region_id", Vocabulary.REGION), ("tier_id", Vocabulary.TIER)):
        term_id = getattr(data, field)
        if term_id is not None:
            term = session.get(Term, term_id)
            if term is None or term.vocabulary is not vocabulary:
                errors[field] = _("Choose a value from the list.")
    if data.population is not None and data.population < 0:
        errors["population"] = _("The population cannot be negative.")
    if data.annual_fee is not None:
        if data.annual_fee < 0:
            errors["annual_fee"] = _("The fee cannot be negative.")
        elif data.annual_fee.as_tuple().exponent < -2:  # type: ignore[operator]
            errors["annual_fee"] = _("Use at most two decimal places.")
        elif data.annual_fee >= Decimal("1e10"):
            errors["annual_fee"] = _("The fee is too large.")
        if not data.fee_currency:
            errors["fee_currency"] = _("Give the currency of the fee.")
    if data.fee_currency:
        if not is_currency(data.fee_currency):
            errors["fee_currency"] = _(
                "“%(code)s” is not an ISO 4217 currency code.", code=data.fee_currency
            )
        elif data.annual_fee is None:
            errors["annual_fee"] = _("Give the fee amount, or remove the currency.")
    if data.website and (len(data.website) > 500 or not is_web_url(data.website)):
        errors["website"] = _("Enter a full web address starting with https:// or http://.")
    return errors


def _apply_member(member: Member, data: MemberData) -> None:
    for name in MemberData.field_names():
        value = getattr(data, name)
        if isinstance(value, str) and name in ("website", "notes"):
            value = value.strip() or None
        setattr(member, name, value)
    member.search_name = fold(data.name)


def create_member(
    session: Session,
    actor: User | None,
    data: MemberData,
    status: MemberStatus = MemberStatus.APPLICANT,
    reason: str | None = None,
) -> Member:
    if actor is not None:
        ensure_permission(actor, Permission.MANAGE_MEMBERS)
    errors = validate_member(session, data, None)
    if errors:
        raise ValidationFailed(errors)
    member = Member(status=status)
    _apply_member(member, data)
    session.add(member)
    session.flush()
    session.add(
        MemberStatusChange(
            member_id=member.id,
            from_status=None,
            to_status=status,
            reason=reason or _("Member record created."),
            changed_by_id=actor.id if actor else None,
            changed_at=utcnow(),
        )
    )
    session.flush()
    return member


def update_member(session: Session, actor: User | None, member: Member, data: MemberData) -> None:
    if actor is not None:
        ensure_permission(actor, Permission.MANAGE_MEMBERS)
    errors = validate_member(session, data, member.id)
    if errors:
        raise ValidationFailed(errors)
    _apply_member(member, data)
    session.flush()


def change_status(
    session: Session, actor: User | None, member: Member, status: MemberStatus, reason: str
) -> MemberStatusChange:
    """Move a member to a new status, recording who did it and why."""
    if actor is not None:
        ensure_permission(actor, Permission.MANAGE_MEMBERS)
    reason = (reason or "").strip()
    errors = {}
    if status == member.status:
        errors["status"] = _("The member already has this status.")
    if not reason:
        errors["reason"] = _("Say why the status changes; it stays in the member's history.")
    if errors:
        raise ValidationFailed(errors)
    change = MemberStatusChange(
        member_id=member.id,
        from_status=member.status,
        to_status=status,
        reason=reason,
        changed_by_id=actor.id if actor else None,
        changed_at=utcnow(),
    )
    member.status = status
    if status is MemberStatus.ACTIVE and member.joined_on is None:
        member.joined_on = utcnow().date()
    session.add(change)
    session.flush()
    return change


# -- contacts -------------------------------------------------------------------------------


@dataclass
class ContactData:
    name: str
    role: ContactRole
    email: str | None = None
    phone: str | None = None
    job_title: str | None = None
    is_primary: bool = False
    active_from: date | None = None
    receives_reminders: bool = False
    active_to: date | None = None
    language: str | None = None

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_contact(cls, contact: Contact) -> ContactData:
        return cls(**{name: getattr(contact, name) for name in cls.field_names()})


def validate_contact(data: ContactData, today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    data.name = " ".join((data.name or "").split())
    for name in ("email", "phone", "job_title", "language"):
        value = getattr(data, name)
        setattr(data, name, value.strip() if value and value.strip() else None)
    if not data.name:
        errors["name"] = _("Enter the person's name.")
    elif len(data.name) > 255:
        errors["name"] = _("Use at most 255 characters.")
    if not isinstance(data.role, ContactRole):
        errors["role"] = _("Choose a role.")
    if data.email:
        try:
            data.email = validate_email(data.email, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            errors["email"] = _("“%(email)s” is not an e-mail address.", email=data.email)
    if data.phone and (len(data.phone) > 50 or not re.fullmatch(r"[0-9+()./ \-]+", data.phone)):
        errors["phone"] = _("Use digits, spaces and + ( ) - . / only.")
    if data.job_title and len(data.job_title) > 255:
        errors["job_title"] = _("Use at most 255 characters.")
    if data.language:
        data.language = data.language.lower()
        if not is_language(data.language):
            errors["language"] = _(
                "“%(code)s” is not a two-letter ISO 639-1 language code.", code=data.language
            )
    if data.active_from and data.active_to and data.active_to < data.active_from:
        errors["active_to"] = _("The end date is before the start date.")
    if data.is_primary:
        if data.role is not ContactRole.FOCAL_POINT:
            errors["is_primary"] = _("Only a focal point can be the primary focal point.")
        elif data.active_to is not None and data.active_to < today:
            errors["is_primary"] = _("A contact who has left cannot be the primary focal point.")
    return errors


def _make_primary(session: Session, contact: Contact) -> None:
    """Clear the member's other primary contact first (one primary per member)."""
    conditions = [Contact.member_id == contact.member_id, Contact.is_primary.is_(True)]
    if contact.id is not None:
        conditions.append(Contact.id != contact.id)
    session.execute(
        update(Contact)
        .where(*conditions)
        .values(is_primary=False)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()


def add_contact(session: Session, actor: User | None, member: Member, data: ContactData) -> Contact:
    if actor is not None:
        ensure_permission(actor, Permission.EDIT_CONTACTS)
        ensure_member_scope(actor, member.id)
    errors = validate_contact(data, utcnow().date())
    if errors:
        raise ValidationFailed(errors)
    contact = Contact(member_id=member.id, is_primary=False)
    if data.is_primary:
        _make_primary(session, contact)
    for name in ContactData.field_names():
        setattr(contact, name, getattr(data, name))
    if contact.active_from is None:
        contact.active_from = utcnow().date()
    session.add(contact)
    session.flush()
    return contact


def update_contact(
    session: Session, actor: User | None, contact: Contact, data: ContactData
) -> None:
    if actor is not None:
        ensure_permission(actor, Permission.EDIT_CONTACTS)
        ensure_member_scope(actor, contact.member_id)
    errors = validate_contact(data, utcnow().date())
    if errors:
        raise ValidationFailed(errors)
    if data.is_primary and not contact.is_primary:
        _make_primary(session, contact)
    for name in ContactData.field_names():
        setattr(contact, name, getattr(data, name))
    session.flush()


def end_contact(
    session: Session, actor: User | None, contact: Contact, on: date | None = None
) -> None:
    """Record that the person left the role; the contact stays in the member's history."""
    if actor is not None:
        ensure_permission(actor, Permission.EDIT_CONTACTS)
        ensure_member_scope(actor, contact.member_id)
    on = on or utcnow().date()
    if contact.active_to is not None and contact.active_to <= on:
        raise ValidationFailed({"active_to": _("This contact has already left.")})
    if contact.active_from and on < contact.active_from:
        raise ValidationFailed({"active_to": _("The end date is before the start date.")})
    contact.active_to = on
    contact.is_primary = False
    session.flush()
