"""The submission form end to end, through real form posts: prefill, drafts, submitting, bad
input, the large-change warning, locking and reopening, staff on a member's behalf, and the
deadline in the network's time zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from secretariat.indicators.models import Aggregation, ValueType
from secretariat.reporting import services
from secretariat.reporting.models import (
    Submission,
    SubmissionEvent,
    SubmissionStatus,
    SubmissionValue,
    ValueSource,
)
from tests.factories import IndicatorFactory
from tests.groups.conftest import field_error, text
from tests.reporting.conftest import days, fresh, open_cycle_for

# -- helpers ----------------------------------------------------------------------------------


def url(cycle, member) -> str:
    return f"/reporting/{cycle.id}/members/{member.id}/submission"


def counts(db) -> tuple[int, int, int]:
    """Submissions, values and history lines: to check that nothing was written."""
    db.expire_all()
    return tuple(
        db.scalar(select(func.count()).select_from(model))
        for model in (Submission, SubmissionValue, SubmissionEvent)
    )


def stored(db, cycle, member) -> Submission:
    db.expire_all()
    submission = services.find_submission(db, cycle, member.id)
    assert submission is not None
    return submission


def values_of(submission: Submission) -> dict[int, SubmissionValue]:
    return {v.indicator_id: v for v in submission.values}


def input_value(page: str, name: str) -> str | None:
    """The value of the text input with this name; None when there is no such input."""
    match = re.search(rf'<input type="(?:text|url)"[^>]* name="{name}" value="([^"]*)"', page)
    return match.group(1) if match else None


def checked_radio(page: str, name: str) -> str | None:
    match = re.search(rf'<input type="radio" name="{name}" [^>]*value="([^"]*)" checked', page)
    return match.group(1) if match else None


def selected_option(page: str, name: str) -> str | None:
    select_html = re.search(rf'<select id="{name}" name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select_html, name
    match = re.search(r'<option value="([^"]*)" selected>', select_html.group(1))
    return match.group(1) if match else None


def flashes(page: str) -> str:
    match = re.search(r'<section class="flashes"[^>]*>(.*?)</section>', page, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else ""


def is_editable(page: str) -> bool:
    return 'name="action" value="submit"' in page


@pytest.fixture
def indicators(db):
    """One indicator of each type: number, percentage, yes/no, choice and (optional) text."""
    return {
        "ghg": IndicatorFactory(name="GHG emissions", unit="kt CO2e", definition="Scope 1 and 2."),
        "share": IndicatorFactory(
            name="Renewable share",
            value_type=ValueType.PERCENTAGE,
            unit=None,
            aggregation=Aggregation.MEAN,
        ),
        "plan": IndicatorFactory(
            name="Climate plan adopted",
            value_type=ValueType.YES_NO,
            unit=None,
            aggregation=Aggregation.COUNT_YES,
        ),
        "stage": IndicatorFactory(
            name="Inventory stage",
            value_type=ValueType.CHOICE,
            unit=None,
            choices=["None", "Draft", "Published"],
            aggregation=Aggregation.NONE,
        ),
        "note": IndicatorFactory(
            name="Main initiative",
            value_type=ValueType.TEXT,
            unit=None,
            aggregation=Aggregation.NONE,
        ),
    }


@pytest.fixture
def cycle(db, staff, focal, other_focal, indicators):
    """The open 2025 cycle asking Lisbon and Porto; "Main initiative" is optional."""
    return open_cycle_for(
        db,
        staff,
        [focal.member, other_focal.member],
        indicators.values(),
        optional=[indicators["note"]],
        name="Annual report 2025",
        instructions="Report the calendar year 2025.",
    )


@pytest.fixture
def last_year(db, staff, focal, indicators):
    """Lisbon's submitted 2024 report (the previous cycle, now closed)."""
    previous = open_cycle_for(
        db,
        staff,
        [focal.member],
        indicators.values(),
        optional=[indicators["note"]],
        period="2024",
        opens_on=days(-400),
        due_on=days(-370),
        name="Annual report 2024",
    )
    data = services.SubmissionInput(
        {
            indicators["ghg"].id: services.ValueInput("1250.5"),
            indicators["share"].id: services.ValueInput("40"),
            indicators["plan"].id: services.ValueInput("yes"),
            indicators["stage"].id: services.ValueInput("Draft"),
            indicators["note"].id: services.ValueInput("Bus lanes"),
        }
    )
    services.save_submission(db, staff, previous, focal.member, data, submit=True)
    services.close_cycle(db, staff, previous)
    return previous


