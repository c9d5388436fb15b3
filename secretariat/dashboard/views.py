"""The home page: what each role needs first."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from secretariat.accounts.models import Role, User
from secretariat.agreements import queries as agreement_queries
from secretariat.clock import network_today
from secretariat.db import get_session, utcnow
from secretariat.events.forms import template_labels as event_labels
from secretariat.events.queries import EventFilters, event_page, unmatched_count
from secretariat.exchanges import queries as exchange_queries
from secretariat.followups import queries as followup_queries
from secretariat.members import queries
from secretariat.members.forms import template_labels
from secretariat.permissions import Permission, requires

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@requires(Permission.SIGNED_IN)
def home():  # type: ignore[no-untyped-def]
    db = get_session()
    today = utcnow().date()
    labels = template_labels()
    upcoming = EventFilters(when="upcoming")
    network_day = network_today()
    follow_ups = followup_queries.pending_summary(db, current_user, network_day)
    if current_user.is_staff:
        return render_template(
            "dashboard/staff.html",
            follow_ups=follow_ups,
            renewals=agreement_queries.renewals_due(db, network_day),
            network_day=network_day,
            data=queries.dashboard(db, today),
            events=event_page(db, current_user, upcoming, 1, 5),
            proposals=exchange_queries.proposal_count(db),
            unmatched=unmatched_count(db),
            **labels,
            **event_labels(),
        )
    if current_user.role is Role.FOCAL_POINT:
        member = queries.member_detail(db, current_user.member.slug)
        current, _others = queries.split_contacts(member, today)
        return render_template(
            "dashboard/focal_point.html",
            follow_ups=follow_ups,
            member=member,
            current_contacts=current,
            has_primary=any(c.is_primary for c in current),
            events=event_page(db, current_user, upcoming, 1, 5),
            awaiting=exchange_queries.awaiting_answer(db, member.id),
            **labels,
            **event_labels(),
        )
    colleagues = db.scalars(
        select(User)
        .where(User.funder_id == current_user.funder_id, User.is_active.is_(True))
        .order_by(User.name)
    ).all()
    return render_template(
        "dashboard/funder.html",
        funder=current_user.funder,
        colleagues=colleagues,
        follow_ups=follow_ups,
    )
