"""A year's scheme: created from the year before (or the defaults), edited, validated,
finalised and reopened, and who may do what."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from secretariat.members.services import ValidationFailed
from secretariat.participation import services
from secretariat.participation.models import (
    ConditionKind,
    Criterion,
    CriterionKind,
    Level,
    ParticipationScore,
    SchemeAction,
    SchemeEvent,
    SchemeState,
    ScoreCriterion,
    ScoringScheme,
)
from secretariat.permissions import OutOfScope
from tests.factories import GroupMembershipFactory, PeerExchangeFactory, WorkingGroupFactory
from tests.participation.conftest import (
    NOW_2025,
    at,
    event,
    invite,
    member,
    new_scheme,
    scheme_data,
    scores,
)

D = Decimal
K = CriterionKind
C = ConditionKind


def method(scheme: ScoringScheme) -> dict:
    """The scheme's figures, to compare two schemes (or one before and after)."""
    return {
        "criteria": {
            c.kind: (c.weight, c.floor, c.target, c.bonus, c.position) for c in scheme.criteria
        },
        "conditions": [c.kind for c in scheme.conditions],
        "levels": (scheme.leading_from, scheme.active_from, scheme.engaged_from),
        "recognition_size": scheme.recognition_size,
    }


def history(db, scheme) -> list[tuple[SchemeAction, str | None, int | None]]:
    """(action, comment, actor) of the year's history, oldest first."""
    rows = db.execute(
        select(SchemeEvent.action, SchemeEvent.comment, SchemeEvent.actor_id)
        .where(SchemeEvent.scheme_id == scheme.id)
        .order_by(SchemeEvent.id)
    )
    return [tuple(row) for row in rows]


def reload(db, year):
    db.expire_all()
    return services.scheme_for_year(db, year)


RISE = "The thresholds must rise: engaged below active, active below leading."
CUSTOM = dict(
    attendance={"weight": "30", "floor": "10", "target": "80"},
    exchanges={"weight": "0"},
    working_groups={"target": "3", "bonus": "0.5"},
    leading_from="85",
    active_from="65",
    engaged_from="45",
    recognition_size="5",
    conditions={C.PRIMARY_FOCAL_POINT, C.EVENT_ATTENDED},
)


# --- creating -----------------------------------------------------------------------------


def test_a_first_scheme_takes_the_default_method(db, staff):
    scheme = services.create_scheme(db, staff, 2025)

    assert scheme.state is SchemeState.PROVISIONAL
    assert scheme.scores_out_of_date  # never computed
    assert method(scheme) == {
        "criteria": {
            K.ATTENDANCE: (25, D(0), D(75), None, 0),
            K.REPORTING_ON_TIME: (20, D(0), D(100), None, 1),
            K.COMPLETENESS: (10, D(0), D(100), None, 2),
            K.COMMITMENTS: (15, D(0), D(100), None, 3),
            K.WORKING_GROUPS: (10, D(0), D(2), D(1), 4),
            K.EXCHANGES: (10, D(0), D(4), None, 5),
            K.FOLLOW_UPS: (10, D(0), D(100), None, 6),
        },
        "conditions": list(C),
        "levels": (80, 60, 40),
        "recognition_size": 3,
    }
    assert sum(c.weight for c in scheme.criteria) == 100
    assert history(db, scheme) == [(SchemeAction.CREATED, "Default method.", staff.id)]


