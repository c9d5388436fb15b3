"""Attendance files of Zoom, Teams and Meet: reading, matching, importing and resolving."""

from __future__ import annotations

import codecs
import io
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from secretariat.events.attendance_import import (
    apply_import,
    dismiss_unmatched,
    plan_import,
    read_attendance_file,
    reopen_unmatched,
    resolve_unmatched,
)
from secretariat.events.models import (
    Attendance,
    AttendanceImport,
    AttendanceSource,
    UnmatchedAttendee,
    UnmatchedStatus,
)
from secretariat.members.models import Contact
from secretariat.members.services import ValidationFailed
from tests.events.conftest import attendance_snapshot, future_event, invite, past_event, text
from tests.factories import ContactFactory, MemberFactory

#: 10 March 2026, 10:00 in Lisbon (still winter time: UTC+0).
STARTS = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)

ZOOM = """\
Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants,
812 3456 7890,Heat plans,03/10/2026 09:58:12 AM,03/10/2026 12:03:40 PM,host@net.example,126,5,

Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest,
Ana Silva,ANA.SILVA@lisboa.EXAMPLE,03/10/2026 10:00:05 AM,03/10/2026 11:00:05 AM,60,No,
Eva Nunes (Porto),eva@porto.example,03/10/2026 10:01:00 AM,03/10/2026 12:00:00 PM,119,No,
Ana Silva,ana.silva@lisboa.example,03/10/2026 11:10:00 AM,03/10/2026 12:02:00 PM,52,No,
Guest Speaker,guest@un.example,03/10/2026 10:30:00 AM,03/10/2026 11:00:00 AM,30,Yes,
Dial-in 4471,,03/10/2026 10:05:00 AM,03/10/2026 10:45:00 AM,40,Yes,
"""

TEAMS = "".join(
    "\t".join(row) + "\n"
    for row in [
        ["1. Summary"],
        ["Meeting title", "Heat plans workshop"],
        ["Attended participants", "4"],
        ["Start time", "3/10/26, 9:58:12 AM"],
        ["End time", "3/10/26, 12:03:40 PM"],
        ["Meeting duration", "2h 5m 28s"],
        ["Average attendance time", "1h 2m 3s"],
        [],
        ["2. Participants"],
        ["Name", "First Join", "Last Leave", "In-Meeting Duration", "Email"]
        + ["Participant ID (UPN)", "Role"],
        ["Ana Silva", "3/10/26, 10:00:05 AM", "3/10/26, 11:05:08 AM", "1h 5m 3s"]
        + ["ana.silva@lisboa.example", "ana.silva@lisboa.example", "Attendee"],
        ["Eva Nunes", "3/10/26, 10:01:00 AM", "3/10/26, 12:00:00 PM", "1h 59m"]
        + ["Eva@Porto.example", "eva@porto.example", "Presenter"],
        ["Guest Speaker", "3/10/26, 10:30:00 AM", "3/10/26, 11:00:00 AM", "30m"]
        + ["guest@un.example", "guest@un.example", "Presenter"],
        [],
        ["3. In-Meeting Activities"],
        ["Name", "Join Time", "Leave Time", "Duration", "Email", "Role"],
        ["Ana Silva", "3/10/26, 10:00:05 AM", "3/10/26, 10:30:00 AM", "29m 55s"]
        + ["ana.silva@lisboa.example", "Attendee"],
        ["Ana Silva", "3/10/26, 10:40:00 AM", "3/10/26, 11:05:08 AM", "25m 8s"]
        + ["ana.silva@lisboa.example", "Attendee"],
    ]
)

MEET = """\
First name,Last name,Email,Duration,Time joined,Time exited
Ana,Silva,ana.silva@lisboa.example,1 hr 5 min,10:00 AM,11:05 AM
Eva,Nunes,eva@porto.example,119 min,10:01 AM,12:00 PM
Guest,Speaker,,30 min,10:30 AM,11:00 AM
"""


def utf16(content: str) -> bytes:
    """As Teams exports: UTF-16 little endian with a byte order mark and CRLF line ends."""
    return codecs.BOM_UTF16_LE + content.replace("\n", "\r\n").encode("utf-16-le")


