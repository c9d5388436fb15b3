"""The outputs of an impact report: the PDF (rendered once per version and kept), the standalone
HTML document, the XLSX data pack and the charts, all from the report's snapshot."""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from secretariat.agreements.documents import stored_path
from secretariat.commitments.models import CommitmentStatus
from secretariat.funding.models import Coverage
from secretariat.impact import charts, render, services, snapshot
from secretariat.impact.periods import parse_period
from secretariat.impact.services import ReportText
from secretariat.stories import images
from secretariat.stories import services as stories
from tests.factories import CommitmentFactory
from tests.funding.factories import ProgrammeFactory
from tests.impact.factories import known_world, pdf_text, squeeze, story
from tests.stories.factories import picture

LARGE = "Large cities (500,000+)"
MEDIUM = "Medium-sized cities"
SMALL = "Small cities (under 100,000)"
REGIONAL = "States and regions"

HOSTILE = textwrap.dedent(
    """\
    Buses now run every five minutes on the new corridors.

    <script>alert("boom")</script>

    <img src="x" onerror="alert('pwned')">

    <p onclick="alert('click')">Ridership doubled.</p>

    [Read the plan](javascript:steal)
    """
)


@pytest.fixture
def world(db):
    return known_world(db)


@pytest.fixture
def report(db, world):
    """The 2026 report of the known world, with an introduction and two stories (the second
    one's narrative tries to smuggle in scripts)."""
    report = services.create_report(db, world.staff, world.programme.id, "2026")
    tram = story([world.a], "Trams return to Aveiro", narrative="The first tram ran in **May**.")
    buses = story(
        [world.c], "Bus corridors in Cotonou", narrative=HOSTILE, quote=None, quote_attribution=None
    )
    services.update_report(
        db,
        world.staff,
        report,
        ReportText(
            title="Clean air in 2026",
            introduction="A year of *cleaner* air.",
            story_ids=[tram.id, buses.id],
        ),
    )
    return report


def no_script(text: str) -> None:
    lowered = text.lower()
    for trace in ("<script", "onerror", "onclick", "javascript:", "alert("):
        assert trace not in lowered, trace


# --- the PDF --------------------------------------------------------------------------------


def test_the_pdf_shows_the_title_programme_figures_and_stories_and_no_script(db, world, report):
    version = services.publish(db, world.staff, report)

    text = pdf_text(services.version_pdf(version))

    squeezed = squeeze(text)
    assert "Clean air in 2026" in text
    assert "CLEAN AIR CITIES" in text.upper()
    assert "Funded by Blue Sky Foundation" in text
    assert "Version 1, published" in text
    assert "A year of cleaner air." in text
    for figure in (
        "Memberscovered4",
        "Eventsattended1",
        "Attendances3",
        "Peerexchanges3",
        "Acrossregions1(33.3%)",
        "Agreementssigned2",
        "Partnersinvolved2",
        "Commitmentsachieved1",
        "Commitmentsinprogress2",
        "Reportingrate50%",
        "Europe11002Africa00112",
        "Particulateemissionsavoided(t)5001,00050%",
        "Leading1Active1Engaged0Atrisk1Notscored1",
    ):
        assert figure in squeezed, figure
    assert "Trams return to Aveiro" in text
    assert "Bus corridors in Cotonou" in text
    assert "Buses now run every five minutes" in text
    assert "Ridership doubled." in text
    no_script(text)


def test_the_pdf_is_rendered_once_per_version_and_kept_under_its_hash(app, db, world, report):
    version = services.publish(db, world.staff, report)
    folder = Path(app.config["UPLOAD_PATH"]).absolute() / services.PDF_FOLDER
    path = stored_path(version.pdf_sha256, services.PDF_FOLDER)

    assert path.is_file()
    assert path.parent.parent == folder
    kept = path.read_bytes()
    assert kept.startswith(b"%PDF")
    assert hashlib.sha256(kept).hexdigest() == version.pdf_sha256 == path.name
    assert services.version_pdf(version) == kept

    # What is returned is the kept file, not a new rendering.
    path.write_bytes(b"%PDF-1.7 the copy kept at publication")
    assert services.version_pdf(version) == b"%PDF-1.7 the copy kept at publication"

    # Once the file is gone, the version is rendered again from its snapshot; reading
    # writes nothing (neither the row nor a file).
    recorded = version.pdf_sha256
    path.unlink()
    again = services.version_pdf(version)
    assert again.startswith(b"%PDF")
    assert "Clean air in 2026" in pdf_text(again)
    assert version.pdf_sha256 == recorded
    assert not path.exists()