def test_a_new_year_copies_the_closest_earlier_year(db, admin):
    services.create_scheme(db, admin, 2021)  # defaults, further back
    model = services.create_scheme(db, admin, 2023)
    services.update_scheme(db, admin, model, scheme_data(model, **CUSTOM))
    later = services.create_scheme(db, admin, 2027)
    services.update_scheme(db, admin, later, scheme_data(later, leading_from="95"))

    copy = services.create_scheme(db, admin, 2025)

    assert method(copy) == method(reload(db, 2023))
    assert method(copy)["criteria"][K.ATTENDANCE] == (30, D(10), D(80), None, 0)
    assert method(copy)["criteria"][K.EXCHANGES][0] == 0
    assert method(copy)["criteria"][K.WORKING_GROUPS][2:4] == (D(3), D("0.5"))
    assert method(copy)["levels"] == (85, 65, 45)
    assert method(copy)["recognition_size"] == 5
    assert method(copy)["conditions"] == [C.PRIMARY_FOCAL_POINT, C.EVENT_ATTENDED]
    assert history(db, copy) == [(SchemeAction.CREATED, "Copied from 2023.", admin.id)]
    # The copy has rows of its own.
    model = reload(db, 2023)
    copy = reload(db, 2025)
    assert {c.id for c in copy.criteria}.isdisjoint({c.id for c in model.criteria})


def test_an_earlier_year_before_any_scheme_takes_the_defaults(db):
    later = new_scheme(db, 2026)
    earlier = new_scheme(db, 2024)

    assert method(earlier) == method(later)  # both the defaults
    assert history(db, earlier) == [(SchemeAction.CREATED, "Default method.", None)]


def test_a_year_has_one_scheme(db, staff):
    services.create_scheme(db, staff, 2025)

    with pytest.raises(ValidationFailed) as refused:
        services.create_scheme(db, staff, 2025)

    assert refused.value.errors == {"year": "2025 already has a scheme."}
    assert len(db.scalars(select(ScoringScheme).where(ScoringScheme.year == 2025)).all()) == 1


@pytest.mark.parametrize("year", [1999, 2101])
def test_a_year_out_of_range_is_refused(db, staff, year):
    with pytest.raises(ValidationFailed) as refused:
        services.create_scheme(db, staff, year)

    assert set(refused.value.errors) == {"year"}
    assert db.scalars(select(ScoringScheme)).all() == []


# --- editing ------------------------------------------------------------------------------


def test_editing_records_what_changed_and_puts_scores_out_of_date(db, admin):
    scheme = new_scheme(db)
    services.compute(db, None, scheme)
    assert not scheme.scores_out_of_date

    services.update_scheme(db, admin, scheme, scheme_data(scheme, **CUSTOM))

    scheme = reload(db, 2025)
    assert method(scheme)["criteria"][K.ATTENDANCE] == (30, D(10), D(80), None, 0)
    assert method(scheme)["conditions"] == [C.PRIMARY_FOCAL_POINT, C.EVENT_ATTENDED]
    assert scheme.scores_out_of_date
    action, comment, actor = history(db, scheme)[-1]
    assert (action, actor) == (SchemeAction.EDITED, admin.id)
    assert comment == (
        "attendance, working_groups, exchanges, -annual_submission, -evidence_fresh, levels"
    )


def test_saving_an_unchanged_method_records_nothing(db, admin):
    scheme = new_scheme(db)
    services.compute(db, None, scheme)
    edited_at = scheme.edited_at

    services.update_scheme(db, admin, scheme, scheme_data(scheme))

    assert scheme.edited_at == edited_at
    assert not scheme.scores_out_of_date
    assert [action for action, *_ in history(db, scheme)] == [
        SchemeAction.CREATED,
        SchemeAction.COMPUTED,
    ]


