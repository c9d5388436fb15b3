"""Demo funding: a programme paid for by the demo funder, with last year's impact report
published (stories are added by the stories demo once they exist)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from secretariat.accounts.models import User
from secretariat.funding import services as funding
from secretariat.funding.models import Coverage, Frequency, Funder, Programme
from secretariat.impact import services as impact
from secretariat.impact.models import ImpactReport
from secretariat.indicators.models import Indicator

PROGRAMME_SLUG = "climate-action-accelerator"
#: (indicator code, programme target).
INDICATORS = [("RE-SHARE", "50"), ("CAP", "40"), ("PEER-EXCHANGES", "45"), ("GHG-PC", "4.5")]

INTRODUCTION = """\
The Climate Action Accelerator helps member cities turn their climate commitments into
delivered projects, through peer exchanges, technical assistance and shared reporting.

This report covers **{year}**: the members the programme supports, what they did together,
and how far the network's climate indicators moved against the programme's targets.
"""


def load_funding(session: Session, staff: User, funder: Funder, today: date) -> dict[str, int]:
    """Add the programme, its grant and last year's published report if they are missing."""
    if session.scalar(select(Programme.id).where(Programme.slug == PROGRAMME_SLUG)):
        return {"programmes_added": 0}
    indicator_ids = dict(
        session.execute(
            select(Indicator.code, Indicator.id).where(
                Indicator.code.in_([code for code, _ in INDICATORS])
            )
        ).all()
    )
    programme = funding.create_programme(
        session,
        staff,
        funding.ProgrammeData(
            name="Climate Action Accelerator",
            description=(
                "Peer learning and technical assistance for member cities delivering their "
                "climate action plans."
            ),
            starts_on=date(today.year - 1, 1, 1),
            ends_on=date(today.year + 1, 12, 31),
            coverage=Coverage.ALL,
            lead_id=staff.id,
            indicators=[
                (indicator_ids[code], target)
                for code, target in INDICATORS
                if code in indicator_ids
            ],
        ),
    )
    programme.slug = PROGRAMME_SLUG
    funding.create_grant(
        session,
        staff,
        funding.GrantData(
            funder_id=funder.id,
            programme_id=programme.id,
            amount="1200000",
            currency="EUR",
            starts_on=programme.starts_on,
            ends_on=programme.ends_on,
            frequency=Frequency.ANNUAL,
            reference="BHF-2025-017",
        ),
    )
    report = impact.create_report(session, staff, programme.id, str(today.year - 1))
    impact.update_report(
        session,
        staff,
        report,
        impact.ReportText(
            title=report.title, introduction=INTRODUCTION.format(year=today.year - 1)
        ),
    )
    impact.publish(session, staff, report)
    session.flush()
    assert session.get(ImpactReport, report.id) is not None
    return {"programmes_added": 1}
