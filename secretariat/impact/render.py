"""An impact report's outputs, all rendered from its snapshot: the page, a standalone HTML
document, the PDF (WeasyPrint, from the same templates) and the data pack (one XLSX)."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from flask import render_template
from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.styles import Font

from secretariat.impact import charts
from secretariat.participation.forms import LEVEL_LABELS
from secretariat.resources import resource_path
from secretariat.stories import images


def chart_set(snap: dict[str, Any]) -> dict[str, Markup | None]:
    """The report's charts as inline SVG."""
    members = snap["members"]
    sizes = snap["size_labels"]
    participation = snap["participation"]
    return {
        "indicators": charts.indicator_progress(
            snap["indicators"], _("Indicator results as a share of their targets")
        ),
        "regions": charts.counts(
            [(row["region"] or _("No region"), row["total"]) for row in members["by_region"]],
            _("Members covered by region"),
        ),
        "sizes": charts.counts(
            [(sizes[band], count) for band, count in members["by_size"].items()],
            _("Members covered by size"),
        ),
        "participation": (
            charts.counts(
                [(level["label"], level["count"]) for level in participation["levels"]]
                + [(str(LEVEL_LABELS[None]), participation["not_scored"])],
                _("Members covered by participation level"),
            )
            if participation.get("computed")
            else None
        ),
    }


def image_bytes(sha256: str) -> bytes | None:
    path = images.stored_path(sha256)
    return path.read_bytes() if path.is_file() else None


def data_uri(image: dict[str, Any] | None) -> str | None:
    """A story image embedded in the document itself (PDFs and saved HTML files)."""
    if not image:
        return None
    content = image_bytes(image["sha256"])
    mime = images.MEDIA_TYPES.get(image.get("type") or "")
    if content is None or mime is None:
        return None
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


def percent(share: str | None) -> str:
    if share is None:
        return "–"
    return f"{(Decimal(share) * 100).quantize(Decimal('0.1')).normalize():f} %"


def day(iso: str | None) -> str:
    return format_date(date.fromisoformat(iso)) if iso else ""


def coverage_label(programme: dict[str, Any]) -> str:
    if programme["coverage"] == "group":
        return _("the current members of the working group %(group)s", group=programme["group"])
    if programme["coverage"] == "chosen":
        return _("members chosen one by one for the programme")
    return _("every active member of the network")


def _context(
    snap: dict[str, Any],
    *,
    draft: bool,
    figure_url: Callable[[str], str | None],
    image_src: Callable[[dict[str, Any] | None], str | None],
    version: Any = None,
) -> dict[str, Any]:
    return {
        "day": day,
        "coverage_label": coverage_label,
        "snap": snap,
        "draft": draft,
        "figure_url": figure_url,
        "image_src": image_src,
        "charts": chart_set(snap),
        "percent": percent,
        "version": version,
    }


def body(
    snap: dict[str, Any],
    *,
    draft: bool,
    figure_url: Callable[[str], str | None],
    image_src: Callable[[dict[str, Any] | None], str | None],
    version: Any = None,
) -> dict[str, Any]:
    """The template context of the report's body, for pages that include it."""
    return _context(snap, draft=draft, figure_url=figure_url, image_src=image_src, version=version)


def document(snap: dict[str, Any], *, draft: bool, version: Any = None) -> str:
    """The report as one self-contained HTML file (styles and images inside)."""
    css = (resource_path("static") / "css" / "report.css").read_text(encoding="utf-8")
    return render_template(
        "impact/document.html",
        css=Markup(css),  # noqa: S704 - our own stylesheet
        **_context(
            snap, draft=draft, figure_url=lambda key: None, image_src=data_uri, version=version
        ),
    )