@pytest.fixture
def people(db):
    """Two invited members (Lisbon with two people, Porto) and Braga, not invited."""
    lisbon = MemberFactory(name="Lisbon")
    porto = MemberFactory(name="Porto")
    braga = MemberFactory(name="Braga")
    contacts = {
        "ana": ContactFactory(member=lisbon, name="Ana Silva", email="Ana.Silva@Lisboa.example"),
        "rui": ContactFactory(member=lisbon, name="Rui Costa", email="rui.costa@lisboa.example"),
        "eva": ContactFactory(member=porto, name="Eva Nunes", email="eva@porto.example"),
        "joao": ContactFactory(member=braga, name="João Reis", email="joao@braga.example"),
    }
    return {"lisbon": lisbon, "porto": porto, "braga": braga, **contacts}


@pytest.fixture
def event(db, people):
    event = past_event(starts_at=STARTS, timezone="Europe/Lisbon", title="Heat plans workshop")
    invite(event, people["lisbon"], people["porto"])
    return event


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 3, 10, hour, minute, second, tzinfo=UTC)


def by_email(plan) -> dict[str, object]:
    return {m.line.email: m for m in plan.matches}


def attendance_of(db, contact) -> Attendance | None:
    db.expire_all()
    return db.scalar(select(Attendance).where(Attendance.contact_id == contact.id))


def unmatched_rows(db, event) -> list[UnmatchedAttendee]:
    db.expire_all()
    return list(
        db.scalars(
            select(UnmatchedAttendee)
            .where(UnmatchedAttendee.event_id == event.id)
            .order_by(UnmatchedAttendee.id)
        )
    )


# -- reading the formats --------------------------------------------------------------------


def test_zoom_report_with_its_meeting_summary(db, event, people):
    file = read_attendance_file(ZOOM.encode(), event)

    assert file.errors == []
    assert (None, "Lines 1–3 before the column names were skipped (meeting summary).") in (
        file.notices
    )
    assert (4, "Column “Guest” is not used; it was ignored.") in file.notices
    lines = {line.key: line for line in file.lines}
    assert set(lines) == {
        "ana.silva@lisboa.example",
        "eva@porto.example",
        "guest@un.example",
        "name:dial-in 4471",
    }
    # The host in the meeting summary is not a participant.
    assert "host@net.example" not in lines
    ana = lines["ana.silva@lisboa.example"]
    # Ana joined twice: one person, minutes summed, first join and last leave.
    assert ana.numbers == [5, 7]
    assert ana.minutes == 112
    assert ana.joined_at == at(10, 0, 5)
    assert ana.left_at == at(12, 2)
    assert lines["eva@porto.example"].name == "Eva Nunes (Porto)"


def test_teams_report_in_utf16_with_sections(db, event):
    file = read_attendance_file(utf16(TEAMS), event)

    assert file.errors == []
    lines = {line.email: line for line in file.lines}
    # Only section 2 is read: the in-meeting activities would count Ana twice.
    assert set(lines) == {"ana.silva@lisboa.example", "eva@porto.example", "guest@un.example"}
    ana = lines["ana.silva@lisboa.example"]
    assert ana.minutes == 65  # 1h 5m 3s
    assert ana.joined_at == at(10, 0, 5)
    assert ana.left_at == at(11, 5, 8)
    assert lines["eva@porto.example"].minutes == 119
    assert ana.numbers == [11]
    assert file.notices == [
        (None, "Lines 1–9 before the column names were skipped (meeting summary)."),
        (10, "Column “Participant ID (UPN)” is not used; it was ignored."),
        (10, "Column “Role” is not used; it was ignored."),
        (14, "Empty row; skipped."),
        (15, "Lines 15–18 hold another section of the report; they were not read."),
    ]


def test_teams_report_matches_contacts(db, event, people):
    plan = plan_import(db, event, utf16(TEAMS), "meetingAttendanceReport.csv")
    assert plan.ok
    assert {m.contact.id for m in plan.matches} == {people["ana"].id, people["eva"].id}
    assert [u.line.email for u in plan.unmatched] == ["guest@un.example"]


def test_google_meet_report_with_first_and_last_names(db, event, people):
    file = read_attendance_file(MEET.encode(), event)

    assert file.errors == []
    lines = {line.key: line for line in file.lines}
    assert set(lines) == {"ana.silva@lisboa.example", "eva@porto.example", "name:guest speaker"}
    ana = lines["ana.silva@lisboa.example"]
    assert ana.name == "Ana Silva"
    assert ana.minutes == 65
    # Times of day only: on the event's day, in its zone.
    assert ana.joined_at == at(10, 0)
    assert ana.left_at == at(11, 5)
    assert lines["name:guest speaker"].email is None


