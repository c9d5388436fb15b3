"""Forms of the impact-report pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField, widgets

from secretariat.impact.models import ReportStatus

STATUS_LABELS = {
    ReportStatus.DRAFT: _l("Draft"),
    ReportStatus.PUBLISHED: _l("Published"),
}

#: Formats a report can be downloaded in.
FORMATS = ("pdf", "xlsx", "html")


class NewReportForm(FlaskForm):
    programme_id = SelectField(_l("Programme"), choices=[], validate_choice=False)
    period = StringField(
        _l("Period"),
        description=_l("A year (2026) or a half-year (2026-H1, 2026-H2)."),
    )
    title = StringField(
        _l("Title"), description=_l("Leave empty for “Programme: impact report period”.")
    )


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ReportTextForm(FlaskForm):
    title = StringField(_l("Title"))
    introduction = TextAreaField(
        _l("Introduction"),
        description=_l(
            "Markdown: **bold**, *italic*, lists with “- ”, links as [text](https://…), "
            "headings with “## ”. Scripts and raw HTML are removed."
        ),
    )
    story_ids = CheckboxList(_l("Stories"), choices=[], coerce=int, validate_choice=False)


class PublishForm(FlaskForm):
    change_note = TextAreaField(
        _l("What changed since the previous version"),
        description=_l("Shown to funders with the new version."),
    )


def template_labels() -> dict:
    return {"status_labels": STATUS_LABELS}