def pdf(snap: dict[str, Any], *, draft: bool, version: Any = None) -> bytes:
    """The report as PDF, rendered by WeasyPrint from the same templates.

    The renderer may read ``data:`` URIs only (the embedded images): nothing on the disk or
    the network, whatever a story's text might try."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = document(snap, draft=draft, version=version)
    title = snap["title"]
    return HTML(
        string=html, url_fetcher=URLFetcher(allowed_protocols={"data"}), base_url="."
    ).write_pdf(
        pdf_identifier=title.encode("utf-8")[:32] or b"impact-report",
        custom_metadata=True,
    )


# --- the data pack --------------------------------------------------------------------------


def _number(value: Any) -> Any:
    """Numbers as numbers in the spreadsheet (decimal strings from the snapshot included)."""
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except ArithmeticError:
            return value
        return int(number) if number == number.to_integral_value() else float(number)
    return value


def _append(sheet: Any, row: list[Any]) -> None:
    sheet.append(row)
    # Text that looks like a formula stays text (a title "=HYPERLINK(...)" must not run).
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"


def _sheet(workbook: Workbook, title: str, headings: list[str], rows: list[list[Any]]) -> None:
    sheet = workbook.create_sheet(title[:31])
    sheet.append(headings)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        _append(sheet, row)
    sheet.freeze_panes = "A2"
    for index, heading in enumerate(headings, start=1):
        width = max([len(str(heading)), *(len(str(r[index - 1] or "")) for r in rows[:200])])
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(width + 2, 60)


def summary_rows(snap: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(list key, label, value) of the headline figures, in the order reports show them."""
    events, exchanges = snap["events"], snap["exchanges"]
    agreements, commitments = snap["agreements"], snap["commitments"]
    completeness = snap["completeness"]
    return [
        ("members", _("Members covered"), snap["members"]["total"]),
        ("events", _("Events attended by members covered"), events["held"]),
        ("events", _("Attendances of people from members covered"), events["attendances"]),
        ("events", _("Members covered that attended an event"), events["members_attending"]),
        ("exchanges", _("Peer exchanges"), exchanges["total"]),
        ("exchanges_cross_region", _("Peer exchanges across regions"), exchanges["cross_region"]),
        ("agreements", _("Agreements signed"), agreements["signed"]),
        ("partners", _("Partners in agreements signed"), agreements["partners"]),
        ("commitments_achieved", _("Commitments achieved in the period"), commitments["achieved"]),
        ("commitments_in_progress", _("Commitments in progress"), commitments["in_progress"]),
        ("reporting", _("Reports asked of members covered"), completeness["asked"]),
        ("reporting", _("Reports submitted"), completeness["submitted"]),
    ]


def xlsx(snap: dict[str, Any]) -> bytes:
    """The data pack: one workbook with a sheet per table of the report."""
    workbook = Workbook()
    about = workbook.active
    about.title = _("About")[:31]
    for row in (
        (_("Report"), snap["title"]),
        (_("Programme"), snap["programme"]["name"]),
        (_("Period"), snap["period"]["label"]),
        (_("From"), snap["period"]["start"]),
        (_("To"), snap["period"]["end"]),
        (_("Funders"), ", ".join(snap["programme"]["funders"])),
        (_("Figures computed at (UTC)"), snap["computed_at"]),
    ):
        _append(about, list(row))
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 60

    _sheet(
        workbook,
        _("Summary"),
        [_("Figure"), _("Value")],
        [[label, value] for _key, label, value in summary_rows(snap)]
        + [
            [
                _("Share of peer exchanges across regions"),
                _number(snap["exchanges"]["cross_region_share"]),
            ],
            [_("Reporting rate"), _number(snap["completeness"]["rate"])],
        ],
    )
    sizes = snap["size_labels"]
    bands = list(snap["members"]["by_size"])
    _sheet(
        workbook,
        _("Members by region"),
        [_("Region"), *[sizes[band] for band in bands], _("Total")],
        [
            [
                row["region"] or _("No region"),
                *[row["sizes"].get(b, 0) for b in bands],
                row["total"],
            ]
            for row in snap["members"]["by_region"]
        ],
    )
    _sheet(
        workbook,
        _("Indicators"),
        [
            _("Code"),
            _("Indicator"),
            _("Unit"),
            _("Value"),
            _("Target"),
            _("Progress to target (%)"),
            _("Members reporting"),
            _("Members covered"),
        ],  # fmt: skip
        [
            [
                i["code"],
                i["name"],
                i["unit"] or "",
                _number(i["value"]),
                _number(i["target"]),
                _number(i["progress_pct"]),
                i["reporting"],
                i["expected"],
            ]  # fmt: skip
            for i in snap["indicators"]
        ],
    )
    participation = snap["participation"]
    if participation.get("computed"):
        _sheet(
            workbook,
            _("Participation"),
            [_("Level"), _("Members")],
            [[level["label"], level["count"]] for level in participation["levels"]]
            + [[str(LEVEL_LABELS[None]), participation["not_scored"]]],
        )
    _sheet(
        workbook,
        _("Stories"),
        [_("Title"), _("Members"), _("Story"), _("Quote"), _("Attribution")],
        [
            [
                s["title"],
                ", ".join(s["members"]),
                s["narrative_text"],
                s["quote"] or "",
                s["attribution"] or "",
            ]  # fmt: skip
            for s in snap["stories"]
        ],
    )
    sheet_names = {
        "members": _("Members"),
        "events": _("Events"),
        "exchanges": _("Peer exchanges"),
        "agreements": _("Agreements"),
        "commitments_achieved": _("Commitments achieved"),
        "commitments_in_progress": _("Commitments in progress"),
    }
    for key, table in snap["appendix"].items():
        _sheet(workbook, sheet_names.get(key, key), table["headings"], table["rows"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