def complete(indicators, **overrides) -> dict:
    form = {
        f"value-{indicators['ghg'].id}": "1300",
        f"value-{indicators['share'].id}": "45",
        f"value-{indicators['plan'].id}": "yes",
        f"value-{indicators['stage'].id}": "Published",
        f"value-{indicators['note'].id}": "Cycle lanes",
        "general_comment": "",
    }
    for key, value in overrides.items():
        kind, name = key.split("_", 1)
        form[f"{kind}-{indicators[name].id}"] = value
    return form


@pytest.fixture
def as_focal(client, auth, focal):
    auth.login(focal)
    client.get("/")  # shows, and so clears, the welcome message
    return focal


# -- the page ---------------------------------------------------------------------------------


def test_the_form_shows_the_cycle_and_one_field_per_indicator(
    db, client, as_focal, cycle, indicators
):
    page = text(client.get(url(cycle, as_focal.member)))
    assert "<h1>Annual report 2025</h1>" in page
    assert "Report of Lisbon" in page
    assert "Report the calendar year 2025." in page
    assert f"Due by the end of {days(10).strftime('%b')}" in page and "UTC time" in page
    assert "10 days left" in page
    assert "accepted until the cycle closes" in page
    assert "Not started" in page
    # In the cycle's order, each with its label, unit and whether it is required.
    labels = re.findall(r'<(?:label for="value-\d+"|legend)>([^<]*)', page)
    assert [label.strip() for label in labels] == [
        "GHG emissions (kt CO2e)",
        "Renewable share (%)",
        "Climate plan adopted",
        "Inventory stage",
        "Main initiative",
    ]
    assert page.count(">(required)</span>") == 4
    assert page.count(">(optional)</span>") == 1
    ghg, share = indicators["ghg"].id, indicators["share"].id
    assert re.search(
        rf'id="value-{ghg}" name="value-{ghg}" value="" autocomplete="off" '
        r'inputmode="decimal"',
        page,
    )
    assert re.search(rf'id="value-{share}"[^>]*inputmode="decimal"', page)
    assert f'<small id="value-{ghg}-hint">Scope 1 and 2.</small>' in page
    assert f'<small id="value-{share}-hint">Between 0 and 100.</small>' in page
    plan = indicators["plan"].id
    assert f'id="value-{plan}-yes" value="yes"' in page and f'id="value-{plan}-no"' in page
    assert f'id="value-{plan}-none"' not in page  # required: no "no answer"
    note = indicators["note"].id
    assert re.search(rf'id="value-{note}"[^>]*maxlength="500"', page)
    assert '<option value="Published">Published</option>' in page
    for i in indicators.values():
        assert f'name="comment-{i.id}"' in page and f'name="evidence-{i.id}"' in page
    assert page.count("<details>") == 5
    assert "Save draft" in page and is_editable(page)
    assert "Last reported" not in page  # nothing reported before


def test_prefill_from_the_previous_cycle(db, client, as_focal, cycle, last_year, indicators):
    page = text(client.get(url(cycle, as_focal.member)))
    i = indicators
    assert "The values of your last report are already filled in" in page
    assert input_value(page, f"value-{i['ghg'].id}") == "1250.5"
    assert input_value(page, f"value-{i['share'].id}") == "40"
    assert checked_radio(page, f"value-{i['plan'].id}") == "yes"
    assert selected_option(page, f"value-{i['stage'].id}") == "Draft"
    assert input_value(page, f"value-{i['note'].id}") == "Bus lanes"
    assert "Last reported: 1,250.5 kt CO2e (2024)" in page
    assert "Last reported: 40 % (2024)" in page
    assert "Last reported: Yes (2024)" in page
    # The focal point confirms one value by leaving it, and changes another.
    form = {
        f"value-{i['ghg'].id}": "1250.5",
        f"value-{i['share'].id}": "42",
        f"value-{i['plan'].id}": "yes",
        f"value-{i['stage'].id}": "Draft",
        f"value-{i['note'].id}": "Bus lanes",
        "action": "submit",
    }
    assert client.post(url(cycle, as_focal.member), data=form).status_code == 302
    values = values_of(stored(db, cycle, as_focal.member))
    assert values[i["ghg"].id].source is ValueSource.UNCHANGED
    assert values[i["share"].id].source is ValueSource.ENTERED
    assert values[i["share"].id].number_value == Decimal(42)


