"""Impact-report pages for staff and the funder portal: pages, actions, downloads, isolation and
statement counts."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from secretariat.accounts.models import Role
from secretariat.exchanges.models import ExchangeStatus
from secretariat.funding import services as funding
from secretariat.funding.models import Coverage
from secretariat.impact import services
from secretariat.impact.models import ImpactReport, ImpactReportVersion, ReportStatus
from tests.factories import (
    FunderFactory,
    IndicatorFactory,
    MemberFactory,
    PeerExchangeFactory,
    TermFactory,
    UserFactory,
)

YEAR = 2025


@pytest.fixture
def staff(db):
    return UserFactory(role=Role.STAFF)


def _programme(db, members, name="Clean air"):
    return funding.create_programme(
        db,
        None,
        funding.ProgrammeData(
            name=name,
            starts_on=date(YEAR, 1, 1),
            ends_on=date(YEAR + 1, 12, 31),
            coverage=Coverage.CHOSEN,
            member_ids=[m.id for m in members],
            indicators=[(IndicatorFactory().id, "100")],
        ),
    )


def _grant(db, funder, programme):
    return funding.create_grant(
        db,
        None,
        funding.GrantData(
            funder_id=funder.id,
            programme_id=programme.id,
            amount="50000",
            currency="EUR",
            starts_on=programme.starts_on,
            ends_on=programme.ends_on,
        ),
    )


def _exchange(a, b, day=date(YEAR, 5, 1)):
    return PeerExchangeFactory(
        from_member=a, to_member=b, occurred_on=day, status=ExchangeStatus.CONFIRMED
    )


@pytest.fixture
def world(db):
    europe, africa = TermFactory(label="Europe"), TermFactory(label="Africa")
    lisbon = MemberFactory(name="Lisbon", region=europe, population=550_000)
    porto = MemberFactory(name="Porto", region=europe, population=230_000)
    nairobi = MemberFactory(name="Nairobi", region=africa, population=4_000_000)
    outsider = MemberFactory(name="Outsider", region=africa)
    programme = _programme(db, [lisbon, porto, nairobi])
    funder = FunderFactory(name="Blue Horizon")
    _grant(db, funder, programme)
    _exchange(lisbon, nairobi)
    _exchange(lisbon, porto)
    _exchange(outsider, MemberFactory(region=africa))
    other_programme = _programme(db, [outsider], name="Other programme")
    other_funder = FunderFactory(name="Other Fund")
    _grant(db, other_funder, other_programme)
    db.flush()
    return {
        "programme": programme,
        "other_programme": other_programme,
        "funder": funder,
        "other_funder": other_funder,
        "members": [lisbon, porto, nairobi],
    }


def _published(db, programme, period=str(YEAR)):
    report = services.create_report(db, None, programme.id, period)
    services.publish(db, None, report)
    db.flush()
    return report


# --- staff pages ----------------------------------------------------------------------------


def test_staff_create_write_publish_and_reissue_in_the_browser(client, auth, db, world, staff):
    auth.login(staff)
    programme = world["programme"]
    response = client.get(f"/impact/new?programme={programme.slug}")
    assert response.status_code == 200
    assert f'<option selected value="{programme.id}">' in response.get_data(as_text=True)

    response = client.post(
        "/impact/new", data={"programme_id": str(programme.id), "period": "2025", "title": ""}
    )
    assert response.status_code == 302
    report = db.scalar(select(ImpactReport).where(ImpactReport.programme_id == programme.id))
    assert report.title == "Clean air: impact report 2025"
    assert report.status is ReportStatus.DRAFT

    page = client.get(f"/impact/{report.id}").get_data(as_text=True)
    assert "Draft: figures as of" in page
    # Every figure links to the records it counts.
    assert f'href="/impact/{report.id}/figures/exchanges"' in page

    response = client.post(
        f"/impact/{report.id}/edit",
        data={"title": "Clean air 2025", "introduction": "A **good** year.<script>x()</script>"},
    )
    assert response.status_code == 302
    page = client.get(f"/impact/{report.id}").get_data(as_text=True)
    assert "<strong>good</strong>" in page and "<script>x()" not in page

    response = client.post(f"/impact/{report.id}/publish", data={"change_note": ""})
    assert response.status_code == 302
    db.refresh(report)
    assert report.status is ReportStatus.PUBLISHED
    assert [v.number for v in report.versions] == [1]

    page = client.get(f"/impact/{report.id}").get_data(as_text=True)
    assert "Version 1, published" in page
    assert f"/impact/{report.id}/figures/exchanges?version=1" in page

    assert client.post(f"/impact/{report.id}/new-version").status_code == 302
    db.refresh(report)
    assert report.status is ReportStatus.DRAFT
    # The second version needs a note; refused without one, nothing written.
    response = client.post(f"/impact/{report.id}/publish", data={"change_note": " "})
    assert response.status_code == 302
    assert "Say what changed" in client.get(f"/impact/{report.id}").get_data(as_text=True)
    assert db.scalar(select(func.count(ImpactReportVersion.id))) == 1
    client.post(f"/impact/{report.id}/publish", data={"change_note": "Late exchanges added."})
    db.refresh(report)
    assert [v.number for v in report.versions] == [1, 2]
    page = client.get(f"/impact/{report.id}/versions/1").get_data(as_text=True)
    assert "Version 1, published" in page


def test_new_report_refusals_are_shown_next_to_the_field(client, auth, db, world, staff):
    auth.login(staff)
    programme = world["programme"]
    for period, message in (
        ("2025-Q1", "Enter a year (2025) or a half-year"),
        ("2030", "The programme runs from"),
    ):
        response = client.post(
            "/impact/new", data={"programme_id": str(programme.id), "period": period}
        )
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)
    assert db.scalar(select(func.count(ImpactReport.id))) == 0


def test_figure_lists_show_the_records_counted(client, auth, db, world, staff):
    auth.login(staff)
    report = services.create_report(db, None, world["programme"].id, "2025")
    db.flush()
    page = client.get(f"/impact/{report.id}/figures/exchanges").get_data(as_text=True)
    assert "Lisbon" in page and "Nairobi" in page and "Outsider" not in page
    assert "2 records." in page
    cross = client.get(f"/impact/{report.id}/figures/exchanges_cross_region")
    assert "1 record." in cross.get_data(as_text=True)
    assert client.get(f"/impact/{report.id}/figures/nonsense").status_code == 404
    assert client.get(f"/impact/{report.id}/figures/members?version=3").status_code == 404


def test_a_version_s_list_keeps_the_records_counted_then(client, auth, db, world, staff):
    auth.login(staff)
    report = _published(db, world["programme"])
    lisbon, porto, _nairobi = world["members"]
    _exchange(porto, lisbon, date(YEAR, 9, 1))
    db.flush()
    frozen = client.get(f"/impact/{report.id}/figures/exchanges?version=1")
    assert "2 records." in frozen.get_data(as_text=True)


def test_downloads_of_a_draft_and_of_a_version(client, auth, db, world, staff):
    auth.login(staff)
    report = _published(db, world["programme"])
    pdf = client.get(f"/impact/{report.id}/versions/1/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Clean air: impact report 2025" in text
    xlsx = client.get(f"/impact/{report.id}/versions/1/report.xlsx")
    workbook = load_workbook(io.BytesIO(xlsx.data))
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True)}
    assert summary["Peer exchanges"] == 2
    html = client.get(f"/impact/{report.id}/versions/1/report.html")
    assert html.mimetype == "text/html" and b"<style>" in html.data
    # A published report has no draft to download.
    assert client.get(f"/impact/{report.id}/draft.pdf").status_code == 404
    assert client.get(f"/impact/{report.id}/versions/1/report.exe").status_code == 404
    client.post(f"/impact/{report.id}/new-version")
    assert client.get(f"/impact/{report.id}/draft.xlsx").status_code == 200


def test_delete_a_draft_and_refuse_once_published(client, auth, db, world, staff):
    auth.login(staff)
    draft = services.create_report(db, None, world["programme"].id, "2025-H1")
    published = _published(db, world["programme"], "2025")
    draft_id = draft.id
    assert client.post(f"/impact/{draft_id}/delete").status_code == 302
    db.expire_all()
    assert db.scalar(select(ImpactReport.id).where(ImpactReport.id == draft_id)) is None
    response = client.post(f"/impact/{published.id}/delete", follow_redirects=True)
    assert "A report that was published is kept" in response.get_data(as_text=True)
    assert db.get(ImpactReport, published.id) is not None


# --- the funder portal ----------------------------------------------------------------------


def _funder_user(funder):
    return UserFactory(role=Role.FUNDER, funder=funder)


def test_funder_sees_own_programmes_reports_and_live_figures(client, auth, db, world):
    report = _published(db, world["programme"])
    draft = services.create_report(db, None, world["programme"].id, "2026")  # not shown
    auth.login(_funder_user(world["funder"]))
    page = client.get("/portal/").get_data(as_text=True)
    assert "Clean air" in page and "Other programme" not in page
    assert f"/portal/reports/{report.id}/versions/1" in page
    assert f"/portal/reports/{draft.id}/" not in page
    programme_page = client.get(f"/portal/programmes/{world['programme'].id}")
    assert programme_page.status_code == 200
    # Live figures are counts only: no member's name.
    live = programme_page.get_data(as_text=True)
    assert "Figures to date" in live and "Lisbon" not in live
    assert "<dt>Peer exchanges</dt><dd>2 " in live
    view = client.get(f"/portal/reports/{report.id}/versions/1").get_data(as_text=True)
    assert "Clean air: impact report 2025" in view
    pdf = client.get(f"/portal/reports/{report.id}/versions/1/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    xlsx = client.get(f"/portal/reports/{report.id}/versions/1/report.xlsx")
    assert load_workbook(io.BytesIO(xlsx.data))["Summary"]["B2"].value == 3


def test_funder_gets_404_outside_own_programmes(client, auth, db, world, staff):
    mine = _published(db, world["programme"])
    theirs = _published(db, world["other_programme"])
    draft = services.create_report(db, None, world["programme"].id, "2026")
    db.flush()
    auth.login(_funder_user(world["funder"]))
    for path in (
        f"/portal/programmes/{world['other_programme'].id}",
        f"/portal/reports/{theirs.id}/versions/1",
        f"/portal/reports/{theirs.id}/versions/1/report.pdf",
        f"/portal/reports/{theirs.id}/versions/1/report.xlsx",
        f"/portal/reports/{draft.id}/versions/1",
        f"/portal/reports/{mine.id}/versions/2",
        f"/portal/reports/{mine.id}/versions/1/images/{'0' * 64}",
        "/portal/programmes/999999",
        "/portal/programmes/99999999999",
        f"/impact/{mine.id}",
        f"/impact/{mine.id}/versions/1/report.pdf",
        "/impact/",
        "/funding/",
        "/stories/",
        f"/members/{world['members'][0].slug}",
        "/members/",
        "/admin/users/",
    ):
        assert client.get(path).status_code == 404, path
    before = db.scalar(select(func.count(ImpactReportVersion.id)))
    assert client.post(f"/impact/{mine.id}/new-version").status_code == 404
    assert client.post(f"/impact/{draft.id}/publish").status_code == 404
    assert db.scalar(select(func.count(ImpactReportVersion.id))) == before


def test_staff_and_focal_points_have_no_portal(client, auth, db, world, staff):
    report = _published(db, world["programme"])
    focal = UserFactory(role=Role.FOCAL_POINT, member=world["members"][0])
    for user in (staff, focal):
        auth.login(user)
        assert client.get("/portal/").status_code == 404
        assert client.get(f"/portal/reports/{report.id}/versions/1").status_code == 404
        auth.logout()
    auth.login(focal)
    for path in (f"/impact/{report.id}", "/impact/", f"/impact/{report.id}/figures/members"):
        assert client.get(path).status_code == 404
    assert client.post(f"/impact/{report.id}/new-version").status_code == 404
    db.refresh(report)
    assert report.status is ReportStatus.PUBLISHED


# --- statement counts -----------------------------------------------------------------------


def _grow(db, world, n):
    europe = world["members"][0].region
    members = [MemberFactory(region=europe, population=10_000 * (i + 1)) for i in range(n)]
    for a, b in zip(members, members[1:], strict=False):
        _exchange(a, b)
    programme = _programme(db, members, name=f"Programme of {n}")
    funder = FunderFactory()
    _grant(db, funder, programme)
    db.flush()
    return programme, funder


@pytest.mark.parametrize(
    "path",
    [
        "/impact/{draft}",
        "/impact/{draft}/figures/exchanges",
        "/impact/{report}",
        "/impact/{report}/versions/1",
        "/impact/{report}/figures/exchanges?version=1",
        "/impact/",
        "/portal/",
        "/portal/programmes/{programme}",
        "/portal/reports/{report}/versions/1",
    ],
)
def test_pages_issue_the_same_statements_for_10_and_200_members(
    client, auth, db, world, staff, count_queries, path
):
    counts = []
    for n in (10, 200):
        programme, funder = _grow(db, world, n)
        report = _published(db, programme)
        draft = services.create_report(db, None, programme.id, "2026")
        db.flush()
        user = _funder_user(funder) if path.startswith("/portal") else staff
        auth.login(user)
        url = path.format(report=report.id, programme=programme.id, draft=draft.id)
        client.get(url)  # warm caches (e.g. the first chart)
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200, url
        counts.append(counter.count)
        auth.logout()
    assert counts[0] == counts[1], counts
