"""Markdown written by users, turned into HTML that is safe to show anywhere.

Python-Markdown renders; nh3 (the Rust ``ammonia`` sanitizer) then keeps only the tags and
attributes below, so raw HTML, scripts, event handlers and ``javascript:`` links written into
the text never reach a page, a PDF or an e-mail.
"""

from __future__ import annotations

import html as _html

import markdown as _markdown
import nh3
from markupsafe import Markup

#: Tags a narrative or an introduction may use: text structure, lists, links, quotes, tables.
ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
        "ul", "ol", "li", "h2", "h3", "h4", "a", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
#: Links may lead to web pages and e-mail addresses only.
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
#: Longest text accepted where Markdown is written (about 20 pages).
MAX_LENGTH = 50_000


def render(text: str | None) -> Markup:
    """Sanitized HTML for a user's Markdown (empty for no text)."""
    if not text or not text.strip():
        return Markup("")
    html = _markdown.markdown(text, extensions=["tables", "sane_lists"], output_format="html")
    clean = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 - sanitized just above


def plain(text: str | None) -> str:
    """The text of a user's Markdown without any markup (for spreadsheets and summaries)."""
    return " ".join(_html.unescape(nh3.clean(str(render(text)), tags=set())).split())
