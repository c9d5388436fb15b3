"""Maintain the configurable lists."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from secretariat.vocabularies.models import Term, Vocabulary


class TermError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def terms(session: Session, vocabulary: Vocabulary, *, active_only: bool = False) -> list[Term]:
    stmt = select(Term).where(Term.vocabulary == vocabulary)
    if active_only:
        stmt = stmt.where(Term.is_active.is_(True))
    return list(session.scalars(stmt.order_by(Term.position, Term.label)))


def find_term(session: Session, vocabulary: Vocabulary, label: str) -> Term | None:
    """Find a term by its label, ignoring case and surrounding spaces."""
    wanted = label.strip().casefold()
    for term in terms(session, vocabulary):
        if term.label.casefold() == wanted:
            return term
    return None


def _check_label(session: Session, vocabulary: Vocabulary, label: str, term_id: int | None) -> str:
    label = " ".join(label.split())
    if not label:
        raise TermError(_("Enter a name."))
    if len(label) > 255:
        raise TermError(_("Use at most 255 characters."))
    existing = find_term(session, vocabulary, label)
    if existing is not None and existing.id != term_id:
        raise TermError(_("“%(label)s” is already in the list.", label=existing.label))
    return label


def add_term(session: Session, vocabulary: Vocabulary, label: str) -> Term:
    label = _check_label(session, vocabulary, label, None)
    last = session.scalar(select(func.max(Term.position)).where(Term.vocabulary == vocabulary))
    term = Term(vocabulary=vocabulary, label=label, position=(last or 0) + 1, is_active=True)
    session.add(term)
    session.flush()
    return term


def update_term(session: Session, term: Term, label: str, position: int, is_active: bool) -> None:
    term.label = _check_label(session, term.vocabulary, label, term.id)
    term.position = position
    term.is_active = is_active
    session.flush()


def ensure_terms(session: Session, vocabulary: Vocabulary, labels: list[str]) -> list[Term]:
    """Add the labels that are missing (used by the demo seed); return the terms in order."""
    result = []
    for label in labels:
        term = find_term(session, vocabulary, label) or add_term(session, vocabulary, label)
        result.append(term)
    return result
