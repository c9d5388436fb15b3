"""The export of a cycle's values in long format, as CSV and as XLSX, read back."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from secretariat.indicators.models import ValueType
from secretariat.reporting import services
from secretariat.reporting.queries import EXPORT_HEADERS
from secretariat.reporting.services import SubmissionInput, ValueInput
from tests.factories import IndicatorFactory, MemberFactory, ReportingCycleFactory, UserFactory
from tests.followups.factories import focal_point
from tests.reporting.test_views import days, noon, open_cycle, submit


@pytest.fixture
def staff(db):
    return UserFactory(name="Sofia Staff")


@pytest.fixture
def signed_in(staff, auth):
    auth.login(staff)
    return staff


@pytest.fixture
def reported(db, staff):
    """Four members asked: one verified, one late with an optional value left empty, one
    with only a draft (exported with its status), one who never started (not exported)."""
    ghg = IndicatorFactory(code="GHG", name="Emissions", unit="t CO2e")
    plan = IndicatorFactory(code="PLAN", name="Has a plan", value_type=ValueType.YES_NO)
    amsterdam = MemberFactory(name="Amsterdam", country="NL")
    berlin = MemberFactory(name="Berlin", country="DE")
    copenhagen = MemberFactory(name="Copenhagen", country="DK")
    dresden = MemberFactory(name="Dresden", country="DE")
    cycle = open_cycle(
        db,
        staff,
        [amsterdam, berlin, copenhagen, dresden],
        [ghg, plan],
        optional=[plan],
        name="Annual report 2025",
        opens_on=days(-30),
        due_on=days(-10),
    )
    first = submit(db, cycle, amsterdam, {ghg: "1250.5", plan: "yes"}, now=noon(days(-20)))
    services.verify_submission(db, staff, first)
    late = submit(db, cycle, berlin, {ghg: "980", plan: ""}, now=noon(days(-2)))
    services.save_submission(
        db,
        focal_point(copenhagen),
        cycle,
        copenhagen,
        SubmissionInput(values={plan.id: ValueInput(raw="no")}),
        submit=False,
    )
    return cycle, first, late


def test_csv_export_in_long_format(db, client, signed_in, reported):
    cycle, first, late = reported
    response = client.get(f"/reporting/{cycle.id}/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=annual-report-2025.csv"
    )
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")  # spreadsheet programs then read accents right
    table = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert list(table[0]) == list(EXPORT_HEADERS)
    picked = [
        (r["member"], r["indicator"], r["period"], r["value"], r["status"], r["submitted_at"])
        for r in table
    ]
    assert picked == [
        (
            "Amsterdam",
            "GHG",
            "2025",
            "1250.5",
            "verified",
            first.submitted_at.isoformat("T", "seconds"),
        ),
        (
            "Amsterdam",
            "PLAN",
            "2025",
            "yes",
            "verified",
            first.submitted_at.isoformat("T", "seconds"),
        ),
        ("Berlin", "GHG", "2025", "980", "submitted", late.submitted_at.isoformat("T", "seconds")),
        ("Copenhagen", "PLAN", "2025", "no", "draft", ""),
    ]
    assert [r["late"] for r in table] == ["no", "no", "yes", ""]
    assert table[0]["unit"] == "t CO2e" and table[0]["country"] == "NL"
    assert "Dresden" not in body


def test_xlsx_export_reads_back_the_same_rows(db, client, signed_in, reported):
    cycle, first, _late = reported
    response = client.get(f"/reporting/{cycle.id}/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "filename=annual-report-2025.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
    header, *values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header == list(EXPORT_HEADERS)
    table = [dict(zip(header, row, strict=True)) for row in values]
    picked = [(r["member"], r["indicator"], r["period"], r["value"], r["status"]) for r in table]
    assert picked == [
        ("Amsterdam", "GHG", "2025", 1250.5, "verified"),
        ("Amsterdam", "PLAN", "2025", "yes", "verified"),
        ("Berlin", "GHG", "2025", 980, "submitted"),
        ("Copenhagen", "PLAN", "2025", "no", "draft"),
    ]
    assert table[0]["submitted_at"] == first.submitted_at.isoformat("T", "seconds")
    assert table[3]["submitted_at"] in ("", None)


def test_a_cycle_without_values_exports_its_headers(db, client, signed_in):
    cycle = ReportingCycleFactory(name="Отчёт")
    response = client.get(f"/reporting/{cycle.id}/export.csv")
    # A name without Latin letters still gives a usable file name.
    assert f"filename=cycle-{cycle.id}.csv" in response.headers["Content-Disposition"]
    assert response.data.decode("utf-8-sig").splitlines() == [",".join(EXPORT_HEADERS)]
    sheet = load_workbook(io.BytesIO(client.get(f"/reporting/{cycle.id}/export.xlsx").data))
    assert [list(r) for r in sheet.active.iter_rows(values_only=True)] == [list(EXPORT_HEADERS)]


def test_a_formula_in_a_name_stays_text_in_the_workbook(db, client, signed_in, staff):
    ghg = IndicatorFactory()
    member = MemberFactory(name="=HYPERLINK(1)")
    cycle = open_cycle(db, staff, [member], [ghg])
    submit(db, cycle, member, {ghg: "1"})
    sheet = load_workbook(io.BytesIO(client.get(f"/reporting/{cycle.id}/export.xlsx").data))
    cell = sheet.active["A2"]
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"