def test_prefill_is_only_for_a_new_submission(db, client, as_focal, cycle, last_year, indicators):
    ghg = indicators["ghg"].id
    form = complete(indicators, value_ghg="")
    form["action"] = "save"
    client.post(url(cycle, as_focal.member), data=form)
    page = text(client.get(url(cycle, as_focal.member)))
    # Emptied on purpose and saved: it stays empty, the last value is only a reminder.
    assert input_value(page, f"value-{ghg}") == ""
    assert "Last reported: 1,250.5 kt CO2e (2024)" in page
    assert "already filled in" not in page


def test_save_a_draft_keeps_the_values(db, client, as_focal, cycle, indicators):
    i = indicators
    form = {
        f"value-{i['ghg'].id}": "1,300.25",
        f"value-{i['plan'].id}": "no",
        f"comment-{i['ghg'].id}": "Estimate from the 2024 inventory.",
        f"evidence-{i['ghg'].id}": "https://lisbon.example/inventory",
        "general_comment": "More next week.",
        "action": "save",
    }
    response = client.post(url(cycle, as_focal.member), data=form)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url(cycle, as_focal.member))
    page = text(client.get(url(cycle, as_focal.member)))
    assert "The draft is saved." in flashes(page)
    assert "Draft" in page and is_editable(page)
    assert input_value(page, f"value-{i['ghg'].id}") == "1300.25"
    assert checked_radio(page, f"value-{i['plan'].id}") == "no"
    assert input_value(page, f"evidence-{i['ghg'].id}") == "https://lisbon.example/inventory"
    assert "Estimate from the 2024 inventory.</textarea>" in page
    assert "<details open>" in page  # the filled-in comment is shown
    assert "More next week.</textarea>" in page
    submission = stored(db, cycle, as_focal.member)
    assert submission.status is SubmissionStatus.DRAFT
    assert submission.first_submitted_at is None
    values = values_of(submission)
    assert values[i["ghg"].id].number_value == Decimal("1300.25")
    assert values[i["plan"].id].bool_value is False
    assert i["share"].id not in values  # a draft may leave required indicators empty


def test_submit(db, client, as_focal, cycle, indicators):
    response = client.post(
        url(cycle, as_focal.member), data={**complete(indicators), "action": "submit"}
    )
    assert response.status_code == 302
    page = text(client.get(url(cycle, as_focal.member)))
    assert "Thank you: your report is submitted, on time." in flashes(page)
    submission = stored(db, cycle, as_focal.member)
    assert submission.status is SubmissionStatus.SUBMITTED
    assert submission.is_late is False
    assert submission.submitted_by_id == as_focal.id
    values = values_of(submission)
    assert values[indicators["stage"].id].text_value == "Published"
    assert values[indicators["share"].id].number_value == Decimal(45)
    # Locked now: the values are shown, not editable.
    assert not is_editable(page)
    assert "Submitted: the secretariat will review it." in page
    assert "On time" in page
    assert "1,300 kt CO2e" in page and "Published" in page


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "typed", "action", "message"),
    [
        ("ghg", "twelve", "save", "Enter a number, such as 1250 or 12.5."),
        ("ghg", "twelve", "submit", "Enter a number, such as 1250 or 12.5."),
        ("share", "140", "save", "A percentage is between 0 and 100."),
        ("plan", "maybe", "save", "Answer yes or no."),
        ("stage", "Finished", "save", "Choose one of: None, Draft, Published."),
        ("ghg", "", "submit", "This indicator is required: enter a value."),
        ("plan", "", "submit", "This indicator is required: enter a value."),
    ],
)
def test_bad_input_is_refused_next_to_its_field(
    db, client, as_focal, cycle, indicators, name, typed, action, message
):
    # A first draft, to check that nothing of the refused post overwrites it.
    client.post(url(cycle, as_focal.member), data={**complete(indicators), "action": "save"})
    before = counts(db)
    form = complete(indicators, **{f"value_{name}": typed})
    form[f"value-{indicators['note'].id}"] = "Typed and kept"
    form[f"comment-{indicators['ghg'].id}"] = "A comment typed"
    form["action"] = action
    response = client.post(url(cycle, as_focal.member), data=form)
    assert response.status_code == 200
    page = text(response)
    field_id = f"value-{indicators[name].id}"
    assert field_error(page, field_id) == message
    assert 'class="error-summary"' in page
    assert f'<a href="#{field_id}">{indicators[name].name}: {message}</a>' in page
    # Nothing written, everything typed is still there.
    assert counts(db) == before
    values = values_of(stored(db, cycle, as_focal.member))
    assert values[indicators["note"].id].text_value == "Cycle lanes"
    assert stored(db, cycle, as_focal.member).status is SubmissionStatus.DRAFT
    assert input_value(page, f"value-{indicators['note'].id}") == "Typed and kept"
    assert "A comment typed</textarea>" in page
    if name in ("ghg", "share"):
        assert input_value(page, field_id) == typed
        assert f'id="{field_id}" name="{field_id}" value="{typed}" autocomplete="off" ' in page
        assert re.search(rf'id="{field_id}"[^>]*aria-invalid="true"', page)
    # The other fields have no error.
    for other in indicators.values():
        if other.name != indicators[name].name:
            assert field_error(page, f"value-{other.id}") == ""


