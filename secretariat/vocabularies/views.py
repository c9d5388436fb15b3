"""Administration of the configurable lists (network regions, membership tiers)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from secretariat.commitments.models import Commitment
from secretariat.db import get_session
from secretariat.exchanges.models import PeerExchange
from secretariat.groups.models import WorkingGroup
from secretariat.members.models import Member
from secretariat.permissions import Permission, requires
from secretariat.vocabularies import services
from secretariat.vocabularies.models import Term, Vocabulary

bp = Blueprint("vocabularies", __name__, url_prefix="/admin/lists")

TITLES = {
    Vocabulary.REGION: _l("Network regions"),
    Vocabulary.TIER: _l("Membership tiers"),
    Vocabulary.THEME: _l("Themes"),
    Vocabulary.COMMITMENT_CATEGORY: _l("Commitment categories"),
}
#: The columns that use each list, to show how often each entry is in use.
USAGE_COLUMNS = {
    Vocabulary.REGION: (Member.region_id,),
    Vocabulary.TIER: (Member.tier_id,),
    Vocabulary.THEME: (WorkingGroup.theme_id, PeerExchange.theme_id),
    Vocabulary.COMMITMENT_CATEGORY: (Commitment.category_id,),
}


class TermForm(FlaskForm):
    label = StringField(_l("Name"), validators=[InputRequired(), Length(max=255)])


class EditTermForm(TermForm):
    position = IntegerField(_l("Position"), validators=[InputRequired(), NumberRange(0, 10_000)])
    is_active = BooleanField(_l("Offered in forms"))


def _vocabulary(name: str) -> Vocabulary:
    try:
        return Vocabulary(name)
    except ValueError:
        abort(404)


@bp.route("/")
@requires(Permission.MANAGE_SETTINGS)
def index():  # type: ignore[no-untyped-def]
    return redirect(url_for("vocabularies.edit_list", vocabulary=Vocabulary.REGION.value))


@bp.route("/<vocabulary>", methods=["GET", "POST"])
@requires(Permission.MANAGE_SETTINGS)
def edit_list(vocabulary: str):  # type: ignore[no-untyped-def]
    vocab = _vocabulary(vocabulary)
    db = get_session()
    form = TermForm()
    if form.validate_on_submit():
        try:
            term = services.add_term(db, vocab, form.label.data)
        except services.TermError as exc:
            form.label.errors.append(exc.message)
        else:
            flash(_("“%(label)s” added.", label=term.label), "success")
            return redirect(url_for("vocabularies.edit_list", vocabulary=vocab.value))
    usage: dict[int, int] = {}
    for column in USAGE_COLUMNS[vocab]:
        counts = select(column, func.count()).where(column.is_not(None)).group_by(column)
        for term_id, count in db.execute(counts):
            usage[term_id] = usage.get(term_id, 0) + count
    return render_template(
        "vocabularies/list.html",
        vocabulary=vocab,
        vocabularies=list(Vocabulary),
        titles=TITLES,
        terms=services.terms(db, vocab),
        usage=usage,
        form=form,
    )


@bp.route("/<vocabulary>/<int:term_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE_SETTINGS)
def edit_term(vocabulary: str, term_id: int):  # type: ignore[no-untyped-def]
    vocab = _vocabulary(vocabulary)
    db = get_session()
    term = db.get(Term, term_id)
    if term is None or term.vocabulary is not vocab:
        abort(404)
    form = EditTermForm(obj=term)
    if form.validate_on_submit():
        try:
            services.update_term(db, term, form.label.data, form.position.data, form.is_active.data)
        except services.TermError as exc:
            form.label.errors.append(exc.message)
        else:
            flash(_("“%(label)s” saved.", label=term.label), "success")
            return redirect(url_for("vocabularies.edit_list", vocabulary=vocab.value))
    return render_template(
        "vocabularies/edit.html",
        form=form,
        term=term,
        vocabulary=vocab,
        titles=TITLES,
        method=request.method,
    )