def test_conditions_can_be_removed_and_added_back(db, admin):
    scheme = new_scheme(db)
    services.update_scheme(db, admin, scheme, scheme_data(scheme, conditions=set()))
    assert reload(db, 2025).conditions == []

    scheme = reload(db, 2025)
    services.update_scheme(
        db, admin, scheme, scheme_data(scheme, conditions={C.EVIDENCE_FRESH, C.ANNUAL_SUBMISSION})
    )

    assert [c.kind for c in reload(db, 2025).conditions] == [
        C.ANNUAL_SUBMISSION,
        C.EVIDENCE_FRESH,
    ]
    assert history(db, scheme)[-1][1] == "+annual_submission, +evidence_fresh"


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"attendance": {"weight": "heavy"}},
            {"attendance-weight": "“heavy” is not a whole number."},
        ),
        (
            {"attendance": {"weight": "12.5"}},
            {"attendance-weight": "“12.5” is not a whole number."},
        ),
        ({"attendance": {"weight": ""}}, {"attendance-weight": "Enter a whole number."}),
        ({"exchanges": {"weight": "101"}}, {"exchanges-weight": "Enter a number from 0 to 100."}),
        ({"commitments": {"floor": "ten"}}, {"commitments-floor": "“ten” is not a number."}),
        ({"commitments": {"target": ""}}, {"commitments-target": "Enter a number."}),
        (
            {"exchanges": {"target": "NaN"}},
            {"exchanges-target": "Enter a number from 0 to 100,000."},
        ),
        ({"exchanges": {"floor": "-1"}}, {"exchanges-floor": "Enter a number from 0 to 100,000."}),
        (
            {"exchanges": {"target": "2.00001"}},
            {"exchanges-target": "Use at most four decimal places."},
        ),
        (
            {"working_groups": {"bonus": "lots"}},
            {"working_groups-bonus": "“lots” is not a number."},
        ),
        # A share's target above 100 %; a count may go beyond.
        (
            {"follow_ups": {"target": "120"}},
            {"follow_ups-target": "A share is at most 100 %."},
        ),
        (
            {"attendance": {"floor": "101", "target": "150"}},
            {
                "attendance-floor": "A share is at most 100 %.",
                "attendance-target": "A share is at most 100 %.",
            },
        ),
        (
            {"completeness": {"floor": "50", "target": "50"}},
            {"completeness-target": "The target must be above the floor."},
        ),
        (
            {"exchanges": {"floor": "5", "target": "4"}},
            {"exchanges-target": "The target must be above the floor."},
        ),
        (
            {"leading_from": "60"},
            {"leading_from": RISE},
        ),
        (
            {"engaged_from": "70"},
            {"leading_from": RISE},
        ),
        ({"active_from": "0"}, {"active_from": "Enter a number from 1 to 100."}),
        ({"recognition_size": "21"}, {"recognition_size": "Enter a number from 1 to 20."}),
        (
            {kind.value: {"weight": "0"} for kind in CriterionKind},
            {"criteria": "Give at least one criterion a weight above 0."},
        ),
    ],
)
def test_invalid_figures_are_refused_and_nothing_changes(db, admin, changes, errors):
    scheme = new_scheme(db)
    before = method(scheme)
    edited_at = scheme.edited_at

    assert services.validate_scheme(scheme_data(scheme, **changes))[0] == errors
    with pytest.raises(ValidationFailed) as refused:
        services.update_scheme(db, admin, scheme, scheme_data(scheme, **changes))

    assert refused.value.errors == errors
    scheme = reload(db, 2025)
    assert method(scheme) == before
    assert scheme.edited_at == edited_at
    assert [action for action, *_ in history(db, scheme)] == [SchemeAction.CREATED]


def test_valid_figures_pass_validation(db):
    scheme = new_scheme(db)
    data = scheme_data(
        scheme,
        exchanges={"target": "150", "floor": "1,5"},  # a count may exceed 100; a comma works
        working_groups={"bonus": ""},  # no bonus
        follow_ups={"weight": "0"},
    )

    errors, parsed = services.validate_scheme(data)

    assert errors == {}
    assert parsed[K.EXCHANGES] == (10, D("1.5"), D(150), None)
    assert parsed[K.WORKING_GROUPS] == (10, D(0), D(2), None)
    assert parsed[K.FOLLOW_UPS][0] == 0


# --- finalising and reopening -------------------------------------------------------------