def test_every_problem_is_shown_at_once(db, client, as_focal, cycle, indicators):
    form = complete(indicators, value_ghg="lots", value_share="140", value_plan="maybe")
    form[f"evidence-{indicators['stage'].id}"] = "lisbon.example/plan"
    form["action"] = "submit"
    page = text(client.post(url(cycle, as_focal.member), data=form))
    assert counts(db) == (0, 0, 0)
    summary = re.search(r'class="error-summary".*?</section>', page, re.S).group(0)
    assert summary.count("<li>") == 4
    # The evidence problem is shown under the evidence field, its details opened.
    stage = indicators["stage"].id
    assert field_error(page, f"evidence-{stage}") == "Enter a web address starting with https://."
    assert field_error(page, f"value-{stage}") == ""
    assert f'<a href="#evidence-{stage}">' in summary
    assert input_value(page, f"evidence-{stage}") == "lisbon.example/plan"
    assert "<details open>" in page


# -- the large-change warning -----------------------------------------------------------------


def test_a_large_change_must_be_confirmed_before_submitting(
    db, client, as_focal, cycle, last_year, indicators
):
    ghg = indicators["ghg"].id
    form = complete(indicators, value_ghg="2600")  # +108% from 1,250.5
    form["action"] = "submit"
    response = client.post(url(cycle, as_focal.member), data=form)
    assert response.status_code == 200
    page = text(response)
    assert counts(db) == (1, 5, 1)  # only last year's report
    warning = (
        "This is 108% away from 2024 (1,250.5 kt CO2e). Tick the box to confirm the value is right."
    )
    assert f'<small id="value-{ghg}-warning" class="field-error">{warning}</small>' in page
    assert f'<a href="#confirm-{ghg}">GHG emissions: {warning}</a>' in page
    assert f'name="confirm-{ghg}" value="yes">' in page  # not ticked
    assert input_value(page, f"value-{ghg}") == "2600"
    # Ticked: submitted.
    form[f"confirm-{ghg}"] = "yes"
    assert client.post(url(cycle, as_focal.member), data=form).status_code == 302
    submission = stored(db, cycle, as_focal.member)
    assert submission.status is SubmissionStatus.SUBMITTED
    assert values_of(submission)[ghg].change_confirmed is True
    assert values_of(submission)[ghg].number_value == Decimal(2600)