def test_times_are_read_in_the_events_zone(db):
    # 8 July: Lisbon is on summer time, UTC+1.
    event = past_event(starts_at=datetime(2026, 7, 8, 9, 0, tzinfo=UTC), timezone="Europe/Lisbon")
    data = b"Email,Join Time,Leave Time\nana@x.example,2026-07-08 10:00:00,08/07/2026 11:30\n"
    (line,) = read_attendance_file(data, event).lines
    assert line.joined_at == datetime(2026, 7, 8, 9, 0, tzinfo=UTC)
    assert line.left_at == datetime(2026, 7, 8, 10, 30, tzinfo=UTC)
    # No duration column: the minutes come from the join and leave times.
    assert line.minutes == 90


def test_day_and_month_order_is_read_closest_to_the_event(db):
    event = past_event(starts_at=datetime(2026, 3, 10, 10, 0, tzinfo=UTC), timezone="UTC")
    data = b"Email;Join Time\nana@x.example;03/10/2026 10:00\nrui@x.example;10/03/2026 10:05\n"
    lines = {line.email: line for line in read_attendance_file(data, event).lines}
    assert lines["ana@x.example"].joined_at == at(10, 0)
    assert lines["rui@x.example"].joined_at == at(10, 5)


@pytest.mark.parametrize(
    ("duration", "minutes"),
    [("45", 45), ("45.6", 46), ("1:05:03", 65), ("0:45", 45), ("1h 5m 3s", 65), ("65 mins", 65)],
)
def test_durations(db, duration, minutes):
    event = past_event()
    data = f"Email,Duration\nana@x.example,{duration}\n".encode()
    (line,) = read_attendance_file(data, event).lines
    assert line.minutes == minutes


# -- bad input, line by line ----------------------------------------------------------------


def test_unknown_columns_and_empty_rows_are_notices(db, event):
    data = b"Email,Name,Favourite colour,\nana@x.example,Ana,blue,\n,,,\n\nrui@x.example,Rui,red,\n"
    file = read_attendance_file(data, event)
    assert file.errors == []
    assert file.notices == [
        (1, "Column “Favourite colour” is not used; it was ignored."),
        (3, "Empty row; skipped."),
        (4, "Empty row; skipped."),
    ]
    assert [line.email for line in file.lines] == ["ana@x.example", "rui@x.example"]


def test_latin1_file_is_refused_naming_the_line(db, event):
    data = "Name,Email\nAna Silva,ana@x.example\nJosé Reis,jose@x.example\n".encode("latin-1")
    with pytest.raises(ValidationFailed) as caught:
        read_attendance_file(data, event)
    message = caught.value.errors["file"]
    assert message.startswith("Line 3 is not UTF-8 text (byte 0xE9).")


def test_damaged_utf16_is_refused(db, event):
    with pytest.raises(ValidationFailed) as caught:
        read_attendance_file(codecs.BOM_UTF16_LE + b"N\x00a\x00\x00\xdc", event)
    assert caught.value.errors == {"file": "The file is damaged UTF-16 text."}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"  \n\n", "The file is empty."),
        (b"Colour,Size\nblue,L\n", "No participants table found"),
    ],
)
def test_files_without_a_table_are_refused(db, event, data, message):
    with pytest.raises(ValidationFailed) as caught:
        read_attendance_file(data, event)
    assert caught.value.errors["file"].startswith(message)


def test_bad_rows_are_errors_with_their_line(db, event):
    data = (
        b"Name,Email,Join Time,Duration\n"
        b"Ana,ana@x.example,10:00,45\n"
        b",,10:00,45\n"
        b"Rui,rui@x.example,soon,45\n"
        b"Eva,eva@x.example,10:00,a while\n"
        b"Joao,joao-at-braga,10:00,30\n"
    )
    file = read_attendance_file(data, event)
    assert file.errors == [
        (3, "The row has neither a name nor an e-mail address."),
        (4, "The join time “soon” is not understood."),
        (5, "The duration “a while” is not understood."),
        (6, "“joao-at-braga” is not an e-mail address."),
    ]
    assert [line.email for line in file.lines] == ["ana@x.example"]


def test_header_only_lists_no_participants(db, event):
    file = read_attendance_file(b"Name,Email\n", event)
    assert file.errors == [(None, "The file lists no participants.")]


