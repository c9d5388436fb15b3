"""Report periods: a year ("2025") or a half-year ("2025-H1", "2025-H2")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_PATTERN = re.compile(r"^(\d{4})(?:-H([12]))?$")


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date

    @property
    def year(self) -> int:
        return int(self.label[:4])

    def reporting_periods(self) -> list[str]:
        """The reporting-cycle and indicator periods that fall inside this one."""
        year = self.label[:4]
        if self.label.endswith("-H1"):
            return [self.label, f"{year}-Q1", f"{year}-Q2"]
        if self.label.endswith("-H2"):
            return [self.label, f"{year}-Q3", f"{year}-Q4"]
        halves = [f"{year}-H1", f"{year}-H2"]
        return [self.label, *halves, *(f"{year}-Q{q}" for q in range(1, 5))]


def parse_period(text: str | None) -> Period | None:
    """The period a label names, or None when it is not a year or a half-year."""
    match = _PATTERN.match((text or "").strip().upper())
    if not match:
        return None
    year, half = int(match.group(1)), match.group(2)
    if not 1900 <= year <= 2999:
        return None
    if half is None:
        return Period(str(year), date(year, 1, 1), date(year, 12, 31))
    if half == "1":
        return Period(f"{year}-H1", date(year, 1, 1), date(year, 6, 30))
    return Period(f"{year}-H2", date(year, 7, 1), date(year, 12, 31))
