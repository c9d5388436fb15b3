"""One page of a list, as the list pages and the pagination macro use it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def rows(self) -> list[Any]:
        """The items, for lists whose items are rows of figures rather than records."""
        return self.items

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def clamp(page: int, total: int, per_page: int) -> int:
    """The page number to show: the last page when asked beyond it, the first when below."""
    return min(max(page, 1), max(1, -(-total // per_page)))