def test_file_with_errors_is_not_imported(db, staff, event, people):
    data = b"Email,Duration\nana.silva@lisboa.example,45\neva@porto.example,later\n"
    before = attendance_snapshot(db, event)
    plan = plan_import(db, event, data, "bad.csv")
    assert not plan.ok and plan.matches == []
    with pytest.raises(ValidationFailed):
        apply_import(db, staff, plan, None)
    assert attendance_snapshot(db, event) == before


# -- matching and importing -----------------------------------------------------------------


def test_import_matches_by_email_ignoring_case(db, staff, event, people):
    plan = plan_import(db, event, ZOOM.encode(), "participants.csv")

    matches = by_email(plan)
    assert set(matches) == {"ana.silva@lisboa.example", "eva@porto.example"}
    assert matches["ana.silva@lisboa.example"].contact.id == people["ana"].id
    assert {m.effect for m in plan.matches} == {"new"}
    assert plan.uninvited == []
    assert [(u.line.key, u.effect) for u in plan.unmatched] == [
        ("guest@un.example", "new"),
        ("name:dial-in 4471", "new"),
    ]

    record = apply_import(db, staff, plan, None)

    assert (record.rows, record.matched, record.unmatched) == (5, 2, 2)
    assert record.filename == "participants.csv" and record.imported_by_id == staff.id
    ana = attendance_of(db, people["ana"])
    assert ana.attended and ana.source is AttendanceSource.IMPORT
    assert (ana.joined_at, ana.left_at, ana.minutes) == (at(10, 0, 5), at(12, 2), 112)
    assert ana.member_id == people["lisbon"].id and ana.not_invited_reason is None
    assert attendance_of(db, people["eva"]).minutes == 119
    assert attendance_of(db, people["rui"]) is None


def test_unmatched_people_are_kept_never_dropped(db, staff, event, people):
    apply_import(db, staff, plan_import(db, event, ZOOM.encode(), "zoom.csv"), None)

    rows = unmatched_rows(db, event)
    assert [(u.name, u.email, u.minutes, u.status) for u in rows] == [
        ("Guest Speaker", "guest@un.example", 30, UnmatchedStatus.OPEN),
        ("Dial-in 4471", None, 40, UnmatchedStatus.OPEN),
    ]
    assert rows[0].problem == "No contact has this e-mail address."
    assert rows[1].problem == "No e-mail address in the file: match the person by hand."
    assert rows[0].joined_at == at(10, 30)


def test_importing_the_same_file_twice_changes_nothing(db, staff, event, people):
    data = ZOOM.encode()
    assert apply_import(db, staff, plan_import(db, event, data, "zoom.csv"), None) is not None
    after_first = attendance_snapshot(db, event)

    again = plan_import(db, event, data, "zoom.csv")
    assert again.previous is not None
    assert again.changes == 0
    assert {m.effect for m in again.matches} == {"unchanged"}
    assert {u.effect for u in again.unmatched} == {"known"}
    assert apply_import(db, staff, again, None) is None

    assert attendance_snapshot(db, event) == after_first
    assert len(after_first[2]) == 1


def test_importing_the_same_people_in_another_format_changes_nothing(db, staff, event, people):
    apply_import(db, staff, plan_import(db, event, utf16(TEAMS), "teams.csv"), None)
    before = attendance_snapshot(db, event)
    # Same people and figures, re-typed as a plain CSV with the columns in another order.
    data = (
        b"Duration,Email,Join time,Leave time\n"
        b"65,ana.silva@lisboa.example,2026-03-10 10:00:05,2026-03-10 11:05:08\n"
        b"119,EVA@porto.example,2026-03-10 10:01:00,2026-03-10 12:00:00\n"
        b"30,guest@un.example,2026-03-10 10:30:00,2026-03-10 11:00:00\n"
    )
    plan = plan_import(db, event, data, "retyped.csv")
    assert plan.previous is None and plan.changes == 0
    assert apply_import(db, staff, plan, None) is None
    assert attendance_snapshot(db, event) == before


def test_a_later_file_updates_the_figures(db, staff, event, people):
    first = b"Email,Duration\nana.silva@lisboa.example,45\n"
    apply_import(db, staff, plan_import(db, event, first, "part1.csv"), None)
    plan = plan_import(db, event, b"Email,Duration\nana.silva@lisboa.example,50\n", "fixed.csv")
    assert [m.effect for m in plan.matches] == ["changed"]
    apply_import(db, staff, plan, None)
    assert attendance_of(db, people["ana"]).minutes == 50
    assert db.scalar(select(func.count()).select_from(AttendanceImport)) == 2