def test_a_large_change_may_be_saved_as_a_draft_and_is_flagged_on_the_form(
    db, client, as_focal, cycle, last_year, indicators
):
    ghg = indicators["ghg"].id
    form = complete(indicators, value_ghg="100")
    form["action"] = "save"
    assert client.post(url(cycle, as_focal.member), data=form).status_code == 302
    page = text(client.get(url(cycle, as_focal.member)))
    # Shown before submitting, not yet as an error.
    assert f'<small id="value-{ghg}-warning">This is 92% away from 2024' in page
    assert f'name="confirm-{ghg}" value="yes">' in page
    form[f"confirm-{ghg}"] = "yes"
    client.post(url(cycle, as_focal.member), data=form)
    page = text(client.get(url(cycle, as_focal.member)))
    # The confirmation is kept with the draft: the box stays ticked.
    assert f'name="confirm-{ghg}" value="yes" checked>' in page
    form["action"] = "submit"
    assert client.post(url(cycle, as_focal.member), data=form).status_code == 302
    assert stored(db, cycle, as_focal.member).status is SubmissionStatus.SUBMITTED


# -- locking and reopening --------------------------------------------------------------------


def test_locked_after_submitting(db, client, as_focal, cycle, indicators):
    client.post(url(cycle, as_focal.member), data={**complete(indicators), "action": "submit"})
    before = counts(db)
    form = complete(indicators, value_ghg="999")
    form["action"] = "save"
    response = client.post(url(cycle, as_focal.member), data=form)
    assert response.status_code == 302
    page = text(client.get(url(cycle, as_focal.member)))
    assert "Submitted: the secretariat will review it." in flashes(page)
    assert counts(db) == before
    ghg = values_of(stored(db, cycle, as_focal.member))[indicators["ghg"].id]
    assert ghg.number_value == Decimal(1300)
    assert not is_editable(page)


def test_returned_report_shows_the_comment_and_can_be_fixed(
    db, client, as_focal, staff, cycle, indicators
):
    client.post(url(cycle, as_focal.member), data={**complete(indicators), "action": "submit"})
    services.return_submission(
        db, staff, stored(db, cycle, as_focal.member), "The GHG figure misses scope 2."
    )
    page = text(client.get(url(cycle, as_focal.member)))
    assert "Returned for changes" in page
    assert re.search(
        r'class="flash flash-error".*Returned by the secretariat\. What to fix:.*'
        r"The GHG figure misses scope 2\.",
        page,
        re.S,
    )
    assert is_editable(page)
    form = complete(indicators, value_ghg="1400")
    form["action"] = "submit"
    assert client.post(url(cycle, as_focal.member), data=form).status_code == 302
    assert stored(db, cycle, as_focal.member).status is SubmissionStatus.SUBMITTED


def test_closing_locks_and_reopening_unlocks(
    db, client, as_focal, other_focal, staff, cycle, indicators
):
    client.post(url(cycle, as_focal.member), data={**complete(indicators), "action": "save"})
    services.close_cycle(db, staff, cycle)
    page = text(client.get(url(cycle, as_focal.member)))
    locked = "This cycle is closed. Ask the secretariat to reopen your submission."
    assert locked in page and not is_editable(page)
    assert "the cycle is closed" in page
    before = counts(db)
    form = {**complete(indicators), "action": "submit"}
    response = client.post(url(cycle, as_focal.member), data=form)
    assert response.status_code == 302
    assert locked in flashes(text(client.get(url(cycle, as_focal.member))))
    assert counts(db) == before
    assert stored(db, cycle, as_focal.member).status is SubmissionStatus.DRAFT
    # Staff reopen Lisbon's submission: editable again, and it can be submitted (late).
    services.reopen_submission(db, staff, cycle, as_focal.member, "Missing figures.")
    page = text(client.get(url(cycle, as_focal.member)))
    assert is_editable(page)
    assert client.post(url(cycle, as_focal.member), data=form).status_code == 302
    submission = stored(db, cycle, as_focal.member)
    assert submission.status is SubmissionStatus.SUBMITTED
    assert submission.is_reopened is False
    # Porto's was not reopened.
    assert services.can_edit(other_focal, cycle, None, days(0)) is False