# --- the HTML document ----------------------------------------------------------------------


def test_the_document_escapes_nothing_dangerous_and_carries_its_charts(db, world, report):
    buses = next(link.story for link in report.stories if link.story.title.startswith("Bus"))
    buses.quote = '<b onmouseover="steal()">Loud</b> & clear'
    db.flush()
    snap = snapshot.for_report(db, report, published_only=True)

    html = render.document(snap, draft=False)

    no_script(html)
    assert "Buses now run every five minutes" in html
    assert "Ridership doubled." in html
    assert "<strong>May</strong>" in html
    assert html.count("<svg") == 4  # regions, sizes, indicators, participation
    assert 'role="img" aria-label="Members covered by region"' in html
    assert "<img" not in html  # neither the smuggled one nor any fetched from outside
    # Plain text fields are escaped, not sanitized.
    assert "&lt;b onmouseover=&#34;steal()&#34;&gt;Loud&lt;/b&gt; &amp; clear" in html
    assert "<b onmouseover" not in html


def test_a_story_image_is_embedded_in_the_document(db, world, report):
    content = picture()
    tram, buses = (link.story for link in report.stories)
    tram.image_sha256, tram.image_type = images.store(content), "png"
    tram.image_alt = "A tram on the bridge"
    # An image whose file is gone is left out rather than fetched from anywhere.
    buses.image_sha256, buses.image_type, buses.image_alt = "0" * 64, "png", "Missing"
    db.flush()

    html = render.document(snapshot.for_report(db, report), draft=True)

    assert html.count("<img") == 1
    encoded = base64.b64encode(content).decode("ascii")
    assert f'src="data:image/png;base64,{encoded}" alt="A tram on the bridge"' in html


def test_a_published_pdf_carries_a_story_image_and_fetches_nothing_else(db, world, report):
    tram, _buses = (link.story for link in report.stories)
    tram.image_sha256, tram.image_type = images.store(picture()), "png"
    tram.image_alt = "A tram on the bridge"
    report.introduction = "See ![a file](file:///etc/passwd) and ![web](http://example.com/x.png)"
    db.flush()

    version = services.publish(db, world.staff, report)

    reader = PdfReader(io.BytesIO(services.version_pdf(version)))
    pictures = {image.data for page in reader.pages for image in page.images}
    assert len(pictures) == 1  # the story's picture, and nothing fetched
    assert "root:" not in "".join(page.extract_text() for page in reader.pages)


def test_a_draft_document_is_marked_and_shows_unpublished_stories_as_such(db, world, report):
    withdrawn = next(link.story for link in report.stories if link.story.title.startswith("Bus"))
    stories.unpublish_story(db, world.staff, withdrawn)

    html = render.document(snapshot.for_report(db, report), draft=True)

    assert "Draft: figures as of" in html
    assert "Bus corridors in Cotonou" in html
    assert "Not published: left out when the report is published" in html


def test_a_report_covering_nobody_renders_without_charts(db, world):
    nobody = ProgrammeFactory(name="Nobody yet", coverage=Coverage.CHOSEN)
    db.flush()
    snap = snapshot.build(db, nobody, parse_period("2026"))

    html = render.document(snap, draft=True)
    workbook = load_workbook(io.BytesIO(render.xlsx(snap)))

    assert "The programme covers no members." in html
    assert "<svg" not in html.split('id="participation-title"')[0]
    assert workbook["Summary"]["B2"].value == 0
    assert workbook["Members by region"].max_row == 1


# --- the data pack --------------------------------------------------------------------------