def test_import_marks_someone_unticked_as_attended(db, staff, event, people):
    row = Attendance(
        event_id=event.id,
        member_id=people["lisbon"].id,
        contact_id=people["ana"].id,
        attended=False,
        source=AttendanceSource.MANUAL,
    )
    db.add(row)
    db.flush()
    plan = plan_import(db, event, b"Email\nana.silva@lisboa.example\n", "a.csv")
    assert [m.effect for m in plan.matches] == ["changed"]
    apply_import(db, staff, plan, None)
    assert attendance_of(db, people["ana"]).attended is True


def test_member_not_invited_needs_a_reason(db, staff, event, people):
    data = b"Name,Email\nJoao Reis,joao@braga.example\nAna,ana.silva@lisboa.example\n"
    plan = plan_import(db, event, data, "with-braga.csv")
    assert [m.contact.id for m in plan.uninvited] == [people["joao"].id]
    before = attendance_snapshot(db, event)

    with pytest.raises(ValidationFailed) as caught:
        apply_import(db, staff, plan, "   ")
    assert caught.value.errors == {
        "reason": "Not invited: Braga. Say why they are recorded as attending."
    }
    assert attendance_snapshot(db, event) == before

    apply_import(db, staff, plan, "Braga joined as the next host city")
    assert attendance_of(db, people["joao"]).not_invited_reason == (
        "Braga joined as the next host city"
    )
    assert attendance_of(db, people["ana"]).not_invited_reason is None


def test_an_address_shared_by_two_members_is_not_guessed(db, staff, event, people):
    ContactFactory(member=people["porto"], name="Shared inbox", email="info@cities.example")
    ContactFactory(member=people["braga"], name="Shared inbox", email="INFO@cities.example")
    plan = plan_import(db, event, b"Email\ninfo@cities.example\n", "shared.csv")
    assert plan.matches == []
    (item,) = plan.unmatched
    assert item.problem == "Contacts of several members share this address (Braga, Porto)."


def test_the_current_contact_wins_over_a_former_one(db, staff, event, people):
    lisbon = people["lisbon"]
    ContactFactory(
        member=lisbon, name="Old desk", email="desk@lisboa.example", active_to=date(2025, 1, 1)
    )
    current = ContactFactory(member=lisbon, name="New desk", email="desk@lisboa.example")
    plan = plan_import(db, event, b"Email\ndesk@lisboa.example\n", "desk.csv")
    assert [m.contact.id for m in plan.matches] == [current.id]


def test_names_without_email_get_suggestions(db, event, people):
    plan = plan_import(db, event, b"First name,Last name\nRui,COSTA\n", "names.csv")
    (item,) = plan.unmatched
    assert item.line.key == "name:rui costa"
    assert [c.id for c in item.suggestions] == [people["rui"].id]


def test_import_waits_for_the_event_to_start(db, staff, people):
    event = future_event()
    invite(event, people["lisbon"])
    plan = plan_import(db, event, b"Email\nana.silva@lisboa.example\n", "early.csv")
    with pytest.raises(ValidationFailed):
        apply_import(db, staff, plan, None)
    assert attendance_of(db, people["ana"]) is None


def test_an_earlier_unmatched_row_is_matched_by_a_new_import(db, staff, event, people):
    data = b"Email,Duration\nana.personal@mail.example,50\n"
    apply_import(db, staff, plan_import(db, event, data, "first.csv"), None)
    (waiting,) = unmatched_rows(db, event)
    assert waiting.status is UnmatchedStatus.OPEN

    people["rui"].email = "ana.personal@mail.example"  # staff corrected the address
    db.flush()
    plan = plan_import(db, event, data, "first.csv")
    assert [m.effect for m in plan.matches] == ["new"]
    apply_import(db, staff, plan, None)

    (waiting,) = unmatched_rows(db, event)
    assert waiting.status is UnmatchedStatus.MATCHED
    assert waiting.contact_id == people["rui"].id
    assert attendance_of(db, people["rui"]).minutes == 50


# -- resolving the unmatched ----------------------------------------------------------------


@pytest.fixture
def waiting(db, staff, event, people) -> dict[str, UnmatchedAttendee]:
    apply_import(db, staff, plan_import(db, event, ZOOM.encode(), "zoom.csv"), None)
    rows = unmatched_rows(db, event)
    return {row.name: row for row in rows}