def test_staff_edit_on_a_members_behalf(db, client, auth, staff, focal, cycle, indicators):
    auth.login(staff)
    page = text(client.get(url(cycle, focal.member)))
    assert "You are working on the report of Lisbon on their behalf." in page
    assert is_editable(page)
    assert (
        client.post(
            url(cycle, focal.member), data={**complete(indicators), "action": "submit"}
        ).status_code
        == 302
    )
    page = text(client.get(url(cycle, focal.member)))
    assert "The report of Lisbon is submitted." in flashes(page)
    submission = stored(db, cycle, focal.member)
    assert submission.status is SubmissionStatus.SUBMITTED
    assert submission.submitted_by_id == staff.id
    # Even after closing, staff correct a value.
    services.close_cycle(db, staff, cycle)
    page = text(client.get(url(cycle, focal.member)))
    assert is_editable(page) and "Save changes" in page
    form = complete(indicators, value_ghg="1310")
    form["action"] = "save"
    assert client.post(url(cycle, focal.member), data=form).status_code == 302
    submission = stored(db, cycle, focal.member)
    assert values_of(submission)[indicators["ghg"].id].number_value == Decimal(1310)
    assert submission.status is SubmissionStatus.SUBMITTED


# -- the deadline in the network's time zone --------------------------------------------------


DUE = date(2026, 5, 31)


@pytest.mark.parametrize(
    ("app_overrides", "last_on_time", "first_late"),
    [
        # UTC-3: the due day ends at 03:00 UTC the next day.
        (
            {"TIMEZONE": "America/Sao_Paulo"},
            datetime(2026, 6, 1, 2, 59, 59, tzinfo=UTC),
            datetime(2026, 6, 1, 3, 0, 0, tzinfo=UTC),
        ),
        # UTC+9: the due day ends at 15:00 UTC on the due day itself.
        (
            {"TIMEZONE": "Asia/Tokyo"},
            datetime(2026, 5, 31, 14, 59, 59, tzinfo=UTC),
            datetime(2026, 5, 31, 15, 0, 0, tzinfo=UTC),
        ),
    ],
)
def test_on_time_or_late_at_midnight_in_the_network_zone(
    db, staff, focal, other_focal, indicators, last_on_time, first_late
):
    cycle = open_cycle_for(
        db,
        staff,
        [focal.member, other_focal.member],
        [indicators["ghg"]],
        opens_on=date(2026, 3, 1),
        due_on=DUE,
    )
    assert services.is_late(cycle, last_on_time) is False
    assert services.is_late(cycle, first_late) is True
    assert services.is_late(cycle, first_late - timedelta(microseconds=1)) is False
    data = services.SubmissionInput({indicators["ghg"].id: services.ValueInput("10")})
    on_time = services.save_submission(
        db, focal, cycle, focal.member, data, submit=True, now=last_on_time
    )
    late = services.save_submission(
        db, other_focal, cycle, other_focal.member, data, submit=True, now=first_late
    )
    assert on_time.is_late is False and on_time.first_submitted_at == last_on_time
    assert late.is_late is True and late.first_submitted_at == first_late


@pytest.mark.parametrize("app_overrides", [{"TIMEZONE": "America/Sao_Paulo"}])
def test_the_form_states_the_deadline_in_the_network_zone(db, client, as_focal, cycle):
    page = text(client.get(url(cycle, as_focal.member)))
    assert "America/Sao_Paulo time" in page


def test_late_submission_is_marked_late(db, client, auth, staff, focal, indicators):
    cycle = open_cycle_for(
        db, staff, [focal.member], [indicators["ghg"]], opens_on=days(-20), due_on=days(-1)
    )
    auth.login(focal)
    page = text(client.get(url(cycle, focal.member)))
    assert "(<strong>late</strong>)" in page
    form = {f"value-{indicators['ghg'].id}": "5", "action": "submit"}
    client.post(url(cycle, focal.member), data=form)
    page = text(client.get(url(cycle, focal.member)))
    assert "Thank you: your report is submitted (after the due date)." in flashes(page)
    assert stored(db, cycle, focal.member).is_late is True
    assert "<strong>Late</strong>" in page


def test_grace_period_is_stated_and_ends(db, client, auth, staff, focal, indicators):
    cycle = open_cycle_for(
        db,
        staff,
        [focal.member],
        [indicators["ghg"]],
        opens_on=days(-20),
        due_on=days(-5),
        grace_until=days(-1),
    )
    auth.login(focal)
    page = text(client.get(url(cycle, focal.member)))
    assert "accepted until the end of" in page
    assert "The time for submissions is over." in page and not is_editable(page)
    assert fresh(db, cycle).state.value == "open"