def values(sheet) -> list[list]:
    """The sheet's rows, empty cells read as empty strings."""
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def test_the_data_pack_holds_the_numbers_of_the_snapshot(db, world, report):
    snap = snapshot.for_report(db, report, published_only=True)

    workbook = load_workbook(io.BytesIO(render.xlsx(snap)))

    assert workbook.sheetnames == [
        "About",
        "Summary",
        "Members by region",
        "Indicators",
        "Participation",
        "Stories",
        "Members",
        "Events",
        "Peer exchanges",
        "Agreements",
        "Commitments achieved",
        "Commitments in progress",
    ]
    about = dict(values(workbook["About"]))
    assert (about["Report"], about["Programme"], about["Period"]) == (
        "Clean air in 2026",
        "Clean Air Cities",
        "2026",
    )
    assert about["Funders"] == "Blue Sky Foundation"
    summary = values(workbook["Summary"])
    assert summary[0] == ["Figure", "Value"]
    assert summary[1:] == [[label, value] for _key, label, value in render.summary_rows(snap)] + [
        ["Share of peer exchanges across regions", 0.3333],
        ["Reporting rate", 0.5],
    ]
    assert [value for _label, value in summary[1:]] == [
        4,
        1,
        3,
        2,
        3,
        1,
        2,
        2,
        1,
        2,
        4,
        2,
        0.3333,
        0.5,
    ]
    assert values(workbook["Members by region"]) == [
        ["Region", LARGE, MEDIUM, SMALL, REGIONAL, "Total"],
        ["Europe", 1, 1, 0, 0, 2],
        ["Africa", 0, 0, 1, 1, 2],
    ]
    indicators = values(workbook["Indicators"])
    assert indicators[1] == ["PM-CUT", "Particulate emissions avoided", "t", 500, 1000, 50, 2, 4]
    assert values(workbook["Participation"])[1:] == [
        ["Leading", 1],
        ["Active", 1],
        ["Engaged", 0],
        ["At risk", 1],
        ["Not scored", 1],
    ]
    assert [row[:3] for row in values(workbook["Stories"])[1:]] == [
        ["Trams return to Aveiro", "Aveiro", "The first tram ran in May."],
        [
            "Bus corridors in Cotonou",
            "Cotonou",
            "Buses now run every five minutes on the new corridors. Ridership doubled. "
            "Read the plan",
        ],
    ]
    for name, key in (
        ("Members", "members"),
        ("Events", "events"),
        ("Peer exchanges", "exchanges"),
        ("Agreements", "agreements"),
        ("Commitments achieved", "commitments_achieved"),
        ("Commitments in progress", "commitments_in_progress"),
    ):
        table = snap["appendix"][key]
        assert values(workbook[name]) == [table["headings"], *table["rows"]], name
    assert values(workbook["Events"])[1] == ["2026-03-10", "Clean air forum", "Annual forum", 2, 3]
    no_script(" ".join(str(v) for row in values(workbook["Stories"]) for v in row))


def test_text_starting_with_an_equals_sign_stays_text_in_the_data_pack(db, world, report):
    CommitmentFactory(
        member=world.c,
        title='=HYPERLINK("https://evil.example","Open")',
        status=CommitmentStatus.IN_PROGRESS,
    )
    snap = snapshot.for_report(db, report)

    workbook = load_workbook(io.BytesIO(render.xlsx(snap)))

    cells = [row[1] for row in workbook["Commitments in progress"].iter_rows(min_row=2)]
    planted = next(cell for cell in cells if str(cell.value).startswith("="))
    assert planted.data_type == "s"


def test_a_title_starting_with_an_equals_sign_stays_text_in_the_about_sheet(db, report):
    report.title = '=HYPERLINK("https://evil.example","Open")'
    db.flush()
    workbook = load_workbook(io.BytesIO(render.xlsx(snapshot.for_report(db, report))))
    title = next(row[1] for row in workbook.worksheets[0].iter_rows() if row[0].value == "Report")
    assert title.data_type == "s"


# --- the charts -----------------------------------------------------------------------------


def test_charts_are_inline_svg_and_the_same_for_the_same_figures():
    first = charts.counts([("Europe", 2), ("Africa", 2)], "Members covered by region")
    second = charts.counts([("Europe", 2), ("Africa", 2)], "Members covered by region")

    assert first == second
    assert first.startswith("<svg ")
    assert "Europe" in first  # text stays text
    assert charts.counts([("Europe", 0)], "Nothing") is None
    assert charts.indicator_progress([{"name": "x", "progress_pct": None}], "None") is None


def test_a_dollar_sign_in_an_indicator_name_is_drawn_as_written(db, world, report):
    world.indicator.name = "Spend in $ (50% in $)"
    db.flush()

    html = render.document(snapshot.for_report(db, report), draft=True)

    assert ">Spend in $ (50% in $)</text>" in html


def test_charts_are_drawn_without_pyplot(db, report):
    loaded_before = "matplotlib.pyplot" in sys.modules
    html = render.document(snapshot.for_report(db, report), draft=True)
    assert "<svg" in html
    if not loaded_before:
        assert "matplotlib.pyplot" not in sys.modules

    # And in a fresh interpreter, whatever other tests imported.
    probe = textwrap.dedent(
        """\
        import sys
        from secretariat.impact import charts, render  # noqa: F401
        svg = charts.counts([("Europe", 2)], "Members")
        progress = charts.indicator_progress([{"name": "PM", "progress_pct": "50"}], "Progress")
        assert svg.startswith("<svg") and progress.startswith("<svg")
        print("matplotlib.pyplot" in sys.modules)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "False"
