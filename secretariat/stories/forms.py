"""Forms of the story pages. Member and evidence choices are passed in by the view.

The service checks every rule and words the messages; the form only reads the input, so that
all problems show at once, next to their fields.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectMultipleField, StringField, TextAreaField

from secretariat.forms import options
from secretariat.stories.models import StoryStatus

STATUS_LABELS = {
    StoryStatus.DRAFT: _l("Draft"),
    StoryStatus.APPROVED: _l("Approved"),
    StoryStatus.PUBLISHED: _l("Published"),
}


def template_labels() -> dict:
    """The display names the story templates need."""
    return {"story_status_labels": STATUS_LABELS}


class Required:
    """Mark a field as required; the service checks it and words the message."""

    field_flags = {"required": True}

    def __call__(self, form: FlaskForm, field: object) -> None:
        return None


class StoryForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Required()], render_kw={"maxlength": 200})
    member_ids = SelectMultipleField(
        _l("Members the story is about"),
        validate_choice=False,
        validators=[Required()],
        description=_l(
            "Hold Ctrl (or ⌘) to choose several. Each member's focal point is asked to approve "
            "the story."
        ),
    )
    narrative = TextAreaField(
        _l("Narrative"),
        validators=[Required()],
        description=_l(
            "Markdown: a blank line between paragraphs, **bold**, *italic*, lists starting "
            "with “- ”, links as [text](https://…). No HTML. At most 50,000 characters."
        ),
    )
    quote = TextAreaField(
        _l("Quote"),
        description=_l("Words of someone involved, without quotation marks (optional)."),
    )
    quote_attribution = StringField(
        _l("Said by"),
        description=_l("Name and role, e.g. “Ana Silva, Deputy Mayor of Lisbon”."),
    )
    image = FileField(
        _l("Image"),
        description=_l("A PNG, JPEG or WebP picture of at most 5 MB and 40 megapixels."),
    )
    image_alt = StringField(
        _l("Description of the image (alt text)"),
        description=_l("Required with an image: what it shows, for people who cannot see it."),
    )
    remove_image = BooleanField(_l("Remove the current image"))
    exchange_ids = SelectMultipleField(_l("Peer exchanges"), validate_choice=False)
    commitment_ids = SelectMultipleField(_l("Commitments"), validate_choice=False)
    agreement_ids = SelectMultipleField(_l("Agreements"), validate_choice=False)
    event_ids = SelectMultipleField(_l("Events"), validate_choice=False)

    def __init__(  # type: ignore[no-untyped-def]
        self, *args, members: Iterable[tuple[int, str]] = (), **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.member_ids.choices = options(members)