def small_network(db, region):
    """Three members with attendance, groups and exchanges in 2025 (enough for totals)."""
    a, b, c = member(region), member(region), member(region)
    for when, attended in (
        (at(2025, 3, 1), (True, True, False)),
        (at(2025, 9, 1), (True, False, False)),
    ):
        held = event(when)
        for m, came in zip((a, b, c), attended, strict=True):
            invite(db, held, m, came)
    group = WorkingGroupFactory()
    GroupMembershipFactory(group=group, member=a)
    GroupMembershipFactory(group=group, member=c, joined_on=date(2025, 5, 1))
    PeerExchangeFactory(from_member=a, to_member=b, occurred_on=date(2025, 6, 1))
    return a, b, c


def frozen_state(db, scheme) -> dict:
    """A year's totals and the weights its breakdown used."""
    totals = {
        row.member_id: (row.total, row.level, row.weight_used)
        for row in db.scalars(
            select(ParticipationScore).where(ParticipationScore.scheme_id == scheme.id)
        )
    }
    weights = {
        (row.member_id, row.kind): (row.weight, row.points)
        for row in db.scalars(select(ScoreCriterion).where(ScoreCriterion.scheme_id == scheme.id))
    }
    criteria = {
        row.kind: (row.weight, row.floor, row.target)
        for row in db.scalars(select(Criterion).where(Criterion.scheme_id == scheme.id))
    }
    return {"totals": totals, "lines": weights, "criteria": criteria}


def test_a_finalised_year_is_unchanged_by_the_next_year(db, staff, admin, region):
    a, b, c = small_network(db, region)
    year = new_scheme(db, 2025)
    # Computed now (not at NOW_2025), so that the scores are newer than the method.
    services.compute(db, staff, year)
    services.finalise(db, staff, year)
    db.flush()
    before = frozen_state(db, year)
    # a: attendance 2/2 -> 100, groups 1 -> 50, exchanges 1 -> 25;
    #    (100*25 + 50*10 + 25*10) / 45 = 3250 / 45 = 72.22
    assert before["totals"][a.id] == (D("72.22"), Level.ACTIVE, 45)

    following = new_scheme(db, 2026)
    services.update_scheme(
        db,
        admin,
        following,
        scheme_data(
            following,
            attendance={"weight": "50", "target": "100"},
            exchanges={"weight": "0"},
            leading_from="90",
        ),
    )
    services.compute(db, staff, following)
    with pytest.raises(services.SchemeError):
        services.compute(db, staff, year)

    db.expire_all()
    assert frozen_state(db, reload(db, 2025)) == before
    assert reload(db, 2025).is_final
    assert frozen_state(db, reload(db, 2026))["criteria"][K.ATTENDANCE] == (50, D(0), D(100))


def test_a_final_year_refuses_compute_and_edits(db, staff, admin, region):
    small_network(db, region)
    scheme = new_scheme(db)
    services.compute(db, staff, scheme)
    services.finalise(db, staff, scheme)
    before = frozen_state(db, scheme)

    with pytest.raises(services.SchemeError) as computing:
        services.compute(db, staff, scheme)
    with pytest.raises(services.SchemeError) as editing:
        services.update_scheme(db, admin, scheme, scheme_data(scheme, leading_from="90"))
    with pytest.raises(services.SchemeError):
        services.finalise(db, staff, scheme)

    message = "2025 is finalised: reopen it, with a reason, to change it."
    assert computing.value.message == editing.value.message == message
    db.expire_all()
    assert frozen_state(db, reload(db, 2025)) == before
    assert reload(db, 2025).leading_from == 80
    assert [action for action, *_ in history(db, scheme)] == [
        SchemeAction.CREATED,
        SchemeAction.COMPUTED,
        SchemeAction.FINALISED,
    ]


def test_finalise_needs_scores_newer_than_the_method(db, staff, admin):
    scheme = new_scheme(db)
    message = "The method changed after the scores were computed: compute them again first."

    with pytest.raises(services.SchemeError) as never_computed:
        services.finalise(db, staff, scheme)
    assert never_computed.value.message == message

    services.compute(db, staff, scheme)
    services.update_scheme(db, admin, scheme, scheme_data(scheme, exchanges={"weight": "5"}))
    with pytest.raises(services.SchemeError) as edited:
        services.finalise(db, staff, scheme)
    assert edited.value.message == message
    assert reload(db, 2025).state is SchemeState.PROVISIONAL

    scheme = reload(db, 2025)
    services.compute(db, staff, scheme)
    services.finalise(db, staff, scheme)

    scheme = reload(db, 2025)
    assert scheme.is_final
    assert scheme.finalised_by_id == staff.id and scheme.finalised_at is not None
    assert history(db, scheme)[-1] == (SchemeAction.FINALISED, None, staff.id)


