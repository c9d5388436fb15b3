"""Partner operations: the only code that writes partners and their contacts."""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from secretariat.accounts.models import User
from secretariat.db import utcnow
from secretariat.members.services import ValidationFailed, fold, is_country, is_web_url
from secretariat.partners.models import Partner, PartnerContact, PartnerKind
from secretariat.permissions import Permission, ensure_permission
from secretariat.text import has_control_characters, paragraphs, single_line


@dataclass
class PartnerData:
    name: str
    kind: PartnerKind | None
    country: str | None = None
    website: str | None = None
    notes: str | None = None


def validate_partner(session: Session, data: PartnerData, partner_id: int | None) -> dict[str, str]:
    """Return every problem with the data, by field; empty when it can be saved."""
    errors: dict[str, str] = {}
    raw_name = data.name or ""
    data.name = single_line(raw_name)
    data.country = (data.country or "").strip().upper() or None
    data.website = (data.website or "").strip() or None
    data.notes = paragraphs(data.notes)
    if has_control_characters(raw_name):
        errors["name"] = _("Remove the invisible control characters from the name.")
    elif not data.name:
        errors["name"] = _("Enter the partner's name.")
    elif len(data.name) > 255:
        errors["name"] = _("Use at most 255 characters.")
    else:
        clash = session.scalar(
            select(Partner).where(Partner.search_name == fold(data.name), Partner.id != partner_id)
        )
        if clash is not None:
            errors["name"] = (
                _(
                    "An archived partner is already called “%(name)s”; restore it instead.",
                    name=clash.name,
                )
                if clash.is_archived
                else _("Another partner is already called “%(name)s”.", name=clash.name)
            )
    if not isinstance(data.kind, PartnerKind):
        errors["kind"] = _("Choose the kind of organisation.")
    if data.country and not is_country(data.country):
        errors["country"] = _("Choose a country from the list.")
    if data.website and (len(data.website) > 500 or not is_web_url(data.website)):
        errors["website"] = _("Enter a web address starting with https:// or http://.")
    if data.notes and has_control_characters(data.notes):
        errors["notes"] = _("Remove the invisible control characters from the notes.")
    return errors


def _apply(partner: Partner, data: PartnerData) -> None:
    partner.name = data.name
    partner.search_name = fold(data.name)
    partner.kind = data.kind  # type: ignore[assignment]
    partner.country = data.country
    partner.website = data.website
    partner.notes = data.notes


def create_partner(session: Session, actor: User, data: PartnerData) -> Partner:
    ensure_permission(actor, Permission.MANAGE_PARTNERS)
    errors = validate_partner(session, data, None)
    if errors:
        raise ValidationFailed(errors)
    partner = Partner()
    _apply(partner, data)
    session.add(partner)
    session.flush()
    return partner


def update_partner(session: Session, actor: User, partner: Partner, data: PartnerData) -> None:
    ensure_permission(actor, Permission.MANAGE_PARTNERS)
    errors = validate_partner(session, data, partner.id)
    if errors:
        raise ValidationFailed(errors)
    _apply(partner, data)
    session.flush()


def archive_partner(session: Session, actor: User, partner: Partner) -> None:
    """Leave the partner out of lists and choices; its agreements keep naming it."""
    ensure_permission(actor, Permission.MANAGE_PARTNERS)
    if partner.is_archived:
        raise ValidationFailed({"partner": _("%(name)s is already archived.", name=partner.name)})
    partner.archived_at = utcnow()
    session.flush()


def restore_partner(session: Session, actor: User, partner: Partner) -> None:
    ensure_permission(actor, Permission.MANAGE_PARTNERS)
    if not partner.is_archived:
        raise ValidationFailed({"partner": _("%(name)s is not archived.", name=partner.name)})
    partner.archived_at = None
    session.flush()


# -- contacts -------------------------------------------------------------------------------


@dataclass
class PartnerContactData:
    name: str
    email: str | None = None
    role: str | None = None


def validate_contact(data: PartnerContactData) -> dict[str, str]:
    errors: dict[str, str] = {}
    raw_name = data.name or ""
    data.name = single_line(raw_name)
    data.email = (data.email or "").strip() or None
    raw_role = data.role or ""
    data.role = single_line(raw_role) or None
    if has_control_characters(raw_name):
        errors["name"] = _("Remove the invisible control characters from the name.")
    elif not data.name:
        errors["name"] = _("Enter the person's name.")
    elif len(data.name) > 255:
        errors["name"] = _("Use at most 255 characters.")
    if data.email:
        try:
            data.email = validate_email(data.email, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            errors["email"] = _("“%(email)s” is not an e-mail address.", email=data.email)
    if has_control_characters(raw_role):
        errors["role"] = _("Remove the invisible control characters from the role.")
    elif data.role and len(data.role) > 255:
        errors["role"] = _("Use at most 255 characters.")
    return errors


def add_contact(
    session: Session, actor: User, partner: Partner, data: PartnerContactData
) -> PartnerContact:
    ensure_permission(actor, Permission.MANAGE_PARTNERS)
    errors = validate_contact(data)
    if errors:
        raise ValidationFailed(errors)
    contact = PartnerContact(partner=partner, name=data.name, email=data.email, role=data.role)
    session.add(contact)
    session.flush()
    return contact


def update_contact(
    session: Session, actor: User, contact: PartnerContact, data: PartnerContactData
) -> None:
    ensure_permission(actor, Permission.MANAGE_PARTNERS)
    errors = validate_contact(data)
    if errors:
        raise ValidationFailed(errors)
    contact.name = data.name
    contact.email = data.email
    contact.role = data.role
    session.flush()


def remove_contact(session: Session, actor: User, contact: PartnerContact) -> None:
    ensure_permission(actor, Permission.MANAGE_PARTNERS)
    session.delete(contact)
    session.flush()
