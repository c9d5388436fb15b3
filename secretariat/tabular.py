"""Read and write simple tables as CSV (UTF-8, with or without BOM, comma or semicolon) or XLSX."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

FORMATS = ("csv", "xlsx")


class TableError(Exception):
    """The file cannot be read as a table; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    """Rows as dictionaries keyed by normalised header; row numbers as a spreadsheet shows them."""

    headers: list[str]
    rows: list[tuple[int, dict[str, Any]]]


def normalize_header(name: Any) -> str:
    return str(name or "").strip().lstrip("\ufeff").strip().lower().replace(" ", "_")


def format_of(filename: str) -> str:
    suffix = Path(filename).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise TableError(_("Use a .csv or .xlsx file."))
    return suffix


def read_table(data: bytes, filename: str) -> Table:
    """Parse a CSV or XLSX file given as bytes; the format comes from the file name."""
    if format_of(filename) == "xlsx":
        return _read_xlsx(data)
    return _read_csv(data)


def _read_csv(data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.")
        ) from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        raw_rows = list(reader)
    except csv.Error as exc:
        raise TableError(_("The CSV file is malformed: %(error)s", error=str(exc))) from exc
    return _to_table(raw_rows)


def _read_xlsx(data: bytes) -> Table:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TableError(_("The file is not a readable .xlsx workbook.")) from exc
    try:
        sheet = workbook.worksheets[0]
        raw_rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    return _to_table(raw_rows)


def _to_table(raw_rows: list[list[Any]]) -> Table:
    if not raw_rows:
        raise TableError(_("The file is empty."))
    headers = [normalize_header(h) for h in raw_rows[0]]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise TableError(_("The first row must hold the column names."))
    rows = []
    for number, raw in enumerate(raw_rows[1:], start=2):
        values = [_clean(v) for v in raw]
        if all(v is None for v in values):
            continue  # blank lines are not rows
        row = {header: (values[i] if i < len(values) else None) for i, header in enumerate(headers)}
        rows.append((number, row))
    return Table(headers=headers, rows=rows)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Plain notation ("1000", "12.5"), never "1E+3", whatever the stored precision.
        if value == value.to_integral_value():
            return str(value.quantize(Decimal(1)))
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def write_table(
    path_or_buffer: Path | io.BytesIO,
    fmt: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    """Write a table; CSV gets a UTF-8 BOM so that spreadsheet programs read accents right."""
    if fmt == "xlsx":
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(list(headers))
        for row in rows:
            sheet.append(list(row))
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
        workbook.save(path_or_buffer)
        return
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else _cell(v) for v in row])
    payload = "\ufeff" + buffer.getvalue()
    if isinstance(path_or_buffer, io.BytesIO):
        path_or_buffer.write(payload.encode("utf-8"))
    else:
        Path(path_or_buffer).write_text(payload, encoding="utf-8", newline="")