def test_resolve_records_the_contact_and_keeps_the_address(db, staff, event, people, waiting):
    guest = waiting["Guest Speaker"]
    people["rui"].email = None
    db.flush()

    resolve_unmatched(db, staff, guest, people["rui"], save_email=True)

    row = attendance_of(db, people["rui"])
    assert row.attended and row.minutes == 30 and row.joined_at == at(10, 30)
    assert row.not_invited_reason is None
    assert guest.status is UnmatchedStatus.MATCHED and guest.contact_id == people["rui"].id
    assert guest.resolved_by_id == staff.id and guest.resolved_at is not None
    assert db.get(Contact, people["rui"].id).email == "guest@un.example"

    with pytest.raises(ValidationFailed) as caught:
        resolve_unmatched(db, staff, guest, people["ana"])
    assert caught.value.errors == {"contact_id": "This row is already resolved."}


def test_resolve_to_a_member_not_invited_needs_a_reason(db, staff, people, waiting):
    dial_in = waiting["Dial-in 4471"]
    with pytest.raises(ValidationFailed) as caught:
        resolve_unmatched(db, staff, dial_in, people["joao"])
    assert set(caught.value.errors) == {"reason"}
    assert dial_in.status is UnmatchedStatus.OPEN
    assert attendance_of(db, people["joao"]) is None

    resolve_unmatched(db, staff, dial_in, people["joao"], reason="Phoned in for Braga")
    assert attendance_of(db, people["joao"]).not_invited_reason == "Phoned in for Braga"


def test_resolve_needs_a_contact(db, staff, waiting):
    with pytest.raises(ValidationFailed) as caught:
        resolve_unmatched(db, staff, waiting["Guest Speaker"], None)
    assert set(caught.value.errors) == {"contact_id"}


def test_dismiss_and_reopen(db, staff, event, waiting):
    guest = waiting["Guest Speaker"]
    dismiss_unmatched(db, staff, guest)
    assert guest.status is UnmatchedStatus.DISMISSED and guest.resolved_by_id == staff.id
    with pytest.raises(ValidationFailed):
        dismiss_unmatched(db, staff, guest)

    # A dismissed row stays dismissed when the file is imported again.
    plan = plan_import(db, event, ZOOM.encode(), "zoom.csv")
    assert plan.changes == 0

    reopen_unmatched(db, staff, guest)
    assert guest.status is UnmatchedStatus.OPEN
    assert guest.resolved_by_id is None and guest.resolved_at is None
    with pytest.raises(ValidationFailed):
        reopen_unmatched(db, staff, guest)


# -- the pages ------------------------------------------------------------------------------

TOKEN = re.compile(r"/attendance/import/([0-9a-f]+)")