@pytest.mark.parametrize("reason", ["", "   \n  ", None])
def test_reopening_needs_a_reason(db, staff, reason):
    scheme = new_scheme(db)
    services.compute(db, staff, scheme)
    services.finalise(db, staff, scheme)

    with pytest.raises(ValidationFailed) as refused:
        services.reopen(db, staff, scheme, reason)

    assert refused.value.errors == {"reason": "Say why the year is reopened."}
    assert reload(db, 2025).is_final


def test_reopening_refuses_control_characters_and_long_reasons(db, staff):
    scheme = new_scheme(db)
    services.compute(db, staff, scheme)
    services.finalise(db, staff, scheme)

    with pytest.raises(ValidationFailed) as hidden:
        services.reopen(db, staff, scheme, "Late report\u202e")
    with pytest.raises(ValidationFailed) as long:
        services.reopen(db, staff, scheme, "x" * (services.MAX_REASON + 1))

    assert set(hidden.value.errors) == set(long.value.errors) == {"reason"}
    assert reload(db, 2025).is_final


def test_reopening_records_the_reason_and_makes_the_year_provisional(db, staff, admin, region):
    small_network(db, region)
    scheme = new_scheme(db)
    services.compute(db, staff, scheme)
    services.finalise(db, staff, scheme)

    services.reopen(db, staff, scheme, "  Porto's report arrived late.\r\nRecount.  ")

    scheme = reload(db, 2025)
    assert scheme.state is SchemeState.PROVISIONAL
    assert (scheme.finalised_at, scheme.finalised_by_id) == (None, None)
    assert history(db, scheme)[-1] == (
        SchemeAction.REOPENED,
        "Porto's report arrived late.\nRecount.",
        staff.id,
    )
    # Provisional again: it can be edited and computed.
    services.update_scheme(db, admin, scheme, scheme_data(scheme, leading_from="90"))
    services.compute(db, staff, scheme)
    assert reload(db, 2025).leading_from == 90
    with pytest.raises(services.SchemeError) as again:
        services.reopen(db, staff, reload(db, 2025), "Once more")
    assert again.value.message == "2025 is not finalised."


# --- permissions --------------------------------------------------------------------------


def test_only_admins_edit_the_method(db, staff, admin):
    scheme = new_scheme(db)

    with pytest.raises(OutOfScope):
        services.update_scheme(db, staff, scheme, scheme_data(scheme, leading_from="90"))
    with pytest.raises(NotFound):  # the uniform 404
        services.set_recognition_visibility(db, staff, True)

    assert reload(db, 2025).leading_from == 80
    services.update_scheme(db, admin, reload(db, 2025), scheme_data(scheme, leading_from="90"))
    assert reload(db, 2025).leading_from == 90


def test_focal_points_cannot_manage_the_year(db, focal, staff, region):
    small_network(db, region)
    scheme = new_scheme(db)

    with pytest.raises(OutOfScope):
        services.compute(db, focal, scheme, now=NOW_2025)
    with pytest.raises(OutOfScope):
        services.create_scheme(db, focal, 2026)
    with pytest.raises(OutOfScope):
        services.update_scheme(db, focal, scheme, scheme_data(scheme))

    assert scores(db, scheme) == {}
    assert reload(db, 2025).computed_at is None

    services.compute(db, staff, scheme, now=NOW_2025)
    with pytest.raises(OutOfScope):
        services.finalise(db, focal, scheme)
    assert len(scores(db, scheme)) == 4  # the 3 members and the focal point's own