def upload(client, event, data: bytes, filename: str = "participants.csv"):
    return client.post(
        f"/events/{event.id}/attendance/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def token_of(response) -> str:
    found = TOKEN.findall(response.get_data(as_text=True))
    assert found, "no confirmation form"
    return found[-1]


def test_import_page_previews_then_imports(db, client, auth, staff, event, people):
    auth.login(staff)
    page = client.get(f"/events/{event.id}/attendance/import")
    assert page.status_code == 200

    preview = upload(client, event, ZOOM.encode())
    assert preview.status_code == 200
    body = text(preview)
    assert "Preview of participants.csv" in body
    assert "2 people matched a contact" in body
    assert "2 people matched no contact" in body
    assert "Guest Speaker" in body and "Dial-in 4471" in body
    assert "Line 4: Column “Guest” is not used; it was ignored." in body
    # Nothing is written by the preview.
    assert attendance_snapshot(db, event) == ([], [], [])

    response = client.post(f"/events/{event.id}/attendance/import/{token_of(preview)}", data={})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{event.id}#attendance")
    attendances, unmatched, imports = attendance_snapshot(db, event)
    assert len(attendances) == 2 and len(unmatched) == 2 and len(imports) == 1
    page = text(client.get(f"/events/{event.id}"))
    assert "Attendance imported: 2 people matched, 2 waiting to be resolved." in page
    assert "2 people wait to be matched." in page

    # The same file again: the preview says so and offers nothing to confirm.
    snapshot = attendance_snapshot(db, event)
    again = upload(client, event, ZOOM.encode())
    assert "This very file was imported on" in text(again)
    assert "Nothing to change: everything in this file is already recorded." in text(again)
    assert not TOKEN.findall(again.get_data(as_text=True))
    assert attendance_snapshot(db, event) == snapshot


def test_import_page_lists_errors_by_line(db, client, auth, staff, event):
    auth.login(staff)
    data = b"Name,Email,Duration\nAna,ana@x.example,45\n,,\nRui,rui@x.example,long\n"
    body = text(upload(client, event, data))
    assert "The file cannot be imported until these are corrected" in body
    assert "Line 4: The duration “long” is not understood." in body
    assert "Line 3: Empty row; skipped." in body
    assert not TOKEN.findall(body)


def test_import_page_names_the_line_of_a_bad_encoding(db, client, auth, staff, event):
    auth.login(staff)
    data = "Name,Email\nJosé,jose@x.example\n".encode("latin-1")
    response = upload(client, event, data)
    assert response.status_code == 200
    assert 'id="file-error"' in response.get_data(as_text=True)
    assert "Line 2 is not UTF-8 text (byte 0xE9)" in text(response)
    assert attendance_snapshot(db, event) == ([], [], [])


def test_import_page_asks_why_a_member_not_invited_attended(db, client, auth, staff, event, people):
    auth.login(staff)
    preview = upload(client, event, b"Email\njoao@braga.example\n")
    assert "Some people belong to members that were not invited." in text(preview)
    url = f"/events/{event.id}/attendance/import/{token_of(preview)}"

    refused = client.post(url, data={"reason": ""})
    assert refused.status_code == 422
    assert "Not invited: Braga. Say why they are recorded as attending." in text(refused)
    assert attendance_of(db, people["joao"]) is None

    done = client.post(url, data={"reason": "Observer for the next forum"})
    assert done.status_code == 302
    assert attendance_of(db, people["joao"]).not_invited_reason == "Observer for the next forum"


def test_confirming_an_unknown_upload_asks_for_the_file_again(db, client, auth, staff, event):
    auth.login(staff)
    response = client.post(f"/events/{event.id}/attendance/import/{'0' * 32}", data={})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{event.id}/attendance/import")
    assert attendance_snapshot(db, event) == ([], [], [])


def test_resolve_page(db, client, auth, staff, event, people, waiting):
    auth.login(staff)
    guest = waiting["Guest Speaker"]
    url = f"/events/{event.id}/unmatched/{guest.id}"
    page = client.get(url)
    assert page.status_code == 200
    body = text(page)
    assert "Match Guest Speaker to a contact" in body
    assert "Braga – João Reis <joao@braga.example> (not invited)" in body

    refused = client.post(url, data={"contact_id": str(people["joao"].id), "reason": ""})
    assert refused.status_code == 200
    assert "Braga was not invited: say why it is recorded as attending." in text(refused)
    assert attendance_of(db, people["joao"]) is None

    done = client.post(url, data={"contact_id": str(people["rui"].id)})
    assert done.status_code == 302
    assert attendance_of(db, people["rui"]).minutes == 30
    assert "Matched to Rui Costa (Lisbon)" in text(client.get(f"/events/{event.id}"))
    assert "This row is already resolved." in text(client.get(url))


def test_dismiss_and_reopen_buttons(db, client, auth, staff, event, waiting):
    auth.login(staff)
    guest = waiting["Guest Speaker"]
    base = f"/events/{event.id}/unmatched/{guest.id}"

    assert client.post(f"{base}/dismiss").status_code == 302
    db.expire_all()
    assert db.get(UnmatchedAttendee, guest.id).status is UnmatchedStatus.DISMISSED
    assert "1 person waits to be matched." in text(client.get(f"/events/{event.id}"))

    assert client.post(f"{base}/reopen").status_code == 302
    db.expire_all()
    assert db.get(UnmatchedAttendee, guest.id).status is UnmatchedStatus.OPEN


def test_unmatched_rows_of_another_event_are_not_found(db, client, auth, staff, waiting):
    auth.login(staff)
    other = past_event()
    guest = waiting["Guest Speaker"]
    assert client.get(f"/events/{other.id}/unmatched/{guest.id}").status_code == 404
    assert client.post(f"/events/{other.id}/unmatched/{guest.id}/dismiss").status_code == 404
    db.expire_all()
    assert db.get(UnmatchedAttendee, guest.id).status is UnmatchedStatus.OPEN
